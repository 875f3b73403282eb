// config.json mounts -> MountPlan entries, in order, with options turned into flags,
// attributes and data (tables in mount-options.ts). The "cgroup" type is expanded here
// into what the host's cgroup layout needs.
import fs from 'node:fs';
import path from 'node:path';
import type { Mount } from '../spec/types.js';
import type { MountPlan } from '../native/plan-types.js';
import { ConfigError } from '../util/errors.js';
import { UNIFIED } from './cgroups/dirs.js';
import type { CgroupManager } from './cgroups/manager.js';
import type { CgroupLayout } from './cgroups/mode.js';
import {
  ATIME_ATTRS,
  BIND_ATTRS,
  MOUNT_ATTR__ATIME,
  MOUNT_ATTR_RDONLY,
  MOUNT_OPTIONS,
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
} from './mount-options.js';

export interface MountContext {
  bundle: string;
  /** The container gets a new cgroup namespace. */
  cgroupns: boolean;
  cgroups: CgroupManager | null;
  layout: CgroupLayout;
  /** Destinations of devices and symlinks created after the mounts. */
  laterPaths: string[];
  /**
   * Prepare a bind mount in the runtime (id-mapped mounts, src/linux/idmap-mounts.ts):
   * returns the fd of a detached mount of `source` for the child to move into place, or -1.
   */
  prepareBind?: (m: Mount, field: string, source: string) => number;
}

/** A destination as an absolute, cleaned path (relative ones are relative to "/"). */
export function cleanDest(dest: string): string {
  return path.posix.normalize(`/${dest}`).replace(/(.)\/$/, '$1');
}

function isUnder(child: string, parent: string): boolean {
  return child !== parent && (parent === '/' || child.startsWith(`${parent}/`));
}

interface ParsedOptions {
  bind: boolean;
  recursive: boolean;
  flagsSet: number;
  flagsClear: number;
  rattrSet: number;
  rattrClr: number;
  propagation: number;
  propagationRecursive: boolean;
  tmpcopyup: boolean;
  idmap: boolean;
  idmapRecursive: boolean;
  data: string[];
}

export function parseMountOptions(options: readonly string[], field: string): ParsedOptions {
  const out: ParsedOptions = {
    bind: false, recursive: false, flagsSet: 0, flagsClear: 0, rattrSet: 0, rattrClr: 0,
    propagation: 0, propagationRecursive: false, tmpcopyup: false, idmap: false, idmapRecursive: false, data: [],
  };
  options.forEach((opt, i) => {
    const o = MOUNT_OPTIONS[opt];
    if (!o) {
      // Unknown options are filesystem-specific: they go to mount(2)'s data argument.
      if (opt === '') throw new ConfigError(`${field}[${i}]`, 'empty mount option');
      out.data.push(opt);
      return;
    }
    switch (o.kind) {
      case 'flag':
        out.flagsSet = (out.flagsSet & ~o.clear) | o.set;
        out.flagsClear = (out.flagsClear & ~o.set) | o.clear;
        break;
      case 'propagation':
        out.propagation = o.flag;
        out.propagationRecursive = o.recursive;
        break;
      case 'recursive':
        out.rattrSet = (out.rattrSet & ~o.clear) | o.set;
        out.rattrClr = (out.rattrClr & ~o.set) | o.clear;
        break;
      case 'bind':
        out.bind = true;
        break;
      case 'rbind':
        out.bind = true;
        out.recursive = true;
        break;
      case 'tmpcopyup':
        out.tmpcopyup = true;
        break;
      case 'idmap':
      case 'ridmap':
        out.idmap = true;
        out.idmapRecursive = o.kind === 'ridmap';
        break;
      case 'ignore':
        break;
    }
  });
  return out;
}

function emptyPlan(dest: string): MountPlan {
  return {
    bind: false, createFile: false, source: null, dest, fstype: null, data: null, flags: 0,
    attrSet: 0, attrClr: 0, rattrSet: 0, rattrClr: 0, propagation: 0, propagationRecursive: false,
    lateReadonly: false, tmpcopyup: false, mountFd: -1,
  };
}

/** Per-mount attributes a bind mount needs, from the mount(2) flags its options named. */
function bindAttributes(o: ParsedOptions): { set: number; clr: number } {
  let set = 0;
  let clr = 0;
  for (const [ms, attr] of BIND_ATTRS) {
    if (o.flagsSet & ms) set |= attr;
    else if (o.flagsClear & ms) clr |= attr;
  }
  // One atime mode, in the kernel's order of precedence (ATIME_ATTRS is ordered).
  const atime = ATIME_ATTRS.find(([ms]) => o.flagsSet & ms);
  if (atime) {
    clr |= MOUNT_ATTR__ATIME;
    set |= atime[1];
  }
  return { set, clr };
}

function planOne(m: Mount, field: string, ctx: MountContext): MountPlan[] {
  const dest = cleanDest(m.destination);
  const o = parseMountOptions(m.options ?? [], `${field}.options`);
  const bind = o.bind || m.type === 'bind';
  if (m.type === 'cgroup' || m.type === 'cgroup2') return planCgroupMount(dest, o, ctx);

  const plan = emptyPlan(dest);
  plan.propagation = o.propagation;
  plan.propagationRecursive = o.propagationRecursive;
  plan.rattrSet = o.rattrSet;
  plan.rattrClr = o.rattrClr;
  plan.tmpcopyup = o.tmpcopyup;
  if (bind) {
    if (!m.source) throw new ConfigError(`${field}.source`, 'a bind mount needs a source');
    const source = path.resolve(ctx.bundle, m.source);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(source);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ConfigError(`${field}.source`, `${source}: ${code === 'ENOENT' ? 'no such file or directory' : code}`);
    }
    plan.bind = true;
    plan.source = source;
    plan.createFile = !stat.isDirectory();
    plan.flags = MS_BIND | (o.recursive ? MS_REC : 0);
    const attrs = bindAttributes(o);
    plan.attrSet = attrs.set;
    plan.attrClr = attrs.clr;
    plan.mountFd = ctx.prepareBind?.(m, field, source) ?? -1;
  } else {
    plan.fstype = m.type ?? null;
    plan.source = m.source ?? m.type ?? 'none';
    plan.flags = o.flagsSet;
    plan.data = o.data.length ? o.data.join(',') : null;
  }
  return [plan];
}

/**
 * "cgroup" mounts. With a cgroup namespace the real filesystems are mounted (they show
 * the namespace's root); without one the container's own cgroup directories are bound
 * in, so the container never sees the host's tree.
 */
function planCgroupMount(dest: string, o: ParsedOptions, ctx: MountContext): MountPlan[] {
  const flags = o.flagsSet | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  const readonly = (flags & MS_RDONLY) !== 0;
  const cg = ctx.cgroups;
  const bindAttrs = bindAttributes({ ...o, flagsSet: flags });
  const layout = ctx.layout;
  if (layout.mode === 'v2') {
    const plan = emptyPlan(dest);
    if (ctx.cgroupns || !cg) {
      plan.fstype = 'cgroup2';
      plan.source = 'cgroup2';
      plan.flags = flags;
    } else {
      plan.bind = true;
      plan.source = cg.dirs[UNIFIED] ?? null;
      plan.flags = MS_BIND | MS_REC;
      plan.attrSet = bindAttrs.set;
      plan.attrClr = bindAttrs.clr;
    }
    return [plan];
  }
  // v1 / hybrid: a tmpfs holding one directory per hierarchy.
  const tmpfs = emptyPlan(dest);
  tmpfs.fstype = 'tmpfs';
  tmpfs.source = 'tmpfs';
  tmpfs.flags = (flags & ~MS_RDONLY) | MS_RELATIME;
  tmpfs.data = 'mode=755';
  tmpfs.lateReadonly = readonly;
  const out: MountPlan[] = [tmpfs];
  const byMount = new Map<string, string[]>();
  for (const [controller, mountPoint] of layout.v1) {
    byMount.set(mountPoint, [...(byMount.get(mountPoint) ?? []), controller]);
  }
  if (layout.unified) byMount.set(layout.unified, [UNIFIED]);
  for (const [mountPoint, controllers] of byMount) {
    const sub = emptyPlan(path.posix.join(dest, path.basename(mountPoint)));
    const first = controllers[0] ?? UNIFIED;
    if (ctx.cgroupns || !cg) {
      const unified = first === UNIFIED;
      sub.fstype = unified ? 'cgroup2' : 'cgroup';
      sub.source = sub.fstype;
      sub.flags = flags;
      sub.data = unified ? null : controllers.map((c) => (c.startsWith('name=') ? `none,${c}` : c)).join(',');
    } else {
      sub.bind = true;
      sub.source = cg.dirs[first] ?? null;
      sub.flags = MS_BIND | MS_REC;
      sub.attrSet = bindAttrs.set;
      sub.attrClr = bindAttrs.clr;
    }
    if (!sub.source) continue;
    out.push(sub);
  }
  return out;
}

/**
 * All mounts of the config, in order. A read-only mount that later mounts, devices or
 * symlinks need to create targets in is made read-only only at the end.
 */
export function planMounts(mounts: readonly Mount[] | undefined, ctx: MountContext): MountPlan[] {
  const plans = (mounts ?? []).flatMap((m, i) => planOne(m, `mounts[${i}]`, ctx));
  plans.forEach((p, i) => {
    const needsWrites =
      plans.slice(i + 1).some((q) => isUnder(q.dest, p.dest)) || ctx.laterPaths.some((d) => isUnder(d, p.dest));
    if (!needsWrites) return;
    if (p.bind && p.attrSet & MOUNT_ATTR_RDONLY) {
      p.attrSet &= ~MOUNT_ATTR_RDONLY;
      p.lateReadonly = true;
    } else if (!p.bind && p.flags & MS_RDONLY) {
      p.flags &= ~MS_RDONLY;
      p.lateReadonly = true;
    }
  });
  return plans;
}

/** Is /dev provided by a bind mount from the host (then no devices are created)? */
export function devIsBindMounted(mounts: readonly Mount[] | undefined): boolean {
  return (mounts ?? []).some((m) => {
    if (cleanDest(m.destination) !== '/dev') return false;
    const opts = m.options ?? [];
    return m.type === 'bind' || opts.includes('bind') || opts.includes('rbind');
  });
}
