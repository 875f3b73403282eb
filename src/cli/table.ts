// The command line's table: runc's global flags and the subcommands. main.ts runs it;
// help.ts and docs.ts (the man pages and the bash completion) describe it.
import type { FlagSpec } from './args.js';
import type { Command } from './command.js';
import { checkpointCommand, restoreCommand } from './commands/checkpoint.js';
import { createCommand, deleteCommand, runCommand, startCommand } from './commands/lifecycle.js';
import { execCommand } from './commands/exec.js';
import { featuresCommand } from './commands/features.js';
import { killCommand, listCommand, specCommand, stateCommand } from './commands/query.js';
import { eventsCommand, pauseCommand, psCommand, resumeCommand, updateCommand } from './commands/resources.js';

export const PROGRAM = 'ts-runc';

export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'debug', type: 'bool', usage: 'enable debug logging, with a timeline of the setup steps and their durations' },
  { name: 'log', type: 'string', value: 'FILE', usage: 'set the log file to write ts-runc logs to (default is stderr)' },
  { name: 'log-format', type: 'string', value: 'FORMAT', usage: 'set the log format (text or json)', default: 'text' },
  // No default here: without --root the state root depends on who runs (defaultStateRoot).
  { name: 'root', type: 'string', value: 'DIR', usage: 'root directory for storage of container state (this should be located in tmpfs)' },
  { name: 'criu', type: 'string', value: 'PATH', usage: 'path to the criu binary used for checkpoint and restore (default: criu from $PATH)' },
  { name: 'systemd-cgroup', type: 'bool', usage: 'enable systemd cgroup support, expects cgroupsPath to be of form "slice:prefix:name" for e.g. "system.slice:runc:434234"' },
  { name: 'rootless', type: 'string', value: 'true|false|auto', usage: 'ignore cgroup permission errors', default: 'auto' },
  { name: 'help', aliases: ['h'], type: 'bool', usage: 'show help' },
  { name: 'version', aliases: ['v'], type: 'bool', usage: 'print the version' },
];

/** Every command takes --help / -h (urfave/cli, which runc uses, adds it to each). */
export const HELP_FLAG: FlagSpec = { name: 'help', aliases: ['h'], type: 'bool', usage: 'show help' };

/** The help command and its alias (`ts-runc help create`, `ts-runc h`). */
export const HELP_COMMANDS: readonly string[] = ['help', 'h'];

export const COMMANDS: readonly Command[] = [
  checkpointCommand,
  createCommand,
  deleteCommand,
  eventsCommand,
  execCommand,
  featuresCommand,
  killCommand,
  listCommand,
  pauseCommand,
  psCommand,
  restoreCommand,
  resumeCommand,
  runCommand,
  specCommand,
  startCommand,
  stateCommand,
  updateCommand,
];

export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}
