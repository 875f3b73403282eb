#!/usr/bin/env bash
# Install the container engines the engine tests drive (test/engines/): podman (with conmon,
# netavark, aardvark-dns, catatonit, uidmap, iptables), containerd and docker.io, from
# Debian's archive. Run as root; safe to run again (installs only what is missing).
#
# The packages' own services are never started: the tests run private daemons (their own
# root, state and socket), and a system containerd/dockerd would only get in their way. So a
# policy-rc.d that refuses every service start is in place while apt runs (unless the
# machine already has one).
set -euo pipefail

PACKAGES=(podman conmon netavark aardvark-dns catatonit uidmap iptables containerd docker.io)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-engines.sh: must run as root" >&2
  exit 1
fi

# shellcheck source=scripts/apt-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt-lib.sh"
mapfile -t missing < <(missing_packages "${PACKAGES[@]}")
if [ "${#missing[@]}" -eq 0 ]; then
  echo "engines: all ${#PACKAGES[@]} packages present"
  exit 0
fi

policy=/usr/sbin/policy-rc.d
own_policy=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# installed by ts-runc scripts/install-engines.sh while apt runs\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  own_policy=1
fi
cleanup() { if [ -n "$own_policy" ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

echo "engines: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null; then
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
fi

# Debian's iptables defaults to the nft backend; both netavark and dockerd work with it.
for bin in podman conmon containerd ctr dockerd; do
  command -v "$bin" >/dev/null || { echo "engines: $bin missing after install" >&2; exit 1; }
done
echo "engines: $(podman --version); containerd $(containerd --version | awk '{print $3}'); $(/usr/bin/docker --version)"
