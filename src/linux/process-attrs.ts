// Tables for process attributes the spec names by string: scheduler policies and flags,
// I/O priority classes, personality domains, memory policy modes and flags; and the CPU and
// node lists ("0-3,7") as the bit masks the kernel takes.
import type { CpuAffinityPlan, MemoryPolicyPlan } from '../native/plan-types.js';
import type { Process, Spec } from '../spec/types.js';
import { ConfigError, SystemError } from '../util/errors.js';

export const SCHED_POLICIES: Readonly<Record<string, number>> = {
  SCHED_OTHER: 0,
  SCHED_FIFO: 1,
  SCHED_RR: 2,
  SCHED_BATCH: 3,
  SCHED_ISO: 4,
  SCHED_IDLE: 5,
  SCHED_DEADLINE: 6,
};

export const SCHED_FLAGS: Readonly<Record<string, bigint>> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01n,
  SCHED_FLAG_RECLAIM: 0x02n,
  SCHED_FLAG_DL_OVERRUN: 0x04n,
  SCHED_FLAG_KEEP_POLICY: 0x08n,
  SCHED_FLAG_KEEP_PARAMS: 0x10n,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20n,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40n,
};

export const IOPRIO_CLASSES: Readonly<Record<string, number>> = {
  IOPRIO_CLASS_RT: 1,
  IOPRIO_CLASS_BE: 2,
  IOPRIO_CLASS_IDLE: 3,
};

/** personality(2) execution domains. */
export const PERSONALITY_DOMAINS: Readonly<Record<string, number>> = {
  LINUX: 0x0000,
  LINUX32: 0x0008,
};

export function lookup<T>(table: Readonly<Record<string, T>>, key: string, field: string, what: string): T {
  const v = table[key];
  if (v === undefined) throw new ConfigError(field, `unknown ${what} "${key}"`);
  return v;
}

/** IOPRIO_PRIO_VALUE(class, data). */
export function ioprioValue(klass: number, level: number): number {
  return (klass << 13) | (level & 0x1fff);
}

/** set_mempolicy(2) modes (<linux/mempolicy.h>). */
export const MPOL_MODES: Readonly<Record<string, number>> = {
  MPOL_DEFAULT: 0,
  MPOL_PREFERRED: 1,
  MPOL_BIND: 2,
  MPOL_INTERLEAVE: 3,
  MPOL_LOCAL: 4,
  MPOL_PREFERRED_MANY: 5,
  MPOL_WEIGHTED_INTERLEAVE: 6,
};

/** Mode flags, or-ed into the mode. */
export const MPOL_FLAGS: Readonly<Record<string, number>> = {
  MPOL_F_NUMA_BALANCING: 1 << 13,
  MPOL_F_RELATIVE_NODES: 1 << 14,
  MPOL_F_STATIC_NODES: 1 << 15,
};

/** How many nodes a mode takes (runc's validator): none, at least one, or any number. */
export const MPOL_NODE_COUNT: Readonly<Record<string, 'none' | 'some' | 'any'>> = {
  MPOL_DEFAULT: 'none',
  MPOL_LOCAL: 'none',
  MPOL_BIND: 'some',
  MPOL_INTERLEAVE: 'some',
  MPOL_PREFERRED_MANY: 'some',
  MPOL_WEIGHTED_INTERLEAVE: 'some',
  MPOL_PREFERRED: 'any',
};

/** CPU masks go up to this many CPUs (the plan's limit); NUMA node masks up to MAX_NUMA_NODES. */
export const MAX_CPUS = 8192;
export const MAX_NUMA_NODES = 1024;

/**
 * "0-3,7" (the schema checked its form) as a mask of `limit` bits, bit n for n, in whole
 * 64-bit words (cpu_set_t, nodemask_t); empty text gives an empty mask. A number at or
 * beyond `limit`, or a range that runs backwards, is a ConfigError at `field`.
 */
export function listMask(text: string, field: string, limit: number): Buffer {
  const bits: number[] = [];
  for (const part of text ? text.split(',') : []) {
    const [from, to = from] = part.split('-').map(Number) as [number, number?];
    if (to! < from) throw new ConfigError(field, `invalid range ${part}: it runs backwards`);
    if (to! >= limit) throw new ConfigError(field, `${to} is out of range (at most ${limit - 1})`);
    for (let n = from; n <= to!; n++) bits.push(n);
  }
  if (bits.length === 0) return Buffer.alloc(0);
  const mask = Buffer.alloc(Math.ceil((Math.max(...bits) + 1) / 64) * 8);
  for (const n of bits) mask[n >> 3]! |= 1 << (n & 7);
  return mask;
}

/** linux.memoryPolicy as set_mempolicy(2) takes it; ConfigErrors name the field. */
export function memoryPolicyOf(spec: Spec): MemoryPolicyPlan | null {
  const mp = spec.linux?.memoryPolicy;
  if (!mp) return null;
  const field = 'linux.memoryPolicy';
  const mode = lookup(MPOL_MODES, mp.mode, `${field}.mode`, 'memory policy mode');
  const flags = (mp.flags ?? []).reduce((acc, name, i) => acc | lookup(MPOL_FLAGS, name, `${field}.flags[${i}]`, 'memory policy flag'), 0);
  const nodes = listMask(mp.nodes ?? '', `${field}.nodes`, MAX_NUMA_NODES);
  const count = MPOL_NODE_COUNT[mp.mode];
  if (count === 'none' && nodes.length) throw new ConfigError(`${field}.nodes`, `${mp.mode} takes no nodes`);
  if (count === 'some' && !nodes.length) throw new ConfigError(`${field}.nodes`, `${mp.mode} needs at least one node`);
  return { mode: mode | flags, nodes };
}

/** process.execCPUAffinity as CPU masks (exec only); null when it sets neither. */
export function cpuAffinityOf(proc: Process, field: string): CpuAffinityPlan | null {
  const a = proc.execCPUAffinity;
  const f = (name: string) => (field ? `${field}.execCPUAffinity.${name}` : `execCPUAffinity.${name}`);
  const initial = listMask(a?.initial ?? '', f('initial'), MAX_CPUS);
  const final = listMask(a?.final ?? '', f('final'), MAX_CPUS);
  return initial.length || final.length ? { initial, final } : null;
}

/**
 * A real-time process (its scheduler is set before the namespaces, in stage 1) that its
 * cgroups refused: with real-time group scheduling (cgroup v1's cpu controller) the kernel
 * takes no real-time task into a cgroup without real-time CPU time. Says so, naming the
 * field; any other error is returned as it is.
 */
export function realtimePlacementError(err: unknown, proc: Process | undefined, field: string): unknown {
  const policy = proc?.scheduler?.policy;
  if ((policy !== 'SCHED_FIFO' && policy !== 'SCHED_RR') || !(err instanceof SystemError) || err.code !== 'EINVAL') return err;
  return new ConfigError(
    field ? `${field}.scheduler.policy` : 'scheduler.policy',
    `${policy} needs real-time CPU time in the container's cpu cgroup (linux.resources.cpu.realtimeRuntime): ${err.message}`,
  );
}
