// Tables for process attributes the spec names by string: scheduler policies and flags,
// I/O priority classes, personality domains.
import { ConfigError } from '../util/errors.js';

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
