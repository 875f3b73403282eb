#!/usr/bin/env bash
# CRIU for checkpoint/restore (ts-runc checkpoint/restore, test/integration/criu and the
# podman checkpoint tests). Run as root; safe to run again.
#   bash scripts/install-criu.sh [PREFIX]      (default PREFIX /usr/local: /usr/local/sbin/criu)
# 1. A criu on PATH that is new enough (3.15+) and passes `criu check` is kept.
# 2. Otherwise CRIU is built from the source tarball in the shared directory beside the
#    checkout (../shared/criu/build-criu.sh, or the directory $TSRUNC_CRIU_SOURCE names)
#    and installed into PREFIX. (Debian 12's criu 3.17 fails `criu check` on 6.x kernels.)
# 3. Otherwise it says why the checkpoint tests will skip, and exits 1.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
prefix=${1:-/usr/local}
export PATH="$prefix/sbin:$PATH"

# usable BIN: prints why not, or nothing when BIN is new enough and passes `criu check`.
usable() {
  local bin=$1 version out
  version=$("$bin" --version 2>/dev/null | sed -n 's/^Version: *\([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
  if [ -z "$version" ]; then echo "$bin --version says no version"; return 1; fi
  set -- $version
  if [ "$1" -lt 3 ] || { [ "$1" -eq 3 ] && [ "$2" -lt 15 ]; }; then echo "$bin is CRIU $1.$2; 3.15 or newer is needed"; return 1; fi
  if ! out=$("$bin" check 2>&1); then
    echo "$bin check fails: $(printf '%s\n' "$out" | grep -E 'Error' | tail -n 1)"
    return 1
  fi
}

if bin=$(command -v criu); then
  if why=$(usable "$bin"); then
    echo "criu: $bin ($("$bin" --version | head -n 1)) passes criu check: kept"
    exit 0
  fi
  echo "criu: $why"
else
  echo "criu: none on PATH"
fi

src=${TSRUNC_CRIU_SOURCE:-../shared/criu}
if [ ! -f "$src/build-criu.sh" ]; then
  echo "criu: no CRIU source ($src/build-criu.sh): checkpoint/restore tests will skip"
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "criu: building CRIU needs root (apt build dependencies): checkpoint/restore tests will skip"
  exit 1
fi
echo "criu: building CRIU from $src into $prefix"
if ! bash "$src/build-criu.sh" "$prefix"; then
  # The build's apt-get install may have met stale package lists.
  echo "criu: build failed; updating the package lists and trying once more"
  apt-get update -q >/dev/null && bash "$src/build-criu.sh" "$prefix" || {
    echo "criu: building CRIU failed: checkpoint/restore tests will skip"
    exit 1
  }
fi
if why=$(usable "$prefix/sbin/criu"); then
  echo "criu: $prefix/sbin/criu ready"
else
  echo "criu: the CRIU just built does not work here ($why): checkpoint/restore tests will skip"
  exit 1
fi
