// run: create + start, then (unless --detach) wait for the container, forward signals to
// it, relay its terminal when it has one and no console socket was given, remove it when
// it exits (unless --keep), and exit with its status (128+signal when killed): the
// foreground part is waitInForeground (foreground.ts), which restore shares.
import fs from 'node:fs';
import path from 'node:path';
import { native } from '../native/addon.js';
import { requireControllingTerminal } from '../linux/terminal-relay.js';
import { loadConfig } from '../spec/load.js';
import { trace } from '../util/trace.js';
import type { RuntimeContext } from './context.js';
import { type CreateOptions, create } from './create.js';
import { killAndWait } from './container.js';
import { removeContainer, waitInForeground } from './foreground.js';
import { SignalForwarder } from './forward-signals.js';
import { start } from './start.js';

export interface RunOptions extends CreateOptions {
  detach?: boolean;
  keep?: boolean;
}

export async function run(ctx: RuntimeContext, opts: RunOptions): Promise<number> {
  // First of all: a signal from here on is the container's, even before it exists.
  const signals = opts.detach ? null : SignalForwarder.install();
  const addon = native();
  // A foreground run with a terminal and no console socket: we are the socket's peer.
  let consolePeer = -1;
  const spec = loadConfig(path.resolve(opts.bundle ?? '.'));
  opts = { ...opts, spec };
  if (spec.process?.terminal && !opts.consoleSocket && !opts.detach) {
    requireControllingTerminal();
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
    removeContainer(ctx, record.id, created.spec);
    fs.closeSync(pidfd);
    if (master >= 0) fs.closeSync(master);
    throw err;
  } finally {
    if (consolePeer >= 0) addon.closeFd(consolePeer);
  }
  if (!signals) {
    fs.closeSync(pidfd);
    return 0;
  }
  return waitInForeground(ctx, record, created.spec, pidfd, master, opts.keep === true);
}
