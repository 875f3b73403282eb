// exec: where the exec'd process goes in the container's cgroups (its plan comes from
// src/linux/specconv/index.ts, convertExec).
import fs from 'node:fs';
import path from 'node:path';
import type { CgroupState } from '../state/types.js';
import { RuntimeError, SystemError, describeFsError } from '../util/errors.js';
import { CgroupDriver, UNIFIED } from './cgroups/driver.js';

/** One `--cgroup [controller[,controller...]:]path` value. */
interface SubCgroup {
  controllers: string[] | null;
  path: string;
}

function parseSubCgroup(value: string): SubCgroup {
  const colon = value.indexOf(':');
  const controllers = colon >= 0 ? value.slice(0, colon).split(',').filter(Boolean) : null;
  const sub = colon >= 0 ? value.slice(colon + 1) : value;
  if (controllers && controllers.length === 0) throw new RuntimeError(`--cgroup ${value}: no controller before ":"`);
  return { controllers, path: sub };
}

/**
 * Where the exec'd process goes: the container's cgroup in every hierarchy, or the
 * `--cgroup` sub-cgroups of it (runc: a path for all controllers, and on cgroup v1 also
 * `cpu,memory:path` for some). Sub-cgroups must exist and stay inside the container's.
 */
export function execCgroupDirs(state: CgroupState, values: readonly string[]): string[] {
  const driver = CgroupDriver.fromState(state);
  if (values.length === 0) return driver.uniqueDirs();
  let common: string | null = null;
  const perController = new Map<string, string>();
  for (const v of values) {
    const sub = parseSubCgroup(v);
    if (!sub.controllers) {
      common = sub.path;
      continue;
    }
    if (state.mode === 'v2') throw new RuntimeError(`--cgroup ${v}: controller names are only accepted on cgroup v1`);
    for (const c of sub.controllers) {
      if (!(c in state.dirs) || c === UNIFIED) throw new RuntimeError(`--cgroup ${v}: no cgroup v1 controller "${c}" on this host`);
      perController.set(c, sub.path);
    }
  }
  const dirs = new Set<string>();
  for (const [controller, dir] of Object.entries(state.dirs)) {
    const sub = perController.get(controller) ?? common;
    if (!sub) {
      dirs.add(dir);
      continue;
    }
    const target = path.join(dir, path.posix.normalize(`/${sub}`));
    if (!fs.existsSync(target)) throw new RuntimeError(`--cgroup: cgroup ${target} does not exist`);
    dirs.add(target);
  }
  return [...dirs];
}

/** Move a process into the given cgroup directories. */
export function placeInCgroups(pid: number, dirs: readonly string[], ignoreErrors: boolean): void {
  for (const dir of dirs) {
    try {
      fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
    } catch (err) {
      if (!ignoreErrors) throw new SystemError(`error adding pid ${pid} to cgroup ${dir}: ${describeFsError(err)}`);
    }
  }
}
