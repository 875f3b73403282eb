// Where a container's cgroup is, on whatever layout the host has: one directory per v1
// hierarchy, or one directory in the v2 hierarchy (plus the unified one on hybrid hosts);
// making and removing those directories, enabling v2 controllers down to them, listing
// their processes. Both drivers (cgroupfs.ts, systemd/) build on it. The hierarchy roots
// come from a layout (the host's by default) so that tests can point it at a directory tree.
import fs from 'node:fs';
import path from 'node:path';
import { RuntimeError, SystemError, describeFsError } from '../../util/errors.js';
import type { CgroupState } from '../../state/types.js';
import { sleepMs } from '../../util/sleep.js';
import { readCgroupFile, writeCgroupFile } from './fs.js';
import { type CgroupLayout, hostLayout, ownCgroups } from './mode.js';
import { type CgroupPathSpec, pathInHierarchy } from './path.js';

/** Key of the v2 (unified) hierarchy in the dirs map. */
export const UNIFIED = '';

/** v2 controllers a container gets on a pure v2 host (all the kernel offers of these). */
const V2_CONTROLLERS: readonly string[] = ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc'];

export class CgroupDirs {
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

  static plan(spec: CgroupPathSpec, layout: CgroupLayout = hostLayout(), own: Map<string, string> = ownCgroups()): CgroupDirs {
    const dirs: Record<string, string> = {};
    let shown = spec.inner;
    for (const [controller, mount] of layout.v1) {
      const p = pathInHierarchy(spec, own.get(controller));
      dirs[controller] = path.join(mount, p);
      shown = p;
    }
    if (layout.unified) {
      const p = pathInHierarchy(spec, own.get(UNIFIED), layout.mode === 'v2');
      dirs[UNIFIED] = path.join(layout.unified, p);
      if (layout.mode === 'v2') shown = p;
    }
    return new CgroupDirs(layout.mode, shown, dirs, layout);
  }

  /**
   * The runtime's own cgroup directories: where a container without cgroups of its own (a
   * rootless one with none delegated) runs, and what its /sys/fs/cgroup shows.
   */
  static runtimeOwn(layout: CgroupLayout = hostLayout(), own: Map<string, string> = ownCgroups()): Record<string, string> {
    const dirs: Record<string, string> = {};
    for (const [controller, mount] of layout.v1) dirs[controller] = path.join(mount, own.get(controller) ?? '/');
    if (layout.unified) dirs[UNIFIED] = path.join(layout.unified, own.get(UNIFIED) ?? '/');
    return dirs;
  }

  static fromState(state: CgroupState, layout?: CgroupLayout): CgroupDirs {
    return new CgroupDirs(state.mode, state.path, state.dirs, layout);
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

  /** Controllers the container's cgroup can have: what its delegation root offers (cgroup.controllers). */
  v2Available(): Set<string> {
    const root = this.delegationRoot();
    if (!root) return new Set();
    return new Set((readCgroupFile(root, 'cgroup.controllers') ?? '').split(/\s+/).filter(Boolean));
  }

  private knownDelegationRoot: string | null | undefined;

  /**
   * The highest cgroup on the way down to the container's whose controllers this runtime may
   * hand on (its cgroup.subtree_control is writable): the hierarchy's root for root, the
   * delegated cgroup (say user@1000.service) for a user. Controllers are enabled from there
   * down; above it they are what the host gave. The root when no level is writable (a
   * read-only mount: the writes then fail with their own errors).
   */
  delegationRoot(): string | null {
    if (this.knownDelegationRoot !== undefined) return this.knownDelegationRoot;
    const root = this.layout.unified;
    const leaf = this.dirs[UNIFIED];
    let found: string | null = root && leaf !== undefined ? root : null;
    if (root && leaf !== undefined) {
      const rel = path.relative(root, leaf);
      const parts = rel === '' || rel.startsWith('..') ? [] : rel.split(path.sep);
      let dir = root;
      for (let i = 0; i <= parts.length; i++) {
        if (writable(path.join(dir, 'cgroup.subtree_control'))) {
          found = dir;
          break;
        }
        if (i < parts.length) dir = path.join(dir, parts[i] as string);
      }
    }
    this.knownDelegationRoot = found;
    return found;
  }

  /**
   * The container's directories this user could not make, or not move a process into, each
   * with the reason; empty when all of them are its to use (a delegated subtree, or root).
   * On v2 moving a process also needs the cgroup.procs of the common ancestor of where it is
   * (the runtime's cgroup) and where it goes.
   */
  undelegated(own: Map<string, string> = ownCgroups()): string[] {
    const out: string[] = [];
    for (const [controller, dir] of Object.entries(this.dirs)) {
      const existing = nearestExisting(dir);
      const target = existing === dir ? path.join(dir, 'cgroup.procs') : existing;
      if (!writable(target)) {
        out.push(`${dir} (${existing === dir ? 'its cgroup.procs is' : `${existing} is`} not writable)`);
        continue;
      }
      const mount = controller === UNIFIED ? this.layout.unified : null;
      const from = own.get(UNIFIED);
      if (!mount || from === undefined || this.layout.mode === 'v1') continue;
      const common = commonAncestor(path.join(mount, from), dir);
      if (!writable(path.join(common, 'cgroup.procs'))) out.push(`${dir} (moving a process there needs ${common}/cgroup.procs, which is not writable)`);
    }
    return out;
  }

  /**
   * Enable v2 controllers in cgroup.subtree_control of every ancestor of the container's
   * unified directory, from the delegation root down (a cgroup gets a controller only when
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
    const top = this.delegationRoot() ?? root;
    const rel = path.relative(top, leaf);
    if (rel.startsWith('..') || rel === '') return;
    // Every parent on the way: the delegation root, then each directory above the container's.
    let dir = top;
    for (const part of rel.split(path.sep)) {
      const enabled = new Set((readCgroupFile(dir, 'cgroup.subtree_control') ?? '').split(/\s+/).filter(Boolean));
      const wanted = controllers.filter((c) => !enabled.has(c));
      if (wanted.length) writeCgroupFile(dir, 'cgroup.subtree_control', wanted.map((c) => `+${c}`).join(' '));
      dir = path.join(dir, part);
    }
  }

  /**
   * Where `exec --cgroup` values put a process: the container's cgroup in every hierarchy,
   * or sub-cgroups of it (runc: a path for all controllers, and on cgroup v1 also
   * `cpu,memory:path` for some). Sub-cgroups must exist and stay inside the container's.
   */
  subCgroupDirs(values: readonly string[]): string[] {
    if (values.length === 0) return this.uniqueDirs();
    let common: string | null = null;
    const perController = new Map<string, string>();
    for (const v of values) {
      const sub = parseSubCgroup(v);
      if (!sub.controllers) {
        common = sub.path;
        continue;
      }
      if (this.mode === 'v2') throw new RuntimeError(`--cgroup ${v}: controller names are only accepted on cgroup v1`);
      for (const c of sub.controllers) {
        if (!(c in this.dirs) || c === UNIFIED) throw new RuntimeError(`--cgroup ${v}: no cgroup v1 controller "${c}" on this host`);
        perController.set(c, sub.path);
      }
    }
    const dirs = new Set<string>();
    for (const [controller, dir] of Object.entries(this.dirs)) {
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

  /** Put a process into every hierarchy (or into the given directories of them). */
  addProcess(pid: number, targets: readonly string[] = this.uniqueDirs(), ignoreErrors = false): void {
    for (const dir of targets) {
      try {
        fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
      } catch (err) {
        if (!ignoreErrors) throw new SystemError(`add pid ${pid} to cgroup ${dir}: ${describeFsError(err)}`, (err as NodeJS.ErrnoException).code);
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


  /**
   * Does any process remain (nested cgroups included)? v2 says so in cgroup.events, without
   * reading every cgroup.procs; v1 has only the lists.
   */
  isPopulated(): boolean {
    const unified = this.dirs[UNIFIED];
    const events = unified === undefined ? null : readCgroupFile(unified, 'cgroup.events');
    const populated = events === null ? null : /^populated ([01])$/m.exec(events)?.[1];
    if (populated) return populated === '1';
    return this.pids().length > 0;
  }

  /**
   * SIGKILL every process at once through v2's cgroup.kill (Linux 5.14+), which also
   * catches those forked meanwhile. False where there is none: the caller signals each pid.
   */
  killAll(): boolean {
    const unified = this.dirs[UNIFIED];
    if (unified === undefined || !fs.existsSync(path.join(unified, 'cgroup.kill'))) return false;
    try {
      writeCgroupFile(unified, 'cgroup.kill', '1');
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Remove the container's directories, nested cgroups first. Missing ones are fine. Each is
   * removed at once when it can be (the usual case: no nested cgroup, no task left); only a
   * refusal makes us list what is inside it (a cgroup directory lists 10-35 files: reading
   * them for each of the ~10 v1 hierarchies cost delete ~0.3 ms).
   */
  destroy(): void {
    const errors: string[] = [];
    for (const dir of this.uniqueDirs()) {
      if (rmdirOnce(dir)) continue;
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

/** One `--cgroup [controller[,controller...]:]path` value. */
function parseSubCgroup(value: string): { controllers: string[] | null; path: string } {
  const colon = value.indexOf(':');
  const controllers = colon >= 0 ? value.slice(0, colon).split(',').filter(Boolean) : null;
  if (controllers && controllers.length === 0) throw new RuntimeError(`--cgroup ${value}: no controller before ":"`);
  return { controllers, path: colon >= 0 ? value.slice(colon + 1) : value };
}

/** access(2) W_OK: may this process write the file (or make entries in the directory)? */
function writable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** `dir`, or its nearest ancestor that exists. */
function nearestExisting(dir: string): string {
  let d = dir;
  while (!fs.existsSync(d)) {
    const parent = path.dirname(d);
    if (parent === d) break;
    d = parent;
  }
  return d;
}

function commonAncestor(a: string, b: string): string {
  const pa = a.split('/');
  const pb = b.split('/');
  let i = 0;
  while (i < pa.length && i < pb.length && pa[i] === pb[i]) i++;
  return pa.slice(0, i).join('/') || '/';
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

/** One rmdir: true when the directory is gone (removed, or it was not there). */
function rmdirOnce(dir: string): boolean {
  try {
    fs.rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
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
