// The foreground part of `run` and of `restore` without --detach: ts-runc stands in for
// the container's process until it exits.
import fs from 'node:fs';
import { native } from '../native/addon.js';
import { relayTerminal } from '../linux/terminal-relay.js';
import type { Spec } from '../spec/types.js';
import type { ContainerRecord } from '../state/types.js';
import { ContainerNotFoundError, errorMessage } from '../util/errors.js';
import { trace } from '../util/trace.js';
import type { RuntimeContext } from './context.js';
import { destroyContainer, killAndWait } from './container.js';
import { SignalForwarder } from './forward-signals.js';

/**
 * The foreground part of run (and of restore without --detach): forward signals to the
 * container process (with those that came before it existed: see forward-signals.ts), relay
 * its terminal when `master` is a pty master (else -1), wait for it, then remove the
 * container unless `keep`. Takes ownership of pidfd and master; returns the exit status to
 * exit with (128+signal when killed).
 */
export async function waitInForeground(
  ctx: RuntimeContext,
  record: ContainerRecord,
  spec: Spec,
  pidfd: number,
  master: number,
  keep: boolean,
): Promise<number> {
  const addon = native();
  const signals = SignalForwarder.install();
  signals.target(pidfd);
  const relay = master >= 0 ? relayTerminal(master, pidfd) : null;
  const result = await addon.waitPidfdAsync(pidfd);
  trace('run: exited');
  signals.finish();
  if (relay) await relay.finish();
  fs.closeSync(pidfd);
  if (!keep) {
    killAndWait(record);
    removeContainer(ctx, record.id, spec);
  }
  trace('run: cleaned up');
  return result.signal ? 128 + result.signal : (result.exitCode ?? 0);
}

/**
 * Remove a container whose processes are gone; a failure is only a warning. One already gone
 * was removed by someone else (`delete --force` while it ran): that is no failure, and runc
 * says nothing then either.
 */
export function removeContainer(ctx: RuntimeContext, id: string, spec: Parameters<typeof destroyContainer>[2]): void {
  try {
    const rec = ctx.store.read(id);
    destroyContainer(ctx, rec, spec);
  } catch (err) {
    if (!(err instanceof ContainerNotFoundError)) ctx.log.warn(`remove container ${id}: ${errorMessage(err)}`);
  }
}
