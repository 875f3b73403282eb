// The cgroupfs driver: the runtime makes the container's cgroup directories and writes
// every limit itself, on v1, v2 or hybrid hosts, with no daemon involved.
import type { LinuxResources } from '../../spec/types.js';
import type { CgroupState } from '../../state/types.js';
import { type ApplyOptions, applyResources } from './apply.js';
import type { CgroupDirs } from './dirs.js';
import { type FreezeOptions, type FreezerState, freeze, freezerState, thaw } from './freezer.js';
import type { CgroupManager, ExecPlacement } from './manager.js';
import { type OomWatcher, watchOom } from './oom.js';
import type { Json } from '../../util/json-exact.js';
import { collectStats } from './stats.js';

export class CgroupfsManager implements CgroupManager {
  readonly driver = 'cgroupfs' as const;

  constructor(readonly cg: CgroupDirs) {}

  get mode(): string {
    return this.cg.mode;
  }

  get path(): string {
    return this.cg.path;
  }

  get dirs(): Readonly<Record<string, string>> {
    return this.cg.dirs;
  }

  toState(): CgroupState {
    return this.cg.toState();
  }

  create(resources: LinuxResources | undefined, opts: ApplyOptions = {}): void {
    this.cg.create();
    applyResources(this.cg, resources, opts);
  }

  addInitProcess(pid: number): void {
    this.cg.addProcess(pid);
  }

  execPlacement(subCgroups: readonly string[]): ExecPlacement {
    return this.cg.subCgroupDirs(subCgroups);
  }

  addProcess(pid: number, placement?: ExecPlacement, ignoreErrors = false): void {
    this.cg.addProcess(pid, placement, ignoreErrors);
  }

  set(resources: LinuxResources, opts: ApplyOptions = {}): void {
    applyResources(this.cg, resources, opts);
  }

  freeze(opts?: FreezeOptions): void {
    freeze(this.cg, opts);
  }

  thaw(opts?: FreezeOptions): void {
    thaw(this.cg, opts);
  }

  freezerState(): FreezerState {
    return freezerState(this.cg);
  }

  stats(hugePageSizes: readonly string[]): Json {
    return collectStats(this.cg, hugePageSizes);
  }

  pids(): number[] {
    return this.cg.pids();
  }

  isPopulated(): boolean {
    return this.cg.isPopulated();
  }

  killAll(): boolean {
    return this.cg.killAll();
  }

  watchOom(): OomWatcher {
    return watchOom(this.cg);
  }

  destroy(): void {
    this.cg.destroy();
  }
}
