// Rules for mounts at and under /proc, as runc applies them (checkProcMount; the check is
// the "mounts" validator in src/linux/specconv/validate.ts), plus the flags that let the
// child enforce them on the *resolved* target, where a symlink in the image cannot talk
// its way past a check on the configured path:
//
// - only a procfs may go on /proc itself: a proc mount, or a bind of a procfs;
// - nothing may go under /proc except the files lxcfs-style tools replace;
// - procfs and sysfs mounts may not go through any symlink and need a directory
//   (CVE-2019-16884), and no other mount may land on a procfs (CVE-2019-19921): the child
//   refuses both unless the plan says otherwise (noSymlinks, mayCoverProc).
import type { MountPlan } from '../native/plan-types.js';

/** Files under /proc that may be mounted over (runc's list, for lxcfs and the like). */
export const PROC_OVERMOUNT_ALLOWED: ReadonlySet<string> = new Set([
  '/proc/cpuinfo',
  '/proc/diskstats',
  '/proc/meminfo',
  '/proc/stat',
  '/proc/swaps',
  '/proc/uptime',
  '/proc/loadavg',
  '/proc/slabinfo',
  '/proc/pressure/cpu',
  '/proc/pressure/io',
  '/proc/pressure/memory',
  '/proc/net/dev',
  '/proc/sys/kernel/ns_last_pid',
]);

/** File systems whose mount target must be an ordinary directory reached without symlinks. */
const STRICT_TARGET_TYPES: ReadonlySet<string> = new Set(['proc', 'sysfs']);

type GuardedMount = Pick<MountPlan, 'bind' | 'fstype' | 'source' | 'dest' | 'noSymlinks' | 'mayCoverProc'>;

/**
 * Mark the plans the child must check strictly, or may let onto a procfs. `isProcfs`
 * says whether a bind source is a procfs (a host fact).
 */
export function guardProcMounts(plans: GuardedMount[], isProcfs: (source: string) => boolean): void {
  for (const p of plans) {
    if (!p.bind && p.fstype && STRICT_TARGET_TYPES.has(p.fstype)) p.noSymlinks = true;
    const procOnProc = p.dest === '/proc' && ((!p.bind && p.fstype === 'proc') || (p.bind && !!p.source && isProcfs(p.source)));
    if (procOnProc || PROC_OVERMOUNT_ALLOWED.has(p.dest)) p.mayCoverProc = true;
  }
}
