// Rules for mounts at and under /proc, as runc applies them (checkProcMount), plus the
// flags that let the child enforce them on the *resolved* target, where a symlink in the
// image cannot talk its way past a check on the configured path:
//
// - only a procfs may go on /proc itself: a proc mount, or a bind of a procfs;
// - nothing may go under /proc except the files lxcfs-style tools replace;
// - procfs and sysfs mounts may not go through any symlink and need a directory
//   (CVE-2019-16884), and no other mount may land on a procfs (CVE-2019-19921): the child
//   refuses both unless the plan says otherwise (noSymlinks, mayCoverProc).
import fs from 'node:fs';
import path from 'node:path';
import type { MountPlan } from '../native/plan-types.js';
import type { Mount } from '../spec/types.js';
import { ConfigError } from '../util/errors.js';
import { cleanDest } from './mounts.js';

const PROC_SUPER_MAGIC = 0x9fa0;

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

function isProcfs(p: string): boolean {
  try {
    return fs.statfsSync(p).type === PROC_SUPER_MAGIC;
  } catch {
    return false;
  }
}

function isBind(m: Mount): boolean {
  const opts = m.options ?? [];
  return m.type === 'bind' || opts.includes('bind') || opts.includes('rbind');
}

/** runc's checks on the configured destinations; throws a ConfigError naming the mount. */
export function checkProcMounts(mounts: readonly Mount[] | undefined, bundle: string): void {
  (mounts ?? []).forEach((m, i) => {
    const dest = cleanDest(m.destination);
    if (dest === '/proc') {
      if (m.type === 'proc' && !isBind(m)) return;
      if (isBind(m) && m.source && isProcfs(path.resolve(bundle, m.source))) return;
      throw new ConfigError(`mounts[${i}].destination`, `"${dest}" cannot be mounted because it is not of type proc`);
    }
    if (dest.startsWith('/proc/') && !PROC_OVERMOUNT_ALLOWED.has(dest)) {
      throw new ConfigError(`mounts[${i}].destination`, `"${dest}" cannot be mounted because it is inside /proc`);
    }
  });
}

/** Mark the plans the child must check strictly, or may let onto a procfs. */
export function guardProcMounts(plans: MountPlan[]): void {
  for (const p of plans) {
    if (!p.bind && p.fstype && STRICT_TARGET_TYPES.has(p.fstype)) p.noSymlinks = true;
    const procOnProc = p.dest === '/proc' && ((!p.bind && p.fstype === 'proc') || (p.bind && !!p.source && isProcfs(p.source)));
    if (procOnProc || PROC_OVERMOUNT_ALLOWED.has(p.dest)) p.mayCoverProc = true;
  }
}
