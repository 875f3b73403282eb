// linux.intelRdt (config-linux.md "IntelRdt"): the container process goes into a resctrl
// group. The spec requires an error when no resctrl file system is mounted in the
// runtime's mount namespace. ts-runc does not manage resctrl groups; with resctrl
// mounted it refuses the field plainly instead of ignoring it.
import fs from 'node:fs';
import type { Spec } from '../spec/types.js';
import { ConfigError } from '../util/errors.js';

/** Mount point of the resctrl file system in this mount namespace, or null. */
export function resctrlMountPoint(mountinfo = '/proc/self/mountinfo'): string | null {
  let text: string;
  try {
    text = fs.readFileSync(mountinfo, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    if (line.slice(sep + 3).split(' ')[0] === 'resctrl') return line.slice(0, sep).split(' ')[4] ?? null;
  }
  return null;
}

export function checkIntelRdt(spec: Spec, mountinfo?: string): void {
  if (!spec.linux?.intelRdt) return;
  const mountPoint = resctrlMountPoint(mountinfo);
  if (!mountPoint) {
    throw new ConfigError('linux.intelRdt', 'Intel RDT is requested but no resctrl file system is mounted (mount -t resctrl resctrl /sys/fs/resctrl)');
  }
  throw new ConfigError('linux.intelRdt', `Intel RDT is not supported by ts-runc (resctrl is mounted at ${mountPoint})`);
}
