// Which cgroup layout the host has, read from /proc/self/mountinfo at run time:
//   v2      cgroup2 mounted at /sys/fs/cgroup (most hosts today)
//   v1      only v1 hierarchies
//   hybrid  v1 controllers plus a cgroup2 mount (usually /sys/fs/cgroup/unified)
import fs from 'node:fs';
import { parseMountInfo } from '../mountinfo.js';

export type CgroupMode = 'v1' | 'v2' | 'hybrid';

export interface CgroupLayout {
  mode: CgroupMode;
  /** Mount point of the cgroup2 hierarchy, if any. */
  unified: string | null;
  /** v1 hierarchy per controller (also "name=systemd"): its mount point. */
  v1: Map<string, string>;
}

const V1_NAMED = /^name=/;

/** Parse mountinfo text into the layout; exported for tests with fixture text. */
export function parseLayout(mountinfo: string): CgroupLayout {
  let unified: string | null = null;
  const v1 = new Map<string, string>();
  for (const { mountPoint, fsType, superOptions } of parseMountInfo(mountinfo)) {
    if (fsType === 'cgroup2') {
      // Prefer the canonical location when cgroup2 is mounted more than once.
      if (unified === null || mountPoint === '/sys/fs/cgroup') unified = mountPoint;
    } else if (fsType === 'cgroup') {
      for (const opt of superOptions) {
        if (opt === 'rw' || opt === 'ro' || opt.startsWith('release_agent') || opt === 'clone_children') continue;
        if (V1_CONTROLLERS.has(opt) || V1_NAMED.test(opt)) {
          if (!v1.has(opt)) v1.set(opt, mountPoint);
        }
      }
    }
  }
  const mode: CgroupMode = v1.size === 0 ? 'v2' : unified ? 'hybrid' : 'v1';
  return { mode, unified, v1 };
}

/** Controllers a v1 host may mount. */
const V1_CONTROLLERS: ReadonlySet<string> = new Set([
  'cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'net_cls', 'net_prio', 'blkio',
  'perf_event', 'hugetlb', 'pids', 'rdma', 'misc',
]);

let cached: CgroupLayout | undefined;
export function hostLayout(): CgroupLayout {
  if (!cached) cached = parseLayout(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  return cached;
}

/** This process's own cgroup per hierarchy ("" for v2), from /proc/self/cgroup. */
export function ownCgroups(text = fs.readFileSync('/proc/self/cgroup', 'utf8')): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const controllers = m[1] ?? '';
    const p = m[2] ?? '/';
    if (controllers === '') out.set('', p);
    for (const c of controllers.split(',')) if (c) out.set(c, p);
  }
  return out;
}
