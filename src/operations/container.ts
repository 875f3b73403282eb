// Shared pieces of the lifecycle operations: the live status of a container, the
// spec's state document, signalling, and tearing a container down.
import fs from 'node:fs';
import { POLLIN, native } from '../native/addon.js';
import { cgroupManagerFromState } from '../linux/cgroups/factory.js';
import { type CgroupManager, thawQuietly } from '../linux/cgroups/manager.js';
import { type HookState, runHostHooksWarning } from '../linux/hooks.js';
import type { Spec } from '../spec/types.js';
import { parseJsonText, readBoundedText, readJson } from '../util/json-input.js';
import { isAlive, openLivePidfd, readProcStat } from '../state/liveness.js';
import { EXEC_FIFO, SNAPSHOT_FILE, type StateStore } from '../state/store.js';
import type { ContainerRecord, Status } from '../state/types.js';
import { sleepMs } from '../util/sleep.js';
import type { RuntimeContext } from './context.js';

/** The status right now: from the process, the exec fifo and the freezer, not from the file. */
export function liveStatus(store: StateStore, rec: ContainerRecord): Status {
  return settledStatus(rec) ?? liveProcessStatus(store, rec);
}

/**
 * What the processes alone tell: "stopped" or "creating", or null when the container process
 * runs (created, running or paused: liveProcessStatus says which). Enough for kill, which
 * signals all three alike, without reading the freezer and the exec fifo.
 */
export function settledStatus(rec: ContainerRecord): 'stopped' | 'creating' | null {
  // A create killed before it finished: nothing runs the container any more, and only
  // delete can act on it (it removes what create had made, cgroups included).
  if (rec.status === 'creating' && rec.creator && !isAlive(rec.creator.pid, rec.creator.startTime)) return 'stopped';
  if (rec.pid === 0) return rec.status === 'stopped' ? 'stopped' : 'creating';
  if (!isAlive(rec.pid, rec.pidStartTime)) return 'stopped';
  // create is still running (its hooks, say): "created" only once create has finished.
  if (rec.status === 'creating') return 'creating';
  return null;
}

/** Created, running or paused: for a container whose process runs (settledStatus null). */
function liveProcessStatus(store: StateStore, rec: ContainerRecord): Status {
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
  return readJson({ file: store.file(id, SNAPSHOT_FILE) }) as Spec;
}

/**
 * What teardown needs of the snapshot: its hooks, for poststop. create writes the snapshot
 * with toJson (keys as they are), so one with poststop hooks holds the text "poststop" in
 * quotes; without it the parse (~0.3 ms of delete) is skipped.
 */
export function readSnapshotHooks(store: StateStore, id: string): Pick<Spec, 'hooks'> {
  const file = store.file(id, SNAPSHOT_FILE);
  const text = readBoundedText({ file });
  return text.includes('"poststop"') ? (parseJsonText(text, file) as Spec) : {};
}

/** Did the container get a PID namespace of its own (not joined)? */
function ownsPidNamespace(rec: ContainerRecord): boolean {
  return rec.namespaces.some((ns) => ns.type === 'pid' && ns.path === '');
}

/**
 * The container's processes other than init, as delete must kill them. Once created with a
 * PID namespace of its own there are none to look for: they die with init (the kernel empties
 * the namespace), and anything else in the cgroup is not the container's. Otherwise: the
 * processes of its cgroup, except those that were there before the container (runc kills
 * the whole cgroup here; a cgroupsPath naming a populated cgroup must not cost its owner
 * its processes).
 */
function otherContainerPids(rec: ContainerRecord, cg: CgroupManager): number[] {
  // An abandoned creation may have left its setup processes, outside the PID namespace.
  if (rec.status !== 'creating' && ownsPidNamespace(rec)) return [];
  const foreign = new Set((rec.foreign ?? []).map((k) => `${k.pid}:${k.startTime}`));
  return cg.pids().filter((p) => p !== rec.pid && !(foreign.size && foreign.has(`${p}:${readProcStat(p)?.startTime}`)));
}

function sendSignal(pids: Iterable<number>, signal: number): void {
  const addon = native();
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

/** Signal the container process, or with `all` every process in its cgroup (as runc's kill --all). */
export function signalContainer(rec: ContainerRecord, signal: number, all: boolean): void {
  const initFd = openLivePidfd(rec.pid, rec.pidStartTime);
  if (initFd !== null) {
    try {
      native().pidfdSendSignal(initFd, signal);
    } finally {
      fs.closeSync(initFd);
    }
  }
  if (all && rec.cgroup) sendSignal(cgroupManagerFromState(rec.cgroup).pids().filter((p) => p !== rec.pid), signal);
}

/** SIGKILL the container's processes (not others sharing its cgroup) and wait (bounded) until they are gone. */
export function killAndWait(rec: ContainerRecord, timeoutMs = 10_000): void {
  const addon = native();
  const cg = rec.cgroup ? cgroupManagerFromState(rec.cgroup) : null;
  const initFd = openLivePidfd(rec.pid, rec.pidStartTime);
  if (initFd !== null) {
    try {
      addon.pidfdSendSignal(initFd, 9);
    } catch {
      // exited meanwhile
    }
  }
  if (cg) {
    const others = otherContainerPids(rec, cg);
    // cgroup.kill also reaches processes forked while the pids are being signalled, but it
    // takes the whole cgroup: only when everything in it is the container's.
    const killedAtOnce = others.length > 0 && !rec.foreign?.length && cg.killAll();
    if (!killedAtOnce) sendSignal(others, 9);
  }
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
    for (let left = otherContainerPids(rec, cg); left.length && Date.now() < deadline; left = otherContainerPids(rec, cg)) {
      sendSignal(left, 9);
      sleepMs(5);
    }
  }
}

/** Live processes left in the cgroup once the container's are gone: someone else's. */
function foreignLeft(rec: ContainerRecord, cg: CgroupManager): number {
  if (isAlive(rec.pid, rec.pidStartTime) || otherContainerPids(rec, cg).length) return 0;
  return cg.pids().filter((p) => {
    const stat = readProcStat(p);
    return stat !== null && stat.state !== 'Z' && stat.state !== 'X';
  }).length;
}

/**
 * Undo create: cgroups, state directory; then poststop hooks, whose failures are only
 * warnings (runtime.md step 13). The caller made sure nothing runs any more.
 */
export function destroyContainer(ctx: RuntimeContext, rec: ContainerRecord, spec: Pick<Spec, 'hooks'> | null): void {
  let failure: unknown;
  if (rec.cgroup) {
    const cg = cgroupManagerFromState(rec.cgroup);
    const foreign = foreignLeft(rec, cg);
    try {
      if (foreign) ctx.log.warn(`cgroup ${cg.path} left in place: ${foreign} process(es) in it are not the container's`);
      else cg.destroy();
    } catch (err) {
      failure = err;
    }
  }
  ctx.store.removeDir(rec.id);
  runHostHooksWarning('poststop', spec?.hooks?.poststop, hookState(rec, 'stopped'), (m) => ctx.log.warn(m));
  if (failure) throw failure;
}
