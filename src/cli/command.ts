// The shape of a subcommand: runc's name, usage and flags, and a handler returning the
// process exit status.
import type { FlagSpec, Parsed } from './args.js';
import type { RuntimeContext } from '../operations/context.js';

export interface Command {
  name: string;
  /** e.g. "<container-id>" */
  usage: string;
  summary: string;
  flags: FlagSpec[];
  /** Exactly this many arguments (runc: `"start" requires exactly 1 argument(s)`). */
  exactArgs?: number;
  minArgs?: number;
  /** Options end at the first argument (exec's command has options of its own). */
  stopAtFirstArg?: boolean;
  run(ctx: RuntimeContext, parsed: Parsed): number | Promise<number>;
}
