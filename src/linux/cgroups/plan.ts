// The shape shared by the v1 and v2 resource tables: linux.resources becomes an ordered
// list of steps (file writes, and on v2 a device program), computed without touching the
// kernel except to read what decides the order of writes.
import fs from 'node:fs';
import type { LinuxResources } from '../../spec/types.js';
import { ConfigError } from '../../util/errors.js';
import type { DeviceState } from './device-rules.js';

/** Where OCI field paths in messages start. */
export const RESOURCES_FIELD = 'linux.resources';

export interface CgroupWrite {
  kind: 'write';
  /** Controller whose directory holds the file (v1 name, or v2 name; "cgroup" for core files). */
  controller: string;
  file: string;
  value: string;
  /** OCI field the value comes from, e.g. "linux.resources.memory.limit". */
  field: string;
  /**
   * EINVAL can mean "wrong order" (a CFS period below the quota of the parent, a burst above
   * the new quota): such a write is retried once after all the others.
   */
  retryOnEinval?: boolean;
  /** A missing file is fine (the kernel lacks a feature this value does not need). */
  optional?: boolean;
  /** A clearer message for a refusal, given the errno name (e.g. the limit is below usage). */
  explain?: (errno: string) => string | undefined;
}

/** cgroup v2 device rules become an eBPF program attached to the container's cgroup. */
export interface DeviceProgramStep {
  kind: 'device-program';
  /** The rules already reduced to a default and exceptions (device-rules.ts). */
  state: DeviceState;
  field: string;
}

export type CgroupStep = CgroupWrite | DeviceProgramStep;

/** What a table may ask about the cgroup it plans for. */
export interface PlanContext {
  /** Does the control file exist in that controller's directory? */
  exists(controller: string, file: string): boolean;
  /** Current numeric value of a control file ("max" is 2^64-1); null when unreadable. */
  readUint(controller: string, file: string): bigint | null;
  /** Current text of a control file; null when unreadable. */
  read(controller: string, file: string): string | null;
  /** Huge page sizes of the host as the hugetlb files name them ("2MB", "1GB"). */
  hugePageSizes: readonly string[];
  /** Changing a running container (`update`), not creating one. */
  update: boolean;
  warn(message: string): void;
}

/** Plans the steps for one controller's share of linux.resources. */
export type Planner<R> = (res: R, ctx: PlanContext) => CgroupStep[];

export function write(controller: string, file: string, value: string, field: string, extra: Partial<CgroupWrite> = {}): CgroupWrite {
  return { kind: 'write', controller, file, value, field: `${RESOURCES_FIELD}.${field}`, ...extra };
}

/** "major:minor" as every blkio/io file writes it. */
export function devNo(d: { major: number; minor: number }): string {
  return `${d.major}:${d.minor}`;
}

/** An int64 or uint64 of the config: a bigint where a double could not carry it (json-exact.ts). */
export type Int64 = number | bigint;

/** A computed 64-bit value as the config carries one: a number while it is exact as a double. */
export function int64(v: bigint): Int64 {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Set and not zero: how runc reads most numeric resources. */
export function given<T extends Int64>(v: T | undefined | null): v is T {
  return v !== undefined && v !== null && v !== 0;
}

/** The kernel's limit words: -1 (or any negative) is unlimited. */
export function isUnlimited(v: Int64): boolean {
  return v < 0;
}

/** The parts of linux.resources that one controller handles, the same on v1 and v2. */
export type GroupId = 'memory' | 'cpu' | 'cpuset' | 'pids' | 'blockIO' | 'hugetlb' | 'netClass' | 'netPriority' | 'rdma' | 'devices';

/** A group's entry in a version's table. */
export interface TableEntry {
  /** Controller name in that version; null when the version has none (then plan only warns). */
  controller: string | null;
  plan: Planner<LinuxResources>;
}

const defined = (v: unknown) => v !== undefined && v !== null;

/** For each group, the first field of linux.resources it would act on, or null if none is set. */
export const GROUP_FIELDS: Readonly<Record<GroupId, (r: LinuxResources) => string | null>> = {
  memory: (r) => firstSet(r.memory, 'memory', ['limit', 'reservation', 'swap', 'kernel', 'kernelTCP', 'swappiness', 'disableOOMKiller', 'useHierarchy']),
  cpu: (r) => firstSet(r.cpu, 'cpu', ['shares', 'quota', 'burst', 'period', 'realtimeRuntime', 'realtimePeriod', 'idle']),
  cpuset: (r) => (r.cpu?.cpus ? 'cpu.cpus' : r.cpu?.mems ? 'cpu.mems' : null),
  pids: (r) => firstSet(r.pids, 'pids', ['limit']),
  blockIO: (r) =>
    firstSet(r.blockIO, 'blockIO', ['weight', 'leafWeight', 'weightDevice', 'throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice']),
  hugetlb: (r) => (r.hugepageLimits?.length ? 'hugepageLimits' : null),
  netClass: (r) => (defined(r.network?.classID) ? 'network.classID' : null),
  netPriority: (r) => (r.network?.priorities?.length ? 'network.priorities' : null),
  rdma: (r) => (r.rdma && Object.keys(r.rdma).length ? 'rdma' : null),
  devices: (r) => (r.devices ? 'devices' : null),
};

function firstSet(obj: object | undefined, prefix: string, keys: readonly string[]): string | null {
  if (!obj) return null;
  const rec = obj as Record<string, unknown>;
  const key = keys.find((k) => {
    const v = rec[k];
    return defined(v) && !(Array.isArray(v) && v.length === 0);
  });
  return key ? `${prefix}.${key}` : null;
}

/** "2MB" for 2048 kB, "1GB" for 1048576 kB, "64KB" for 64 kB: the hugetlb file names. */
export function hugePageSizeName(kB: number): string {
  const units = ['KB', 'MB', 'GB', 'TB'];
  let size = kB;
  let u = 0;
  while (size >= 1024 && size % 1024 === 0 && u < units.length - 1) {
    size /= 1024;
    u++;
  }
  return `${size}${units[u]}`;
}

/** The host's huge page sizes, from /sys/kernel/mm/hugepages/hugepages-<N>kB. */
export function hostHugePageSizes(dir = '/sys/kernel/mm/hugepages'): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((n) => /^hugepages-(\d+)kB$/.exec(n)?.[1])
    .filter((n): n is string => n !== undefined)
    .map((n) => Number(n))
    .sort((a, b) => a - b)
    .map(hugePageSizeName);
}

/** A hugepageLimits entry's page size, checked against the host's sizes. */
export function checkPageSize(pageSize: string, index: number, ctx: PlanContext): string {
  if (!ctx.hugePageSizes.includes(pageSize)) {
    const known = ctx.hugePageSizes.length ? ctx.hugePageSizes.join(', ') : 'none';
    throw new ConfigError(`${RESOURCES_FIELD}.hugepageLimits[${index}].pageSize`, `"${pageSize}" is not a huge page size of this host (sizes: ${known})`);
  }
  return pageSize;
}

/**
 * hugepageLimits: hugetlb.<size>.<limit file> and, where the kernel accounts reservations,
 * the reservation file too (config-linux.md prefers it). v1 and v2 differ in the names only.
 */
export function hugetlbWrites(limitFile: string, reservationFile: string): Planner<LinuxResources> {
  return (r, ctx) =>
    (r.hugepageLimits ?? []).flatMap((h, i) => {
      const ps = checkPageSize(h.pageSize, i, ctx);
      const field = `hugepageLimits[${i}].limit`;
      const out = [write('hugetlb', `hugetlb.${ps}.${limitFile}`, String(h.limit), field)];
      if (ctx.exists('hugetlb', `hugetlb.${ps}.${reservationFile}`)) out.push(write('hugetlb', `hugetlb.${ps}.${reservationFile}`, String(h.limit), field));
      return out;
    });
}
