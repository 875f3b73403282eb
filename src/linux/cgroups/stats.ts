// Usage statistics of a container's cgroups in runc's `events` format (its types.Stats),
// read from wherever each controller lives. Numbers are bigints: cgroup counters and
// "unlimited" (2^63 on v1, 2^64-1 on v2) do not fit a double. Fields runc tags
// `omitempty` are left out when zero, so the JSON matches runc's byte for byte.
import { type CgroupDirs, UNIFIED } from './dirs.js';
import { type Json, toJson } from '../../util/json-exact.js';
import { MAX_UINT64, readCgroupFile, readKeyValues, readUint } from './fs.js';

/** Go's omitempty: zero numbers and empty lists are left out. */
function oe<T extends Json>(v: T): T | undefined {
  if (v === 0n || v === 0 || v === '' || v === null) return undefined;
  if (Array.isArray(v) && v.length === 0) return undefined;
  return v;
}

const n = (v: bigint | null | undefined): bigint => v ?? 0n;

/** Clock ticks per second of cpuacct.stat (USER_HZ, 100 on every Linux ABI). */
const USER_HZ = 100n;
const NS_PER_SEC = 1_000_000_000n;

function numberList(dir: string, file: string): bigint[] {
  const text = readCgroupFile(dir, file);
  if (!text) return [];
  return text
    .trim()
    .split(/\s+/)
    .filter((x) => /^\d+$/.test(x))
    .map((x) => BigInt(x));
}

/** "0-2,5" as [0, 1, 2, 5]. */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || Number.isNaN(a)) continue;
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

// ---- cpu ------------------------------------------------------------------------------

function cpuStats(cg: CgroupDirs): Json {
  let usage: Record<string, Json>;
  if (cg.hasV1('cpuacct')) {
    const dir = cg.dirs.cpuacct as string;
    const stat = readKeyValues(dir, 'cpuacct.stat') ?? new Map<string, bigint>();
    usage = {
      total: oe(n(readUint(dir, 'cpuacct.usage'))),
      percpu: oe(numberList(dir, 'cpuacct.usage_percpu')),
      percpu_kernel: oe(numberList(dir, 'cpuacct.usage_percpu_sys')),
      percpu_user: oe(numberList(dir, 'cpuacct.usage_percpu_user')),
      kernel: (n(stat.get('system')) * NS_PER_SEC) / USER_HZ,
      user: (n(stat.get('user')) * NS_PER_SEC) / USER_HZ,
    };
  } else {
    const stat = readKeyValues(cg.dirs[UNIFIED] ?? '/nonexistent', 'cpu.stat') ?? new Map<string, bigint>();
    usage = {
      total: oe(n(stat.get('usage_usec')) * 1000n),
      kernel: n(stat.get('system_usec')) * 1000n,
      user: n(stat.get('user_usec')) * 1000n,
    };
  }
  // Throttling: v1 cpu.stat counts nanoseconds, v2 microseconds.
  const v1 = cg.hasV1('cpu');
  const cpuDir = (v1 ? cg.dirs.cpu : cg.dirs[UNIFIED]) ?? '/nonexistent';
  const t = readKeyValues(cpuDir, 'cpu.stat') ?? new Map<string, bigint>();
  const throttledTime = v1 ? n(t.get('throttled_time')) : n(t.get('throttled_usec')) * 1000n;
  return {
    usage,
    throttling: { periods: oe(n(t.get('nr_periods'))), throttledPeriods: oe(n(t.get('nr_throttled'))), throttledTime: oe(throttledTime) },
  };
}

function cpusetStats(cg: CgroupDirs): Json {
  const dir = cg.hasV1('cpuset') ? (cg.dirs.cpuset as string) : cg.dirs[UNIFIED];
  const flag = (file: string) => (dir ? n(readUint(dir, file)) : 0n);
  const list = (file: string) => oe(dir ? parseCpuList(readCgroupFile(dir, file) ?? '') : []);
  const relax = dir ? Number(readCgroupFile(dir, 'cpuset.sched_relax_domain_level')?.trim() ?? 0) || 0 : 0;
  return {
    cpus: list('cpuset.cpus'),
    cpu_exclusive: flag('cpuset.cpu_exclusive'),
    mems: list('cpuset.mems'),
    mem_hardwall: flag('cpuset.mem_hardwall'),
    mem_exclusive: flag('cpuset.mem_exclusive'),
    memory_migrate: flag('cpuset.memory_migrate'),
    memory_spread_page: flag('cpuset.memory_spread_page'),
    memory_spread_slab: flag('cpuset.memory_spread_slab'),
    memory_pressure: flag('cpuset.memory_pressure'),
    sched_load_balance: flag('cpuset.sched_load_balance'),
    sched_relax_domain_level: relax,
  };
}

// ---- memory ---------------------------------------------------------------------------

function memoryEntry(limit: bigint, usage: bigint, max: bigint, failcnt: bigint): Json {
  return { limit, usage: oe(usage), max: oe(max), failcnt };
}

/** A Go map marshals with sorted keys. */
function sortedMap(m: Map<string, bigint> | null): Json {
  if (!m || m.size === 0) return undefined;
  const out: Record<string, Json> = {};
  for (const k of [...m.keys()].sort()) out[k] = m.get(k) as bigint;
  return out;
}

function memoryStatsV1(dir: string): Json {
  const entry = (prefix: string) =>
    memoryEntry(
      n(readUint(dir, `${prefix}.limit_in_bytes`)),
      n(readUint(dir, `${prefix}.usage_in_bytes`)),
      n(readUint(dir, `${prefix}.max_usage_in_bytes`)),
      n(readUint(dir, `${prefix}.failcnt`)),
    );
  const raw = readKeyValues(dir, 'memory.stat');
  return {
    cache: oe(n(raw?.get('cache'))),
    usage: entry('memory'),
    swap: entry('memory.memsw'),
    kernel: entry('memory.kmem'),
    kernelTCP: entry('memory.kmem.tcp'),
    raw: sortedMap(raw),
  };
}

function memoryStatsV2(dir: string): Json {
  const raw = readKeyValues(dir, 'memory.stat');
  const usage = n(readUint(dir, 'memory.current'));
  const limit = n(readUint(dir, 'memory.max'));
  // runc reports v2 swap the v1 way: memory plus swap.
  const swapUsage = n(readUint(dir, 'memory.swap.current')) + usage;
  const swapMax = readUint(dir, 'memory.swap.max');
  const swapLimit = swapMax === null ? 0n : swapMax === MAX_UINT64 || limit === MAX_UINT64 ? MAX_UINT64 : swapMax + limit;
  const events = readKeyValues(dir, 'memory.events');
  return {
    cache: oe(n(raw?.get('file'))),
    usage: memoryEntry(limit, usage, n(readUint(dir, 'memory.peak')), n(events?.get('max'))),
    swap: memoryEntry(swapLimit, swapUsage, 0n, 0n),
    kernel: memoryEntry(0n, 0n, 0n, 0n),
    kernelTCP: memoryEntry(0n, 0n, 0n, 0n),
    raw: sortedMap(raw),
  };
}

function memoryStats(cg: CgroupDirs): Json {
  if (cg.hasV1('memory')) return memoryStatsV1(cg.dirs.memory as string);
  const dir = cg.dirs[UNIFIED];
  if (dir && readCgroupFile(dir, 'memory.current') !== null) return memoryStatsV2(dir);
  return memoryEntryless();
}

function memoryEntryless(): Json {
  const zero = memoryEntry(0n, 0n, 0n, 0n);
  return { usage: zero, swap: zero, kernel: zero, kernelTCP: zero };
}

// ---- pids -----------------------------------------------------------------------------

function pidsStats(cg: CgroupDirs): Json {
  const dir = cg.dirFor('pids');
  if (!dir) return {};
  const limit = readUint(dir, 'pids.max');
  return { current: oe(n(readUint(dir, 'pids.current'))), limit: oe(limit === MAX_UINT64 ? 0n : n(limit)) };
}

// ---- blkio / io -----------------------------------------------------------------------

interface BlkioEntry {
  major: bigint;
  minor: bigint;
  op: string;
  value: bigint;
}

const blkioJson = (e: BlkioEntry): Json => ({ major: oe(e.major), minor: oe(e.minor), op: oe(e.op), value: oe(e.value) });

/** "8:0 Read 4096" lines; the "Total" line has no device and is skipped. */
function blkioEntries(dir: string, file: string): BlkioEntry[] | null {
  const text = readCgroupFile(dir, file);
  if (text === null) return null;
  const out: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    const dev = /^(\d+):(\d+)$/.exec(f[0] ?? '');
    if (!dev) continue;
    const [op, value] = f.length >= 3 ? [f[1] as string, f[2] as string] : ['', f[1] ?? '0'];
    out.push({ major: BigInt(dev[1] as string), minor: BigInt(dev[2] as string), op, value: BigInt(/^\d+$/.test(value) ? value : '0') });
  }
  return out;
}

/**
 * v1 files in runc's order of preference: the first group whose first file has entries
 * wins (BFQ, then CFQ, then the throttle layer, which always counts).
 */
const BLKIO_V1_GROUPS: readonly (readonly [string, string][])[] = [
  [
    ['ioServiceBytesRecursive', 'blkio.bfq.io_service_bytes_recursive'],
    ['ioServicedRecursive', 'blkio.bfq.io_serviced_recursive'],
  ],
  [
    ['sectorsRecursive', 'blkio.sectors_recursive'],
    ['ioServiceBytesRecursive', 'blkio.io_service_bytes_recursive'],
    ['ioServicedRecursive', 'blkio.io_serviced_recursive'],
    ['ioQueueRecursive', 'blkio.io_queued_recursive'],
    ['ioServiceTimeRecursive', 'blkio.io_service_time_recursive'],
    ['ioWaitTimeRecursive', 'blkio.io_wait_time_recursive'],
    ['ioMergedRecursive', 'blkio.io_merged_recursive'],
    ['ioTimeRecursive', 'blkio.time_recursive'],
  ],
  [
    ['ioServiceBytesRecursive', 'blkio.throttle.io_service_bytes_recursive'],
    ['ioServicedRecursive', 'blkio.throttle.io_serviced_recursive'],
  ],
];

const BLKIO_KEYS = [
  'ioServiceBytesRecursive',
  'ioServicedRecursive',
  'ioQueueRecursive',
  'ioServiceTimeRecursive',
  'ioWaitTimeRecursive',
  'ioMergedRecursive',
  'ioTimeRecursive',
  'sectorsRecursive',
];

function blkioStats(cg: CgroupDirs): Json {
  const found: Record<string, BlkioEntry[]> = {};
  if (cg.hasV1('blkio')) {
    const dir = cg.dirs.blkio as string;
    for (const group of BLKIO_V1_GROUPS) {
      const first = blkioEntries(dir, group[0]?.[1] as string);
      if (!first || first.length === 0) continue;
      for (const [key, file] of group) found[key] = blkioEntries(dir, file) ?? [];
      break;
    }
  } else {
    const dir = cg.dirs[UNIFIED];
    const text = dir ? readCgroupFile(dir, 'io.stat') : null;
    // "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0"
    const keys: Record<string, [string, string]> = {
      rbytes: ['ioServiceBytesRecursive', 'Read'],
      wbytes: ['ioServiceBytesRecursive', 'Write'],
      rios: ['ioServicedRecursive', 'Read'],
      wios: ['ioServicedRecursive', 'Write'],
    };
    for (const line of (text ?? '').split('\n')) {
      const [devText, ...pairs] = line.trim().split(/\s+/);
      const dev = /^(\d+):(\d+)$/.exec(devText ?? '');
      if (!dev) continue;
      for (const pair of pairs) {
        const [k, v] = pair.split('=');
        const target = keys[k ?? ''];
        if (!target || !v || !/^\d+$/.test(v)) continue;
        (found[target[0]] ??= []).push({ major: BigInt(dev[1] as string), minor: BigInt(dev[2] as string), op: target[1], value: BigInt(v) });
      }
    }
  }
  const out: Record<string, Json> = {};
  for (const key of BLKIO_KEYS) out[key] = oe((found[key] ?? []).map(blkioJson));
  return out;
}

// ---- hugetlb --------------------------------------------------------------------------

function hugetlbStats(cg: CgroupDirs, sizes: readonly string[]): Json {
  const out: Record<string, Json> = {};
  const v1 = cg.hasV1('hugetlb');
  const dir = v1 ? cg.dirs.hugetlb : cg.dirs[UNIFIED];
  if (!dir) return out;
  for (const ps of [...sizes].sort()) {
    if (v1) {
      const usage = readUint(dir, `hugetlb.${ps}.usage_in_bytes`);
      if (usage === null) continue;
      out[ps] = { usage: oe(usage), max: oe(n(readUint(dir, `hugetlb.${ps}.max_usage_in_bytes`))), failcnt: n(readUint(dir, `hugetlb.${ps}.failcnt`)) };
    } else {
      const usage = readUint(dir, `hugetlb.${ps}.current`);
      if (usage === null) continue;
      out[ps] = { usage: oe(usage), failcnt: n(readKeyValues(dir, `hugetlb.${ps}.events`)?.get('max')) };
    }
  }
  return out;
}

/** runc's `events` stats object for the container's cgroups. */
export function collectStats(cg: CgroupDirs, hugePageSizes: readonly string[]): Json {
  return {
    cpu: cpuStats(cg),
    cpuset: cpusetStats(cg),
    memory: memoryStats(cg),
    pids: pidsStats(cg),
    blkio: blkioStats(cg),
    hugetlb: hugetlbStats(cg, hugePageSizes),
    intel_rdt: {},
    network_interfaces: null,
  };
}

/** One line of `events` output. */
export function eventLine(type: 'stats' | 'oom', id: string, data?: Json): string {
  return `${toJson({ type, id, data })}\n`;
}

