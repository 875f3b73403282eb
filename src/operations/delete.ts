// delete: remove a stopped container (runtime.md "Delete", lifecycle steps 11-13).
// --force kills a created, running or paused container first.
import { withLock } from '../state/lock.js';
import { ContainerStateError } from '../util/errors.js';
import type { RuntimeContext } from './context.js';
import { trace } from '../util/trace.js';
import { destroyContainer, killAndWait, liveStatus, readSnapshot } from './container.js';
import type { Spec } from '../spec/types.js';

export function deleteContainer(ctx: RuntimeContext, id: string, force: boolean): void {
  trace('delete: begin');
  // As runc and crun: forcing the removal of a container that is not there succeeds. Engines
  // rely on it: podman deletes with --force after a checkpoint, which already removed it.
  if (force && !ctx.store.exists(id)) return;
  withLock(ctx.store, id, () => {
    trace('delete: locked');
    const rec = ctx.store.read(id);
    const status = liveStatus(ctx.store, rec);
    if (status !== 'stopped') {
      if (!force) throw new ContainerStateError(`cannot delete container ${id} that is not stopped: ${status}`);
    }
    // Even a stopped init may leave processes behind in its cgroup (no PID namespace).
    trace('delete: status');
    killAndWait(rec);
    trace('delete: killed');
    let spec: Spec | null = null;
    try {
      spec = readSnapshot(ctx.store, id);
    } catch {
      spec = null;
    }
    trace('delete: snapshot read');
    destroyContainer(ctx, rec, spec);
    trace('delete: destroyed');
  });
}
