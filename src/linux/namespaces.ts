// Namespace types: the OCI name, the clone(2) flag and the /proc/<pid>/ns entry.
import { ConfigError } from '../util/errors.js';

export type NamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup' | 'time';

interface NamespaceInfo {
  /** Its CLONE_NEW* flag (linux/sched.h). */
  flag: number;
  /** Entry under /proc/<pid>/ns/. */
  proc: string;
}

export const NAMESPACES: Readonly<Record<NamespaceType, NamespaceInfo>> = {
  pid: { flag: 0x20000000, proc: 'pid' },
  network: { flag: 0x40000000, proc: 'net' },
  mount: { flag: 0x00020000, proc: 'mnt' },
  ipc: { flag: 0x08000000, proc: 'ipc' },
  uts: { flag: 0x04000000, proc: 'uts' },
  user: { flag: 0x10000000, proc: 'user' },
  cgroup: { flag: 0x02000000, proc: 'cgroup' },
  time: { flag: 0x00000080, proc: 'time' },
};

/**
 * The order namespaces are joined in: user first (it grants the capabilities needed to
 * join the others it owns), mount last (joining it changes how later paths resolve).
 */
export const JOIN_ORDER: readonly NamespaceType[] = ['user', 'ipc', 'uts', 'network', 'pid', 'cgroup', 'time', 'mount'];

export function namespaceInfo(type: string, field: string): NamespaceInfo {
  const info = (NAMESPACES as Record<string, NamespaceInfo | undefined>)[type];
  if (!info) throw new ConfigError(field, `unknown namespace type "${type}"`);
  return info;
}
