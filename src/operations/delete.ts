// delete: remove a stopped container (runtime.md "Delete", lifecycle steps 11-13).
// --force kills a created, running or paused container first, and as runc and crun does
// not fail for an id that does not exist (engines call it in clean-up paths).
import { newCgroupManager } from '../linux/cgroups/factory.js';
import type { CgroupManager } from '../linux/cgroups/manager.js';
import { checkContainerId } from '../state/container-id.js';
import { ContainerLock } from '../state/lock.js';
import { CorruptStateError } from '../state/store.js';
import { ContainerNotFoundError, ContainerStateError, errorMessage } from '../util/errors.js';
import type { RuntimeContext } from './context.js';
import { trace } from '../util/trace.js';
import { destroyContainer, killAndWait, liveStatus, readSnapshot, readSnapshotHooks } from './container.js';
import type { Spec } from '../spec/types.js';

export function deleteContainer(ctx: RuntimeContext, id: string, force: boolean): void {
  checkContainerId(id);
  trace('delete: begin');
  // A create killed before it published its directory left only a staging directory.
  ctx.store.sweepAbandonedStaging();
  let lock: ContainerLock;
  try {
    lock = ContainerLock.acquire(ctx.store, id, { orRemnant: true });
  } catch (err) {
    // As runc and crun: forcing the removal of a container that is not there succeeds.
    // Engines rely on it: podman deletes with --force after a checkpoint, which already
    // removed the container.
    if (force && err instanceof ContainerNotFoundError) return;
    throw err;
  }
  try {
    trace('delete: locked');
    if (!ctx.store.exists(id)) {
      // A directory without state.json: nothing of a container can be found from it (runc
      // removes it too).
      ctx.store.removeDir(id);
      if (force) return;
      throw new ContainerNotFoundError();
    }
    let rec;
    try {
      rec = ctx.store.read(id);
    } catch (err) {
      if (!(force && err instanceof CorruptStateError)) throw err;
      removeCorrupt(ctx, id, err);
      return;
    }
    const status = liveStatus(ctx.store, rec);
    if (status !== 'stopped' && !force) throw new ContainerStateError(`cannot delete container ${id} that is not stopped: ${status}`);
    // Even a stopped init may leave processes behind in its cgroup (no PID namespace).
    trace('delete: status');
    killAndWait(rec);
    trace('delete: killed');
    let spec: Pick<Spec, 'hooks'> | null = null;
    try {
      spec = readSnapshotHooks(ctx.store, id);
    } catch {
      spec = null;
    }
    trace('delete: snapshot read');
    destroyContainer(ctx, rec, spec);
    trace('delete: destroyed');
  } finally {
    lock.release();
  }
}

/**
 * delete --force of a container whose state.json cannot be read: its state directory goes.
 * Which processes were its own is not known any more, so none is killed; the cgroup its
 * config names is removed when it is empty, and named in a warning when it is not.
 */
function removeCorrupt(ctx: RuntimeContext, id: string, err: CorruptStateError): void {
  ctx.log.warn(`${errorMessage(err)}: removing the container's state directory`);
  let cg: CgroupManager | null = null;
  try {
    // The driver is the one this delete is told to use (engines repeat their global flags).
    cg = newCgroupManager({ id, spec: readSnapshot(ctx.store, id), systemd: ctx.systemdCgroup, rootless: ctx.rootless });
  } catch {
    // no readable config snapshot either
  }
  ctx.store.removeDir(id);
  if (!cg) return;
  const left = cg.pids().length;
  if (left) {
    ctx.log.warn(`cgroup ${cg.path} left in place: ${left} process(es) in it`);
    return;
  }
  try {
    cg.destroy();
  } catch (e) {
    ctx.log.warn(errorMessage(e));
  }
}
