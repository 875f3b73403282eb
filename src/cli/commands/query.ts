// state, list, kill, spec.
import path from 'node:path';
import { flag } from '../args.js';
import type { Command } from '../command.js';
import { print, printJson } from '../output.js';
import { kill } from '../../operations/kill.js';
import { list, state } from '../../operations/query.js';
import { writeDefaultSpec } from '../../operations/spec.js';
import { parseSignal } from '../../linux/signals.js';
import { UsageError } from '../../util/errors.js';

export const stateCommand: Command = {
  name: 'state',
  usage: '<container-id>',
  summary: 'output the state of a container',
  description: `Prints the state of a container as JSON (runtime-spec "State"): its id, status
(creating, created, running, paused or stopped), the pid of its process, its bundle,
and its annotations.`,
  example: `ts-runc state mycontainer
ts-runc state mycontainer | jq -r .status`,
  flags: [],
  exactArgs: 1,
  run(ctx, { args }) {
    printJson(state(ctx, args[0] as string), 2);
    return 0;
  },
};

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd((widths[c] ?? 0) + 3))).join('')).join('\n');
}

export const listCommand: Command = {
  name: 'list',
  usage: '',
  summary: 'lists containers started by ts-runc with the given root',
  description: `Lists the containers under the state directory (--root) with their pid, status, bundle,
creation time and owner. A container whose state cannot be read is skipped with a
warning naming it.`,
  example: `ts-runc list
ts-runc list --format json
ts-runc list -q    # ids only`,
  flags: [
    { name: 'format', aliases: ['f'], type: 'string', value: 'FORMAT', usage: 'select one of: table or json', default: 'table' },
    { name: 'quiet', aliases: ['q'], type: 'bool', usage: 'display only container IDs' },
  ],
  exactArgs: 0,
  run(ctx, { flags }) {
    const format = flag.str(flags, 'format');
    const items = list(ctx);
    if (flag.bool(flags, 'quiet')) {
      print(items.map((i) => `${i.id}\n`).join(''));
      return 0;
    }
    // runc names the owner in list (and leaves it empty in state): its state directory's.
    const owner = (i: Record<string, unknown>) => (i.owner as string) || ctx.store.owner(String(i.id));
    if (format === 'json') {
      printJson(items.map((i) => ({ ...i, owner: owner(i) })));
      return 0;
    }
    if (format !== 'table') throw new UsageError(`invalid format option: ${format}`);
    const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']];
    for (const i of items) rows.push([String(i.id), String(i.pid), String(i.status), String(i.bundle), String(i.created), owner(i)]);
    print(`${table(rows)}\n`);
    return 0;
  },
};

export const killCommand: Command = {
  name: 'kill',
  usage: '<container-id> [signal]',
  summary: 'kill sends the specified signal (default: SIGTERM) to the container\'s init process',
  description: `Sends a signal to the container's process (SIGTERM when none is given). The signal is a
name (KILL, SIGKILL) or a number. With --all it goes to every process in the container's
cgroup. A container that has stopped cannot be signalled.`,
  example: `ts-runc kill mycontainer           # SIGTERM
ts-runc kill mycontainer KILL
ts-runc kill --all mycontainer 9`,
  flags: [{ name: 'all', aliases: ['a'], type: 'bool', usage: 'send the specified signal to all processes inside the container' }],
  minArgs: 1,
  run(ctx, { flags, args }) {
    if (args.length > 2) throw new UsageError('ts-runc: "kill" requires a minimum of 1 and a maximum of 2 argument(s)');
    const signal = parseSignal(args[1] ?? 'SIGTERM');
    kill(ctx, args[0] as string, signal, flag.bool(flags, 'all'));
    return 0;
  },
};

export const specCommand: Command = {
  name: 'spec',
  usage: '',
  summary: 'create a new specification file',
  description: `Writes a starter config.json into the bundle directory (the current one unless --bundle
is given). It runs "sh" on a terminal, with the namespaces, mounts, capabilities and
masked paths that runc's starter has; edit process.args and root.path to suit the
bundle. An existing config.json is never overwritten.`,
  example: `mkdir -p mybundle/rootfs && cd mybundle
ts-runc spec
sed -i 's;"sh";"/hello";' config.json
ts-runc spec --rootless --bundle /home/me/bundle`,
  flags: [
    { name: 'bundle', aliases: ['b'], type: 'string', value: 'DIR', usage: 'path to the root of the bundle directory' },
    { name: 'rootless', type: 'bool', usage: 'generate a configuration for a rootless container' },
  ],
  exactArgs: 0,
  run(_ctx, { flags }) {
    writeDefaultSpec(path.resolve(flag.str(flags, 'bundle') ?? '.'), { rootless: flag.bool(flags, 'rootless') });
    return 0;
  },
};
