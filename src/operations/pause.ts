// pause and resume: freeze every process of the container (runtime's freezer, v1 or v2)
// and thaw it again. `pause` returns once the freeze has taken hold; `state` then reports
// "paused" (liveStatus asks the freezer).
import { requireCgroup } from '../linux/cgroups/factory.js';
import { withLock } from '../state/lock.js';
import { ContainerStateError } from '../util/errors.js';
import type { RuntimeContext } from './context.js';
import { liveStatus } from './container.js';

export function pause(ctx: RuntimeContext, id: string): void {
  withLock(ctx.store, id, () => {
    const rec = ctx.store.read(id);
    const status = liveStatus(ctx.store, rec);
    if (status !== 'running' && status !== 'created') throw new ContainerStateError('container not running');
    requireCgroup(rec.cgroup, 'pause').freeze();
  });
}

export function resume(ctx: RuntimeContext, id: string): void {
  withLock(ctx.store, id, () => {
    const rec = ctx.store.read(id);
    if (liveStatus(ctx.store, rec) !== 'paused') throw new ContainerStateError('container not paused');
    requireCgroup(rec.cgroup, 'resume').thaw();
  });
}
