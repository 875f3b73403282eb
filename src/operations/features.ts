// features: the Features structure (features.md, features-linux.md) true to this build,
// with the libseccomp version this build is linked against and runc's annotations where
// they apply. Lists are what the runtime recognises (they come from the same tables the
// runtime uses, so they cannot drift); "enabled" says whether this build implements a
// feature at all, whatever the host has.
import { native } from '../native/addon.js';
import { CAPABILITIES } from '../linux/capabilities.js';
import { MOUNT_OPTIONS } from '../linux/mount-options.js';
import { NAMESPACES } from '../linux/namespaces.js';
import { OCI_VERSION } from '../spec/defaults.js';
import { HOOK_NAMES } from '../spec/semantic-checks.js';
import type { Features, LinuxFeatures, SeccompFeatures } from '../spec/types.js';
import { COMMIT, VERSION } from '../cli/version.js';

/** The oldest config.json ociVersion accepted. */
export const OCI_VERSION_MIN = '1.0.0';

/**
 * What this build implements of the optional Linux features. Update with the code:
 *   seccomp   TODO(seccomp): actions, operators, architectures and flags come from the
 *             seccomp module (src/linux/seccomp.ts) once it lands; until then profiles
 *             are not applied, so seccomp is reported as not enabled.
 *   idmap     mount options "idmap"/"ridmap" are parsed but id-mapped mounts are not made yet.
 *   intelRdt, netDevices, memoryPolicy: not implemented.
 */
const BUILD = {
  cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: true },
  apparmor: true,
  selinux: true,
  idmapMounts: false,
  intelRdt: false,
  netDevices: false,
};

function libseccompVersion(): string | null {
  try {
    const v = native().seccompVersion();
    return `${v.major}.${v.minor}.${v.micro}`;
  } catch {
    return null;
  }
}

function seccompFeatures(): SeccompFeatures {
  return { enabled: false };
}

export function features(): Features {
  const linux: LinuxFeatures = {
    namespaces: Object.keys(NAMESPACES).sort(),
    capabilities: [...CAPABILITIES],
    cgroup: { ...BUILD.cgroup },
    seccomp: seccompFeatures(),
    apparmor: { enabled: BUILD.apparmor },
    selinux: { enabled: BUILD.selinux },
    intelRdt: { enabled: BUILD.intelRdt },
    mountExtensions: { idmap: { enabled: BUILD.idmapMounts } },
    netDevices: { enabled: BUILD.netDevices },
  };
  const annotations: Record<string, string> = {
    'org.opencontainers.runc.checkpoint.enabled': 'false',
    'io.github.ts-runc.version': VERSION,
    'io.github.ts-runc.commit': COMMIT,
  };
  const seccompVersion = libseccompVersion();
  if (seccompVersion) annotations['io.github.seccomp.libseccomp.version'] = seccompVersion;
  return {
    ociVersionMin: OCI_VERSION_MIN,
    ociVersionMax: OCI_VERSION,
    hooks: [...HOOK_NAMES],
    mountOptions: Object.keys(MOUNT_OPTIONS).sort(),
    linux,
    annotations: Object.fromEntries(Object.entries(annotations).sort(([a], [b]) => a.localeCompare(b))),
    // ts-runc changes no behaviour because of config.json annotations.
    potentiallyUnsafeConfigAnnotations: [],
  };
}
