// Mount options (config.md "Linux mount options") as data: what each option string does
// to mount(2) flags, to mount_setattr(2) attributes, or to propagation; and the one
// reading of a mount's options (parseMountOptions) and of "is this a bind mount".
import type { Mount } from '../spec/types.js';
import { ConfigError } from '../util/errors.js';

export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
export const MS_SYNCHRONOUS = 0x10;
export const MS_REMOUNT = 0x20;
export const MS_MANDLOCK = 0x40;
export const MS_DIRSYNC = 0x80;
export const MS_NOSYMFOLLOW = 0x100;
export const MS_NOATIME = 0x400;
export const MS_NODIRATIME = 0x800;
export const MS_BIND = 0x1000;
export const MS_MOVE = 0x2000;
export const MS_REC = 0x4000;
export const MS_SILENT = 0x8000;
export const MS_UNBINDABLE = 0x20000;
export const MS_PRIVATE = 0x40000;
export const MS_SLAVE = 0x80000;
export const MS_SHARED = 0x100000;
export const MS_RELATIME = 0x200000;
export const MS_I_VERSION = 0x800000;
export const MS_STRICTATIME = 0x1000000;
export const MS_LAZYTIME = 0x2000000;

export const MOUNT_ATTR_RDONLY = 0x1;
export const MOUNT_ATTR_NOSUID = 0x2;
export const MOUNT_ATTR_NODEV = 0x4;
export const MOUNT_ATTR_NOEXEC = 0x8;
export const MOUNT_ATTR__ATIME = 0x70;
export const MOUNT_ATTR_RELATIME = 0x0;
export const MOUNT_ATTR_NOATIME = 0x10;
export const MOUNT_ATTR_STRICTATIME = 0x20;
export const MOUNT_ATTR_NODIRATIME = 0x80;
export const MOUNT_ATTR_NOSYMFOLLOW = 0x200000;

/** An option that sets or clears mount(2) flags. */
interface FlagOption {
  kind: 'flag';
  set: number;
  clear: number;
}
/** A propagation option. */
interface PropagationOption {
  kind: 'propagation';
  flag: number;
  recursive: boolean;
}
/** A recursive (mount_setattr AT_RECURSIVE) attribute option: rro, rnosuid, ... */
interface RecursiveOption {
  kind: 'recursive';
  set: number;
  clear: number;
}
/** Options that change how the mount is made rather than its flags. */
interface SpecialOption {
  kind: 'bind' | 'rbind' | 'tmpcopyup' | 'idmap' | 'ridmap';
}
export type MountOption = FlagOption | PropagationOption | RecursiveOption | SpecialOption;

const flag = (set: number, clear = 0): FlagOption => ({ kind: 'flag', set, clear });
const prop = (f: number, recursive: boolean): PropagationOption => ({ kind: 'propagation', flag: f, recursive });
const rec = (set: number, clear = 0): RecursiveOption => ({ kind: 'recursive', set, clear });

export const MOUNT_OPTIONS: Readonly<Record<string, MountOption>> = {
  async: flag(0, MS_SYNCHRONOUS),
  atime: flag(0, MS_NOATIME),
  bind: { kind: 'bind' },
  defaults: flag(0),
  dev: flag(0, MS_NODEV),
  diratime: flag(0, MS_NODIRATIME),
  dirsync: flag(MS_DIRSYNC),
  exec: flag(0, MS_NOEXEC),
  iversion: flag(MS_I_VERSION),
  lazytime: flag(MS_LAZYTIME),
  loud: flag(0, MS_SILENT),
  mand: flag(MS_MANDLOCK),
  // As with mount(8), atime options only add their flag; the kernel gives noatime
  // precedence over strictatime over relatime when several are set.
  noatime: flag(MS_NOATIME),
  nodev: flag(MS_NODEV),
  nodiratime: flag(MS_NODIRATIME),
  noexec: flag(MS_NOEXEC),
  noiversion: flag(0, MS_I_VERSION),
  nolazytime: flag(0, MS_LAZYTIME),
  nomand: flag(0, MS_MANDLOCK),
  norelatime: flag(0, MS_RELATIME),
  nostrictatime: flag(0, MS_STRICTATIME),
  nosuid: flag(MS_NOSUID),
  nosymfollow: flag(MS_NOSYMFOLLOW),
  relatime: flag(MS_RELATIME),
  remount: flag(MS_REMOUNT),
  ro: flag(MS_RDONLY),
  rw: flag(0, MS_RDONLY),
  silent: flag(MS_SILENT),
  strictatime: flag(MS_STRICTATIME),
  suid: flag(0, MS_NOSUID),
  symfollow: flag(0, MS_NOSYMFOLLOW),
  sync: flag(MS_SYNCHRONOUS),

  private: prop(MS_PRIVATE, false),
  rprivate: prop(MS_PRIVATE, true),
  shared: prop(MS_SHARED, false),
  rshared: prop(MS_SHARED, true),
  slave: prop(MS_SLAVE, false),
  rslave: prop(MS_SLAVE, true),
  unbindable: prop(MS_UNBINDABLE, false),
  runbindable: prop(MS_UNBINDABLE, true),

  rbind: { kind: 'rbind' },
  tmpcopyup: { kind: 'tmpcopyup' },
  idmap: { kind: 'idmap' },
  ridmap: { kind: 'ridmap' },

  ratime: rec(MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME), // no noatime: the default, relatime (the kernel refuses a partial __ATIME clear)
  rdev: rec(0, MOUNT_ATTR_NODEV),
  rdiratime: rec(0, MOUNT_ATTR_NODIRATIME),
  rexec: rec(0, MOUNT_ATTR_NOEXEC),
  rnoatime: rec(MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME),
  rnodev: rec(MOUNT_ATTR_NODEV),
  rnodiratime: rec(MOUNT_ATTR_NODIRATIME),
  rnoexec: rec(MOUNT_ATTR_NOEXEC),
  rnorelatime: rec(MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME),
  rnostrictatime: rec(MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME),
  rnosuid: rec(MOUNT_ATTR_NOSUID),
  rnosymfollow: rec(MOUNT_ATTR_NOSYMFOLLOW),
  rrelatime: rec(MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME),
  rro: rec(MOUNT_ATTR_RDONLY),
  rrw: rec(0, MOUNT_ATTR_RDONLY),
  rstrictatime: rec(MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME),
  rsuid: rec(0, MOUNT_ATTR_NOSUID),
  rsymfollow: rec(0, MOUNT_ATTR_NOSYMFOLLOW),
};

/** mount(2) flags that a bind mount carries as per-mount attributes, and their MOUNT_ATTR_*. */
export const BIND_ATTRS: readonly (readonly [number, number])[] = [
  [MS_RDONLY, MOUNT_ATTR_RDONLY],
  [MS_NOSUID, MOUNT_ATTR_NOSUID],
  [MS_NODEV, MOUNT_ATTR_NODEV],
  [MS_NOEXEC, MOUNT_ATTR_NOEXEC],
  [MS_NODIRATIME, MOUNT_ATTR_NODIRATIME],
  [MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW],
];

/** Atime modes of mount(2) and their value inside MOUNT_ATTR__ATIME. */
export const ATIME_ATTRS: readonly (readonly [number, number])[] = [
  [MS_NOATIME, MOUNT_ATTR_NOATIME],
  [MS_STRICTATIME, MOUNT_ATTR_STRICTATIME],
  [MS_RELATIME, MOUNT_ATTR_RELATIME],
];

/** rootfsPropagation values. */
export const ROOTFS_PROPAGATION: Readonly<Record<string, number>> = {
  private: MS_PRIVATE,
  rprivate: MS_PRIVATE | MS_REC,
  shared: MS_SHARED,
  rshared: MS_SHARED | MS_REC,
  slave: MS_SLAVE,
  rslave: MS_SLAVE | MS_REC,
  unbindable: MS_UNBINDABLE,
  runbindable: MS_UNBINDABLE | MS_REC,
};

/** A mount's options, read once: what they do to flags, attributes and propagation. */
export interface ParsedMountOptions {
  /** rbind: the bind takes the submounts along. */
  recursive: boolean;
  /** mount(2) flags the options set, and the ones they clear (later options win). */
  flagsSet: number;
  flagsClear: number;
  /** mount_setattr(2) attributes applied recursively (rro, rnosuid, ...). */
  rattrSet: number;
  rattrClr: number;
  propagation: number;
  propagationRecursive: boolean;
  tmpcopyup: boolean;
  /** idmap or ridmap was given; ridmap maps the submounts too. */
  idmap: boolean;
  idmapRecursive: boolean;
  /** Options that are none of the above: file-system data for mount(2). */
  data: string[];
}

/** A bind mount: type "bind", or a "bind"/"rbind" option (config.md). */
export function isBindMount(m: Mount): boolean {
  return m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}

/** Read `options` (the mount at `field`) against MOUNT_OPTIONS. */
export function parseMountOptions(options: readonly string[], field: string): ParsedMountOptions {
  const out: ParsedMountOptions = {
    recursive: false, flagsSet: 0, flagsClear: 0, rattrSet: 0, rattrClr: 0, propagation: 0,
    propagationRecursive: false, tmpcopyup: false, idmap: false, idmapRecursive: false, data: [],
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
      case 'rbind':
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
      case 'bind':
        break;
    }
  });
  return out;
}
