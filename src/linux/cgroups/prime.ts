// Overlap the kernel's first-migration stall with the runtime's own work (see
// primeCgroupMigration in addon/parent/proc.cc): called as soon as an operation knows it
// will move a process into a cgroup.
import path from 'node:path';
import { native } from '../../native/addon.js';
import { UNIFIED } from './dirs.js';
import { hostLayout, ownCgroups } from './mode.js';

let primed = false;

export function primeCgroupMigration(): void {
  if (primed || process.env.TSRUNC_NO_CGROUP_PRIME) return;
  primed = true;
  try {
    const layout = hostLayout();
    const first = layout.v1.entries().next().value as [string, string] | undefined;
    const [controller, mount] = first ?? [UNIFIED, layout.unified];
    if (!mount) return;
    const own = ownCgroups().get(controller) ?? '/';
    native().primeCgroupMigration(path.join(mount, own, 'cgroup.procs'));
  } catch {
    // Only an optimisation.
  }
}
