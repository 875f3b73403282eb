// config.json mounts -> the plan's mounts, in order, with options turned into flags,
// attributes and data (tables in mount-options.ts). The "cgroup" type is expanded here
// into what the host's cgroup layout needs. Pure: what the host has (bind sources' types,
// the cgroup layout) comes in as facts.
import path from 'node:path';
import type { Mount } from '../spec/types.js';
import { UNIFIED } from './cgroups/dirs.js';
import {
  ATIME_ATTRS,
  BIND_ATTRS,
  MOUNT_ATTR__ATIME,
  MOUNT_ATTR_RDONLY,
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  type ParsedMountOptions,
  isBindMount,
  parseMountOptions,
} from './mount-options.js';
import type { CgroupFacts } from './specconv/host-facts.js';
import type { IdmapTree, MountDraft } from './specconv/draft.js';

/** A config mount, read once: every later step (checks, planning) works from this. */
export interface MountView {
  mount: Mount;
  /** Its place in config.json: mounts[i]. */
  field: string;
  /** The destination as an absolute, cleaned path. */
  dest: string;
  options: ParsedMountOptions;
  bind: boolean;
  /** Type "cgroup" or "cgroup2": expanded for the host's layout. */
  cgroup: boolean;
  /** A bind mount's source resolved against the bundle; null for other mounts. */
  source: string | null;
}

/** A destination as an absolute, cleaned path (relative ones are relative to "/"). */
export function cleanDest(dest: string): string {
  return path.posix.normalize(`/${dest}`).replace(/(.)\/$/, '$1');
}

/** Where a bind mount's source is on the host: relative sources are relative to the bundle. */
export function bindSource(bundle: string, m: Mount): string | null {
  return m.source ? path.resolve(bundle, m.source) : null;
}

export function viewMounts(mounts: readonly Mount[] | undefined, bundle: string): MountView[] {
  return (mounts ?? []).map((m, i) => {
    const field = `mounts[${i}]`;
    const bind = isBindMount(m);
    return {
      mount: m,
      field,
      dest: cleanDest(m.destination),
      options: parseMountOptions(m.options ?? [], `${field}.options`),
      bind,
      cgroup: m.type === 'cgroup' || m.type === 'cgroup2',
      source: bind ? bindSource(bundle, m) : null,
    };
  });
}

/** Is /dev provided by a bind mount from the host (then no devices are created)? */
export function devIsBindMounted(views: readonly MountView[]): boolean {
  return views.some((v) => v.dest === '/dev' && v.bind);
}

export interface MountContext {
  /** The container gets a new cgroup namespace. */
  cgroupns: boolean;
  cgroup: CgroupFacts;
  /** Bind sources that are directories (a host fact); others are bound onto a file. */
  isDirectory: (source: string) => boolean;
  /** The id-mapped tree a bind mount asks for, or null. */
  idmap: (view: MountView) => IdmapTree | null;
  /** Bind sources are opened by the runtime, outside the container's user namespace (MountDraft.detach). */
  detachBinds: boolean;
  /** Destinations of devices and symlinks created after the mounts. */
  laterPaths: string[];
}

function isUnder(child: string, parent: string): boolean {
  return child !== parent && (parent === '/' || child.startsWith(`${parent}/`));
}

function emptyPlan(dest: string): MountDraft {
  return {
    bind: false, createFile: false, source: null, dest, fstype: null, data: null, flags: 0,
    attrSet: 0, attrClr: 0, rattrSet: 0, rattrClr: 0, propagation: 0, propagationRecursive: false,
    lateReadonly: false, tmpcopyup: false, takeMode: false, idmap: null, detach: false,
  };
}

/** Per-mount attributes a bind mount needs, from the mount(2) flags its options named. */
function bindAttributes(flagsSet: number, flagsClear: number): { set: number; clr: number } {
  let set = 0;
  let clr = 0;
  for (const [ms, attr] of BIND_ATTRS) {
    if (flagsSet & ms) set |= attr;
    else if (flagsClear & ms) clr |= attr;
  }
  // One atime mode, in the kernel's order of precedence (ATIME_ATTRS is ordered).
  const atime = ATIME_ATTRS.find(([ms]) => flagsSet & ms);
  if (atime) {
    clr |= MOUNT_ATTR__ATIME;
    set |= atime[1];
  }
  return { set, clr };
}

function planOne(v: MountView, ctx: MountContext): MountDraft[] {
  const o = v.options;
  if (v.cgroup) return planCgroupMount(v.dest, o, ctx);
  const plan = emptyPlan(v.dest);
  plan.propagation = o.propagation;
  plan.propagationRecursive = o.propagationRecursive;
  plan.rattrSet = o.rattrSet;
  plan.rattrClr = o.rattrClr;
  if (v.bind && v.source !== null) {
    plan.bind = true;
    plan.source = v.source;
    plan.createFile = !ctx.isDirectory(v.source);
    plan.flags = MS_BIND | (o.recursive ? MS_REC : 0);
    const attrs = bindAttributes(o.flagsSet, o.flagsClear);
    plan.attrSet = attrs.set;
    plan.attrClr = attrs.clr;
    plan.idmap = ctx.idmap(v);
    // (Not the cgroup binds below: their directories are made after the plan is opened.)
    plan.detach = ctx.detachBinds && plan.idmap === null;
  } else {
    plan.fstype = v.mount.type ?? null;
    plan.source = v.mount.source ?? v.mount.type ?? 'none';
    plan.flags = o.flagsSet;
    plan.data = o.data.length ? o.data.join(',') : null;
    // runc copies up into a tmpfs only and ignores the option on anything else.
    plan.tmpcopyup = o.tmpcopyup && plan.fstype === 'tmpfs';
    // A tmpfs over an existing directory keeps that directory's mode unless data says otherwise (runc).
    plan.takeMode = plan.fstype === 'tmpfs';
  }
  return [plan];
}

/**
 * "cgroup" mounts. Without a cgroup namespace the container's own cgroup directories are
 * bound in, so the container never sees the host's tree. With one, a v1 hierarchy is
 * mounted afresh (it shows the namespace's root); a cgroup2 one is bound too: a fresh
 * mount in the namespace would show that very directory, and mounting cgroup2 again where
 * the host's cgroup2 mount already is (a rootless config binds the host's /sys) is EBUSY
 * (runc falls back to the same bind).
 */
function planCgroupMount(dest: string, o: ParsedMountOptions, ctx: MountContext): MountDraft[] {
  const flags = o.flagsSet | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  const dirs = ctx.cgroup.dirs;
  const bindAttrs = bindAttributes(flags, o.flagsClear);
  /** One hierarchy at `at`: its file system, or the container's directory in it (`key`) bound in. */
  const hierarchy = (at: string, fstype: 'cgroup' | 'cgroup2', data: string | null, key: string): MountDraft => {
    const plan = emptyPlan(at);
    const own = dirs?.[key];
    if (!own || (ctx.cgroupns && fstype === 'cgroup')) return { ...plan, fstype, source: fstype, flags, data };
    return { ...plan, bind: true, source: own, flags: MS_BIND | MS_REC, attrSet: bindAttrs.set, attrClr: bindAttrs.clr };
  };
  const layout = ctx.cgroup.layout;
  if (layout.mode === 'v2') return [hierarchy(dest, 'cgroup2', null, UNIFIED)];
  // v1 / hybrid: a tmpfs holding one directory per hierarchy.
  const tmpfs = emptyPlan(dest);
  tmpfs.fstype = 'tmpfs';
  tmpfs.source = 'tmpfs';
  tmpfs.flags = (flags & ~MS_RDONLY) | MS_RELATIME;
  tmpfs.data = 'mode=755';
  tmpfs.lateReadonly = (flags & MS_RDONLY) !== 0;
  const out: MountDraft[] = [tmpfs];
  const byMount = new Map<string, string[]>();
  for (const [controller, mountPoint] of layout.v1) {
    byMount.set(mountPoint, [...(byMount.get(mountPoint) ?? []), controller]);
  }
  if (layout.unified) byMount.set(layout.unified, [UNIFIED]);
  for (const [mountPoint, controllers] of byMount) {
    const first = controllers[0] ?? UNIFIED;
    const at = path.posix.join(dest, path.basename(mountPoint));
    const sub =
      first === UNIFIED
        ? hierarchy(at, 'cgroup2', null, UNIFIED)
        : hierarchy(at, 'cgroup', controllers.map((c) => (c.startsWith('name=') ? `none,${c}` : c)).join(','), first);
    if (sub.source) out.push(sub);
  }
  return out;
}

/**
 * All mounts of the config, in order. A read-only mount that later mounts, devices or
 * symlinks need to create targets in is made read-only only at the end.
 */
export function planMounts(views: readonly MountView[], ctx: MountContext): MountDraft[] {
  const plans = views.flatMap((v) => planOne(v, ctx));
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
