// What of a container lies outside it, so CRIU must neither save nor recreate it but be
// told where it is (runc's choices, libcontainer/criu_linux.go):
//   mounts      bind mounts of host paths (config.json's, the container's own cgroup
//               directories bound in on cgroup v1, devices bound from the host in a user
//               namespace) and masked files; a dump names each by its path in the
//               container, a restore maps that name to a host path of the new container
//   namespaces  network and PID namespaces joined by path are external (by inode, under
//               runc's keys) and handed back on restore; the others joined by path are
//               joined again by CRIU.
import fs from 'node:fs';
import { planDevices } from '../linux/devices.js';
import { cleanDest, devIsBindMounted, planMounts, viewMounts } from '../linux/mounts.js';
import { NAMESPACES, type NamespaceType } from '../linux/namespaces.js';
import type { CgroupFacts } from '../linux/specconv/host-facts.js';
import { Namespaces } from '../linux/specconv/view.js';
import type { Spec } from '../spec/types.js';
import { ConfigError, describeFsError } from '../util/errors.js';
import type { ExtMountMap, InheritFd, JoinNamespace } from './generated/rpc.js';

/** A mount whose source is on the host: where it is in the container, and what it binds. */
export interface HostBind {
  dest: string;
  source: string;
}

/**
 * The bind mounts from the host the container was (or will be) given, as create plans them
 * (`cgroup`: its cgroup directories, which cgroup mounts bind in without a cgroup namespace).
 */
export function hostBinds(spec: Spec, bundle: string, cgroup: CgroupFacts): HostBind[] {
  const ns = new Namespaces(spec);
  if (!ns.isNew('mount')) return [];
  const views = viewMounts(spec.mounts, bundle);
  // Only the binds' destinations and sources matter here: what is bound onto a file and
  // id-mapped mounts do not change which host paths are external.
  const binds = planMounts(views, { cgroupns: ns.isNew('cgroup'), cgroup, isDirectory: () => true, idmap: () => null, detachBinds: false, laterPaths: [] })
    .filter((m) => m.bind && m.source)
    .map((m) => ({ dest: m.dest, source: m.source as string }));
  const devices = devIsBindMounted(views)
    ? []
    : planDevices(spec.linux?.devices, ns.has('user') ? { makeNodes: false } : null)
        .filter((d) => d.bindFromHost && d.hostPath)
        .map((d) => ({ dest: d.path, source: d.hostPath as string }));
  return [...binds, ...devices];
}

/** A mount point restore must find in the new root filesystem. */
export interface Mountpoint {
  dest: string;
  /** A bind mount of a file: the mount point is a file. */
  file: boolean;
}

/**
 * The mount points of config.json's mounts, which CRIU mounts onto but does not make (a
 * fresh root filesystem lacks those create made): as runc, none for the cgroup mounts and
 * none on a tmpfs (CRIU restores a tmpfs with its contents).
 */
export function mountpoints(spec: Spec, bundle: string): Mountpoint[] {
  if (!new Namespaces(spec).isNew('mount')) return [];
  const views = viewMounts(spec.mounts, bundle);
  const tmpfs = views.filter((v) => v.mount.type === 'tmpfs').map((v) => v.dest);
  return views
    .filter((v) => !v.cgroup && !tmpfs.some((t) => v.dest.startsWith(t === '/' ? '/' : `${t}/`)))
    .map((v) => {
      let file = false;
      if (v.source !== null) {
        try {
          file = !fs.statSync(v.source).isDirectory();
        } catch {
          // a missing source fails later, with the mount's own error
        }
      }
      return { dest: v.dest, file };
    });
}

/**
 * Masked paths that are files in the running container: mount points (in its mountinfo)
 * of a bind of the null device, whose root is the device node, not a directory's "/".
 */
export function maskedFiles(spec: Spec, pid: number): string[] {
  const masked = new Set((spec.linux?.maskedPaths ?? []).map(cleanDest));
  if (masked.size === 0) return [];
  let text = '';
  try {
    text = fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8');
  } catch {
    return [];
  }
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const root = fields[3];
    const mountPoint = (fields[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (root && root !== '/' && masked.has(mountPoint)) out.add(mountPoint);
  }
  return [...out];
}

/** ext_mnt of a dump: every external mount named by its path in the container. */
export function dumpMounts(binds: readonly HostBind[], masked: readonly string[]): ExtMountMap[] {
  return [...binds.map((b) => ({ key: b.dest, val: b.dest })), ...masked.map((p) => ({ key: p, val: '/dev/null' }))];
}

/** ext_mnt of a restore: each name mapped to the new container's host path. */
export function restoreMounts(binds: readonly HostBind[], hasMaskedPaths: boolean): ExtMountMap[] {
  const out = binds.map((b) => ({ key: b.dest, val: b.source }));
  if (hasMaskedPaths) out.push({ key: '/dev/null', val: '/dev/null' });
  return out;
}

/** Namespaces CRIU leaves alone when they are joined by path, with the key it files them under. */
const EXTERNAL_NS: Partial<Record<NamespaceType, string>> = { network: 'extRootNetNS', pid: 'extRootPidNS' };

/** `external` entries of a dump: "net[<inode>]:extRootNetNS" for the namespaces the process is in. */
export function dumpNamespaces(spec: Spec, pid: number): string[] {
  const out: string[] = [];
  for (const ns of spec.linux?.namespaces ?? []) {
    const key = EXTERNAL_NS[ns.type as NamespaceType];
    if (!key || !ns.path) continue;
    const proc = NAMESPACES[ns.type as NamespaceType].proc;
    const ino = fs.statSync(`/proc/${pid}/ns/${proc}`).ino;
    out.push(`${proc}[${ino}]:${key}`);
  }
  return out;
}

export interface RestoreNamespaces {
  inheritFd: InheritFd[];
  joinNs: JoinNamespace[];
  /** Opened namespace files to give criu, in order from `firstFd`; the caller closes them. */
  fds: number[];
}

/** How CRIU finds the namespaces config.json joins by path (criu gets `fds` at firstFd...). */
export function restoreNamespaces(spec: Spec, firstFd: number): RestoreNamespaces {
  const out: RestoreNamespaces = { inheritFd: [], joinNs: [], fds: [] };
  try {
    (spec.linux?.namespaces ?? []).forEach((ns, i) => {
      if (!ns.path) return;
      const field = `linux.namespaces[${i}].path`;
      const type = ns.type as NamespaceType;
      const key = EXTERNAL_NS[type];
      if (key) {
        let fd: number;
        try {
          fd = fs.openSync(ns.path, fs.constants.O_RDONLY);
        } catch (err) {
          throw new ConfigError(field, describeFsError(err));
        }
        out.inheritFd.push({ key, fd: firstFd + out.fds.length });
        out.fds.push(fd);
      } else if (type === 'cgroup') {
        throw new ConfigError(field, 'CRIU cannot restore into a cgroup namespace given by path');
      } else {
        out.joinNs.push({ ns: NAMESPACES[type].proc, ns_file: ns.path });
      }
    });
  } catch (err) {
    for (const fd of out.fds) fs.closeSync(fd);
    throw err;
  }
  return out;
}
