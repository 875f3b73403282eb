// Capability names (capabilities(7)) and their numbers.
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

/** What the host allows to grant (host facts, src/linux/specconv/host-facts.ts). */
export interface CapabilityLimits {
  /** Highest capability number the running kernel knows (/proc/sys/kernel/cap_last_cap). */
  lastCap: number;
  /** The runtime's own bounding set: capabilities outside it can never be granted. */
  boundingSet: bigint;
}

export type CapabilitySet = 'bounding' | 'effective' | 'inheritable' | 'permitted' | 'ambient';
export const CAPABILITY_SETS: readonly CapabilitySet[] = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'];

/** "CAP_KILL", "kill", "Cap_Kill" -> its number, or undefined. */
export function capabilityNumber(name: string): number | undefined {
  const upper = name.toUpperCase();
  return BY_NAME.get(upper.startsWith('CAP_') ? upper : `CAP_${upper}`);
}

/**
 * Names to a bit mask. An unknown name is a config error naming it; a name this kernel
 * does not know, or a capability the runtime does not hold itself (outside its bounding
 * set, so it "cannot be granted"), is skipped with a warning (config.md: warn, don't fail).
 */
export function capabilityMask(
  names: readonly string[] | undefined,
  field: string,
  limits: CapabilityLimits,
  warnings: string[],
): bigint {
  let mask = 0n;
  (names ?? []).forEach((name, i) => {
    const n = capabilityNumber(name);
    if (n === undefined) throw new ConfigError(`${field}[${i}]`, `unknown capability "${name}"`);
    if (n > limits.lastCap) {
      warnings.push(`${field}: capability ${name} is not supported by the running kernel; skipped`);
      return;
    }
    if (!((limits.boundingSet >> BigInt(n)) & 1n)) {
      warnings.push(`${field}: capability ${name} cannot be granted: it is not in the runtime's bounding set; skipped`);
      return;
    }
    mask |= 1n << BigInt(n);
  });
  return mask;
}
