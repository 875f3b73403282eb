// features: the Features structure (features.md, features-linux.md) true to this build,
// with the libseccomp version this build is linked against and runc's annotations where
// they apply. Lists are what the runtime recognises (they come from the same tables the
// runtime uses, so they cannot drift); "enabled" says whether this build implements a
// feature at all, whatever the host has.
import os from 'node:os';
import { native } from '../native/addon.js';
import { CAPABILITIES } from '../linux/capabilities.js';
import { MOUNT_OPTIONS } from '../linux/mount-options.js';
import { NAMESPACES } from '../linux/namespaces.js';
import { MPOL_FLAGS, MPOL_MODES } from '../linux/process-attrs.js';
import { SECCOMP_ACTIONS, SECCOMP_ARCHES, SECCOMP_FLAGS, SECCOMP_OPERATORS } from '../linux/seccomp.js';
import { OCI_VERSION } from '../spec/defaults.js';
import { HOOK_NAMES } from '../spec/semantic-checks.js';
import type { Features, LinuxFeatures, SeccompFeatures } from '../spec/types.js';
import { COMMIT, VERSION } from '../cli/version.js';
import { criuWorks } from '../criu/binary.js';

/** The oldest config.json ociVersion accepted. */
export const OCI_VERSION_MIN = '1.0.0';

/**
 * What this build implements of the optional Linux features (update with the code):
 * id-mapped bind mounts (src/linux/idmap-mounts.ts), memoryPolicy (the modes and flags of
 * src/linux/process-attrs.ts); not intelRdt (refused clearly) or netDevices.
 */
const BUILD = {
  // systemdUser: a rootless runtime's --systemd-cgroup uses the user's systemd (docs/hosts.md).
  cgroup: { v1: true, v2: true, systemd: true, systemdUser: true, rdma: true },
  apparmor: true,
  selinux: true,
  idmapMounts: true,
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

/** The kernel release that first accepted each seccomp(2) filter flag. */
const FLAG_SINCE_KERNEL: Readonly<Record<string, readonly [number, number]>> = {
  SECCOMP_FILTER_FLAG_TSYNC: [3, 17],
  SECCOMP_FILTER_FLAG_LOG: [4, 14],
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: [4, 17],
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: [5, 19],
};

function kernelAtLeast([major, minor]: readonly [number, number]): boolean {
  const [k = 0, m = 0] = os.release().split('.').map((n) => parseInt(n, 10));
  return k > major || (k === major && m >= minor);
}

/**
 * Architectures a profile can name on this machine: the linked libseccomp resolves them and
 * can put them in one filter with the native one (an empty filter for each, compiled).
 * Other-endian architectures cannot share a filter, so a profile naming one fails here.
 */
function knownArchitectures(): string[] {
  const addon = native();
  const allow = SECCOMP_ACTIONS.SCMP_ACT_ALLOW!.value;
  return Object.entries(SECCOMP_ARCHES)
    .filter(([, name]) => {
      try {
        addon.seccompCompile({ defaultAction: allow, architectures: [name], optimize: false, rules: [] });
        return true;
      } catch {
        return false;
      }
    })
    .map(([oci]) => oci)
    .sort();
}

/**
 * Actions and operators are the names the seccomp module translates; flags are known when
 * it translates them and supported when this kernel accepts them (the child passes them to
 * seccomp(2) itself, so libseccomp's own API level does not matter).
 */
function seccompFeatures(): SeccompFeatures {
  const knownFlags = Object.keys(SECCOMP_FLAGS).sort();
  return {
    enabled: true,
    actions: Object.keys(SECCOMP_ACTIONS).sort(),
    operators: Object.keys(SECCOMP_OPERATORS).sort(),
    archs: knownArchitectures(),
    knownFlags,
    supportedFlags: knownFlags.filter((f) => FLAG_SINCE_KERNEL[f] && kernelAtLeast(FLAG_SINCE_KERNEL[f])),
  };
}

/** `criu` is the --criu flag: checkpoint is reported enabled only when that criu works here. */
export function features(criu?: string): Features {
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
    memoryPolicy: { modes: Object.keys(MPOL_MODES), flags: Object.keys(MPOL_FLAGS).sort() },
  };
  const annotations: Record<string, string> = {
    // Unlike the rest, a fact of this host: a criu that passes `criu check` (about 60 ms).
    'org.opencontainers.runc.checkpoint.enabled': String(criuWorks(criu)),
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
