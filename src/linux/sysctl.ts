// linux.sysctl keys: their two spellings, and which kernel namespace each belongs to.
// /proc/sys is only partly namespaced: a key outside the container's own namespaces
// would change the host (kernel.core_pattern, vm.*). runc's list
// (libcontainer/configs/validate) decides what is namespaced; the "sysctl" validator
// (src/linux/specconv/validate.ts) refuses the rest.
import type { NamespaceType } from './namespaces.js';

/** IPC namespace sysctls besides fs.mqueue.* (ipc/ipc_sysctl.c). */
const IPC_KEYS: ReadonlySet<string> = new Set([
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
]);

/**
 * Which namespace a key (dotted) lives in. net.* entries that are not per network
 * namespace are registered for the initial one only, so a new network namespace's
 * /proc/sys/net does not have them: writing one fails instead of reaching the host.
 */
const NAMESPACED: readonly { ns: NamespaceType; match: (key: string) => boolean }[] = [
  { ns: 'ipc', match: (k) => IPC_KEYS.has(k) || k.startsWith('fs.mqueue.') },
  { ns: 'network', match: (k) => k.startsWith('net.') },
  { ns: 'uts', match: (k) => k === 'kernel.hostname' || k === 'kernel.domainname' },
];

/** The namespace a dotted key belongs to, or null: not namespaced. */
export function sysctlNamespace(dotted: string): NamespaceType | null {
  return NAMESPACED.find((n) => n.match(dotted))?.ns ?? null;
}

const swapSeparators = (s: string) => s.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));

/**
 * A key in both spellings of sysctl.d(5): dotted ("net.ipv4.conf.eth0/100.rp_filter",
 * where "/" stands for a "." inside a name) and as a path under /proc/sys
 * ("net/ipv4/conf/eth0.100/rp_filter"). A key whose first separator is "/" is a path.
 */
export function sysctlKey(key: string): { dotted: string; path: string } {
  const first = key.search(/[./]/);
  if (first >= 0 && key[first] === '/') return { dotted: swapSeparators(key), path: key };
  return { dotted: key, path: swapSeparators(key) };
}

/** A path of names under /proc/sys: no empty, "." or ".." component. */
export function isSysctlPath(p: string): boolean {
  return p.split('/').every((c) => c !== '' && c !== '.' && c !== '..');
}
