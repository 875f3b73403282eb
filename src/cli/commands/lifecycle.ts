// create, start, run, delete: the lifecycle commands, with runc's flags.
import { type FlagSpec, flag } from '../args.js';
import { type Command, containerCommand } from '../command.js';
import { checkPreservedFds, preservedFdCount } from '../inherited-fds.js';
import { create } from '../../operations/create.js';
import { deleteContainer } from '../../operations/delete.js';
import { run } from '../../operations/run.js';
import { start } from '../../operations/start.js';
import { ChildSetupError, FileError, HookError, RuntimeError } from '../../util/errors.js';
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

/**
 * runc prefixes failures of the container's setup with this, and those of the files it
 * names (config.json, the pid file, the terminal) with the first part.
 */
function wrapStartFailure(cmd: string, err: unknown): never {
  if (err instanceof ChildSetupError || err instanceof HookError) {
    throw new RuntimeError(`ts-runc ${cmd} failed: unable to start container process: ${err.message}`, err.exitCode);
  }
  if (err instanceof FileError) throw new RuntimeError(`ts-runc ${cmd} failed: ${err.message}`, err.exitCode);
  throw err;
}

/** Runs a synchronous start step (create, start) with its failures worded as wrapStartFailure says. */
function reportStartFailure(cmd: string, op: () => void): void {
  try {
    op();
  } catch (err) {
    wrapStartFailure(cmd, err);
  }
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
    preserveFds: preservedFdCount(flag.int(f, 'preserve-fds')),
  };
}

type Parsed = Parameters<Command['run']>[1];

export const createCommand: Command = {
  name: 'create',
  usage: '<container-id>',
  summary: 'create a container',
  description: `Creates an instance of a container from a bundle: a directory with a specification
file named "config.json" and a root filesystem. The container's namespaces, mounts,
cgroups and process are set up, the prestart, createRuntime and createContainer hooks
run, and the process then waits: "start" runs the program that config.json names in
process.args. The container id must be unique under the state directory (--root).

With process.terminal in config.json, --console-socket is required: the pseudo-terminal's
master end is sent there. --preserve-fds N passes descriptors 3 to 3+N-1 on to the
container; each must be open in the caller.`,
  example: `# make a bundle: a root filesystem and a default config.json
mkdir -p mybundle/rootfs && tar -C mybundle/rootfs -xf rootfs.tar
cd mybundle && ts-runc spec
# create it, then run its program
ts-runc create --pid-file /run/mycontainer.pid mycontainer
ts-runc start mycontainer`,
  flags: CREATE_FLAGS,
  exactArgs: 1,
  preflight: checkPreservedFds,
  run(ctx, { flags, args }) {
    reportStartFailure('create', () => fs.closeSync(create(ctx, createOptions(args[0] as string, flags)).pidfd));
    return 0;
  },
};

export const startCommand = containerCommand(
  {
    name: 'start',
    summary: 'executes the user defined process in a created container',
    description: `Runs the program of a created container (process.args of its config.json): the
startContainer hooks run, the program is executed, then the poststart hooks run. A
container can be started once; use "exec" to run more processes in it.`,
    example: `ts-runc create mycontainer
ts-runc start mycontainer
ts-runc state mycontainer    # "status": "running"`,
  },
  (ctx, id) => reportStartFailure('start', () => start(ctx, id)),
);

export const runCommand: Command = {
  name: 'run',
  usage: '<container-id>',
  summary: 'create and run a container',
  description: `Creates a container from a bundle and starts it, as "create" and "start" do, then waits
for its program in the foreground: signals that ts-runc receives are passed on to it, its
terminal is relayed when process.terminal is set and no --console-socket is given (this
needs a controlling terminal), and ts-runc exits with the program's status (128+N when a
signal N killed it). The container is deleted when its program exits, unless --keep is
given. With --detach, ts-runc returns once the program runs.`,
  example: `# an interactive shell, from a bundle in the current directory
ts-runc run mycontainer
# in the background, its output in a file
ts-runc run --detach --bundle /srv/bundle mycontainer > /var/log/mycontainer.log 2>&1`,
  flags: [
    ...CREATE_FLAGS,
    { name: 'detach', aliases: ['d'], type: 'bool', usage: 'detach from the container\'s process' },
    { name: 'keep', type: 'bool', usage: 'do not delete the container after it exits' },
    { name: 'no-subreaper', type: 'bool', usage: 'disable the use of the subreaper used to reap reparented processes' },
  ],
  exactArgs: 1,
  preflight: checkPreservedFds,
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
  description: `Deletes a stopped container: what create made (cgroups, the state directory) is removed
and the poststop hooks run. With --force, a created, running or paused container is
killed first (SIGKILL to its processes: those in its PID namespace, or with the host's PID
namespace those of its cgroup that were not there before it), and an id that does not
exist is not an error.`,
  example: `ts-runc delete mycontainer
ts-runc delete --force mycontainer    # kill it first if it still runs`,
  flags: [{ name: 'force', aliases: ['f'], type: 'bool', usage: 'Forcibly deletes the container if it is still running (uses SIGKILL)' }],
  exactArgs: 1,
  run(ctx, { flags, args }) {
    deleteContainer(ctx, args[0] as string, flag.bool(flags, 'force'));
    return 0;
  },
};
