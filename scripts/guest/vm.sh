#!/usr/bin/env bash
# The test guest (scripts/guest/build-image.sh) under QEMU, driven through its guest agent.
#
#   vm.sh boot IMAGE_DIR SHARE_DIR   start it (a throwaway overlay on the image; SHARE_DIR is
#                                    mounted at /share in the guest over 9p)
#   vm.sh run SECONDS 'command'      run `bash -lc command` in the guest as root; prints its
#                                    output, exits with its status (124: it outlived SECONDS)
#   vm.sh stop                       power it off (the overlay is discarded)
#
# State in $GUEST_RUN (default $GUEST_DIR/run): qemu.pid, agent socket, console.log, the
# overlay. TCG only: nested KVM is not available on the machines this runs on. VM_CPUS and
# VM_MEM size the guest (default 2 and 4G).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
guest_dir=${GUEST_DIR:-/var/tmp/ts-runc-guest}
run=${GUEST_RUN:-$guest_dir/run}
agent=(node "$here/qga.mjs" "$run/qga.sock")
mkdir -p "$run"

running() { [ -f "$run/qemu.pid" ] && kill -0 "$(cat "$run/qemu.pid")" 2>/dev/null; }

stop() {
  if running; then
    local pid
    pid=$(cat "$run/qemu.pid")
    "${agent[@]}" exec 10 /bin/systemctl poweroff >/dev/null 2>&1 || true
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill "$pid" && sleep 1
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$run/qemu.pid" "$run/overlay.qcow2" "$run/qga.sock"
}

boot() {
  local image=$1 share=$2
  running && stop
  qemu-img create -q -f qcow2 -F raw -b "$image/rootfs.img" "$run/overlay.qcow2" || return 1
  local t0
  t0=$(date +%s)
  qemu-system-x86_64 -name tsrunc-guest -nodefaults -no-user-config -display none \
    -accel tcg,thread=multi -cpu max -smp "${VM_CPUS:-2}" -m "${VM_MEM:-4G}" \
    -kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 systemd.unified_cgroup_hierarchy=1 quiet" \
    -drive "file=$run/overlay.qcow2,if=virtio,format=qcow2,cache=unsafe,discard=unmap" \
    -virtfs "local,path=$share,mount_tag=share,security_model=none,id=share" \
    -device virtio-rng-pci -nic user,model=virtio-net-pci \
    -chardev "socket,path=$run/qga.sock,server=on,wait=off,id=qga0" \
    -device virtio-serial -device virtserialport,chardev=qga0,name=org.qemu.guest_agent.0 \
    -serial "file:$run/console.log" -monitor none \
    -pidfile "$run/qemu.pid" -daemonize 9>&- || return 1
  for _ in $(seq 300); do
    running || { echo "vm: qemu exited while booting (see $run/console.log)" >&2; return 1; }
    "${agent[@]}" ping 2 && break
    sleep 1
  done
  "${agent[@]}" ping 2 || { echo "vm: no guest agent after 300 s (see $run/console.log)" >&2; stop; return 1; }
  # cache=loose: the host does not change the share while the guest reads it.
  "${agent[@]}" exec 60 /bin/sh -c 'mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose share /share' >&2 || return 1
  local state
  state=$("${agent[@]}" exec 300 /bin/systemctl is-system-running --wait 2>&1)
  echo "vm: booted in $(( $(date +%s) - t0 ))s (systemd: $state)" >&2
}

case "${1:-}" in
  boot) boot "$2" "$3" ;;
  run) running || { echo "vm: the guest is not running" >&2; exit 125; }
    "${agent[@]}" exec "$2" /usr/bin/timeout -k 10 "$2" /bin/bash -lc "$3" ;;
  stop) stop ;;
  *) sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
