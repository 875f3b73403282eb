// linux.resources as systemd unit properties (systemd.resource-control(5)), converted the way
// runc's systemd v2 driver does, so that systemd and the cgroup files agree: systemd sets
// what it manages, then the cgroupfs code writes every field (including those systemd has
// no property for). Properties newer than the host's systemd are left to the file writes.
import type { LinuxResources } from '../../spec/types.js';
import { ConfigError } from '../../util/errors.js';
import { type DeviceRule, deviceRulesFromSpec, reduceDeviceRules } from '../cgroups/device-rules.js';
import { MAX_UINT64 } from '../cgroups/fs.js';
import { type Int64, RESOURCES_FIELD, given, int64, isUnlimited } from '../cgroups/plan.js';
import { THROTTLES } from '../cgroups/resources-v1.js';
import { blkioToIoWeight, sharesToWeight, swapToV2 } from '../cgroups/resources-v2.js';
import type { PropertyValue, UnitProperty } from './bus-protocol.js';

/** systemd's "infinity" for limits (USEC_INFINITY, CGROUP_LIMIT_MAX). */
export const INFINITY = MAX_UINT64;
/** The kernel's default CFS period, 100 ms. */
const DEFAULT_PERIOD = 100_000;

/** First systemd version with each property (older ones: the cgroup file alone). */
const SINCE = { CPUQuotaPeriodUSec: 242, AllowedCPUs: 244, DeviceAllowMajor: 240, CPUIdle: 252, OOMPolicy: 253 } as const;

const prop = (name: string, type: string, value: PropertyValue): UnitProperty => ({ name, type, value });
const u64 = (name: string, v: bigint | number): UnitProperty => prop(name, 't', BigInt(v));

export interface Converted {
  properties: UnitProperty[];
  /** The resources for the cgroup files: the CPU quota rounded the way systemd will have it. */
  resources: LinuxResources;
}

/**
 * "0-2,5" -> the bitmask systemd takes for AllowedCPUs/AllowedMemoryNodes: bytes, lowest
 * CPUs first (runc's RangeToBits).
 */
export function rangeToBits(text: string, field: string): number[] {
  const bytes: number[] = [];
  const set = (bit: number) => {
    const i = bit >> 3;
    while (bytes.length <= i) bytes.push(0);
    bytes[i] = (bytes[i] as number) | (1 << (bit & 7));
  };
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new ConfigError(field, `"${text}": "${part}" is not a number or a range`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    // Bounded: 4096 CPUs is the kernel's NR_CPUS maximum.
    if (from > to || to >= 8192) throw new ConfigError(field, `"${text}": invalid range "${part}"`);
    for (let b = from; b <= to; b++) set(b);
  }
  if (bytes.length === 0) throw new ConfigError(field, `"${text}": empty`);
  return bytes;
}

/**
 * CPUQuotaPerSecUSec (and the period) for a CFS quota/period. systemd keeps the quota as a
 * percentage of a CPU, so a quota that is not a whole number of 10 ms per second is rounded
 * up, and the cgroup file gets the rounded quota too (runc's addCPUQuota).
 */
export function cpuQuotaProperties(quota: Int64, period: Int64, version: number): { properties: UnitProperty[]; quota: Int64 } {
  const out: UnitProperty[] = [];
  if (period !== 0 && version >= SINCE.CPUQuotaPeriodUSec) out.push(u64('CPUQuotaPeriodUSec', period));
  if (quota === 0 && period === 0) return { properties: out, quota };
  let perSec = INFINITY;
  let q = quota;
  if (quota > 0) {
    const p = BigInt(period || DEFAULT_PERIOD);
    perSec = (BigInt(quota) * 1_000_000n) / p;
    if (perSec % 10_000n !== 0n) {
      perSec = (perSec / 10_000n + 1n) * 10_000n;
      q = int64((perSec * p) / 1_000_000n);
    }
  }
  out.push(u64('CPUQuotaPerSecUSec', perSec));
  return { properties: out, quota: q };
}

/** "/dev/char/1:3", "char-5", "block-*": the DeviceAllow= spellings of a reduced rule. */
function deviceAllowPath(r: DeviceRule, warn: (m: string) => void): string | null {
  const group = r.type === 'b' ? 'block' : 'char';
  if (r.major === null) {
    if (r.minor !== null) {
      warn(`systemd has no "${r.type} *:${r.minor}" device rule: it is enforced by the cgroup's device program only`);
      return null;
    }
    return `${group}-*`;
  }
  if (r.minor === null) return `${group}-${r.major}`;
  return `/dev/${group}/${r.major}:${r.minor}`;
}

/** DevicePolicy/DeviceAllow for linux.resources.devices (runc's systemd device properties). */
function deviceProperties(res: LinuxResources, warn: (m: string) => void): UnitProperty[] {
  if (!res.devices) return [];
  const state = reduceDeviceRules(deviceRulesFromSpec(res.devices, `${RESOURCES_FIELD}.devices`));
  // An empty DeviceAllow= first clears what an existing unit allowed.
  const clear = prop('DeviceAllow', 'a(ss)', []);
  if (state.defaultAllow) {
    if (state.exceptions.length === 0) return [clear, prop('DevicePolicy', 's', 'auto')];
    // systemd has no deny list: deny everything here; the device program has the real rules.
    warn('systemd has no device deny list: its unit denies all devices, the cgroup\'s device program applies the rules');
    return [clear, prop('DevicePolicy', 's', 'strict')];
  }
  const allow: PropertyValue[] = [];
  for (const r of state.exceptions) {
    const p = deviceAllowPath(r, warn);
    if (p) allow.push([p, r.access]);
  }
  return [clear, prop('DevicePolicy', 's', 'strict'), prop('DeviceAllow', 'a(ss)', allow)];
}

const blockPath = (d: { major: number; minor: number }) => `/dev/block/${d.major}:${d.minor}`;

/** IO weight and limits: IOWeight, IODeviceWeight, IO{Read,Write}{Bandwidth,IOPS}Max. */
function ioProperties(res: LinuxResources): UnitProperty[] {
  const b = res.blockIO;
  if (!b) return [];
  const out: UnitProperty[] = [];
  if (given(b.weight)) out.push(u64('IOWeight', blkioToIoWeight(b.weight)));
  const weights = (b.weightDevice ?? []).filter((d) => given(d.weight)).map((d) => [blockPath(d), BigInt(blkioToIoWeight(d.weight as number))]);
  if (weights.length) out.push(prop('IODeviceWeight', 'a(st)', weights));
  const names: Record<string, string> = {
    throttleReadBpsDevice: 'IOReadBandwidthMax',
    throttleWriteBpsDevice: 'IOWriteBandwidthMax',
    throttleReadIOPSDevice: 'IOReadIOPSMax',
    throttleWriteIOPSDevice: 'IOWriteIOPSMax',
  };
  for (const t of THROTTLES) {
    const list = (b[t.field] as { major: number; minor: number; rate: number }[] | undefined) ?? [];
    if (list.length) out.push(prop(names[t.field] as string, 'a(st)', list.map((d) => [blockPath(d), BigInt(d.rate)])));
  }
  return out;
}

const uintOrMax = (v: string, key: string): bigint => {
  if (v === 'max') return INFINITY;
  if (!/^\d+$/.test(v)) throw new ConfigError(`${RESOURCES_FIELD}.unified[${JSON.stringify(key)}]`, `"${v}" is not a number or "max"`);
  return BigInt(v);
};

/** `unified` keys systemd has a property for (runc's unifiedResToSystemdProps); the rest: files only. */
function unifiedProperties(unified: Record<string, string>, version: number, warn: (m: string) => void): UnitProperty[] {
  const out: UnitProperty[] = [];
  const field = (k: string) => `${RESOURCES_FIELD}.unified[${JSON.stringify(k)}]`;
  const idle = unified['cpu.idle']?.trim() === '1' && version >= SINCE.CPUIdle;
  const memory: Record<string, string> = {
    'memory.high': 'MemoryHigh',
    'memory.low': 'MemoryLow',
    'memory.min': 'MemoryMin',
    'memory.max': 'MemoryMax',
    'memory.swap.max': 'MemorySwapMax',
  };
  for (const [key, raw] of Object.entries(unified)) {
    const v = String(raw).trim();
    if (key === 'cpu.idle') {
      // CPUWeight=0 is how systemd says cpu.idle=1.
      if (idle) out.push(u64('CPUWeight', 0));
    } else if (key === 'cpu.weight') {
      if (idle) warn('unable to apply both cpu.weight and cpu.idle to systemd, ignoring cpu.weight');
      else out.push(u64('CPUWeight', uintOrMax(v, key)));
    } else if (key === 'cpu.max') {
      const [q, p, extra] = v.split(/\s+/);
      if (!q || extra !== undefined) throw new ConfigError(field(key), `"${v}" is not "QUOTA [PERIOD]"`);
      const quota = q === 'max' ? 0 : Number(uintOrMax(q, key));
      const period = p === undefined ? DEFAULT_PERIOD : Number(uintOrMax(p, key));
      out.push(...cpuQuotaProperties(quota, period, version).properties);
    } else if (key === 'cpuset.cpus' || key === 'cpuset.mems') {
      if (version >= SINCE.AllowedCPUs) out.push(prop(key === 'cpuset.cpus' ? 'AllowedCPUs' : 'AllowedMemoryNodes', 'ay', rangeToBits(v, field(key))));
    } else if (memory[key]) {
      out.push(u64(memory[key] as string, uintOrMax(v, key)));
    } else if (key === 'pids.max') {
      const n = uintOrMax(v, key);
      out.push(u64('TasksMax', n === 0n ? 1n : n));
    }
  }
  return out;
}

/**
 * The unit properties for linux.resources on cgroup v2, for a systemd of `version`.
 * Conversion errors are ConfigErrors naming the field.
 */
export function resourceProperties(res: LinuxResources, version: number, warn: (m: string) => void = () => {}): Converted {
  const out: UnitProperty[] = [...deviceProperties(res, warn)];
  const resources = structuredClone(res);
  const m = res.memory ?? {};
  if (given(m.limit)) out.push(u64('MemoryMax', isUnlimited(m.limit) ? INFINITY : m.limit));
  if (given(m.reservation)) out.push(u64('MemoryLow', isUnlimited(m.reservation) ? INFINITY : m.reservation));
  const swap = swapToV2(given(m.swap) ? m.swap : 0, given(m.limit) ? m.limit : 0);
  if (swap !== 0) out.push(u64('MemorySwapMax', isUnlimited(swap) ? INFINITY : swap));
  else if (given(m.swap) && m.swap === m.limit) out.push(u64('MemorySwapMax', 0));

  const c = res.cpu ?? {};
  const idle = c.idle === 1 && version >= SINCE.CPUIdle;
  if (idle) out.push(u64('CPUWeight', 0));
  if (given(c.shares)) {
    if (idle) warn('unable to apply both CPUWeight and CpuIdle to systemd, ignoring CPUWeight');
    else out.push(u64('CPUWeight', sharesToWeight(c.shares)));
  }
  const quota = given(c.quota) ? c.quota : 0;
  const period = given(c.period) ? c.period : 0;
  const q = cpuQuotaProperties(quota, period, version);
  out.push(...q.properties);
  if (q.quota !== quota && resources.cpu) resources.cpu.quota = q.quota;

  // 0 is "not set", as in the cgroupfs driver (pidsWrites).
  const limit = res.pids?.limit;
  if (given(limit)) out.push(u64('TasksMax', isUnlimited(limit) ? INFINITY : limit));
  if (version >= SINCE.AllowedCPUs) {
    if (c.cpus) out.push(prop('AllowedCPUs', 'ay', rangeToBits(c.cpus, `${RESOURCES_FIELD}.cpu.cpus`)));
    if (c.mems) out.push(prop('AllowedMemoryNodes', 'ay', rangeToBits(c.mems, `${RESOURCES_FIELD}.cpu.mems`)));
  }
  out.push(...ioProperties(res));
  out.push(...unifiedProperties(res.unified ?? {}, version, warn));
  return { properties: out, resources };
}

/**
 * Set once, when the unit starts (systemd refuses to change OOMPolicy on a running scope):
 * unified memory.oom.group as OOMPolicy.
 */
export function startOnlyProperties(res: LinuxResources | undefined, version: number): UnitProperty[] {
  const group = res?.unified?.['memory.oom.group']?.trim();
  if (group === undefined || version < SINCE.OOMPolicy) return [];
  if (group === '1') return [prop('OOMPolicy', 's', 'kill')];
  if (group === '0') return [prop('OOMPolicy', 's', 'continue')];
  return [];
}
