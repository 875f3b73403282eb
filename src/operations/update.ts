// update: change a created, running or paused container's cgroup limits. Only what the
// request names is written, plus the values the kernel needs alongside (memory with swap,
// CFS quota with period). The kernel's answer decides: on a refusal the touched values are
// set back and nothing is recorded; on success state.json keeps the resources in force.
import { requireCgroup } from '../linux/cgroups/factory.js';
import { hostLayout } from '../linux/cgroups/mode.js';
import { checkUnified, throwProblems } from '../linux/specconv/validate.js';
import type { LinuxResources } from '../spec/types.js';
import { withLock } from '../state/lock.js';
import { ContainerStateError, errorMessage } from '../util/errors.js';
import type { RuntimeContext } from './context.js';
import { liveStatus, readSnapshot } from './container.js';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Objects merge member by member; anything else (numbers, lists) replaces. */
export function mergeResources(base: LinuxResources, change: LinuxResources): LinuxResources {
  const merge = (a: unknown, b: unknown): unknown => {
    if (!isObj(a) || !isObj(b)) return b === undefined ? a : b;
    const out: Obj = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = merge(a[k], v);
    return out;
  };
  return merge(base, change) as LinuxResources;
}

/**
 * What to write for a change: the change itself, with the partners the kernel checks
 * together taken from the merged result (memory.swap is counted against memory.limit; v2's
 * cpu.max holds quota and period in one file).
 */
export function updateDelta(change: LinuxResources, merged: LinuxResources): LinuxResources {
  const delta = structuredClone(change);
  const m = change.memory;
  if (m && (m.limit !== undefined || m.swap !== undefined)) {
    delta.memory = { ...delta.memory, limit: merged.memory?.limit, swap: merged.memory?.swap, checkBeforeUpdate: merged.memory?.checkBeforeUpdate };
  }
  const c = change.cpu;
  if (c && (c.quota !== undefined || c.period !== undefined)) {
    delta.cpu = { ...delta.cpu, quota: merged.cpu?.quota, period: merged.cpu?.period };
  }
  return delta;
}

/** The values `from` has at the places `shape` sets: what to write to undo `shape`. */
export function sameFields(shape: unknown, from: unknown): unknown {
  if (!isObj(shape)) return from;
  if (!isObj(from)) return undefined;
  const out: Obj = {};
  for (const k of Object.keys(shape)) {
    const v = sameFields(shape[k], from[k]);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

export function update(ctx: RuntimeContext, id: string, requested: LinuxResources): void {
  withLock(ctx.store, id, () => {
    const rec = ctx.store.read(id);
    const status = liveStatus(ctx.store, rec);
    if (status === 'stopped' || status === 'creating') throw new ContainerStateError('container not running');
    const cg = requireCgroup(rec.cgroup, 'update');
    throwProblems(checkUnified(requested.unified, hostLayout()));
    const change = { ...requested };
    if (change.devices) {
      // Rewriting device rules of a live container would deny everything for a moment.
      ctx.log.warn('linux.resources.devices cannot be changed by update: ignored');
      delete change.devices;
    }
    const current = rec.resources ?? readSnapshot(ctx.store, id).linux?.resources ?? {};
    const merged = mergeResources(current, change);
    const delta = updateDelta(change, merged);
    const opts = { update: true, warn: (m: string) => ctx.log.warn(m), ignorePermissionErrors: ctx.rootless };
    try {
      cg.set(delta, opts);
    } catch (err) {
      try {
        cg.set(sameFields(delta, current) as LinuxResources, { ...opts, update: false, warn: () => {} });
      } catch (backErr) {
        ctx.log.warn(`Setting back cgroup configs failed due to error: ${errorMessage(backErr)}, your state.json and actual configs might be inconsistent.`);
      }
      throw err;
    }
    rec.resources = merged;
    ctx.store.write(rec);
  });
}
