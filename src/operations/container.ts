// Shared pieces of the lifecycle operations: the live status of a container, the
// spec's state document, signalling, and tearing a container down.
import fs from 'node:fs';
import { POLLIN, native } from '../native/addon.js';
import { cgroupManagerFromState } from '../linux/cgroups/factory.js';
import { thawQuietly } from '../linux/cgroups/manager.js';
import { type HookState, runHostHooksWarning } from '../linux/hooks.js';
import type { Spec } from '../spec/types.js';
import { isAlive, openLivePidfd } from '../state/liveness.js';
import { CONFIG_FILE, EXEC_FIFO, type StateStore } from '../state/store.js';
import type { ContainerRecord, Status } from '../state/types.js';
import { sleepMs } from '../util/sleep.js';
import type { RuntimeContext } from './context.js';

/** The status right now: from the process, the exec fifo and the freezer, not from the file. */
export function liveStatus(store: StateStore, rec: ContainerRecord): Status {
  if (rec.pid === 0) return rec.status === 'stopped' ? 'stopped' : 'creating';
  if (!isAlive(rec.pid, rec.pidStartTime)) return 'stopped';
  // create is still running (its hooks, say): "created" only once create has finished.
  if (rec.status === 'creating') return 'creating';
  if (rec.cgroup && cgroupManagerFromState(rec.cgroup).freezerState() === 'FROZEN') return 'paused';
  if (!rec.started && fs.existsSync(store.file(rec.id, EXEC_FIFO))) return 'created';
  return 'running';
}

/** runc's `state` document: the spec's fields plus rootfs, created and owner. */
export function stateDocument(rec: ContainerRecord, status: Status): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    ociVersion: rec.ociVersion,
    id: rec.id,
    pid: status === 'stopped' ? 0 : rec.pid,
    status,
    bundle: rec.bundle,
    rootfs: rec.rootfs,
    created: rec.created,
    owner: rec.owner,
  };
  if (rec.annotations && Object.keys(rec.annotations).length) doc.annotations = rec.annotations;
  return doc;
}

export function hookState(rec: ContainerRecord, status: string, pid?: number): HookState {
  const s: HookState = { ociVersion: rec.ociVersion, id: rec.id, status, bundle: rec.bundle };
  if (pid) s.pid = pid;
  if (rec.annotations) s.annotations = rec.annotations;
  return s;
}

/** The config.json snapshot taken at create time. */
export function readSnapshot(store: StateStore, id: string): Spec {
  return JSON.parse(fs.readFileSync(store.file(id, CONFIG_FILE), 'utf8')) as Spec;
}

/** Signal the container process, or with `all` every process in its cgroup. */
export function signalContainer(rec: ContainerRecord, signal: number, all: boolean): void {
  const addon = native();
  const pids = new Set<number>();
  if (all && rec.cgroup) for (const p of cgroupManagerFromState(rec.cgroup).pids()) pids.add(p);
  const initFd = openLivePidfd(rec.pid, rec.pidStartTime);
  if (initFd !== null) {
    try {
      addon.pidfdSendSignal(initFd, signal);
    } finally {
      fs.closeSync(initFd);
    }
  }
  pids.delete(rec.pid);
  for (const pid of pids) {
    let fd: number;
    try {
      fd = addon.pidfdOpen(pid);
    } catch {
      continue;
    }
    try {
      addon.pidfdSendSignal(fd, signal);
    } catch {
      // exited meanwhile
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** SIGKILL everything in the container and wait (bounded) until it is gone. */
export function killAndWait(rec: ContainerRecord, timeoutMs = 10_000): void {
  const addon = native();
  const initFd = openLivePidfd(rec.pid, rec.pidStartTime);
  const cg = rec.cgroup ? cgroupManagerFromState(rec.cgroup) : null;
  // cgroup.kill also reaches processes forked while the pids are being signalled.
  cg?.killAll();
  signalContainer(rec, 9, true);
  // A task frozen by the v1 freezer cannot act on SIGKILL: thaw a paused container.
  if (cg) thawQuietly(cg);
  if (initFd !== null) {
    try {
      addon.poll([[initFd, POLLIN]], timeoutMs);
      // Reap it if it is our child (run, or create in the same process); otherwise its
      // parent (the engine's shim, or init) does.
      try {
        addon.waitPidfd(initFd, true);
      } catch {
        // not our child
      }
    } finally {
      fs.closeSync(initFd);
    }
  }
  if (cg) {
    const deadline = Date.now() + timeoutMs;
    while (cg.isPopulated() && Date.now() < deadline) {
      signalContainer(rec, 9, true);
      sleepMs(5);
    }
  }
}

/**
 * Undo create: cgroups, state directory; then poststop hooks, whose failures are only
 * warnings (runtime.md step 13). The caller made sure nothing runs any more.
 */
export function destroyContainer(ctx: RuntimeContext, rec: ContainerRecord, spec: Spec | null): void {
  let failure: unknown;
  if (rec.cgroup) {
    try {
      cgroupManagerFromState(rec.cgroup).destroy();
    } catch (err) {
      failure = err;
    }
  }
  ctx.store.removeDir(rec.id);
  runHostHooksWarning('poststop', spec?.hooks?.poststop, hookState(rec, 'stopped'), (m) => ctx.log.warn(m));
  if (failure) throw failure;
}
