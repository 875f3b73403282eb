// The container's cgroups on whatever layout the host has: one directory per v1
// hierarchy, or one directory in the v2 hierarchy (plus the unified one on hybrid hosts).
// Directory writes only; no daemon, no systemd. The hierarchy roots come from a layout
// (the host's by default) so that tests can point the driver at a directory tree.
import fs from 'node:fs';
import path from 'node:path';
import { SystemError, describeFsError } from '../../util/errors.js';
import type { CgroupState } from '../../state/types.js';
import { readCgroupFile, sleepMs, writeCgroupFile } from './fs.js';
import { type CgroupLayout, hostLayout, ownCgroups } from './mode.js';
import { type CgroupPathSpec, pathInHierarchy } from './path.js';

/** Key of the v2 (unified) hierarchy in the dirs map. */
export const UNIFIED = '';

/** v2 controllers a container gets on a pure v2 host (all the kernel offers of these). */
export const V2_CONTROLLERS: readonly string[] = ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc'];

export class CgroupDriver {
  constructor(
    readonly mode: string,
    /** Container path relative to a hierarchy root (for the state and `ps`). */
    readonly path: string,
    /** Absolute directory per controller; UNIFIED for v2. Several controllers may share one. */
    readonly dirs: Record<string, string>,
    layout?: CgroupLayout,
  ) {
    this.knownLayout = layout;
  }

  private knownLayout: CgroupLayout | undefined;

  /** Where the hierarchies are mounted: read from mountinfo only when something needs it. */
  get layout(): CgroupLayout {
    return (this.knownLayout ??= hostLayout());
  }

  static plan(spec: CgroupPathSpec, layout: CgroupLayout = hostLayout(), own: Map<string, string> = ownCgroups()): CgroupDriver {
    const dirs: Record<string, string> = {};
    let shown = spec.inner;
    for (const [controller, mount] of layout.v1) {
      const p = pathInHierarchy(spec, own.get(controller));
      dirs[controller] = path.join(mount, p);
      shown = p;
    }
    if (layout.unified) {
      const p = pathInHierarchy(spec, own.get(UNIFIED));
      dirs[UNIFIED] = path.join(layout.unified, p);
      if (layout.mode === 'v2') shown = p;
    }
    return new CgroupDriver(layout.mode, shown, dirs, layout);
  }

  static fromState(state: CgroupState, layout?: CgroupLayout): CgroupDriver {
    return new CgroupDriver(state.mode, state.path, state.dirs, layout);
  }

  toState(): CgroupState {
    return { mode: this.mode, path: this.path, dirs: this.dirs };
  }

  /** Distinct directories (comounted controllers share one). */
  uniqueDirs(): string[] {
    return [...new Set(Object.values(this.dirs))];
  }

  /**
   * Make every directory. A v1 cpuset needs cpus and mems before it accepts a process; on a
   * pure v2 host the controllers are enabled down the path first, as runc does, so that
   * limits and statistics work without asking.
   */
  create(): void {
    for (const [controller, dir] of Object.entries(this.dirs)) {
      try {
        fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
      } catch (err) {
        throw new SystemError(`create cgroup ${dir}: ${describeFsError(err)}`);
      }
      if (controller === 'cpuset' && this.mode !== 'v2') initCpuset(dir);
    }
    if (this.mode === 'v2') {
      const available = this.v2Available();
      this.enableV2Controllers(V2_CONTROLLERS.filter((c) => available.has(c)));
    }
  }

  /** The directory holding a controller's files: its v1 hierarchy, else the unified one. */
  dirFor(controller: string): string | undefined {
    return (this.mode !== 'v2' ? this.dirs[controller] : undefined) ?? this.dirs[UNIFIED];
  }

  /** Does a v1 hierarchy of this controller hold the container? */
  hasV1(controller: string): boolean {
    return this.mode !== 'v2' && this.dirs[controller] !== undefined;
  }

  /** Controllers the unified hierarchy offers (its root's cgroup.controllers). */
  v2Available(): Set<string> {
    const root = this.layout.unified;
    if (!root || this.dirs[UNIFIED] === undefined) return new Set();
    return new Set((readCgroupFile(root, 'cgroup.controllers') ?? '').split(/\s+/).filter(Boolean));
  }

  /**
   * Enable v2 controllers in cgroup.subtree_control of every ancestor of the container's
   * unified directory, from the hierarchy root down (a cgroup gets a controller only when
   * its parent delegates it). Ancestors that already delegate them are left alone.
   */
  enableV2Controllers(controllers: readonly string[]): void {
    const root = this.layout.unified;
    const leaf = this.dirs[UNIFIED];
    if (!root || !leaf || controllers.length === 0) return;
    const available = this.v2Available();
    const missing = controllers.filter((c) => !available.has(c));
    if (missing.length) {
      throw new SystemError(`cgroup v2 controller${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not available in ${root} (cgroup.controllers)`);
    }
    const rel = path.relative(root, leaf);
    if (rel.startsWith('..') || rel === '') return;
    // Every parent on the way: the root, then each directory above the container's.
    let dir = root;
    for (const part of rel.split(path.sep)) {
      const enabled = new Set((readCgroupFile(dir, 'cgroup.subtree_control') ?? '').split(/\s+/).filter(Boolean));
      const wanted = controllers.filter((c) => !enabled.has(c));
      if (wanted.length) writeCgroupFile(dir, 'cgroup.subtree_control', wanted.map((c) => `+${c}`).join(' '));
      dir = path.join(dir, part);
    }
  }

  /** Put a process into every hierarchy. */
  addProcess(pid: number): void {
    for (const dir of this.uniqueDirs()) {
      try {
        fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
      } catch (err) {
        throw new SystemError(`add pid ${pid} to cgroup ${dir}: ${describeFsError(err)}`);
      }
    }
  }

  /** Host pids of every process in the container's cgroup (and nested ones). */
  pids(): number[] {
    const dir = this.dirs.pids ?? this.dirs.freezer ?? this.dirs.memory ?? this.dirs[UNIFIED] ?? this.uniqueDirs()[0];
    if (!dir) return [];
    const out = new Set<number>();
    walk(dir, (d) => {
      let text = '';
      try {
        text = fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8');
      } catch {
        return;
      }
      for (const line of text.split('\n')) if (line) out.add(Number(line));
    });
    return [...out];
  }

  /** Frozen by `pause` (v1 freezer, or v2 cgroup.freeze)? */
  isFrozen(): boolean {
    if (this.hasV1('freezer')) return readCgroupFile(this.dirs.freezer as string, 'freezer.state')?.trim() === 'FROZEN';
    const unified = this.dirs[UNIFIED];
    if (unified !== undefined) return readCgroupFile(unified, 'cgroup.freeze')?.trim() === '1';
    return false;
  }

  /** Remove the container's directories, nested cgroups first. Missing ones are fine. */
  destroy(): void {
    const errors: string[] = [];
    for (const dir of this.uniqueDirs()) {
      const all: string[] = [];
      walk(dir, (d) => all.push(d));
      for (const d of all.reverse()) {
        const err = rmdirRetry(d);
        if (err) errors.push(`${d}: ${err}`);
      }
    }
    if (errors.length) throw new SystemError(`remove cgroups: ${errors.join('; ')}`);
  }
}

function walk(dir: string, visit: (d: string) => void): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  visit(dir);
  for (const e of entries) if (e.isDirectory()) walk(path.join(dir, e.name), visit);
}

/** rmdir, retrying briefly on EBUSY: the kernel frees a cgroup a moment after its last task. */
function rmdirRetry(dir: string): string | null {
  for (let attempt = 0; ; attempt++) {
    try {
      fs.rmdirSync(dir);
      return null;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return null;
      if (code !== 'EBUSY' || attempt >= 50) return describeFsError(err);
      sleepMs(10);
    }
  }
}

/** A new v1 cpuset starts empty; copy cpus and mems down from the nearest ancestor. */
function initCpuset(dir: string): void {
  for (const file of ['cpuset.cpus', 'cpuset.mems']) {
    const chain: string[] = [];
    let d = dir;
    let value = '';
    for (;;) {
      try {
        value = fs.readFileSync(path.join(d, file), 'utf8').trim();
      } catch {
        return;
      }
      if (value !== '') break;
      chain.push(d);
      const parent = path.dirname(d);
      if (parent === d) return;
      d = parent;
    }
    for (const c of chain.reverse()) fs.writeFileSync(path.join(c, file), value);
  }
}
