// linux.resources on cgroup v2: the unified hierarchy's file for each field and the
// conversions runc applies (CPU shares to cpu.weight, blkio weight to io.weight, memory+swap
// to memory.swap.max, -1 to "max"). Fields v2 has no file for are ignored with a warning,
// except realtime CPU limits, which would silently change scheduling: those are refused.
import type { LinuxBlockIO, LinuxCPU, LinuxMemory, LinuxResources, LinuxThrottleDevice } from '../../spec/types.js';
import { ConfigError } from '../../util/errors.js';
import { deviceRulesFromSpec, reduceDeviceRules } from './device-rules.js';
import { type CgroupStep, type GroupId, type Int64, type PlanContext, RESOURCES_FIELD, type TableEntry, devNo, given, hugetlbWrites, int64, isUnlimited, write } from './plan.js';
import { KERNEL_MEMORY_WARNING, THROTTLES, checkCpuShares, cpusetWrites, pidsWrites, rdmaWrites } from './resources-v1.js';

/** runc's numToStr: -1 is "max", 0 is "leave alone" (""). */
const v2Num = (n: Int64): string => (n === 0 ? '' : isUnlimited(n) ? 'max' : String(n));

/** CPU shares (2..262144) onto cpu.weight (1..10000), linearly, as runc and crun map them. */
export function sharesToWeight(shares: Int64): number {
  // Checked to be within 2..262144 first (checkCpuShares): exact as a number.
  return 1 + Math.floor(((Number(shares) - 2) * 9999) / 262142);
}

/** blkio weight (10..1000) onto io.weight (1..10000), as runc maps it. */
export function blkioToIoWeight(weight: number): number {
  return Math.max(1, 1 + Math.floor(((weight - 10) * 9999) / 990));
}

/**
 * v1's swap limit counts memory plus swap; v2's memory.swap.max counts swap alone. Returns
 * what memory.swap.max gets (0 = leave alone, -1 = max), as runc converts it.
 */
export function swapToV2(swap: Int64, limit: Int64): Int64 {
  // Unlimited memory with swap unspecified: unlimited swap too.
  if (isUnlimited(limit) && swap === 0) return -1;
  if (swap === 0 || isUnlimited(swap)) return swap;
  const field = `${RESOURCES_FIELD}.memory.swap`;
  if (limit === 0 || isUnlimited(limit)) throw new ConfigError(field, 'unable to set swap limit without memory limit');
  if (swap < limit) throw new ConfigError(field, `memory+swap limit (${swap}) should be >= memory limit (${limit})`);
  return int64(BigInt(swap) - BigInt(limit));
}

function memoryV2(m: LinuxMemory, ctx: PlanContext): CgroupStep[] {
  const out: CgroupStep[] = [];
  const limit = given(m.limit) ? m.limit : 0;
  const swap = given(m.swap) ? m.swap : 0;
  if (limit !== 0 || swap !== 0) {
    if (ctx.update && m.checkBeforeUpdate && limit > 0) {
      // v2 would OOM-kill to get below a lower limit; the config asks for v1's refusal.
      const usage = ctx.readUint('memory', 'memory.current');
      if (usage !== null && usage > BigInt(limit)) {
        throw new ConfigError(`${RESOURCES_FIELD}.memory.limit`, `rejecting memory limit ${limit} below current usage ${usage}`);
      }
    }
    const swapMax = swapToV2(swap, limit);
    // memory and swap set to the same value: no swap at all.
    const swapText = swapMax === 0 && swap > 0 ? '0' : v2Num(swapMax);
    if (swapText !== '') {
      out.push(write('memory', 'memory.swap.max', swapText, 'memory.swap', { optional: swapText === 'max' || swapText === '0' }));
    }
    if (limit !== 0) out.push(write('memory', 'memory.max', v2Num(limit), 'memory.limit'));
  }
  if (given(m.reservation)) out.push(write('memory', 'memory.low', v2Num(m.reservation), 'memory.reservation'));
  if (given(m.kernel) || given(m.kernelTCP)) ctx.warn(KERNEL_MEMORY_WARNING);
  const ignored = (field: string, why: string) => ctx.warn(`${RESOURCES_FIELD}.memory.${field} is ignored: ${why}`);
  if (m.swappiness !== undefined && m.swappiness !== null && m.swappiness !== -1) ignored('swappiness', 'cgroup v2 has no per-cgroup swappiness');
  if (m.disableOOMKiller) ignored('disableOOMKiller', 'cgroup v2 cannot disable the OOM killer');
  if (m.useHierarchy === false) ignored('useHierarchy', 'cgroup v2 is always hierarchical');
  return out;
}

function cpuV2(c: LinuxCPU): CgroupStep[] {
  const out: CgroupStep[] = [];
  for (const field of ['realtimeRuntime', 'realtimePeriod'] as const) {
    if (given(c[field])) throw new ConfigError(`${RESOURCES_FIELD}.cpu.${field}`, 'realtime CPU limits are not supported on cgroup v2');
  }
  if (c.idle !== undefined && c.idle !== null) out.push(write('cpu', 'cpu.idle', String(c.idle), 'cpu.idle'));
  if (given(c.shares)) {
    checkCpuShares(c.shares);
    out.push(write('cpu', 'cpu.weight', String(sharesToWeight(c.shares)), 'cpu.shares'));
  }
  if (given(c.quota) || given(c.period)) {
    const quota = given(c.quota) && !isUnlimited(c.quota) ? String(c.quota) : 'max';
    out.push(write('cpu', 'cpu.max', given(c.period) ? `${quota} ${c.period}` : quota, given(c.quota) ? 'cpu.quota' : 'cpu.period'));
  }
  if (c.burst !== undefined && c.burst !== null) out.push(write('cpu', 'cpu.max.burst', String(c.burst), 'cpu.burst', { retryOnEinval: true }));
  return out;
}

function ioV2(b: LinuxBlockIO, ctx: PlanContext): CgroupStep[] {
  const out: CgroupStep[] = [];
  // BFQ takes blkio's own scale; without it io.weight gets the converted value.
  const bfq = ctx.exists('io', 'io.bfq.weight');
  const file = bfq ? 'io.bfq.weight' : 'io.weight';
  const weight = (w: number) => String(bfq ? w : blkioToIoWeight(w));
  const noLeaf = (field: string) => ctx.warn(`${RESOURCES_FIELD}.blockIO.${field} is ignored: cgroup v2 has no leaf weights`);

  if (given(b.weight)) out.push(write('io', file, weight(b.weight), 'blockIO.weight'));
  if (given(b.leafWeight)) noLeaf('leafWeight');
  (b.weightDevice ?? []).forEach((d, i) => {
    if (given(d.weight)) out.push(write('io', file, `${devNo(d)} ${weight(d.weight)}`, `blockIO.weightDevice[${i}].weight`));
    if (given(d.leafWeight)) noLeaf(`weightDevice[${i}].leafWeight`);
  });
  for (const t of THROTTLES) {
    ((b[t.field] as LinuxThrottleDevice[] | undefined) ?? []).forEach((d, i) => {
      out.push(write('io', 'io.max', `${devNo(d)} ${t.v2}=${d.rate}`, `blockIO.${t.field}[${i}]`));
    });
  }
  return out;
}

const noNetwork =
  (field: string) =>
  (_r: LinuxResources, ctx: PlanContext): CgroupStep[] => {
    ctx.warn(`${RESOURCES_FIELD}.${field} is ignored: cgroup v2 has no net_cls or net_prio controller`);
    return [];
  };

export const V2_TABLE: Readonly<Record<GroupId, TableEntry>> = {
  memory: { controller: 'memory', plan: (r, ctx) => memoryV2(r.memory ?? {}, ctx) },
  cpu: { controller: 'cpu', plan: (r) => cpuV2(r.cpu ?? {}) },
  cpuset: { controller: 'cpuset', plan: (r) => cpusetWrites(r.cpu ?? {}) },
  pids: { controller: 'pids', plan: (r) => pidsWrites(r.pids?.limit) },
  blockIO: { controller: 'io', plan: (r, ctx) => ioV2(r.blockIO ?? {}, ctx) },
  hugetlb: { controller: 'hugetlb', plan: hugetlbWrites('max', 'rsvd.max') },
  netClass: { controller: null, plan: noNetwork('network.classID') },
  netPriority: { controller: null, plan: noNetwork('network.priorities') },
  rdma: { controller: 'rdma', plan: rdmaWrites },
  devices: {
    controller: 'devices',
    plan: (r) => [
      { kind: 'device-program', state: reduceDeviceRules(deviceRulesFromSpec(r.devices, `${RESOURCES_FIELD}.devices`)), field: `${RESOURCES_FIELD}.devices` },
    ],
  },
};

/** Controllers that exist only as core cgroup2 files or eBPF, never in cgroup.controllers. */
export const V2_PSEUDO_CONTROLLERS: ReadonlySet<string> = new Set(['cgroup', 'devices', 'freezer']);
