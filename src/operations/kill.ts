// kill: send a signal to the container process (runtime.md "Kill"), or with --all to
// every process in its cgroup. Only created, running or paused containers can be signalled.
import { withLock } from '../state/lock.js';
import { ContainerStateError } from '../util/errors.js';
import type { RuntimeContext } from './context.js';
import { settledStatus, signalContainer } from './container.js';

export function kill(ctx: RuntimeContext, id: string, signal: number, all: boolean): void {
  const rec = ctx.store.read(id);
  // Created, running and paused are signalled alike: which one it is does not matter here.
  const status = settledStatus(rec);
  if (status === 'stopped' || status === 'creating') {
    if (!all) throw new ContainerStateError('container not running');
    // --all on a stopped container still reaches processes left in its cgroup.
    withLock(ctx.store, id, () => signalContainer(rec, signal, true));
    return;
  }
  signalContainer(rec, signal, all);
}
