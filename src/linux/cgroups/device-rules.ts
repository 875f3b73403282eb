// linux.resources.devices as the kernel's v1 device controller understands them: an ordered
// list of allow/deny rules reduced to a default (allow or deny) plus exceptions. The same
// reduced form drives both versions: v1 writes it to devices.deny/devices.allow, v2 compiles
// it into an eBPF program (device-bpf.ts), so a rule list means the same on either.
import type { LinuxDeviceCgroup } from '../../spec/types.js';
import { ConfigError } from '../../util/errors.js';

export type DeviceType = 'a' | 'c' | 'b';

export interface DeviceRule {
  allow: boolean;
  type: DeviceType;
  /** null = any ("*"). */
  major: number | null;
  minor: number | null;
  /** Some of "rwm", in that order. */
  access: string;
}

/** The reduced form: what is allowed when no exception matches, and the exceptions. */
export interface DeviceState {
  defaultAllow: boolean;
  /** All of type c or b, each the opposite of the default. */
  exceptions: DeviceRule[];
}

const rule = (type: DeviceType, major: number | null, minor: number | null, access = 'rwm'): DeviceRule => ({
  allow: true,
  type,
  major,
  minor,
  access,
});

/**
 * What runc allows after the config's own rules, on every container (its specconv
 * AllowedDevices): mknod of anything, the spec's default devices, /dev/pts/*, /dev/ptmx and
 * /dev/net/tun. Devices listed in linux.devices are not added (runc 1.1 does not either).
 */
export const DEFAULT_DEVICE_RULES: readonly DeviceRule[] = [
  rule('c', null, null, 'm'),
  rule('b', null, null, 'm'),
  rule('c', 1, 3), // /dev/null
  rule('c', 1, 8), // /dev/random
  rule('c', 1, 7), // /dev/full
  rule('c', 5, 0), // /dev/tty
  rule('c', 1, 5), // /dev/zero
  rule('c', 1, 9), // /dev/urandom
  rule('c', 136, null), // /dev/pts/*
  rule('c', 5, 2), // /dev/ptmx
  rule('c', 10, 200), // /dev/net/tun
];

function normalizeAccess(access: string | undefined, field: string): string {
  const given = access ?? 'rwm';
  if (!/^[rwm]*$/.test(given)) throw new ConfigError(field, `"${given}" is not a combination of r, w and m`);
  const text = ['r', 'w', 'm'].filter((c) => given.includes(c)).join('');
  return text === '' ? 'rwm' : text;
}

/** The config's rules (absent fields are wildcards), then runc's defaults. */
export function deviceRulesFromSpec(devices: readonly LinuxDeviceCgroup[] | undefined, field: string): DeviceRule[] {
  const own = (devices ?? []).map((d, i): DeviceRule => {
    const at = `${field}[${i}]`;
    const type = d.type ?? 'a';
    if (type !== 'a' && type !== 'b' && type !== 'c') throw new ConfigError(`${at}.type`, `unknown device type "${String(type)}"`);
    const num = (n: number | undefined) => (n === undefined || n === null || n < 0 ? null : n);
    return { allow: d.allow, type, major: num(d.major), minor: num(d.minor), access: normalizeAccess(d.access, `${at}.access`) };
  });
  return [...own, ...DEFAULT_DEVICE_RULES];
}

function sameDevice(a: DeviceRule, b: DeviceRule): boolean {
  return a.type === b.type && a.major === b.major && a.minor === b.minor;
}

function mergeAccess(a: string, b: string): string {
  return ['r', 'w', 'm'].filter((c) => a.includes(c) || b.includes(c)).join('');
}

/**
 * Apply rules in order the way the kernel's v1 device controller does, starting from "deny
 * everything" (as runc does, whatever the parent allows):
 *   type a          resets: the default becomes the rule's verdict, exceptions are dropped;
 *   same verdict    as the default removes those access bits from an identical exception;
 *   other verdict   adds an exception (merging access into an identical one).
 */
export function reduceDeviceRules(rules: readonly DeviceRule[]): DeviceState {
  let state: DeviceState = { defaultAllow: false, exceptions: [] };
  for (const r of rules) {
    if (r.type === 'a') {
      state = { defaultAllow: r.allow, exceptions: [] };
      continue;
    }
    const existing = state.exceptions.find((e) => sameDevice(e, r));
    if (r.allow === state.defaultAllow) {
      if (!existing) continue;
      existing.access = existing.access.split('').filter((c) => !r.access.includes(c)).join('');
      if (existing.access === '') state.exceptions = state.exceptions.filter((e) => e !== existing);
    } else if (existing) {
      existing.access = mergeAccess(existing.access, r.access);
    } else {
      state.exceptions.push({ ...r });
    }
  }
  return state;
}

/** "c 1:3 rwm", the v1 devices.allow/devices.deny syntax. */
export function v1RuleText(r: DeviceRule): string {
  if (r.type === 'a') return 'a';
  return `${r.type} ${r.major ?? '*'}:${r.minor ?? '*'} ${r.access}`;
}

/** Would the reduced rules let a process open this device with this access? (tests, docs) */
export function deviceAllowed(state: DeviceState, type: 'c' | 'b', major: number, minor: number, access: string): boolean {
  const hit = (e: DeviceRule) => e.type === type && (e.major === null || e.major === major) && (e.minor === null || e.minor === minor);
  if (state.defaultAllow) {
    return !state.exceptions.some((e) => hit(e) && access.split('').some((c) => e.access.includes(c)));
  }
  return state.exceptions.some((e) => hit(e) && access.split('').every((c) => e.access.includes(c)));
}
