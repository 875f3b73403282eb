// state and list: read-only views of containers. No lock: state.json is only ever
// replaced atomically, and hooks call `state` while create holds the lock.
import { checkContainerId } from '../state/container-id.js';
import type { RuntimeContext } from './context.js';
import { liveStatus, stateDocument } from './container.js';

export function state(ctx: RuntimeContext, id: string): Record<string, unknown> {
  checkContainerId(id);
  const rec = ctx.store.read(id);
  return stateDocument(rec, liveStatus(ctx.store, rec));
}

export function list(ctx: RuntimeContext): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const id of ctx.store.list()) {
    try {
      const rec = ctx.store.read(id);
      out.push(stateDocument(rec, liveStatus(ctx.store, rec)));
    } catch {
      // deleted while we listed
    }
  }
  return out;
}
