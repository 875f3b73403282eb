// A container being made, by create or by restore: its first record, the claim of its id,
// and the clean-up when making it fails. Both commands follow the same order, so that one
// killed at any moment leaves either nothing or a "creating" container that `delete
// --force` recognises and removes, cgroups included:
//
//   newContainerRecord   the record names the cgroups before any is made
//   claimNewContainer    the id appears, locked, with that record (ContainerLock.claim)
//   ... cgroups made, process started ...
//   abandonNewContainer  on failure: cgroups and state directory removed
import { OCI_VERSION } from '../spec/defaults.js';
import type { Spec } from '../spec/types.js';
import type { CgroupManager } from '../linux/cgroups/manager.js';
import { processKey } from '../state/liveness.js';
import { ContainerLock } from '../state/lock.js';
import { SNAPSHOT_FILE, STATE_FILE } from '../state/store.js';
import type { ContainerRecord } from '../state/types.js';
import { HookError, errorMessage } from '../util/errors.js';
import { type Json, toJson } from '../util/json-exact.js';
import type { RuntimeContext } from './context.js';
import { destroyContainer } from './container.js';

/** RFC 3339 with nanoseconds, like Go's time.Time in runc's state. */
function nowRfc3339Nano(): string {
  const ns = process.hrtime.bigint() % 1_000_000n;
  const iso = new Date().toISOString();
  return `${iso.slice(0, 23)}${ns.toString().padStart(6, '0')}Z`;
}

/**
 * The record of a container being made: "creating", no process yet, the cgroups its
 * manager will make (none made yet), and this process as its creator (see liveStatus).
 */
export function newContainerRecord(
  ctx: RuntimeContext,
  id: string,
  bundle: string,
  rootfs: string,
  spec: Spec,
  cgroups: CgroupManager | null,
): ContainerRecord {
  return {
    ociVersion: OCI_VERSION,
    id,
    status: 'creating',
    pid: 0,
    pidStartTime: 0,
    bundle,
    rootfs,
    annotations: spec.annotations,
    created: nowRfc3339Nano(),
    owner: '',
    cgroup: cgroups?.toState() ?? null,
    namespaces: [],
    rootless: ctx.rootless,
    started: false,
    creator: processKey(process.pid) ?? undefined,
  };
}

/**
 * Take the id: the state directory appears with `record` and the config snapshot, locked
 * until the returned lock is released. Processes already in the cgroup the record names
 * are noted as someone else's first (runc warns the same way; delete never kills them).
 */
export function claimNewContainer(ctx: RuntimeContext, record: ContainerRecord, spec: Spec, cgroups: CgroupManager | null): ContainerLock {
  const present = cgroups?.pids() ?? [];
  if (present.length) {
    ctx.log.warn(`container's cgroup is not empty: ${present.length} process(es) found`);
    record.foreign = present.flatMap((pid) => processKey(pid) ?? []);
  }
  return ContainerLock.claim(ctx.store, record.id, [
    [STATE_FILE, toJson(record as unknown as Json)],
    [SNAPSHOT_FILE, toJson(spec as unknown as Json)],
  ]);
}

/** The container has its process: no longer "creating", and no longer tied to its creator. */
export function settleNewContainer(ctx: RuntimeContext, record: ContainerRecord, status: 'created' | 'running'): void {
  record.status = status;
  delete record.creator;
  ctx.store.write(record);
}

/**
 * A create or restore that failed, its processes killed: remove its cgroups and state
 * directory, and run the poststop hooks when a hook was the failure. A failing cleanup is
 * only a warning: `cause` is the error the user sees.
 */
export function abandonNewContainer(ctx: RuntimeContext, record: ContainerRecord, spec: Spec, cause: unknown, what: string): void {
  try {
    destroyContainer(ctx, record, cause instanceof HookError ? spec : null);
  } catch (cleanupErr) {
    ctx.log.warn(`cleanup after failed ${what}: ${errorMessage(cleanupErr)}`);
  }
}
