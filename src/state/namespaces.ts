// How to reach a running container's namespaces from its record, for exec and for the
// hooks that run inside the container: the CLONE_NEW* flags of the namespaces it has, and
// its process's pid as seen inside its own PID namespace (the hooks' state names that pid).
import fs from 'node:fs';
import { NAMESPACES, type NamespaceType } from '../linux/namespaces.js';
import type { ContainerRecord } from './types.js';

export function nsFlagsOf(rec: ContainerRecord): number {
  return rec.namespaces.reduce((acc, ns) => acc | (NAMESPACES[ns.type as NamespaceType]?.flag ?? 0), 0);
}

/** The container process's pid as seen inside its own PID namespace. */
export function nsPid(hostPid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${hostPid}/status`, 'utf8');
    const m = /^NSpid:\s+(.*)$/m.exec(status);
    const ids = m?.[1]?.trim().split(/\s+/) ?? [];
    return Number(ids[ids.length - 1] ?? hostPid);
  } catch {
    return hostPid;
  }
}
