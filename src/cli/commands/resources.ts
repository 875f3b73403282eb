// update, pause, resume, ps, events: the cgroup-backed commands, with runc's flags.
import path from 'node:path';
import { type FlagSpec, type FlagValues, flag } from '../args.js';
import { type Command, containerCommand } from '../command.js';
import { print, printJson } from '../output.js';
import { events } from '../../operations/events.js';
import { pause, resume } from '../../operations/pause.js';
import { containerPids, psTable } from '../../operations/ps.js';
import { update } from '../../operations/update.js';
import type { LinuxResources } from '../../spec/types.js';
import { validateResources } from '../../spec/validate.js';
import { ConfigErrors, UsageError } from '../../util/errors.js';
import { readJson } from '../../util/json-input.js';

// ---- update ---------------------------------------------------------------------------

/** docker/go-units RAMInBytes, as runc parses --memory: "512m", "1.5GiB", "1024"; -1 = unlimited. */
export function parseRamBytes(text: string): number {
  if (text === '-1') return -1;
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(text);
  if (!m) throw new Error(`invalid size: '${text}'`);
  const power = m[2] ? 'kmgtp'.indexOf(m[2].toLowerCase()) + 1 : 0;
  return Math.trunc(Number.parseFloat(m[1] as string) * 1024 ** power);
}

function parseUnsigned(text: string): number {
  if (!/^\d+$/.test(text)) throw new Error(`"${text}" is not an unsigned integer`);
  return Number(text);
}

function parseSigned(text: string): number {
  if (!/^-?\d+$/.test(text)) throw new Error(`"${text}" is not an integer`);
  return Number(text);
}

/** Each of runc's update flags: where its value goes in linux.resources and how it is read. */
const UPDATE_FIELDS: readonly { flag: string; at: [string, string]; parse: (t: string) => number | string; usage: string }[] = [
  { flag: 'blkio-weight', at: ['blockIO', 'weight'], parse: parseUnsigned, usage: 'Specifies per cgroup weight, range is from 10 to 1000' },
  { flag: 'cpu-period', at: ['cpu', 'period'], parse: parseUnsigned, usage: 'CPU CFS period to be used for hardcapping (in usecs). 0 to use system default' },
  { flag: 'cpu-quota', at: ['cpu', 'quota'], parse: parseSigned, usage: 'CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period' },
  { flag: 'cpu-burst', at: ['cpu', 'burst'], parse: parseUnsigned, usage: 'CPU CFS hardcap burst limit (in usecs). Allowed accumulated cpu time additionally for burst a given period' },
  { flag: 'cpu-share', at: ['cpu', 'shares'], parse: parseUnsigned, usage: 'CPU shares (relative weight vs. other containers)' },
  { flag: 'cpu-rt-period', at: ['cpu', 'realtimePeriod'], parse: parseUnsigned, usage: 'CPU realtime period to be used for hardcapping (in usecs). 0 to use system default' },
  { flag: 'cpu-rt-runtime', at: ['cpu', 'realtimeRuntime'], parse: parseSigned, usage: 'CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period' },
  { flag: 'cpuset-cpus', at: ['cpu', 'cpus'], parse: (t) => t, usage: 'CPU(s) to use' },
  { flag: 'cpuset-mems', at: ['cpu', 'mems'], parse: (t) => t, usage: 'Memory node(s) to use' },
  { flag: 'memory', at: ['memory', 'limit'], parse: parseRamBytes, usage: 'Memory limit (in bytes)' },
  { flag: 'memory-reservation', at: ['memory', 'reservation'], parse: parseRamBytes, usage: 'Memory reservation or soft_limit (in bytes)' },
  { flag: 'memory-swap', at: ['memory', 'swap'], parse: parseRamBytes, usage: "Total memory usage (memory + swap); set '-1' to enable unlimited swap" },
  { flag: 'pids-limit', at: ['pids', 'limit'], parse: parseSigned, usage: 'Maximum number of pids allowed in the container' },
];

const RDT_FLAGS = ['l3-cache-schema', 'mem-bw-schema'];

const UPDATE_FLAGS: FlagSpec[] = [
  {
    name: 'resources',
    aliases: ['r'],
    type: 'string',
    value: 'FILE',
    usage: "path to the file containing the resources to update or '-' to read from the standard input (all other options are then ignored)",
  },
  ...UPDATE_FIELDS.map((f): FlagSpec => ({ name: f.flag, type: 'string', value: 'value', usage: f.usage })),
  { name: 'l3-cache-schema', type: 'string', value: 'value', usage: 'The string of Intel RDT/CAT L3 cache schema (not supported)' },
  { name: 'mem-bw-schema', type: 'string', value: 'value', usage: 'The string of Intel RDT/MBA memory bandwidth schema (not supported)' },
];

/** A resources JSON document (update -r FILE, or - for stdin), bounded and validated. */
export function readResourcesFile(file: string): LinuxResources {
  const doc = readJson(file === '-' ? { stdin: true } : { file: path.resolve(file) });
  const problems = validateResources(doc);
  if (problems.length) throw new ConfigErrors(problems);
  return doc as LinuxResources;
}

export function resourcesFromFlags(flags: FlagValues): LinuxResources {
  for (const name of RDT_FLAGS) {
    if (flag.str(flags, name) !== undefined) throw new UsageError(`--${name}: Intel RDT is not supported by ts-runc`);
  }
  const out: Record<string, Record<string, number | string>> = {};
  for (const f of UPDATE_FIELDS) {
    const text = flag.str(flags, f.flag);
    if (text === undefined) continue;
    let value: number | string;
    try {
      value = f.parse(text);
    } catch (err) {
      throw new UsageError(`invalid value for ${f.flag}: ${(err as Error).message}`);
    }
    const [group, key] = f.at;
    (out[group] ??= {})[key] = value;
  }
  return out as LinuxResources;
}

export const updateCommand: Command = {
  name: 'update',
  usage: '<container-id>',
  summary: 'update container resource constraints',
  description: `Changes the resource limits (linux.resources) of a created, running or paused container.
The new values come from the options, or all at once from a JSON file (runtime-spec
LinuxResources) given with --resources, or from standard input with "--resources -".`,
  example: `ts-runc update --memory 512m --cpu-quota 50000 mycontainer
ts-runc update --pids-limit 200 mycontainer
echo '{"memory": {"limit": 268435456}}' | ts-runc update --resources - mycontainer`,
  flags: UPDATE_FLAGS,
  exactArgs: 1,
  run(ctx, { flags, args }) {
    const file = flag.str(flags, 'resources');
    update(ctx, args[0] as string, file !== undefined ? readResourcesFile(file) : resourcesFromFlags(flags));
    return 0;
  },
};

// ---- pause, resume --------------------------------------------------------------------

export const pauseCommand = containerCommand(
  {
    name: 'pause',
    summary: 'pause suspends all processes inside the container',
    description: `Suspends every process of the container (the cgroup freezer). "resume" continues them.`,
    example: `ts-runc pause mycontainer
ts-runc state mycontainer    # "status": "paused"`,
  },
  pause,
);

export const resumeCommand = containerCommand(
  {
    name: 'resume',
    summary: 'resumes all processes that have been previously paused',
    description: `Continues the processes of a container that "pause" suspended.`,
    example: `ts-runc resume mycontainer`,
  },
  resume,
);

// ---- ps -------------------------------------------------------------------------------

export const psCommand: Command = {
  name: 'ps',
  usage: '<container-id> [ps options]',
  summary: 'ps displays the processes running inside a container',
  description: `Shows the processes of the container: ps(1) output for them, given the ps options after
the container id, or their host pids as JSON with --format json.`,
  example: `ts-runc ps mycontainer
ts-runc ps mycontainer -o pid,user,args
ts-runc ps --format json mycontainer`,
  flags: [{ name: 'format', aliases: ['f'], type: 'string', value: 'value', usage: 'select one of: table or json', default: 'table' }],
  minArgs: 1,
  // Everything after the ID belongs to ps(1).
  stopAtFirstArg: true,
  run(ctx, { flags, args }) {
    const [id, ...rest] = args as [string, ...string[]];
    const format = flag.str(flags, 'format');
    if (format !== 'table' && format !== 'json') throw new UsageError('invalid format option');
    const pids = containerPids(ctx, id);
    if (format === 'json') {
      printJson(pids);
      return 0;
    }
    print(psTable(pids, rest[0] === '--' ? rest.slice(1) : rest));
    return 0;
  },
};

// ---- events ---------------------------------------------------------------------------

const DURATION_UNITS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration ("5s", "1m30s", "250ms"), in milliseconds. */
export function parseDuration(text: string): number {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] as string] ?? 0);
    end = re.lastIndex;
  }
  if (text === '' || end !== text.length) throw new UsageError(`invalid value "${text}" for flag -interval: parse error`);
  return total;
}

export const eventsCommand: Command = {
  name: 'events',
  usage: '<container-id>',
  summary: 'display container events such as OOM notifications, cpu, memory, and IO usage statistics',
  description: `Shows the container's events as JSON lines: its resource usage statistics (cpu, memory,
pids, block I/O, hugetlb) every --interval, and out-of-memory events as they happen,
until the container is deleted. With --stats it prints the statistics once and exits.`,
  example: `ts-runc events mycontainer
ts-runc events --interval 1s mycontainer
ts-runc events --stats mycontainer | jq .data.memory.usage`,
  flags: [
    { name: 'interval', type: 'string', value: 'value', usage: 'set the stats collection interval', default: '5s' },
    { name: 'stats', type: 'bool', usage: "display the container's stats then exit" },
  ],
  exactArgs: 1,
  run(ctx, { flags, args }) {
    const intervalMs = parseDuration(flag.str(flags, 'interval') ?? '5s');
    if (intervalMs <= 0) throw new UsageError('duration interval must be greater than 0');
    events(ctx, args[0] as string, { statsOnly: flag.bool(flags, 'stats'), intervalMs, emit: print });
    return 0;
  },
};
