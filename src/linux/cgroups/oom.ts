// Noticing that the kernel ran a container out of memory, for `events`:
//   v1  an eventfd registered with cgroup.event_control for memory.oom_control; the kernel
//       signals it on every OOM (also with the OOM killer disabled) and when the cgroup is
//       removed, so nothing is missed between two looks;
//   v2  memory.events' oom_kill counter, read periodically.
import fs from 'node:fs';
import path from 'node:path';
import { native } from '../../native/addon.js';
import { type CgroupDirs, UNIFIED } from './dirs.js';
import { readKeyValues, writeCgroupFile } from './fs.js';

export type OomCheck = 'oom' | 'none' | 'gone';

export interface OomWatcher {
  /** A descriptor to poll for POLLIN, or null when the watcher must be asked every pollMs. */
  fd: number | null;
  pollMs: number;
  /** What happened since the last call (call when fd is readable, or every pollMs). */
  check(): OomCheck;
  close(): void;
}

const V2_POLL_MS = 100;

function v1Watcher(dir: string): OomWatcher {
  const addon = native();
  const efd = addon.eventfd();
  let controlFd = -1;
  try {
    controlFd = fs.openSync(path.join(dir, 'memory.oom_control'), 'r');
    writeCgroupFile(dir, 'cgroup.event_control', `${efd} ${controlFd}`);
  } catch (err) {
    fs.closeSync(efd);
    if (controlFd >= 0) fs.closeSync(controlFd);
    throw err;
  }
  const counter = Buffer.alloc(8);
  return {
    fd: efd,
    pollMs: 1000,
    check() {
      const ready = addon.poll([[efd, 1]], 0)[0] ?? 0;
      if (!(ready & 1)) return fs.existsSync(path.join(dir, 'cgroup.event_control')) ? 'none' : 'gone';
      fs.readSync(efd, counter, 0, 8, null);
      // The kernel also signals when the cgroup goes away.
      return fs.existsSync(path.join(dir, 'cgroup.event_control')) ? 'oom' : 'gone';
    },
    close() {
      fs.closeSync(efd);
      fs.closeSync(controlFd);
    },
  };
}

function v2Watcher(dir: string): OomWatcher {
  const count = () => readKeyValues(dir, 'memory.events')?.get('oom_kill') ?? null;
  let last = count() ?? 0n;
  return {
    fd: null,
    pollMs: V2_POLL_MS,
    check() {
      if (!fs.existsSync(dir)) return 'gone';
      const now = count();
      if (now === null || now <= last) return 'none';
      last = now;
      return 'oom';
    },
    close() {},
  };
}

/** Only notices the cgroup going away (no memory controller to ask). */
function existenceWatcher(dir: string): OomWatcher {
  return { fd: null, pollMs: V2_POLL_MS, check: () => (fs.existsSync(dir) ? 'none' : 'gone'), close() {} };
}

export function watchOom(cg: CgroupDirs): OomWatcher {
  if (cg.hasV1('memory')) return v1Watcher(cg.dirs.memory as string);
  const unified = cg.dirs[UNIFIED];
  if (unified !== undefined && fs.existsSync(path.join(unified, 'memory.events'))) return v2Watcher(unified);
  return existenceWatcher(cg.uniqueDirs()[0] ?? '/nonexistent');
}
