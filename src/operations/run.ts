// run: create + start, then (unless --detach) wait for the container, forward signals to
// it, relay its terminal when it has one and no console socket was given, remove it when
// it exits (unless --keep), and exit with its status (128+signal when killed). Restore
// without --detach waits the same way (waitInForeground).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { native } from '../native/addon.js';
import { relayTerminal } from '../linux/terminal-relay.js';
import { loadConfig } from '../spec/load.js';
import type { Spec } from '../spec/types.js';
import type { ContainerRecord } from '../state/types.js';
import { errorMessage } from '../util/errors.js';
import { trace } from '../util/trace.js';
import type { RuntimeContext } from './context.js';
import { type CreateOptions, create } from './create.js';
import { destroyContainer, killAndWait } from './container.js';
import { start } from './start.js';

export interface RunOptions extends CreateOptions {
  detach?: boolean;
  keep?: boolean;
}

/** Signals run passes on to the container (runc forwards all but these few). */
const FORWARDED: NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU'];

export async function run(ctx: RuntimeContext, opts: RunOptions): Promise<number> {
  const addon = native();
  // A foreground run with a terminal and no console socket: we are the socket's peer.
  let consolePeer = -1;
  const spec = loadConfig(path.resolve(opts.bundle ?? '.'));
  opts = { ...opts, spec };
  if (spec.process?.terminal && !opts.consoleSocket && !opts.detach) {
    const [ours, theirs] = addon.socketPair();
    consolePeer = ours;
    opts = { ...opts, consoleSocketFd: theirs };
  }
  let created;
  try {
    created = create(ctx, opts);
  } finally {
    if (opts.consoleSocketFd !== undefined) addon.closeFd(opts.consoleSocketFd);
  }
  const { record, pidfd } = created;
  let master = -1;
  try {
    if (consolePeer >= 0) master = addon.recvFd(consolePeer).fd;
    start(ctx, record.id);
    trace('run: started');
  } catch (err) {
    killAndWait(record);
    cleanup(ctx, record.id, created.spec);
    fs.closeSync(pidfd);
    if (master >= 0) fs.closeSync(master);
    throw err;
  } finally {
    if (consolePeer >= 0) addon.closeFd(consolePeer);
  }
  if (opts.detach) {
    fs.closeSync(pidfd);
    return 0;
  }
  return waitInForeground(ctx, record, created.spec, pidfd, master, opts.keep === true);
}

/**
 * The foreground part of run (and of restore without --detach): forward signals to the
 * container process, relay its terminal when `master` is a pty master (else -1), wait for
 * it, then remove the container unless `keep`. Takes ownership of pidfd and master;
 * returns the exit status to exit with (128+signal when killed).
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
  const forward = (sig: NodeJS.Signals) => {
    try {
      addon.pidfdSendSignal(pidfd, os.constants.signals[sig]);
    } catch {
      // already exited
    }
  };
  for (const s of FORWARDED) process.on(s, forward);
  const relay = master >= 0 ? relayTerminal(master, pidfd) : null;
  const result = await addon.waitPidfdAsync(pidfd);
  trace('run: exited');
  for (const s of FORWARDED) process.off(s, forward);
  if (relay) await relay.finish();
  fs.closeSync(pidfd);
  if (!keep) {
    killAndWait(record);
    cleanup(ctx, record.id, spec);
  }
  trace('run: cleaned up');
  return result.signal ? 128 + result.signal : (result.exitCode ?? 0);
}

function cleanup(ctx: RuntimeContext, id: string, spec: Parameters<typeof destroyContainer>[2]): void {
  try {
    const rec = ctx.store.read(id);
    destroyContainer(ctx, rec, spec);
  } catch (err) {
    ctx.log.warn(`remove container ${id}: ${errorMessage(err)}`);
  }
}
