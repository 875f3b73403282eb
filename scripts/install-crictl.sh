#!/usr/bin/env bash
# crictl, the Kubernetes CRI client, for the CRI flow in the guest (test/hosts/engines.test.ts:
# scripts/guest/run-tests.sh copies this machine's crictl into the guest, which has no Go).
# Run as root; safe to run again.
#   bash scripts/install-crictl.sh [PREFIX]    (default PREFIX /usr/local: /usr/local/bin/crictl)
# 1. A crictl on PATH is kept.
# 2. Otherwise it is built from the source tarball in the shared directory beside the
#    checkout (../shared/cri-tools/build-crictl.sh, or the directory $TSRUNC_CRICTL_SOURCE
#    names; it installs Go 1.23 from bookworm-backports, ~4 min on 2 cores).
# 3. Otherwise it says why the CRI tests will skip, and exits 1 (not fatal to CI).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
prefix=${1:-/usr/local}

if bin=$(command -v crictl); then
  echo "crictl: $bin ($("$bin" --version 2>/dev/null)) kept"
  exit 0
fi
source_dir=${TSRUNC_CRICTL_SOURCE:-$(cd .. && pwd)/shared/cri-tools}
if [ ! -x "$source_dir/build-crictl.sh" ]; then
  echo "crictl: not installed, and no $source_dir/build-crictl.sh to build it: the CRI tests in the guest will skip"
  exit 1
fi
echo "crictl: building from $source_dir"
if ! bash "$source_dir/build-crictl.sh" "$prefix"; then
  echo "crictl: the build failed: the CRI tests in the guest will skip"
  exit 1
fi
echo "crictl: $prefix/bin/crictl ready"
