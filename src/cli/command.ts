// The shape of a subcommand: runc's name, usage and flags, what it does and an example, and
// a handler returning the process exit status. The help text, the man pages and the bash
// completion are all made from these (src/cli/help.ts, src/cli/docs.ts): one source.
import type { FlagSpec, FlagValues, Parsed } from './args.js';
import type { RuntimeContext } from '../operations/context.js';

export interface Command {
  name: string;
  /** e.g. "<container-id>" */
  usage: string;
  /** One line, lower case (the COMMANDS list and the man page's NAME). */
  summary: string;
  /** What it does, in paragraphs separated by blank lines. */
  description: string;
  /** Command lines with `#` comments, as a user would type them. */
  example: string;
  flags: FlagSpec[];
  /** Exactly this many arguments (runc: `"start" requires exactly 1 argument(s)`). */
  exactArgs?: number;
  minArgs?: number;
  /** Options end at the first argument (exec's command has options of its own). */
  stopAtFirstArg?: boolean;
  /**
   * Checks that must come before the runtime opens anything of its own (main calls it right
   * after parsing the flags): the descriptors --preserve-fds passes on (inherited-fds.ts).
   * It fails as the command fails (exec: status 255).
   */
  preflight?(flags: FlagValues): void;
  run(ctx: RuntimeContext, parsed: Parsed): number | Promise<number>;
}

/** What a command says of itself: its name, the help texts and the example. */
export type CommandText = Pick<Command, 'name' | 'summary' | 'description' | 'example'>;

/**
 * A command whose one argument is a container id and that has no flags (start, state,
 * pause, resume): runc's usage and arity, `op` does the work and the status is 0.
 */
export function containerCommand(text: CommandText, op: (ctx: RuntimeContext, id: string) => void): Command {
  return {
    ...text,
    usage: '<container-id>',
    flags: [],
    exactArgs: 1,
    run(ctx, { args }) {
      op(ctx, args[0] as string);
      return 0;
    },
  };
}
