// Everything the conversion needs to know about the host, read here and only here, before
// the conversion runs (it reads nothing itself): the capability limits, LSM state, the
// compiled seccomp filter, the cgroup layout and the container's cgroup directories, and
// the stat results the plan depends on. Each fact is read only when the config needs it.
import fs from 'node:fs';
import path from 'node:path';
import type { Process, Spec } from '../../spec/types.js';
import type { CapabilityLimits } from '../capabilities.js';
import { CAPABILITIES } from '../capabilities.js';
import type { CgroupLayout } from '../cgroups/mode.js';
import { type IdMapFacts, readIdMapFacts } from '../idmap.js';
import { runtimeInUserNamespace } from '../rootless.js';
import { parseMountInfo } from '../mountinfo.js';
import { isBindMount } from '../mount-options.js';
import { bindSource } from '../mounts.js';
import { NAMESPACES, type NamespaceType } from '../namespaces.js';
import { type CompiledSeccomp, compileSeccomp } from '../seccomp.js';

const PROC_SUPER_MAGIC = 0x9fa0;

/** A host path the config names: what is there, or why it could not be looked at. */
export type PathFact = { kind: 'directory' | 'file'; procfs: boolean } | { error: string };

/** What a process's conversion needs (container init and exec alike). */
export interface ProcessFacts extends CapabilityLimits {
  /** AppArmor / SELinux are enabled (false when the config asks for neither). */
  apparmor: boolean;
  selinux: boolean;
  /** linux.seccomp compiled by libseccomp, or null without a profile. */
  seccomp: CompiledSeccomp | null;
}

/** The container's cgroups, as the cgroup driver places them. */
export interface CgroupFacts {
  layout: CgroupLayout;
  /** Absolute directory per v1 controller, "" for the unified hierarchy; null: no cgroups of its own. */
  dirs: Readonly<Record<string, string>> | null;
}

export interface HostFacts extends ProcessFacts {
  /** root.path resolved to an absolute, symlink-free directory, or why it is not one. */
  rootfs: { path: string } | { error: string };
  /** Every bind-mount source of the config (resolved against the bundle). */
  paths: ReadonlyMap<string, PathFact>;
  cgroup: CgroupFacts;
  /** /proc/kcore exists (the /dev/core symlink points to it). */
  kcore: boolean;
  /** Mount point of the resctrl file system, or null (looked up only for linux.intelRdt). */
  resctrl: string | null;
  /** Namespaces the config joins by path that are the runtime's own. */
  runtimeNamespaces: ReadonlySet<NamespaceType>;
  /**
   * The runtime runs as a user other than root (runc's RootlessEUID): which ids it may map
   * into a new user namespace, and how. Null for root.
   */
  unprivileged: IdMapFacts | null;
  /**
   * The runtime itself runs in a user namespace (rootless podman runs it as its uid 0):
   * device nodes cannot be made there, only bound from the host, and its mounts are not
   * cloned for the container's namespace.
   */
  runtimeInUserns: boolean;
}

export interface ContainerPlace {
  /** Absolute bundle directory: relative paths of the config are relative to it. */
  bundle: string;
  cgroup: CgroupFacts;
}

function readLastCap(): number {
  try {
    return Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
  } catch {
    return CAPABILITIES.length - 1;
  }
}

function readBoundingSet(): bigint {
  try {
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? BigInt(`0x${m[1]}`) : ~0n;
  } catch {
    return ~0n;
  }
}

/** As runc decides it: securityfs shows AppArmor and the module says it is enabled. */
function apparmorEnabled(): boolean {
  try {
    if (!fs.existsSync('/sys/kernel/security/apparmor')) return false;
    return fs.readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').startsWith('Y');
  } catch {
    return false;
  }
}

function selinuxEnabled(): boolean {
  return fs.existsSync('/sys/fs/selinux/enforce');
}

function statPath(p: string): PathFact {
  try {
    const kind = fs.statSync(p).isDirectory() ? 'directory' : 'file';
    return { kind, procfs: fs.statfsSync(p).type === PROC_SUPER_MAGIC };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { error: code === 'ENOENT' ? 'no such file or directory' : (code ?? String(err)) };
  }
}

/** root.path resolved against the bundle (restore resolves a new bundle's the same way). */
export function resolveRootfs(bundle: string, spec: Spec): HostFacts['rootfs'] {
  const given = spec.root?.path;
  if (!given) return { error: 'is required' };
  const abs = path.resolve(bundle, given);
  try {
    const real = fs.realpathSync(abs);
    return fs.statSync(real).isDirectory() ? { path: real } : { error: `${abs}: not a directory` };
  } catch {
    return { error: `${abs}: no such directory` };
  }
}

/** Mount point of the resctrl file system in this mount namespace, or null. */
export function resctrlMountPoint(mountinfo: string): string | null {
  return parseMountInfo(mountinfo).find((m) => m.fsType === 'resctrl')?.mountPoint ?? null;
}

function readResctrl(): string | null {
  try {
    return resctrlMountPoint(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  } catch {
    return null;
  }
}

/** Same namespace file (device and inode)? False when either cannot be looked at. */
function sameNamespace(a: string, b: string): boolean {
  try {
    const sa = fs.statSync(a);
    const sb = fs.statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/** Namespaces whose sharing with the runtime decides a check: sysctls, hostname. */
const SHARING_CHECKED: readonly NamespaceType[] = ['ipc', 'uts', 'network'];

function runtimeNamespaces(spec: Spec): Set<NamespaceType> {
  const out = new Set<NamespaceType>();
  const linux = spec.linux ?? {};
  const relevant = Object.keys(linux.sysctl ?? {}).length > 0 || !!spec.hostname || !!spec.domainname;
  if (!relevant) return out;
  for (const ns of linux.namespaces ?? []) {
    const type = ns.type as NamespaceType;
    if (!ns.path || !SHARING_CHECKED.includes(type)) continue;
    if (sameNamespace(ns.path, `/proc/self/ns/${NAMESPACES[type].proc}`)) out.add(type);
  }
  return out;
}

/**
 * The facts for converting `spec`'s process, or an exec'd `process` in its container: the
 * LSM state is read only when one of them names a profile or label.
 */
export function gatherProcessFacts(spec: Spec, process?: Process): ProcessFacts {
  const procs = [spec.process, process];
  const wantsAppArmor = procs.some((p) => !!p?.apparmorProfile);
  const wantsSelinux = procs.some((p) => !!p?.selinuxLabel) || !!spec.linux?.mountLabel;
  return {
    lastCap: readLastCap(),
    boundingSet: readBoundingSet(),
    apparmor: wantsAppArmor && apparmorEnabled(),
    selinux: wantsSelinux && selinuxEnabled(),
    seccomp: compileSeccomp(spec.linux?.seccomp),
  };
}

/** The facts for converting `spec` into a container's plan. */
export function gatherHostFacts(spec: Spec, place: ContainerPlace): HostFacts {
  const setsUpMounts = (spec.linux?.namespaces ?? []).some((n) => n.type === 'mount' && !n.path);
  const paths = new Map<string, PathFact>();
  if (setsUpMounts) {
    for (const m of spec.mounts ?? []) {
      const source = isBindMount(m) ? bindSource(place.bundle, m) : null;
      if (source !== null && !paths.has(source)) paths.set(source, statPath(source));
    }
  }
  return {
    ...gatherProcessFacts(spec),
    rootfs: resolveRootfs(place.bundle, spec),
    paths,
    cgroup: place.cgroup,
    kcore: fs.existsSync('/proc/kcore'),
    resctrl: spec.linux?.intelRdt ? readResctrl() : null,
    runtimeNamespaces: runtimeNamespaces(spec),
    unprivileged: (process.geteuid?.() ?? 0) !== 0 ? readIdMapFacts() : null,
    runtimeInUserns: runtimeInUserNamespace(),
  };
}
