// Fixed host facts for converting configs without reading the host: a v2 host that grants
// every capability of a 6.x kernel, no LSM, no resctrl. Tests override what they look at.
import type { HostFacts, PathFact } from '../../../src/linux/specconv/host-facts.js';
import type { CgroupLayout } from '../../../src/linux/cgroups/mode.js';

export const BUNDLE = '/bundles/b';
export const ROOTFS = '/bundles/b/rootfs';
/** CAP_CHECKPOINT_RESTORE (40) is the last capability of the kernels this runs on. */
export const LAST_CAP = 40;
export const ALL_CAPS = (1n << BigInt(LAST_CAP + 1)) - 1n;

export const V2_LAYOUT: CgroupLayout = { mode: 'v2', unified: '/sys/fs/cgroup', v1: new Map() };
export const HYBRID_LAYOUT: CgroupLayout = {
  mode: 'hybrid',
  unified: '/sys/fs/cgroup/unified',
  v1: new Map([
    ['cpu', '/sys/fs/cgroup/cpu,cpuacct'],
    ['cpuacct', '/sys/fs/cgroup/cpu,cpuacct'],
    ['memory', '/sys/fs/cgroup/memory'],
    ['pids', '/sys/fs/cgroup/pids'],
    ['name=systemd', '/sys/fs/cgroup/systemd'],
  ]),
};

export const dir = (procfs = false): PathFact => ({ kind: 'directory', procfs });
export const file = (): PathFact => ({ kind: 'file', procfs: false });
export const missing = (): PathFact => ({ error: 'no such file or directory' });

/** Host facts with `over` replacing the defaults; `paths` as an object for brevity. */
export function fixedHost(over: Partial<Omit<HostFacts, 'paths'>> & { paths?: Record<string, PathFact> } = {}): HostFacts {
  const { paths, ...rest } = over;
  return {
    lastCap: LAST_CAP,
    boundingSet: ALL_CAPS,
    apparmor: false,
    selinux: false,
    seccomp: null,
    rootfs: { path: ROOTFS },
    paths: new Map(Object.entries(paths ?? {})),
    cgroup: { layout: V2_LAYOUT, dirs: { '': '/sys/fs/cgroup/ctr' } },
    kcore: true,
    resctrl: null,
    runtimeNamespaces: new Set(),
    unprivileged: null,
    runtimeInUserns: false,
    ...rest,
  };
}
