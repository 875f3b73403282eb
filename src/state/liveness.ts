// Is the container process still the process we started? A bare PID can be reused, so
// the record keeps the PID's start time; we open a pidfd first and then confirm the start
// time, which pins the check to that exact process.
import fs from 'node:fs';
import { native } from '../native/addon.js';
import type { ProcessKey } from './types.js';

interface ProcStat {
  state: string;
  startTime: number;
}

export function readProcStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm (field 2) may contain spaces and parentheses: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); starttime is field 22.
  return { state: rest[0] ?? '?', startTime: Number(rest[19]) };
}

/** A process pinned by its start time (state.json's `creator`, `foreign`); null when gone. */
export function processKey(pid: number): ProcessKey | null {
  const stat = readProcStat(pid);
  return stat ? { pid, startTime: stat.startTime } : null;
}

/**
 * A pidfd for the container process if it is alive (not a zombie) and is the one the
 * record describes; null when it has exited. The caller closes the fd.
 */
export function openLivePidfd(pid: number, startTime: number): number | null {
  if (!pid) return null;
  let pidfd: number;
  try {
    pidfd = native().pidfdOpen(pid);
  } catch {
    return null;
  }
  const stat = readProcStat(pid);
  if (!stat || stat.startTime !== startTime || stat.state === 'Z' || stat.state === 'X') {
    fs.closeSync(pidfd);
    return null;
  }
  return pidfd;
}

/**
 * For queries (state, list): the start time alone identifies the process, and nothing is
 * done to it, so no pidfd (nor the native addon) is needed. Anything that acts on the
 * process uses openLivePidfd.
 */
export function isAlive(pid: number, startTime: number): boolean {
  if (!pid) return false;
  const stat = readProcStat(pid);
  return !!stat && stat.startTime === startTime && stat.state !== 'Z' && stat.state !== 'X';
}
