// /dev inside the container: the spec's default devices, linux.devices, and the
// standard symlinks. In a user namespace mknod is refused, so nodes are bound from the host.
import type { LinuxDevice } from '../spec/types.js';
import type { DevicePlan, SymlinkPlan } from '../native/plan-types.js';
import { ConfigError } from '../util/errors.js';
import { cleanDest } from './mounts.js';

const S_IFIFO = 0o010000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

const DEVICE_TYPES: Readonly<Record<string, number>> = { c: S_IFCHR, u: S_IFCHR, b: S_IFBLK, p: S_IFIFO };

/** The default devices every Linux container gets (config-linux.md "Default Devices"). */
export const DEFAULT_DEVICES: readonly LinuxDevice[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
];

export function devicePlan(d: LinuxDevice, field: string, inUserns: boolean): DevicePlan {
  const type = DEVICE_TYPES[d.type];
  if (type === undefined) throw new ConfigError(`${field}.type`, `unknown device type "${d.type}"`);
  // config-linux.md: a device MAY be anywhere in the container, not only under /dev.
  const path = cleanDest(d.path);
  return {
    path,
    mode: type | ((d.fileMode ?? 0o666) & 0o7777),
    major: d.major ?? 0,
    minor: d.minor ?? 0,
    uid: d.uid ?? 0,
    gid: d.gid ?? 0,
    bindFromHost: inUserns,
    hostPath: inUserns ? path : null,
  };
}

/** Defaults first (a config entry for the same path replaces the default). */
export function planDevices(devices: readonly LinuxDevice[] | undefined, inUserns: boolean): DevicePlan[] {
  const configured = (devices ?? []).map((d, i) => devicePlan(d, `linux.devices[${i}]`, inUserns));
  const paths = new Set(configured.map((d) => d.path));
  const defaults = DEFAULT_DEVICES.filter((d) => !paths.has(d.path)).map((d) => ({
    ...devicePlan(d, 'default devices', inUserns),
    replaceExisting: true,
  }));
  // /dev/ptmx is always the symlink to the container's devpts instance.
  return [...defaults, ...configured].filter((d) => d.path !== '/dev/ptmx');
}

/** The standard /dev symlinks; /dev/core only where the host has a /proc/kcore. */
export function planDevSymlinks(kcore: boolean): SymlinkPlan[] {
  const links: SymlinkPlan[] = [
    { target: '/proc/self/fd', path: '/dev/fd' },
    { target: '/proc/self/fd/0', path: '/dev/stdin' },
    { target: '/proc/self/fd/1', path: '/dev/stdout' },
    { target: '/proc/self/fd/2', path: '/dev/stderr' },
    { target: 'pts/ptmx', path: '/dev/ptmx' },
  ];
  if (kcore) links.push({ target: '/proc/kcore', path: '/dev/core' });
  return links;
}
