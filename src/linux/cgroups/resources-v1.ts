// linux.resources on cgroup v1: which file of which controller each field goes to, and how
// its value is written. Zero means "not set" where runc treats it so (memory sizes, CPU
// shares/quota/period, block IO weights, pids.limit).
import type { LinuxBlockIO, LinuxCPU, LinuxMemory, LinuxResources, LinuxThrottleDevice } from '../../spec/types.js';
import { ConfigError } from '../../util/errors.js';
import { deviceRulesFromSpec, reduceDeviceRules, v1RuleText } from './device-rules.js';
import {
  type CgroupStep,
  type CgroupWrite,
  type GroupId,
  type Int64,
  type PlanContext,
  RESOURCES_FIELD,
  type TableEntry,
  devNo,
  given,
  hugetlbWrites,
  isUnlimited,
  write,
} from './plan.js';

export const KERNEL_MEMORY_WARNING = 'Kernel memory settings are ignored and will be removed';

/** v1 takes -1 for "no limit". */
const v1Bytes = (n: Int64): string => (isUnlimited(n) ? '-1' : String(n));

const MEMSW = 'memory.memsw.limit_in_bytes';
const MEMORY_LIMIT = 'memory.limit_in_bytes';

/** Memory shares and CPU shares limits, as runc checks them. */
const CPU_SHARES_MIN = 2;
const CPU_SHARES_MAX = 262144;

function memoryV1(m: LinuxMemory, ctx: PlanContext): CgroupStep[] {
  const out: CgroupStep[] = [];
  const limit = given(m.limit) ? m.limit : undefined;
  let swap = given(m.swap) ? m.swap : undefined;
  // Unlimited memory with swap unspecified means unlimited swap too (as runc does).
  if (limit !== undefined && isUnlimited(limit) && swap === undefined && ctx.exists('memory', MEMSW)) swap = -1;

  const limitWrite =
    limit === undefined
      ? null
      : write('memory', MEMORY_LIMIT, v1Bytes(limit), 'memory.limit', {
          explain: (errno) => {
            if (errno !== 'EBUSY') return undefined;
            const usage = ctx.readUint('memory', 'memory.usage_in_bytes');
            const peak = ctx.readUint('memory', 'memory.max_usage_in_bytes');
            return `unable to set memory limit to ${limit} (current usage: ${usage ?? '?'}, peak usage: ${peak ?? '?'})`;
          },
        });
  const swapWrite =
    swap === undefined
      ? null
      : write('memory', MEMSW, v1Bytes(swap), 'memory.swap', {
          optional: isUnlimited(swap),
          explain: (errno) => (errno === 'ENOENT' ? 'swap limit not supported: the kernel does not account swap (no memory.memsw.limit_in_bytes)' : undefined),
        });
  // memsw must stay >= limit at every moment: raise swap first when it grows past the
  // current limit, lower the limit first otherwise.
  let swapFirst = false;
  if (limitWrite && swapWrite && swap !== undefined) {
    const current = ctx.readUint('memory', MEMORY_LIMIT);
    swapFirst = isUnlimited(swap) || (current !== null && current < BigInt(swap));
  }
  const pair = swapFirst ? [swapWrite, limitWrite] : [limitWrite, swapWrite];
  for (const w of pair) if (w) out.push(w);

  if (given(m.reservation)) out.push(write('memory', 'memory.soft_limit_in_bytes', v1Bytes(m.reservation), 'memory.reservation'));
  if (given(m.kernel)) ctx.warn(KERNEL_MEMORY_WARNING);
  // The TCP buffer limit is still there on v1 (crun writes it; the runtime-tools suite checks it).
  if (given(m.kernelTCP)) out.push(write('memory', 'memory.kmem.tcp.limit_in_bytes', v1Bytes(m.kernelTCP), 'memory.kernelTCP'));
  if (m.swappiness !== undefined && m.swappiness !== null && m.swappiness !== -1) {
    if (m.swappiness < 0 || m.swappiness > 100) {
      throw new ConfigError(`${RESOURCES_FIELD}.memory.swappiness`, `invalid value:${m.swappiness}. valid memory swappiness range is 0-100`);
    }
    out.push(write('memory', 'memory.swappiness', String(m.swappiness), 'memory.swappiness'));
  }
  if (m.disableOOMKiller) out.push(write('memory', 'memory.oom_control', '1', 'memory.disableOOMKiller'));
  if (m.useHierarchy === true) out.push(write('memory', 'memory.use_hierarchy', '1', 'memory.useHierarchy', { optional: true }));
  if (m.useHierarchy === false) ctx.warn(`${RESOURCES_FIELD}.memory.useHierarchy: false is ignored: the kernel always accounts memory hierarchically`);
  return out;
}

export function checkCpuShares(shares: Int64): void {
  if (shares < CPU_SHARES_MIN) throw new ConfigError(`${RESOURCES_FIELD}.cpu.shares`, `the minimum allowed cpu-shares is ${CPU_SHARES_MIN}`);
  if (shares > CPU_SHARES_MAX) throw new ConfigError(`${RESOURCES_FIELD}.cpu.shares`, `the maximum allowed cpu-shares is ${CPU_SHARES_MAX}`);
}

function cpuV1(c: LinuxCPU): CgroupStep[] {
  const out: CgroupStep[] = [];
  if (given(c.shares)) {
    checkCpuShares(c.shares);
    out.push(write('cpu', 'cpu.shares', String(c.shares), 'cpu.shares'));
  }
  // A smaller period can be refused while the old quota is in force: retried after it.
  if (given(c.period)) out.push(write('cpu', 'cpu.cfs_period_us', String(c.period), 'cpu.period', { retryOnEinval: true }));
  if (given(c.quota)) out.push(write('cpu', 'cpu.cfs_quota_us', isUnlimited(c.quota) ? '-1' : String(c.quota), 'cpu.quota'));
  if (c.burst !== undefined && c.burst !== null) out.push(write('cpu', 'cpu.cfs_burst_us', String(c.burst), 'cpu.burst', { retryOnEinval: true }));
  if (given(c.realtimePeriod)) out.push(write('cpu', 'cpu.rt_period_us', String(c.realtimePeriod), 'cpu.realtimePeriod'));
  if (given(c.realtimeRuntime)) out.push(write('cpu', 'cpu.rt_runtime_us', String(c.realtimeRuntime), 'cpu.realtimeRuntime'));
  if (c.idle !== undefined && c.idle !== null) out.push(write('cpu', 'cpu.idle', String(c.idle), 'cpu.idle'));
  return out;
}

/** cpuset.cpus/cpuset.mems: same names on v1 and v2. */
export function cpusetWrites(c: LinuxCPU): CgroupWrite[] {
  const out: CgroupWrite[] = [];
  if (c.cpus) out.push(write('cpuset', 'cpuset.cpus', c.cpus, 'cpu.cpus'));
  if (c.mems) out.push(write('cpuset', 'cpuset.mems', c.mems, 'cpu.mems'));
  return out;
}

/**
 * pids.max: same on v1 and v2; negative is "max". 0 is "not set", as runc reads it: a
 * limit of 0 would only make the container's first fork fail.
 */
export function pidsWrites(limit: Int64 | undefined): CgroupWrite[] {
  if (!given(limit)) return [];
  return [write('pids', 'pids.max', isUnlimited(limit) ? 'max' : String(limit), 'pids.limit')];
}

/** The four throttle lists: field name, v1 file, v2 io.max key. */
export const THROTTLES: readonly { field: keyof LinuxBlockIO; v1: string; v2: string }[] = [
  { field: 'throttleReadBpsDevice', v1: 'blkio.throttle.read_bps_device', v2: 'rbps' },
  { field: 'throttleWriteBpsDevice', v1: 'blkio.throttle.write_bps_device', v2: 'wbps' },
  { field: 'throttleReadIOPSDevice', v1: 'blkio.throttle.read_iops_device', v2: 'riops' },
  { field: 'throttleWriteIOPSDevice', v1: 'blkio.throttle.write_iops_device', v2: 'wiops' },
];

function blkioV1(b: LinuxBlockIO, ctx: PlanContext): CgroupStep[] {
  const out: CgroupStep[] = [];
  // CFQ's blkio.weight is gone from current kernels; BFQ offers blkio.bfq.weight instead.
  const cfq = ctx.exists('blkio', 'blkio.weight') || !ctx.exists('blkio', 'blkio.bfq.weight');
  const weightFile = cfq ? 'blkio.weight' : 'blkio.bfq.weight';
  const weightDeviceFile = cfq ? 'blkio.weight_device' : 'blkio.bfq.weight_device';
  const hasLeaf = ctx.exists('blkio', 'blkio.leaf_weight');
  const noLeaf = (field: string) =>
    ctx.warn(`${RESOURCES_FIELD}.blockIO.${field} is ignored: this kernel has no leaf weights (they went with the CFQ scheduler)`);

  if (given(b.weight)) out.push(write('blkio', weightFile, String(b.weight), 'blockIO.weight'));
  if (given(b.leafWeight)) {
    if (hasLeaf) out.push(write('blkio', 'blkio.leaf_weight', String(b.leafWeight), 'blockIO.leafWeight'));
    else noLeaf('leafWeight');
  }
  (b.weightDevice ?? []).forEach((d, i) => {
    if (given(d.weight)) out.push(write('blkio', weightDeviceFile, `${devNo(d)} ${d.weight}`, `blockIO.weightDevice[${i}].weight`));
    if (given(d.leafWeight)) {
      if (hasLeaf) out.push(write('blkio', 'blkio.leaf_weight_device', `${devNo(d)} ${d.leafWeight}`, `blockIO.weightDevice[${i}].leafWeight`));
      else noLeaf(`weightDevice[${i}].leafWeight`);
    }
  });
  for (const t of THROTTLES) {
    ((b[t.field] as LinuxThrottleDevice[] | undefined) ?? []).forEach((d, i) => {
      out.push(write('blkio', t.v1, `${devNo(d)} ${d.rate}`, `blockIO.${t.field}[${i}]`));
    });
  }
  return out;
}

/** rdma.max lines: same on v1 and v2. */
export function rdmaWrites(r: LinuxResources): CgroupWrite[] {
  return Object.entries(r.rdma ?? {}).map(([dev, l]) => {
    let line = dev;
    if (l.hcaHandles !== undefined && l.hcaHandles !== null) line += ` hca_handle=${l.hcaHandles}`;
    if (l.hcaObjects !== undefined && l.hcaObjects !== null) line += ` hca_object=${l.hcaObjects}`;
    return write('rdma', 'rdma.max', line, `rdma.${dev}`);
  });
}

/**
 * Device rules reduced to their end state. From a cgroup that is already deny-by-default
 * (devices.list does not read "a *:* rwm") only the differences are written: exceptions to
 * drop, then those to add. So the cgroup never passes through "deny everything" when it is
 * already in use, and a cgroup with children (which refuses "a") can be reused. Otherwise
 * "a" to devices.deny empties the list first.
 */
function devicesV1(r: LinuxResources, ctx: PlanContext): CgroupStep[] {
  const state = reduceDeviceRules(deviceRulesFromSpec(r.devices, `${RESOURCES_FIELD}.devices`));
  const field = 'devices';
  const wanted = state.exceptions.map(v1RuleText);
  const list = ctx.read('devices', 'devices.list');
  const current = list === null ? null : list.split('\n').map((l) => l.trim()).filter(Boolean);
  if (!state.defaultAllow && current !== null && !current.includes('a *:* rwm')) {
    return [
      ...current.filter((e) => !wanted.includes(e)).map((e) => write('devices', 'devices.deny', e, field)),
      ...wanted.filter((e) => !current.includes(e)).map((e) => write('devices', 'devices.allow', e, field)),
    ];
  }
  const out: CgroupStep[] = [write('devices', 'devices.deny', 'a', field)];
  if (state.defaultAllow) out.push(write('devices', 'devices.allow', 'a', field));
  for (const e of wanted) out.push(write('devices', state.defaultAllow ? 'devices.deny' : 'devices.allow', e, field));
  return out;
}

export const V1_TABLE: Readonly<Record<GroupId, TableEntry>> = {
  memory: { controller: 'memory', plan: (r, ctx) => memoryV1(r.memory ?? {}, ctx) },
  cpu: { controller: 'cpu', plan: (r) => cpuV1(r.cpu ?? {}) },
  cpuset: { controller: 'cpuset', plan: (r) => cpusetWrites(r.cpu ?? {}) },
  pids: { controller: 'pids', plan: (r) => pidsWrites(r.pids?.limit) },
  blockIO: { controller: 'blkio', plan: (r, ctx) => blkioV1(r.blockIO ?? {}, ctx) },
  hugetlb: { controller: 'hugetlb', plan: hugetlbWrites('limit_in_bytes', 'rsvd.limit_in_bytes') },
  netClass: {
    controller: 'net_cls',
    plan: (r) => [write('net_cls', 'net_cls.classid', String(r.network?.classID), 'network.classID')],
  },
  netPriority: {
    controller: 'net_prio',
    plan: (r) => (r.network?.priorities ?? []).map((p, i) => write('net_prio', 'net_prio.ifpriomap', `${p.name} ${p.priority}`, `network.priorities[${i}]`)),
  },
  rdma: { controller: 'rdma', plan: rdmaWrites },
  devices: { controller: 'devices', plan: devicesV1 },
};
