#!/usr/bin/env bash
# The test guest's disk: Debian 12 with systemd as PID 1 and pure cgroup v2, the engines
# (podman, containerd with runc) and a lingering user with delegated controllers, for the
# tests in test/hosts/ (see docs/hosts.md, "Testing in the guest").
#
#   scripts/guest/build-image.sh            prints the image directory (building it if needed)
#
# The image is cached under $GUEST_DIR (default /var/tmp/ts-runc-guest: outside the
# checkout, because `node-gyp rebuild` empties build/ and CI clones afresh each run) in a
# directory named after a hash of the recipe (the package list and the customize script):
# it is rebuilt only when that changes. Packages come from the
# Debian mirror this machine's apt uses. Needs root, mmdebstrap and mkfs.ext4 (~2 min).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
guest_dir=${GUEST_DIR:-/var/tmp/ts-runc-guest}

# The mirrors this machine's apt is configured with (deb822 or one-line sources).
mirror_for() { # suffix: "" or "-security"
  local suffix=$1 uri
  uri=$(grep -hoE "https?://[^ ]+/debian${suffix}/?( |$)" /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -n1 | tr -d ' ')
  [ -n "$uri" ] || { echo "build-image: no Debian mirror (debian${suffix}) in /etc/apt sources" >&2; exit 3; }
  echo "${uri%/}"
}

packages=(
  systemd-sysv dbus dbus-user-session libpam-systemd udev kmod
  linux-image-amd64 initramfs-tools qemu-guest-agent
  iproute2 procps sudo e2fsprogs ca-certificates busybox-static libseccomp2
  podman crun runc conmon uidmap slirp4netns passt fuse-overlayfs catatonit
  containernetworking-plugins golang-github-containers-common containerd
)

mkdir -p "$guest_dir"
work=$(mktemp -d "$guest_dir/tmp-XXXXXX")
trap 'rm -rf "$work"' EXIT
cat >"$work/customize.sh" <<'EOS'
#!/bin/sh
# Runs with the new root as $1, after the packages are installed.
set -e
R=$1
echo tsrunc-guest >"$R/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 tsrunc-guest\n' >"$R/etc/hosts"
# /dev/vda is the root; the host's staging directory comes over 9p (mounted by the harness).
printf '/dev/vda / ext4 rw,relatime 0 1\n' >"$R/etc/fstab"
mkdir -p "$R/share"
chroot "$R" passwd -d root
mkdir -p "$R/etc/systemd/network"
printf '[Match]\nName=en* eth*\n[Network]\nDHCP=yes\n' >"$R/etc/systemd/network/50-dhcp.network"
chroot "$R" systemctl enable systemd-networkd.service
chroot "$R" systemctl mask systemd-networkd-wait-online.service
# A user with subordinate ids and a lingering systemd --user that gets these controllers.
chroot "$R" useradd -m -s /bin/bash -u 1000 tester
# useradd may have given it the range already: a second, overlapping entry makes rootless
# podman write an invalid uid_map (newuidmap: Invalid argument).
for f in subuid subgid; do grep -q '^tester:' "$R/etc/$f" 2>/dev/null || echo 'tester:100000:65536' >>"$R/etc/$f"; done
echo 'tester ALL=(ALL) NOPASSWD:ALL' >"$R/etc/sudoers.d/tester"
mkdir -p "$R/var/lib/systemd/linger" && touch "$R/var/lib/systemd/linger/tester"
mkdir -p "$R/etc/systemd/system/user@.service.d"
printf '[Service]\nDelegate=cpu cpuset io memory pids\n' >"$R/etc/systemd/system/user@.service.d/delegate.conf"
# No registry is reachable from the guest: images are imported from tarballs.
mkdir -p "$R/etc/containers/registries.conf.d"
printf 'unqualified-search-registries = []\nshort-name-mode = "disabled"\n' >"$R/etc/containers/registries.conf.d/50-guest.conf"
printf '[storage]\ndriver = "overlay"\nrunroot = "/run/containers/storage"\ngraphroot = "/var/lib/containers/storage"\n' >"$R/etc/containers/storage.conf"
rm -f "$R/etc/resolv.conf" && echo 'nameserver 10.0.2.3' >"$R/etc/resolv.conf"
# A quiet, quick boot: no timers, and an initramfs with only what a virtio disk boot needs
# (unpacking a full one costs seconds under emulation).
chroot "$R" systemctl mask systemd-timesyncd.service apt-daily.timer apt-daily-upgrade.timer \
  e2scrub_all.timer fstrim.timer man-db.timer podman-auto-update.timer 2>/dev/null || true
sed -i 's/^MODULES=.*/MODULES=list/' "$R/etc/initramfs-tools/initramfs.conf"
printf 'virtio_pci\nvirtio_blk\nvirtio_net\nvirtio_console\n9p\n9pnet_virtio\next4\ncrc32c_generic\n' >>"$R/etc/initramfs-tools/modules"
chroot "$R" update-initramfs -u -k all
rm -f "$R/etc/machine-id" && touch "$R/etc/machine-id"
EOS
chmod +x "$work/customize.sh"
key=$({ printf '%s\n' "${packages[@]}"; cat "$work/customize.sh"; } | sha256sum | cut -c1-16)
out=$guest_dir/image-$key
if [ -f "$out/rootfs.img" ] && [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ]; then
  echo "$out"
  exit 0
fi
for tool in mmdebstrap mkfs.ext4; do
  command -v "$tool" >/dev/null || { echo "build-image: $tool is missing (apt-get install mmdebstrap e2fsprogs)" >&2; exit 3; }
done

mirror=${GUEST_MIRROR:-$(mirror_for '')}
security=${GUEST_SECURITY_MIRROR:-$(mirror_for '-security')}
t0=$(date +%s)
echo "build-image: building the guest image from $mirror (~2 min)" >&2
if ! mmdebstrap --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" \
  --customize-hook="$work/customize.sh \"\$1\"" --aptopt='Acquire::Retries "3"' \
  bookworm "$work/root" \
  "deb $mirror bookworm main" "deb $mirror bookworm-updates main" "deb $security bookworm-security main" >"$work/mmdebstrap.log" 2>&1; then
  tail -n 20 "$work/mmdebstrap.log" >&2
  echo "build-image: mmdebstrap failed" >&2
  exit 3
fi
mkdir -p "$work/image"
cp -L "$work"/root/boot/vmlinuz-* "$work/image/vmlinuz"
cp -L "$work"/root/boot/initrd.img-* "$work/image/initrd.img"
mkfs.ext4 -q -F -L tsrunc-guest -d "$work/root" "$work/image/rootfs.img" 6G >&2
rm -rf "$guest_dir"/image-*
mv "$work/image" "$out"
echo "build-image: built $out in $(( $(date +%s) - t0 ))s" >&2
echo "$out"
