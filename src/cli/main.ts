// ts-runc's command line: runc's global flags, then a subcommand.
import { type FlagSpec, flag, formatFlags, parseArgs } from './args.js';
import type { Command } from './command.js';
import { createCommand, deleteCommand, runCommand, startCommand } from './commands/lifecycle.js';
import { execCommand } from './commands/exec.js';
import { featuresCommand } from './commands/features.js';
import { killCommand, listCommand, specCommand, stateCommand } from './commands/query.js';
import { eventsCommand, pauseCommand, psCommand, resumeCommand, updateCommand } from './commands/resources.js';
import { print } from './output.js';
import { defaultStateRoot, makeContext } from '../operations/context.js';
import { OCI_VERSION } from '../spec/defaults.js';
import { ConfigErrors, RuntimeError, UsageError, errorMessage } from '../util/errors.js';
import { type LogFormat, Logger, logger, setLogger } from '../util/log.js';
import { VERSION, COMMIT } from './version.js';
import { trace } from '../util/trace.js';
import { primeCgroupMigration } from '../linux/cgroups/prime.js';

const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'debug', type: 'bool', usage: 'enable debug logging' },
  { name: 'log', type: 'string', value: 'FILE', usage: 'set the log file to write ts-runc logs to (default is stderr)' },
  { name: 'log-format', type: 'string', value: 'FORMAT', usage: 'set the log format (text or json)', default: 'text' },
  // No default here: without --root the state root depends on who runs (defaultStateRoot).
  { name: 'root', type: 'string', value: 'DIR', usage: 'root directory for storage of container state (this should be located in tmpfs)' },
  { name: 'criu', type: 'string', value: 'PATH', usage: 'path to the criu binary used for checkpoint and restore (not supported)' },
  { name: 'systemd-cgroup', type: 'bool', usage: 'enable systemd cgroup support, expects cgroupsPath to be of form "slice:prefix:name" for e.g. "system.slice:runc:434234"' },
  { name: 'rootless', type: 'string', value: 'true|false|auto', usage: 'ignore cgroup permission errors', default: 'auto' },
  { name: 'help', aliases: ['h'], type: 'bool', usage: 'show help' },
  { name: 'version', aliases: ['v'], type: 'bool', usage: 'print the version' },
];

const COMMANDS: readonly Command[] = [
  createCommand,
  deleteCommand,
  eventsCommand,
  execCommand,
  featuresCommand,
  killCommand,
  listCommand,
  pauseCommand,
  psCommand,
  resumeCommand,
  runCommand,
  specCommand,
  startCommand,
  stateCommand,
  updateCommand,
];

function versionText(): string {
  // The JavaScript runtime, as runc names its Go: the installed executable is Bun's.
  const engine = process.versions.bun ? `bun: ${process.versions.bun}` : `node: ${process.version}`;
  return `ts-runc version ${VERSION}\ncommit: ${COMMIT}\nspec: ${OCI_VERSION}\n${engine}\n`;
}

/** The default --root for the help text ($XDG_RUNTIME_DIR/ts-runc when rootless). */
function shownStateRoot(): string | undefined {
  const root = defaultStateRoot();
  return 'root' in root ? root.root : undefined;
}

function helpText(): string {
  const cmds = COMMANDS.map((c) => `   ${c.name.padEnd(10)}${c.summary}`).join('\n');
  return `NAME:
   ts-runc - an OCI-compliant container runtime (a runc drop-in) in TypeScript

USAGE:
   ts-runc [global options] command [command options] [arguments...]

VERSION:
   ${VERSION}
   spec: ${OCI_VERSION}

COMMANDS:
${cmds}

GLOBAL OPTIONS:
${formatFlags(GLOBAL_FLAGS.map((f) => (f.name === 'root' ? { ...f, default: shownStateRoot() } : f)))}
`;
}

function commandHelp(c: Command): string {
  return `NAME:
   ts-runc ${c.name} - ${c.summary}

USAGE:
   ts-runc ${c.name} [command options] ${c.usage}
${c.flags.length ? `\nOPTIONS:\n${formatFlags(c.flags)}\n` : ''}`;
}

function checkArity(c: Command, n: number): void {
  if (c.exactArgs !== undefined && n !== c.exactArgs) {
    throw new UsageError(`ts-runc: "${c.name}" requires exactly ${c.exactArgs} argument(s)`);
  }
  if (c.minArgs !== undefined && n < c.minArgs) {
    throw new UsageError(`ts-runc: "${c.name}" requires a minimum of ${c.minArgs} argument(s)`);
  }
}

async function main(argv: string[]): Promise<number> {
  trace('main');
  const global = parseArgs(argv, GLOBAL_FLAGS, true);
  const g = global.flags;
  const format = flag.str(g, 'log-format') as LogFormat;
  if (format !== 'text' && format !== 'json') throw new UsageError(`invalid log-format: ${format}`);
  setLogger(new Logger(format, flag.bool(g, 'debug') ? 'debug' : 'info', flag.str(g, 'log')));
  if (flag.bool(g, 'version')) {
    print(versionText());
    return 0;
  }
  const [name, ...rest] = global.args;
  if (!name || flag.bool(g, 'help') || name === 'help') {
    const topic = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    print(topic ? commandHelp(topic) : helpText());
    return 0;
  }
  // These move a process into a cgroup: start the kernel's slow part of that now.
  if (name === 'create' || name === 'run' || name === 'exec') primeCgroupMigration();
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) throw new UsageError(`No help topic for '${name}'`);
  if (rest.includes('--help') || rest.includes('-h')) {
    print(commandHelp(command));
    return 0;
  }
  const parsed = parseArgs(rest, command.flags, command.stopAtFirstArg);
  checkArity(command, parsed.args.length);
  const ctx = makeContext(flag.str(g, 'root'), logger, flag.str(g, 'rootless'), flag.bool(g, 'systemd-cgroup'));
  logger.debug(`${name} ${parsed.args.join(' ')}`);
  return command.run(ctx, parsed);
}

function report(err: unknown): number {
  if (err instanceof ConfigErrors) {
    for (const p of err.problems) logger.fatal(p.message);
  } else {
    logger.fatal(errorMessage(err));
    if (!(err instanceof RuntimeError) && process.env.TSRUNC_DEBUG_STACK && err instanceof Error) {
      process.stderr.write(`${err.stack}\n`);
    }
  }
  return err instanceof RuntimeError ? err.exitCode : 1;
}

function runCli(): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.exitCode = report(err);
    },
  );
}

runCli();
