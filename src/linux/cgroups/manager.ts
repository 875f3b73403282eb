// The cgroup manager: what the operations may ask of a container's cgroup, whichever
// driver made it (runc's cgroups.Manager, youki's CgroupManager trait). Two drivers
// implement it: cgroupfs (cgroupfs.ts: directory writes on v1, v2 or hybrid hosts) and
// systemd (../systemd/manager.ts: a transient scope over D-Bus, plus the files systemd
// does not manage). factory.ts picks one at create time; state.json records which, so
// later commands get the same one back.
import type { LinuxResources } from '../../spec/types.js';
import type { CgroupState } from '../../state/types.js';
import type { ApplyOptions } from './apply.js';
import type { FreezeOptions, FreezerState } from './freezer.js';
import type { OomWatcher } from './oom.js';
import type { Json } from '../../util/json-exact.js';

export type CgroupDriverName = 'cgroupfs' | 'systemd';

export interface CgroupManager {
  readonly driver: CgroupDriverName;
  /** Host layout at create time: 'v1' | 'v2' | 'hybrid'. */
  readonly mode: string;
  /** The container's cgroup relative to a hierarchy root (the state, `ps`). */
  readonly path: string;
  /** Absolute directory per controller ("" = the unified hierarchy); comounted ones share. */
  readonly dirs: Readonly<Record<string, string>>;
  /** What state.json keeps, enough for cgroupManagerFromState to rebuild this manager. */
  toState(): CgroupState;

  /**
   * Before the container's process exists: make the cgroup and apply the limits (cgroupfs),
   * or check that they convert (systemd, whose scope needs a process to exist).
   */
  create(resources: LinuxResources | undefined, opts?: ApplyOptions): void;
  /** The container's first process: put it in (systemd: start the scope with it, then set the limits). */
  addInitProcess(pid: number): void;
  /** Where `exec --cgroup` values would put a process; checked before anything starts. */
  execPlacement(subCgroups: readonly string[]): ExecPlacement;
  /** A later process (exec): into the container's cgroup, or where execPlacement said. */
  addProcess(pid: number, placement?: ExecPlacement, ignoreErrors?: boolean): void;
  /** Change the limits of a live container (`update`, and setting them back after a refusal). */
  set(resources: LinuxResources, opts?: ApplyOptions): void;

  freeze(opts?: FreezeOptions): void;
  thaw(opts?: FreezeOptions): void;
  freezerState(): FreezerState;

  /** runc's `events` statistics. */
  stats(hugePageSizes: readonly string[]): Json;
  /** Host pids of every process in the cgroup, nested cgroups included. */
  pids(): number[];
  isPopulated(): boolean;
  /** SIGKILL everything at once where the kernel can (v2 cgroup.kill); false: signal each pid. */
  killAll(): boolean;
  watchOom(): OomWatcher;
  /** Remove the cgroup (systemd: stop the unit). Nothing may run in it any more. */
  destroy(): void;
}

/** Directories an exec'd process joins (opaque to callers). */
export type ExecPlacement = readonly string[];

/** Thaw if frozen, never throwing: for teardown paths (a frozen task cannot die on v1). */
export function thawQuietly(cg: CgroupManager): void {
  try {
    if (cg.freezerState() !== 'THAWED') cg.thaw();
  } catch {
    // gone already
  }
}
