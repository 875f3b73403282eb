// create: the container's environment is built and its process waits for `start`
// (runtime.md "Create", lifecycle steps 1-5). On any failure nothing is left behind:
// the process is killed, cgroups and the state directory are removed.
import fs from 'node:fs';
import path from 'node:path';
import { native } from '../native/addon.js';
import { newCgroupManager } from '../linux/cgroups/factory.js';
import { CgroupDirs } from '../linux/cgroups/dirs.js';
import { hostLayout } from '../linux/cgroups/mode.js';
import { primeCgroupMigration } from '../linux/cgroups/prime.js';
import { convertContainer } from '../linux/specconv/index.js';
import { gatherHostFacts } from '../linux/specconv/host-facts.js';
import { openPlan } from '../linux/specconv/open.js';
import { runContainerHooks, runHostHooks } from '../linux/hooks.js';
import { realtimePlacementError } from '../linux/process-attrs.js';
import { giveStdioToMappedRoot, writeIdMaps } from '../linux/idmap.js';
import { type Launched, launch } from '../linux/launcher.js';
import { sendToSeccompAgent } from '../linux/seccomp-notify.js';
import { connectPidfdSocket, sendPidfd } from '../linux/pidfd-socket.js';
import { loadConfig } from '../spec/load.js';
import type { Spec } from '../spec/types.js';
import { checkContainerId } from '../state/container-id.js';
import { readProcStat } from '../state/liveness.js';
import { nsPid } from '../state/namespaces.js';
import { EXEC_FIFO, writeFileAtomic } from '../state/store.js';
import type { ContainerRecord } from '../state/types.js';
import { ConfigError, RuntimeError, UsageError } from '../util/errors.js';
import type { RuntimeContext } from './context.js';
import { trace } from '../util/trace.js';
import { hookState, killAndWait } from './container.js';
import { abandonNewContainer, claimNewContainer, newContainerRecord, settleNewContainer } from './new-container.js';

export interface CreateOptions {
  id: string;
  bundle?: string;
  pidFile?: string;
  consoleSocket?: string;
  /** `run` with a terminal and no console socket: ts-runc relays the pty itself. */
  consoleSocketFd?: number;
  /** --pidfd-socket: a pidfd of the container process is sent there (src/linux/pidfd-socket.ts). */
  pidfdSocket?: string;
  noPivot?: boolean;
  /** config.json already loaded and validated by the caller. */
  spec?: Spec;
  noNewKeyring?: boolean;
  preserveFds?: number;
}

export interface Created {
  record: ContainerRecord;
  /** pidfd of the container process (ours to close). */
  pidfd: number;
  spec: Spec;
}

export function create(ctx: RuntimeContext, opts: CreateOptions): Created {
  const id = checkContainerId(opts.id);
  const bundle = path.resolve(opts.bundle ?? '.');
  trace('create: begin');
  primeCgroupMigration();
  const spec = opts.spec ?? loadConfig(bundle);
  trace('create: config loaded');
  if (!spec.process) throw new ConfigError('process', 'is required');
  if (spec.process.terminal && !opts.consoleSocket && opts.consoleSocketFd === undefined) {
    throw new UsageError('cannot allocate tty if ts-runc will detach without setting console socket');
  }
  if (!spec.process.terminal && opts.consoleSocket) {
    throw new UsageError('cannot use console socket if ts-runc will not detach or allocate tty');
  }
  const preserveFds = opts.preserveFds ?? 0;
  if (preserveFds < 0) throw new UsageError('--preserve-fds must be a non-negative number');
  if (ctx.store.exists(id)) throw new RuntimeError(`container with id exists: ${id}`);

  // Everything that only reads (the host facts, the conversion) comes before the id is
  // claimed: a config that does not convert leaves nothing behind.
  const layout = hostLayout();
  const cgroups = newCgroupManager({ id, spec, layout, systemd: ctx.systemdCgroup, rootless: ctx.rootless, warn: (m) => ctx.log.warn(m) });
  // Without cgroups of its own (rootless, none delegated) the container is in the runtime's.
  const cgroupDirs = cgroups?.dirs ?? CgroupDirs.runtimeOwn(layout);
  const host = gatherHostFacts(spec, { bundle, cgroup: { layout, dirs: cgroupDirs } });
  const planned = convertContainer(
    spec,
    { id, bundle, noPivot: opts.noPivot === true, noNewKeyring: opts.noNewKeyring === true, preserveFds },
    host,
  );
  for (const w of planned.warnings) ctx.log.warn(w);
  const record: ContainerRecord = {
    ...newContainerRecord(ctx, id, bundle, planned.draft.rootfs ?? '', spec, cgroups),
    namespaces: planned.namespaces,
    noNewKeyring: opts.noNewKeyring === true,
  };
  // From here on a killed create leaves a "creating" record naming the cgroups (made only
  // after it), which delete --force recognises and removes.
  const lock = claimNewContainer(ctx, record, spec, cgroups);
  trace('create: claimed');
  const fds: number[] = [];
  let launched: Launched | null = null;
  try {
    const fifo = ctx.store.file(id, EXEC_FIFO);
    native().mkfifo(fifo, 0o622);
    const fifoFd = fs.openSync(fifo, fs.constants.O_RDWR);
    fds.push(fifoFd);
    const pidfdSocketFd = opts.pidfdSocket ? connectPidfdSocket(opts.pidfdSocket) : -1;
    if (pidfdSocketFd >= 0) fds.push(pidfdSocketFd);
    // runc works from inside the bundle: a relative console socket path is relative to it.
    const console = opts.consoleSocket
      ? { path: path.resolve(bundle, opts.consoleSocket) }
      : opts.consoleSocketFd !== undefined
        ? { fd: opts.consoleSocketFd, relay: true }
        : null;
    const { plan, fds: planFds } = openPlan(planned.draft, { console, execFifoFd: fifoFd });
    fds.push(...planFds);
    trace('create: planned');
    // Made only now, after the planning: the kernel's first cgroup change after a quiet spell
    // stalls (see primeCgroupMigration), and the planning above overlaps that stall.
    cgroups?.create(spec.linux?.resources, { warn: (m) => ctx.log.warn(m), ignorePermissionErrors: ctx.rootless });
    trace('create: cgroups made');

    // The container's stdio is the runtime's own unless a terminal replaces it.
    if (planned.idMaps && !spec.process?.terminal) giveStdioToMappedRoot(spec.linux ?? {});
    const hooks = spec.hooks ?? {};
    launched = launch(plan, {
      onStage1: (pid) => {
        if (planned.idMaps) writeIdMaps(pid, spec.linux ?? {}, planned.idMaps);
        try {
          cgroups?.addInitProcess(pid);
        } catch (err) {
          throw realtimePlacementError(err, spec.process, 'process');
        }
      },
      onHooks: (initPid, initPidfd) => {
        record.pid = initPid;
        record.pidStartTime = readProcStat(initPid)?.startTime ?? 0;
        ctx.store.write(record);
        const state = hookState(record, 'created', initPid);
        runHostHooks('prestart', hooks.prestart, state);
        runHostHooks('createRuntime', hooks.createRuntime, state);
        runContainerHooks('createContainer', hooks.createContainer, hookState(record, 'created', nsPid(initPid)), {
          pidfd: initPidfd,
          nsFlags: planned.nsFlags,
        });
      },
      onSeccompFd: (fd, initPid) => {
        try {
          sendToSeccompAgent(spec.linux!.seccomp!, fd, initPid, { ...hookState(record, 'creating', initPid) });
        } finally {
          fs.closeSync(fd);
        }
      },
    });
    trace('create: launched');
    record.pid = launched.pid;
    record.pidStartTime = readProcStat(launched.pid)?.startTime ?? 0;
    settleNewContainer(ctx, record, 'created');
    if (opts.pidFile) writeFileAtomic(path.resolve(opts.pidFile), String(launched.pid), 0o644);
    if (pidfdSocketFd >= 0) sendPidfd(pidfdSocketFd, launched.pidfd);
    trace('create: done');
    return { record, pidfd: launched.pidfd, spec };
  } catch (err) {
    if (launched) {
      killAndWait(record);
      fs.closeSync(launched.pidfd);
    }
    abandonNewContainer(ctx, record, spec, err, 'create');
    throw err;
  } finally {
    for (const fd of fds) fs.closeSync(fd);
    lock.release();
  }
}
