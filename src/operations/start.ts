// start: run the user program of a created container (runtime.md "Start", lifecycle
// steps 6-9). The container process is blocked in tsrunc-init reading the exec fifo;
// one byte releases it. We then wait until it has closed the fifo (it does so right
// before execve), so when start returns the program has been executed.
import fs from 'node:fs';
import { POLLERR, POLLIN, native } from '../native/addon.js';
import { runContainerHooks, runHostHooks, withDefaultEnv } from '../linux/hooks.js';
import { openLivePidfd } from '../state/liveness.js';
import { withLock } from '../state/lock.js';
import { nsFlagsOf, nsPid } from '../state/namespaces.js';
import { EXEC_FIFO } from '../state/store.js';
import type { ContainerRecord } from '../state/types.js';
import { ContainerStateError, HookError, errorMessage } from '../util/errors.js';
import type { RuntimeContext } from './context.js';
import { destroyContainer, hookState, killAndWait, liveStatus, readSnapshot } from './container.js';

const NOT_STARTABLE: Record<string, string> = {
  stopped: 'cannot start a container that has stopped',
  running: 'cannot start an already running container',
  paused: 'cannot start a paused container',
  creating: 'cannot start a container that is still being created',
};

export function start(ctx: RuntimeContext, id: string): ContainerRecord {
  // Asked while create still holds the lock (from one of its hooks), the lock fails at once.
  return withLock(ctx.store, id, () => {
    const rec = ctx.store.read(id);
    const status = liveStatus(ctx.store, rec);
    if (status !== 'created') throw new ContainerStateError(NOT_STARTABLE[status] ?? `cannot start a container in state ${status}`);
    const spec = readSnapshot(ctx.store, id);
    if (!spec.process) throw new ContainerStateError('process: is required to start a container');
    const addon = native();
    const pidfd = openLivePidfd(rec.pid, rec.pidStartTime);
    if (pidfd === null) throw new ContainerStateError(NOT_STARTABLE.stopped as string);
    try {
      try {
        runContainerHooks('startContainer', withDefaultEnv(spec.hooks?.startContainer, spec.process.env), hookState(rec, 'created', nsPid(rec.pid)), {
          pidfd,
          nsFlags: nsFlagsOf(rec),
        });
      } catch (err) {
        // Lifecycle step 7: stop the container and continue at step 12 (destroy, poststop).
        killAndWait(rec);
        destroyContainer(ctx, rec, spec);
        throw err;
      }
      const fifoPath = ctx.store.file(id, EXEC_FIFO);
      let fifo: number;
      try {
        fifo = fs.openSync(fifoPath, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
      } catch (err) {
        // ENXIO: no reader, the container process is gone.
        throw new ContainerStateError(`cannot start container: ${errorMessage(err)}`);
      }
      try {
        fs.writeSync(fifo, '0');
        // POLLERR on the write end: the last reader (tsrunc-init) closed the fifo, right
        // before executing the program. POLLIN on the pidfd: it died instead.
        for (;;) {
          const [fifoEv, pidEv] = addon.poll([[fifo, 0], [pidfd, POLLIN]], 10_000);
          if (fifoEv && fifoEv & POLLERR) break;
          if (pidEv) break;
          if (!fifoEv && !pidEv && liveStatus(ctx.store, rec) === 'stopped') break;
        }
      } finally {
        fs.closeSync(fifo);
      }
      fs.rmSync(fifoPath, { force: true });
      rec.started = true;
      rec.status = 'running';
      ctx.store.write(rec);
    } finally {
      fs.closeSync(pidfd);
    }
    try {
      runHostHooks('poststart', spec.hooks?.poststart, hookState(rec, 'running', rec.pid));
    } catch (err) {
      // Lifecycle step 9: an error; the container is stopped and destroyed (steps 12, 13).
      killAndWait(rec);
      destroyContainer(ctx, rec, spec);
      throw err instanceof HookError ? err : new HookError('poststart', errorMessage(err));
    }
    return rec;
  });
}
