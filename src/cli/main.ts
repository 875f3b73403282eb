// ts-runc's command line: runc's global flags, then a subcommand.
import { flag, parseArgs } from './args.js';
import type { Command } from './command.js';
import { commandHelp, helpText, versionText } from './help.js';
import { print } from './output.js';
import { GLOBAL_FLAGS, HELP_COMMANDS, HELP_FLAG, findCommand } from './table.js';
import { native } from '../native/addon.js';
import { makeContext } from '../operations/context.js';
import { SignalForwarder } from '../operations/forward-signals.js';
import { ConfigErrors, RuntimeError, UsageError, errorMessage } from '../util/errors.js';
import { type LogFormat, Logger, logger, setLogger } from '../util/log.js';
import { collectTrace, trace, traceTimeline } from '../util/trace.js';
import { primeCgroupMigration } from '../linux/cgroups/prime.js';

/** Commands whose foreground run waits for a container process and passes signals on. */
const STANDS_IN: readonly string[] = ['run', 'exec', 'restore'];

/** runc (urfave/cli) exits 3 for a command or help topic it does not know. */
const UNKNOWN_COMMAND_STATUS = 3;

function unknownCommand(name: string): UsageError {
  return new UsageError(`No help topic for '${name}'`, UNKNOWN_COMMAND_STATUS);
}

function checkArity(c: Command, n: number): void {
  if (c.exactArgs !== undefined && n !== c.exactArgs) {
    throw new UsageError(`ts-runc: "${c.name}" requires exactly ${c.exactArgs} argument(s)`);
  }
  if (c.minArgs !== undefined && n < c.minArgs) {
    throw new UsageError(`ts-runc: "${c.name}" requires a minimum of ${c.minArgs} argument(s)`);
  }
}

function libseccompVersion(): string {
  try {
    const v = native().seccompVersion();
    return `${v.major}.${v.minor}.${v.micro}`;
  } catch {
    return 'unknown';
  }
}

async function main(argv: string[]): Promise<number> {
  const global = parseArgs(argv, GLOBAL_FLAGS, true);
  const g = global.flags;
  const format = flag.str(g, 'log-format') as LogFormat;
  if (format !== 'text' && format !== 'json') throw new UsageError(`invalid log-format: ${format}`);
  const debug = flag.bool(g, 'debug');
  setLogger(new Logger(format, debug ? 'debug' : 'info', flag.str(g, 'log')));
  if (debug) collectTrace();
  trace('main');
  if (flag.bool(g, 'version')) {
    print(versionText(libseccompVersion()));
    return 0;
  }
  const [name, ...rest] = global.args;
  if (!name || flag.bool(g, 'help')) {
    print(helpText());
    return 0;
  }
  if (HELP_COMMANDS.includes(name)) {
    const topic = rest[0];
    if (topic === undefined) {
      print(helpText());
      return 0;
    }
    const c = findCommand(topic);
    if (!c) throw unknownCommand(topic);
    print(commandHelp(c));
    return 0;
  }
  const command = findCommand(name);
  if (!command) throw unknownCommand(name);
  const parsed = parseArgs(rest, [...command.flags, HELP_FLAG], command.stopAtFirstArg);
  if (flag.bool(parsed.flags, 'help')) {
    print(commandHelp(command));
    return 0;
  }
  // Before the runtime opens anything of its own (see inherited-fds.ts).
  command.preflight?.(parsed.flags);
  // In the foreground, run, exec and restore stand in for their process: from now on a
  // signal is its (queued until it exists; see forward-signals.ts).
  if (STANDS_IN.includes(name) && !flag.bool(parsed.flags, 'detach')) SignalForwarder.install();
  // These move a process into a cgroup: start the kernel's slow part of that now.
  if (name === 'create' || name === 'run' || name === 'exec') primeCgroupMigration();
  checkArity(command, parsed.args.length);
  const ctx = makeContext(flag.str(g, 'root'), logger, flag.str(g, 'rootless'), flag.bool(g, 'systemd-cgroup'), flag.str(g, 'criu'));
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
  main(process.argv.slice(2))
    .catch(report)
    .then((code) => {
      trace('exit');
      for (const line of traceTimeline()) logger.debug(line);
      // Out now, not once the event loop has drained: nothing of a command is left to run
      // (output and logs are written synchronously, processes are waited for through
      // pidfds), and Bun's way out through the drained loop costs ~0.8 MiB of peak RSS.
      process.exit(code);
    });
}

runCli();
