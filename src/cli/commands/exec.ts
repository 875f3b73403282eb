// exec: run a new process inside a running container (issue: exec, terminals, engines).
import type { Command } from '../command.js';
import { UsageError } from '../../util/errors.js';

export const execCommand: Command = {
  name: 'exec',
  usage: '<container-id> <command> [command options]',
  summary: 'execute new process inside the container',
  flags: [],
  minArgs: 1,
  stopAtFirstArg: true,
  run() {
    throw new UsageError('exec is not implemented yet');
  },
};
