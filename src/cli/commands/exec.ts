// exec: run a new process inside the container, with runc's flags. Like runc, every
// failure is "exec failed: ..." with exit status 255, so a caller can tell it from the
// status of the process itself.
import { type FlagSpec, type FlagValues, flag } from '../args.js';
import type { Command } from '../command.js';
import { checkPreservedFds, preservedFdCount } from '../inherited-fds.js';
import { exec } from '../../operations/exec.js';
import { ChildSetupError, ConfigErrors, RuntimeError, errorMessage } from '../../util/errors.js';

const EXEC_FAILED_STATUS = 255;

const EXEC_FLAGS: FlagSpec[] = [
  { name: 'console-socket', type: 'string', value: 'PATH', usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal" },
  { name: 'pidfd-socket', type: 'string', value: 'PATH', usage: 'path to an AF_UNIX socket which will receive a pidfd of the exec process' },
  { name: 'cwd', type: 'string', value: 'PATH', usage: 'current working directory in the container' },
  { name: 'env', aliases: ['e'], type: 'strings', value: 'NAME=VALUE', usage: 'set environment variables' },
  { name: 'tty', aliases: ['t'], type: 'bool', usage: 'allocate a pseudo-TTY' },
  { name: 'user', aliases: ['u'], type: 'string', value: 'UID[:GID]', usage: 'UID (format: <uid>[:<gid>])' },
  { name: 'additional-gids', aliases: ['g'], type: 'strings', value: 'GID', usage: 'additional gids' },
  { name: 'process', aliases: ['p'], type: 'string', value: 'FILE', usage: 'path to the process.json' },
  { name: 'detach', aliases: ['d'], type: 'bool', usage: 'detach from the container\'s process' },
  { name: 'pid-file', type: 'string', value: 'FILE', usage: 'specify the file to write the process id to' },
  { name: 'process-label', type: 'string', value: 'LABEL', usage: 'set the asm process label for the process commonly used with selinux' },
  { name: 'apparmor', type: 'string', value: 'PROFILE', usage: 'set the apparmor profile for the process' },
  { name: 'no-new-privs', type: 'bool', usage: 'set the no new privileges value for the process' },
  { name: 'cap', aliases: ['c'], type: 'strings', value: 'CAP', usage: 'add a capability to the bounding set for the process' },
  { name: 'preserve-fds', type: 'int', value: 'N', usage: 'pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)', default: 0 },
  { name: 'cgroup', type: 'strings', value: 'PATH', usage: 'run the process in an (existing) sub-cgroup(s). Format is [<controller>:]<cgroup>.' },
  { name: 'ignore-paused', type: 'bool', usage: 'allow exec in a paused container' },
];

function execFailed(err: unknown): never {
  let cause = errorMessage(err);
  if (err instanceof ChildSetupError) cause = `unable to start container process: ${err.message}`;
  // One line: engines show the last line of the log.
  if (err instanceof ConfigErrors) cause = err.problems.map((p) => p.message).join('; ');
  throw new RuntimeError(`exec failed: ${cause}`, EXEC_FAILED_STATUS);
}

function overrides(f: FlagValues, command: string[]) {
  return {
    args: command,
    env: flag.list(f, 'env'),
    cwd: flag.str(f, 'cwd'),
    tty: flag.bool(f, 'tty'),
    user: flag.str(f, 'user'),
    additionalGids: flag.list(f, 'additional-gids'),
    caps: flag.list(f, 'cap'),
    noNewPrivs: f['no-new-privs'] === undefined ? undefined : flag.bool(f, 'no-new-privs'),
    apparmor: flag.str(f, 'apparmor'),
    processLabel: flag.str(f, 'process-label'),
  };
}

export const execCommand: Command = {
  name: 'exec',
  usage: '<container-id> <command> [command options]  ||  -p process.json <container-id>',
  summary: 'execute new process inside the container',
  description: `Runs a new process inside a created, running (or, with --ignore-paused, paused)
container, in its namespaces, cgroups and security settings. The process is config.json's
with the command and the options given here, or the whole process.json given with
--process. In the foreground ts-runc waits for it, passes signals on, relays its terminal
with --tty, and exits with its status. Failures of exec itself exit with status 255.`,
  example: `ts-runc exec mycontainer ps -ef
ts-runc exec --tty --user 1000:1000 --env TERM=xterm mycontainer sh
ts-runc exec --detach --pid-file /run/job.pid mycontainer /usr/bin/job
ts-runc exec --process process.json mycontainer`,
  flags: EXEC_FLAGS,
  minArgs: 1,
  stopAtFirstArg: true,
  preflight(flags) {
    try {
      checkPreservedFds(flags);
    } catch (err) {
      execFailed(err);
    }
  },
  async run(ctx, { flags, args }) {
    const [id, ...command] = args as [string, ...string[]];
    const file = flag.str(flags, 'process');
    try {
      return await exec(ctx, {
        id,
        source: file ? { file } : { overrides: overrides(flags, command) },
        detach: flag.bool(flags, 'detach'),
        pidFile: flag.str(flags, 'pid-file'),
        consoleSocket: flag.str(flags, 'console-socket'),
        pidfdSocket: flag.str(flags, 'pidfd-socket'),
        preserveFds: preservedFdCount(flag.int(flags, 'preserve-fds')),
        cgroups: flag.list(flags, 'cgroup'),
        ignorePaused: flag.bool(flags, 'ignore-paused'),
      });
    } catch (err) {
      return execFailed(err);
    }
  },
};
