// /dev inside the container: the spec's default devices, linux.devices, and the
// standard symlinks. In a user namespace mknod is refused, so nodes are bound from the host.
import type { LinuxDevice, LinuxIDMapping } from '../spec/types.js';
import type { DevicePlan, SymlinkPlan } from '../native/plan-types.js';
import { ConfigError } from '../util/errors.js';
import { cleanDest } from './mounts.js';

const S_IFIFO = 0o010000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

/** The kernel's overflow uid and gid (an id with no mapping). */
const OVERFLOW_ID = 65534;

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

/**
 * A device of the plan. `node`: in a container with a new user namespace (where mknod is
 * refused), the runtime makes the node itself, owned by these host ids, and the child
 * binds it in (crun's precreate_device): the config's numbers, mode and owner, whether or
 * not the host has such a node at that path. Null: mknod in the container, or a bind of
 * the host's node at the same path (the default devices; a joined user namespace).
 */
export type DeviceDraft = Omit<DevicePlan, 'mountFd'> & { node: { uid: number; gid: number } | null };

/** The host id a container id maps to through `maps`, or the overflow id 65534 (as crun). */
export function hostIdOf(id: number, maps: readonly LinuxIDMapping[] | undefined): number {
  const m = (maps ?? []).find((r) => id >= r.containerID && id < r.containerID + r.size);
  return m ? id - m.containerID + m.hostID : OVERFLOW_ID;
}

/** How a device gets into a container with a user namespace: null without one. */
export interface UsernsDevices {
  /** The runtime makes configured devices (a new user namespace, a privileged runtime). */
  makeNodes: boolean;
  uidMappings?: LinuxIDMapping[];
  gidMappings?: LinuxIDMapping[];
}

export function devicePlan(d: LinuxDevice, field: string, userns: UsernsDevices | null, configured = true): DeviceDraft {
  const type = DEVICE_TYPES[d.type];
  if (type === undefined) throw new ConfigError(`${field}.type`, `unknown device type "${d.type}"`);
  // config-linux.md: a device MAY be anywhere in the container, not only under /dev.
  const path = cleanDest(d.path);
  const uid = d.uid ?? 0;
  const gid = d.gid ?? 0;
  const made = !!userns && userns.makeNodes && configured;
  return {
    path,
    mode: type | ((d.fileMode ?? 0o666) & 0o7777),
    major: d.major ?? 0,
    minor: d.minor ?? 0,
    uid,
    gid,
    bindFromHost: !!userns,
    hostPath: userns && !made ? path : null,
    node: made ? { uid: hostIdOf(uid, userns!.uidMappings), gid: hostIdOf(gid, userns!.gidMappings) } : null,
  };
}

/** Defaults first (a config entry for the same path replaces the default). */
export function planDevices(devices: readonly LinuxDevice[] | undefined, userns: UsernsDevices | null): DeviceDraft[] {
  const configured = (devices ?? []).map((d, i) => devicePlan(d, `linux.devices[${i}]`, userns));
  const paths = new Set(configured.map((d) => d.path));
  const defaults = DEFAULT_DEVICES.filter((d) => !paths.has(d.path)).map((d) => ({
    ...devicePlan(d, 'default devices', userns, false),
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
