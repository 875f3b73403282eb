// Capability names (capabilities(7)) and their numbers.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../util/errors.js';

export const CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

const BY_NAME: ReadonlyMap<string, number> = new Map(CAPABILITIES.map((name, i) => [name, i]));

let lastCap: number | undefined;
/** Highest capability number the running kernel knows. */
export function kernelLastCap(): number {
  if (lastCap === undefined) {
    try {
      lastCap = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
    } catch {
      lastCap = CAPABILITIES.length - 1;
    }
  }
  return lastCap;
}

let ownBounding: bigint | undefined;
/** The runtime's own bounding set: capabilities outside it can never be granted. */
export function runtimeBoundingSet(): bigint {
  if (ownBounding === undefined) {
    try {
      const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
      ownBounding = m ? BigInt(`0x${m[1]}`) : ~0n;
    } catch {
      ownBounding = ~0n;
    }
  }
  return ownBounding;
}

export type CapabilitySet = 'bounding' | 'effective' | 'inheritable' | 'permitted' | 'ambient';
export const CAPABILITY_SETS: readonly CapabilitySet[] = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'];

/**
 * Names to a bit mask. An unknown name is a config error naming it; a name this kernel
 * does not know, or a capability the runtime does not hold itself (outside its bounding
 * set, so it "cannot be granted"), is skipped with a warning (config.md: warn, don't fail).
 */
export function capabilityMask(names: readonly string[] | undefined, field: string, warn: (msg: string) => void): bigint {
  let mask = 0n;
  const last = kernelLastCap();
  (names ?? []).forEach((name, i) => {
    const n = BY_NAME.get(name.toUpperCase().startsWith('CAP_') ? name.toUpperCase() : `CAP_${name.toUpperCase()}`);
    if (n === undefined) throw new ConfigError(`${field}[${i}]`, `unknown capability "${name}"`);
    if (n > last) {
      warn(`${field}: capability ${name} is not supported by the running kernel; skipped`);
      return;
    }
    if (!((runtimeBoundingSet() >> BigInt(n)) & 1n)) {
      warn(`${field}: capability ${name} cannot be granted: it is not in the runtime's bounding set; skipped`);
      return;
    }
    mask |= 1n << BigInt(n);
  });
  return mask;
}

export function capabilityNames(mask: bigint): string[] {
  return CAPABILITIES.filter((_, i) => (mask >> BigInt(i)) & 1n);
}
