// state and list: read-only views of containers. No lock: state.json is only ever
// replaced atomically, and hooks call `state` while create holds the lock.
import { checkContainerId } from '../state/container-id.js';
import { ContainerNotFoundError, errorMessage } from '../util/errors.js';
import type { RuntimeContext } from './context.js';
import { liveStatus, stateDocument } from './container.js';

export function state(ctx: RuntimeContext, id: string): Record<string, unknown> {
  checkContainerId(id);
  const rec = ctx.store.read(id);
  return stateDocument(rec, liveStatus(ctx.store, rec));
}

/** Every container's state; one whose state cannot be read is skipped with a warning naming it. */
export function list(ctx: RuntimeContext): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const id of ctx.store.list()) {
    try {
      const rec = ctx.store.read(id);
      out.push(stateDocument(rec, liveStatus(ctx.store, rec)));
    } catch (err) {
      // Deleted while we listed: not a problem.
      if (!(err instanceof ContainerNotFoundError)) ctx.log.warn(`list: skipping container ${id}: ${errorMessage(err)}`);
    }
  }
  return out;
}
