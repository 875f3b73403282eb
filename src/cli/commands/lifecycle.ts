// create, start, run, delete: the lifecycle commands, with runc's flags.
import { type FlagSpec, flag } from '../args.js';
import type { Command } from '../command.js';
import { create } from '../../operations/create.js';
import { deleteContainer } from '../../operations/delete.js';
import { run } from '../../operations/run.js';
import { start } from '../../operations/start.js';
import { ChildSetupError, HookError, RuntimeError } from '../../util/errors.js';
import fs from 'node:fs';

const CREATE_FLAGS: FlagSpec[] = [
  { name: 'bundle', aliases: ['b'], type: 'string', value: 'DIR', usage: 'path to the root of the bundle directory, defaults to the current directory' },
  { name: 'console-socket', type: 'string', value: 'PATH', usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal" },
  { name: 'pidfd-socket', type: 'string', value: 'PATH', usage: 'path to an AF_UNIX socket which will receive a pidfd of the container process' },
  { name: 'pid-file', type: 'string', value: 'FILE', usage: 'specify the file to write the process id to' },
  { name: 'no-pivot', type: 'bool', usage: 'do not use pivot root to jail process inside rootfs (for a rootfs on a ramdisk)' },
  { name: 'no-new-keyring', type: 'bool', usage: 'do not create a new session keyring for the container' },
  { name: 'preserve-fds', type: 'int', value: 'N', usage: 'pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)', default: 0 },
];

/** runc prefixes failures of the container's setup with this. */
function wrapStartFailure(cmd: string, err: unknown): never {
  if (err instanceof ChildSetupError || err instanceof HookError) {
    throw new RuntimeError(`ts-runc ${cmd} failed: unable to start container process: ${err.message}`, err.exitCode);
  }
  throw err;
}

function createOptions(id: string, f: Parsed['flags']) {
  return {
    id,
    bundle: flag.str(f, 'bundle'),
    pidFile: flag.str(f, 'pid-file'),
    consoleSocket: flag.str(f, 'console-socket'),
    pidfdSocket: flag.str(f, 'pidfd-socket'),
    noPivot: flag.bool(f, 'no-pivot'),
    noNewKeyring: flag.bool(f, 'no-new-keyring'),
    preserveFds: flag.int(f, 'preserve-fds') + listenFds(),
  };
}

/** Socket activation: $LISTEN_FDS descriptors are passed on too (as runc does). */
function listenFds(): number {
  const n = Number(process.env.LISTEN_FDS ?? 0);
  return Number.isInteger(n) && n > 0 && process.env.LISTEN_PID === String(process.pid) ? n : 0;
}

type Parsed = Parameters<Command['run']>[1];

export const createCommand: Command = {
  name: 'create',
  usage: '<container-id>',
  summary: 'create a container',
  flags: CREATE_FLAGS,
  exactArgs: 1,
  run(ctx, { flags, args }) {
    try {
      const created = create(ctx, createOptions(args[0] as string, flags));
      fs.closeSync(created.pidfd);
    } catch (err) {
      wrapStartFailure('create', err);
    }
    return 0;
  },
};

export const startCommand: Command = {
  name: 'start',
  usage: '<container-id>',
  summary: 'executes the user defined process in a created container',
  flags: [],
  exactArgs: 1,
  run(ctx, { args }) {
    try {
      start(ctx, args[0] as string);
    } catch (err) {
      wrapStartFailure('start', err);
    }
    return 0;
  },
};

export const runCommand: Command = {
  name: 'run',
  usage: '<container-id>',
  summary: 'create and run a container',
  flags: [
    ...CREATE_FLAGS,
    { name: 'detach', aliases: ['d'], type: 'bool', usage: 'detach from the container\'s process' },
    { name: 'keep', type: 'bool', usage: 'do not delete the container after it exits' },
    { name: 'no-subreaper', type: 'bool', usage: 'disable the use of the subreaper used to reap reparented processes' },
  ],
  exactArgs: 1,
  async run(ctx, { flags, args }) {
    try {
      return await run(ctx, {
        ...createOptions(args[0] as string, flags),
        detach: flag.bool(flags, 'detach'),
        keep: flag.bool(flags, 'keep'),
      });
    } catch (err) {
      return wrapStartFailure('run', err);
    }
  },
};

export const deleteCommand: Command = {
  name: 'delete',
  usage: '<container-id>',
  summary: 'delete any resources held by the container often used with detached container',
  flags: [{ name: 'force', aliases: ['f'], type: 'bool', usage: 'Forcibly deletes the container if it is still running (uses SIGKILL)' }],
  exactArgs: 1,
  run(ctx, { flags, args }) {
    deleteContainer(ctx, args[0] as string, flag.bool(flags, 'force'));
    return 0;
  },
};
