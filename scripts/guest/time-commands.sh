#!/usr/bin/env bash
# Run inside the test guest: wall time of each runtime command an engine makes, per runtime,
# with the systemd cgroup driver (docs/performance.md, "systemd hosts"):
#   time-commands.sh BUNDLE ROUNDS RUNTIME...
# DRIVER_FLAG (default --systemd-cgroup; empty: cgroupfs, for a host without systemd).
# BUNDLE runs a long sleep (no cgroupsPath: the driver's default unit). Prints, per runtime,
# the median of ROUNDS rounds of create/start/state/exec/kill/delete in ms, then one round
# of ts-runc's TSRUNC_TRACE=1 marks for create and delete.
set -uo pipefail
bundle=$1 rounds=$2
shift 2
flag=${DRIVER_FLAG---systemd-cgroup}
now() { date +%s%N; }
declare -A ms
median() { tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timed() { # NAME RUNTIME ARGS...: runs, adds its ms to ms[RUNTIME NAME]
  local name=$1 rt=$2 t0 t1
  shift 2
  t0=$(now)
  "$rt" "$@" </dev/null >/dev/null 2>>/tmp/time-commands.err || echo "failed: $rt $*" >&2
  t1=$(now)
  ms[$rt $name]+="$(( (t1 - t0) / 1000000 )) "
}
one_round() { # RUNTIME ID
  local rt=$1 id=$2
  timed create "$rt" $flag create --bundle "$bundle" "$id"
  timed start "$rt" $flag start "$id"
  timed state "$rt" $flag state "$id"
  timed exec "$rt" $flag exec "$id" true
  timed kill "$rt" $flag kill "$id" KILL
  for _ in $(seq 100); do "$rt" state "$id" 2>/dev/null | grep -q '"stopped"' && break; sleep 0.1; done
  timed delete "$rt" $flag delete "$id"
}
for r in $(seq "$rounds"); do
  for rt in "$@"; do one_round "$rt" "tc-$r-$$-$(basename "$rt")"; done
done
printf '%-10s' command; for rt in "$@"; do printf '%12s' "$(basename "$rt")"; done; echo
for name in create start state exec kill delete; do
  printf '%-10s' "$name"
  for rt in "$@"; do printf '%12s' "$(echo ${ms[$rt $name]} | median)"; done
  echo
done
for rt in "$@"; do
  "$rt" --version 2>/dev/null | grep -qi ts-runc || continue
  id=tc-trace-$$
  echo "--- $rt TSRUNC_TRACE=1 create / start / delete"
  TSRUNC_TRACE=1 "$rt" $flag create --bundle "$bundle" "$id" </dev/null >/dev/null
  TSRUNC_TRACE=1 "$rt" $flag start "$id" </dev/null >/dev/null
  "$rt" kill "$id" KILL; sleep 1
  TSRUNC_TRACE=1 "$rt" $flag delete "$id" </dev/null >/dev/null
done
