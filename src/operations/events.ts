// events: runc's event stream for a container, one JSON object per line:
//   {"type":"stats","id":ID,"data":{cpu, cpuset, memory, pids, blkio, hugetlb, ...}}
//     every interval (or once with --stats, then exit);
//   {"type":"oom","id":ID}
//     whenever the kernel runs the container out of memory.
// The stream ends when the container's cgroup is removed (the container was deleted).
import { POLLIN, native } from '../native/addon.js';
import { requireCgroup } from '../linux/cgroups/factory.js';
import { sleepMs } from '../util/sleep.js';
import { hostHugePageSizes } from '../linux/cgroups/plan.js';
import { eventLine } from '../linux/cgroups/stats.js';
import { ContainerStateError, errorMessage } from '../util/errors.js';
import type { RuntimeContext } from './context.js';
import { liveStatus } from './container.js';

export interface EventsOptions {
  /** Print one stats event and return. */
  statsOnly: boolean;
  intervalMs: number;
  /** Where each line goes (stdout in the CLI). */
  emit(line: string): void;
}

export function events(ctx: RuntimeContext, id: string, opts: EventsOptions): void {
  const rec = ctx.store.read(id);
  if (liveStatus(ctx.store, rec) === 'stopped') throw new ContainerStateError(`container with id ${id} is not running`);
  const cg = requireCgroup(rec.cgroup, 'report events');
  const sizes = hostHugePageSizes();
  const stats = () => {
    try {
      opts.emit(eventLine('stats', id, cg.stats(sizes)));
    } catch (err) {
      ctx.log.log('error', errorMessage(err));
    }
  };
  if (opts.statsOnly) {
    stats();
    return;
  }
  const watcher = cg.watchOom();
  try {
    let nextStats = Date.now() + opts.intervalMs;
    let nextCheck = Date.now() + watcher.pollMs;
    for (;;) {
      const wait = Math.max(0, Math.min(nextStats, nextCheck) - Date.now());
      if (watcher.fd !== null) native().poll([[watcher.fd, POLLIN]], wait);
      else sleepMs(wait);
      const now = Date.now();
      // The eventfd is drained by check(); without one, ask on schedule.
      if (watcher.fd !== null || now >= nextCheck) {
        const what = watcher.check();
        if (what === 'oom') opts.emit(eventLine('oom', id));
        if (what === 'gone') return;
        nextCheck = now + watcher.pollMs;
      }
      if (now >= nextStats) {
        stats();
        nextStats += opts.intervalMs * (Math.floor((now - nextStats) / opts.intervalMs) + 1);
      }
    }
  } finally {
    watcher.close();
  }
}
