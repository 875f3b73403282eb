#!/usr/bin/env bash
# The tests that need a systemd + pure cgroup v2 host (test/hosts/), run in the test guest:
#   scripts/guest/run-tests.sh [TEST PATHS...]      (default: test/hosts)
# builds the guest image if it is not cached (build-image.sh), copies this checkout as it is
# built (node_modules, build/Release, dist), the host's node and crictl (if it has one) into
# the guest over 9p, runs
# `node scripts/test.mjs PATHS` there and powers the guest off. The last line printed is
# the summary `N passed, N failed, N skipped`. Where no guest can be had (no QEMU and no
# way to install it, no Debian mirror for the image), the same tests run here instead,
# where each skips with its reason. Needs root. GUEST_TIMEOUT bounds the test run (s).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
export GUEST_DIR=${GUEST_DIR:-/var/tmp/ts-runc-guest}
limit=${GUEST_TIMEOUT:-1800}
paths=("$@")
[ ${#paths[@]} -gt 0 ] || paths=(test/hosts)
t0=$(date +%s)
elapsed() { echo "$(( $(date +%s) - t0 ))s"; }

# No guest: run the tests here, where they skip with their reason (and say why no guest).
no_guest() {
  echo "guest: no guest: $1; running ${paths[*]} on this host instead"
  node scripts/test.mjs "${paths[@]}" </dev/null
  exit $?
}

[ "$(id -u)" = 0 ] || no_guest "needs root"
need=()
for tool in qemu-system-x86_64 qemu-img mmdebstrap mkfs.ext4; do command -v "$tool" >/dev/null || need+=("$tool"); done
if [ ${#need[@]} -gt 0 ]; then
  echo "guest: installing qemu-system-x86 qemu-utils mmdebstrap e2fsprogs (missing: ${need[*]})"
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq qemu-system-x86 qemu-utils mmdebstrap e2fsprogs >/dev/null 2>&1 ||
    { timeout 300 apt-get update -qq >/dev/null 2>&1 &&
      DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq qemu-system-x86 qemu-utils mmdebstrap e2fsprogs >/dev/null 2>&1; } ||
    no_guest "QEMU could not be installed"
fi
image=$(timeout 1200 bash "$here/build-image.sh") || no_guest "the guest image could not be built (see the lines above)"
echo "guest: image $image ($(elapsed))"

# What the guest gets: the checkout as built here (same Debian, same glibc: the addon and
# the executable work there), this node at the same path, and crictl when this machine has
# one (/work/shared/cri-tools/build-crictl.sh builds it: Go is not in the guest; the CRI
# tests skip without it).
[ -f build/Release/tsrunc.node ] && [ -x dist/ts-runc ] || { echo "guest: build the project first (npm ci)"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
node=$(command -v node)
share=$(mktemp -d "$GUEST_DIR/share-XXXXXX")
cleanup() { bash "$here/vm.sh" stop; rm -rf "$share"; }
trap cleanup EXIT
{ git ls-files -z --cached --others --exclude-standard; printf '%s\0' node_modules build/Release dist src/spec/generated; } |
  tar --exclude=build/Release/obj.target --exclude=build/Release/.deps --null -T - -cf "$share/ts-runc.tar"
cp "$node" "$share/node"
crictl=$(command -v crictl || true)
[ -n "$crictl" ] && cp "$crictl" "$share/crictl"

if ! bash "$here/vm.sh" boot "$image" "$share"; then
  echo "guest: the guest did not boot ($(elapsed))"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi
echo "guest: booted ($(elapsed))"
quoted=$(printf '%q ' "${paths[@]}")
# Unpacked where the guest's user can run it too (the rootless tests), not under /root.
bash "$here/vm.sh" run "$limit" "set -e
install -m 755 /share/node $node
[ ! -f /share/crictl ] || install -m 755 /share/crictl /usr/local/bin/crictl
rm -rf /opt/ts-runc && mkdir -m 755 /opt/ts-runc && tar -C /opt/ts-runc -xf /share/ts-runc.tar
cd /opt/ts-runc && node scripts/test.mjs $quoted </dev/null" 2>&1 | tee "$share/out.log"
status=${PIPESTATUS[0]}
echo "guest: tests done with status $status ($(elapsed))"
summary=$(sed 's/\x1b\[[0-9;]*m//g' "$share/out.log" | grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' | tail -n 1)
if [ -z "$summary" ]; then
  [ "$status" = 124 ] && echo "guest: the tests outlived ${limit}s"
  summary="0 passed, 1 failed, 0 skipped"
  [ "$status" -ne 0 ] || status=1
fi
echo "$summary"
exit "$status"
