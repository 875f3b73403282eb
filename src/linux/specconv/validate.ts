// Every check of a config that relates fields to each other or to the host, as one list of
// named checks (runc's libcontainer/configs/validate). The document's own shape (types,
// ranges, absolute paths, NUL bytes) was checked when it was read (src/spec/validate.ts);
// what is left needs several fields, or the host facts (host-facts.ts). Each check returns
// ConfigErrors naming the OCI field; the conversion runs them all before anything else.
import type { LinuxIDMapping, Process, Spec } from '../../spec/types.js';
import { type Segment, formatPath } from '../../spec/paths.js';
import { ConfigError, ConfigErrors } from '../../util/errors.js';
import { kWeakenConfig } from '../../util/weaken.js';
import type { CgroupLayout } from '../cgroups/mode.js';
import { idMapProblems } from '../idmap.js';
import { wantsIdmap } from '../idmap-mounts.js';
import type { NamespaceType } from '../namespaces.js';
import { cpuAffinityOf, memoryPolicyOf } from '../process-attrs.js';
import { PROC_OVERMOUNT_ALLOWED } from '../proc-mounts.js';
import { isSysctlPath, sysctlKey, sysctlNamespace } from '../sysctl.js';
import type { HostFacts, ProcessFacts } from './host-facts.js';
import type { SpecView } from './view.js';

export interface ContainerCheckInput {
  spec: Spec;
  view: SpecView;
  host: HostFacts;
}

export interface ProcessCheckInput {
  process: Process;
  /** Where the process sits: "process" in config.json, "" for an exec process file. */
  field: string;
  host: ProcessFacts;
}

type ContainerCheck = (c: ContainerCheckInput) => ConfigError[];
type ProcessCheck = (c: ProcessCheckInput) => ConfigError[];

/** The ConfigError a conversion helper throws, as a list of problems. */
function problemOf(convert: () => unknown): ConfigError[] {
  try {
    convert();
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return [err];
    throw err;
  }
}

const nonEmpty = (a: readonly unknown[] | undefined | null): boolean => !!a && a.length > 0;

// ------------------------------------------------------------------ the container

function rootfs({ host }: ContainerCheckInput): ConfigError[] {
  return 'error' in host.rootfs ? [new ConfigError('root.path', host.rootfs.error)] : [];
}

function namespaces({ spec }: ContainerCheckInput): ConfigError[] {
  const seen = new Set<string>();
  const out: ConfigError[] = [];
  (spec.linux?.namespaces ?? []).forEach((ns, i) => {
    if (seen.has(ns.type)) out.push(new ConfigError(`linux.namespaces[${i}].type`, `duplicate ${ns.type} namespace`));
    seen.add(ns.type);
  });
  return out;
}

/** uidMappings and gidMappings come together or not at all. */
function pairedMappings(o: { uidMappings?: LinuxIDMapping[]; gidMappings?: LinuxIDMapping[] }, at: string): ConfigError[] {
  const hasUid = Array.isArray(o.uidMappings);
  const hasGid = Array.isArray(o.gidMappings);
  if (hasUid && !hasGid) return [new ConfigError(`${at}.gidMappings`, 'is required when uidMappings is set')];
  if (hasGid && !hasUid) return [new ConfigError(`${at}.uidMappings`, 'is required when gidMappings is set')];
  return [];
}

function userNamespace({ spec, view }: ContainerCheckInput): ConfigError[] {
  const linux = spec.linux ?? {};
  const out = pairedMappings(linux, 'linux');
  const ns = view.namespaces;
  if (!ns.has('user')) {
    // runc: "user namespace mappings specified, but user namespace isn't enabled in the config".
    const field = nonEmpty(linux.uidMappings) ? 'uidMappings' : nonEmpty(linux.gidMappings) ? 'gidMappings' : '';
    if (field) out.push(new ConfigError(`linux.${field}`, 'requires a user namespace in linux.namespaces'));
  } else if (ns.isNew('user') && out.length === 0 && !(nonEmpty(linux.uidMappings) && nonEmpty(linux.gidMappings))) {
    out.push(new ConfigError('linux.uidMappings', 'user namespaces enabled, but no uid or gid mappings found'));
  }
  return [...out, ...(spec.mounts ?? []).flatMap((m, i) => pairedMappings(m, `mounts[${i}]`))];
}

const mapsId = (maps: readonly LinuxIDMapping[] | undefined, id: number) =>
  (maps ?? []).some((m) => id >= m.containerID && id < m.containerID + m.size);

/**
 * A runtime that is not root (runc's rootlessEUID validator): the container needs a user
 * namespace, maps that this user may write (own id, or subordinate ids through
 * newuidmap/newgidmap), and mount options uid=/gid= that name mapped ids (runc's words).
 */
function rootless({ spec, view, host }: ContainerCheckInput): ConfigError[] {
  const facts = host.unprivileged;
  if (!facts) return [];
  if (!view.namespaces.has('user')) {
    const who = facts.user ? `user ${facts.user}, uid ${facts.uid.own}` : `uid ${facts.uid.own}`;
    return [
      new ConfigError(
        'linux.namespaces',
        `rootless container requires user namespaces (ts-runc runs as ${who}): add a "user" namespace with uidMappings and gidMappings, as \`ts-runc spec --rootless\` writes`,
      ),
    ];
  }
  if (!view.namespaces.isNew('user')) return [];
  const linux = spec.linux ?? {};
  const out = idMapProblems(linux, facts);
  (spec.mounts ?? []).forEach((m, i) => {
    for (const opt of m.options ?? []) {
      const id = /^(uid|gid)=(\d+)$/.exec(opt);
      if (!id) continue;
      const kind = id[1] as 'uid' | 'gid';
      if (mapsId(kind === 'uid' ? linux.uidMappings : linux.gidMappings, Number(id[2]))) continue;
      out.push(new ConfigError(`mounts[${i}].options`, `cannot specify ${opt} mount option for rootless container: ${kind} ${id[2]} is not mapped in linux.${kind}Mappings`));
    }
  });
  return out;
}

function timeNamespace({ spec, view }: ContainerCheckInput): ConfigError[] {
  if (Object.keys(spec.linux?.timeOffsets ?? {}).length === 0) return [];
  const ns = view.namespaces;
  if (!ns.has('time')) return [new ConfigError('linux.timeOffsets', 'requires a time namespace in linux.namespaces')];
  if (!ns.isNew('time')) {
    return [new ConfigError('linux.timeOffsets', 'cannot be set for a time namespace joined by path (offsets apply to a new one only)')];
  }
  return [];
}

/** A namespace the container has (new or joined) that is not the runtime's own. */
function isPrivate(c: ContainerCheckInput, t: NamespaceType): boolean {
  return c.view.namespaces.has(t) && !c.host.runtimeNamespaces.has(t);
}

function uts(c: ContainerCheckInput): ConfigError[] {
  if (isPrivate(c, 'uts')) return [];
  return (['hostname', 'domainname'] as const)
    .filter((name) => !!c.spec[name])
    .map((name) => new ConfigError(name, `unable to set ${name} without a private UTS namespace`));
}

function security({ spec, view }: ContainerCheckInput): ConfigError[] {
  if (view.namespaces.has('mount')) return [];
  const field = nonEmpty(spec.linux?.maskedPaths) ? 'maskedPaths' : nonEmpty(spec.linux?.readonlyPaths) ? 'readonlyPaths' : '';
  return field ? [new ConfigError(`linux.${field}`, 'unable to restrict sys entries without a private MNT namespace')] : [];
}

/** runc's words when a sysctl's namespace is the host's, per namespace. */
const SHARED_NAMESPACE_REFUSAL: Readonly<Partial<Record<NamespaceType, (key: string) => string>>> = {
  ipc: (k) => `sysctl "${k}" is not allowed in the hosts ipc namespace`,
  network: (k) => `sysctl "${k}" not allowed in host network namespace`,
};

/**
 * Only sysctls of a namespace the container has to itself: anything else would be
 * written to the host's kernel (runc's rule and words).
 */
function sysctl(c: ContainerCheckInput): ConfigError[] {
  const out: ConfigError[] = [];
  if (kWeakenConfig) return out;
  for (const key of Object.keys(c.spec.linux?.sysctl ?? {})) {
    const field = formatPath(['linux', 'sysctl', key]);
    const { dotted, path } = sysctlKey(key);
    if (!isSysctlPath(path)) {
      out.push(new ConfigError(field, 'invalid sysctl name'));
      continue;
    }
    const ns = sysctlNamespace(dotted);
    if (ns === 'uts' && dotted === 'kernel.hostname' && isPrivate(c, 'uts')) {
      out.push(new ConfigError(field, `sysctl "${dotted}" is not allowed as it conflicts with the OCI "hostname" field`));
    } else if (ns === null || !isPrivate(c, ns)) {
      const refusal = (ns && SHARED_NAMESPACE_REFUSAL[ns]) ?? ((k: string) => `sysctl "${k}" is not in a separate kernel namespace`);
      out.push(new ConfigError(field, refusal(dotted)));
    }
  }
  return out;
}

/**
 * cgroup.* files that are plain limits. Every other core file moves processes
 * (cgroup.procs, cgroup.threads), reshapes the tree (cgroup.subtree_control, cgroup.type)
 * or acts on it (cgroup.kill, cgroup.freeze): never set through `unified`.
 */
const CGROUP_CORE_LIMITS: ReadonlySet<string> = new Set(['cgroup.max.descendants', 'cgroup.max.depth']);

/** What a `unified` key must be, in order: the first rule it breaks is reported. */
const UNIFIED_KEY_RULES: readonly { broken: (key: string) => boolean; message: string }[] = [
  { broken: (k) => k === '', message: 'key must not be empty' },
  { broken: (k) => k.includes('/'), message: 'must be a file name (no slashes)' },
  { broken: (k) => k.startsWith('.') || k.includes('..'), message: 'must be a file name (no "..")' },
  { broken: (k) => !/^[A-Za-z0-9_]+\.[A-Za-z0-9_.-]+$/.test(k), message: 'must be in the form CONTROLLER.PARAMETER' },
  { broken: (k) => k.startsWith('cgroup.') && !CGROUP_CORE_LIMITS.has(k), message: 'is a cgroup core file, not a limit: it cannot be set' },
];

/**
 * linux.resources.unified (create and update): only limit files of the container's own
 * cgroup, and only where the controllers are on cgroup v2 (runc: "cannot use unified on
 * cgroup v1"). `at` is where the resources object sits.
 */
export function checkUnified(
  unified: Readonly<Record<string, string>> | undefined,
  layout: Pick<CgroupLayout, 'mode' | 'v1'>,
  at: Segment[] = ['linux', 'resources'],
): ConfigError[] {
  const out: ConfigError[] = [];
  if (kWeakenConfig) return out;
  for (const key of Object.keys(unified ?? {})) {
    const field = formatPath([...at, 'unified', key]);
    const rule = UNIFIED_KEY_RULES.find((r) => r.broken(key));
    if (rule) {
      out.push(new ConfigError(field, rule.message));
    } else if (layout.mode !== 'v2') {
      const controller = key.slice(0, key.indexOf('.'));
      const why = layout.v1.has(controller)
        ? `the ${controller} controller is mounted as cgroup v1 on this host`
        : `this host's cgroup controllers are on cgroup v1 (${layout.mode})`;
      out.push(new ConfigError(field, `cannot use unified on cgroup v1: ${why}`));
    }
  }
  return out;
}

function cgroups({ spec, host }: ContainerCheckInput): ConfigError[] {
  return checkUnified(spec.linux?.resources?.unified, host.cgroup.layout);
}

/** The spec requires an error when resctrl is not mounted; ts-runc does not manage resctrl groups. */
function intelRdt({ spec, host }: ContainerCheckInput): ConfigError[] {
  if (!spec.linux?.intelRdt) return [];
  if (!host.resctrl) {
    return [new ConfigError('linux.intelRdt', 'Intel RDT is requested but no resctrl file system is mounted (mount -t resctrl resctrl /sys/fs/resctrl)')];
  }
  return [new ConfigError('linux.intelRdt', `Intel RDT is not supported by ts-runc (resctrl is mounted at ${host.resctrl})`)];
}

/**
 * The mounts a new mount namespace gets (without one they are not made): runc's /proc
 * rules, bind sources that exist, id-mapping only for bind mounts and with mappings.
 */
function mounts({ spec, view, host }: ContainerCheckInput): ConfigError[] {
  if (!view.namespaces.isNew('mount')) return [];
  const out: ConfigError[] = [];
  const fact = (source: string | null) => (source === null ? undefined : host.paths.get(source));
  for (const v of view.mounts) {
    const f = fact(v.source);
    if (v.dest === '/proc') {
      const procfs = v.bind ? !!f && !('error' in f) && f.procfs : v.mount.type === 'proc';
      if (!procfs) out.push(new ConfigError(`${v.field}.destination`, `"${v.dest}" cannot be mounted because it is not of type proc`));
    } else if (v.dest.startsWith('/proc/') && !PROC_OVERMOUNT_ALLOWED.has(v.dest)) {
      out.push(new ConfigError(`${v.field}.destination`, `"${v.dest}" cannot be mounted because it is inside /proc`));
    }
    if (v.bind && !v.cgroup) {
      if (v.source === null) out.push(new ConfigError(`${v.field}.source`, 'a bind mount needs a source'));
      else if (f && 'error' in f) out.push(new ConfigError(`${v.field}.source`, `${v.source}: ${f.error}`));
    }
    if (!wantsIdmap(v)) continue;
    if (!v.bind) {
      out.push(new ConfigError(`${v.field}.options`, 'id-mapped mounts are only supported for bind mounts'));
      continue;
    }
    const uid = nonEmpty(v.mount.uidMappings);
    const gid = nonEmpty(v.mount.gidMappings);
    if (uid !== gid) {
      out.push(new ConfigError(`${v.field}.${uid ? 'gidMappings' : 'uidMappings'}`, 'an id-mapped mount needs both uidMappings and gidMappings'));
    } else if (!uid && !(view.namespaces.has('user') && nonEmpty(spec.linux?.uidMappings) && nonEmpty(spec.linux?.gidMappings))) {
      out.push(new ConfigError(`${v.field}.options`, 'idmap without uidMappings and gidMappings needs a container user namespace with mappings'));
    }
  }
  return out;
}

function seccomp({ spec }: ContainerCheckInput): ConfigError[] {
  const s = spec.linux?.seccomp;
  if (s?.listenerMetadata !== undefined && !s.listenerPath) {
    return [new ConfigError('linux.seccomp.listenerMetadata', 'requires linux.seccomp.listenerPath')];
  }
  return [];
}

// ------------------------------------------------------------------ a process

/** The memory policy's mode, flags and nodes, and the number of nodes its mode takes. */
function memoryPolicy({ spec }: ContainerCheckInput): ConfigError[] {
  return problemOf(() => memoryPolicyOf(spec));
}

/** The CPU lists of execCPUAffinity (only exec applies them; the init's are not looked at). */
function execCPUAffinity({ process, field }: ProcessCheckInput): ConfigError[] {
  return problemOf(() => cpuAffinityOf(process, field));
}

function rlimits({ process, field }: ProcessCheckInput): ConfigError[] {
  const seen = new Set<string>();
  const out: ConfigError[] = [];
  (process.rlimits ?? []).forEach((r, i) => {
    if (seen.has(r.type)) out.push(new ConfigError(formatPath([...prefix(field), 'rlimits', i, 'type']), `duplicate ${r.type}`));
    seen.add(r.type);
  });
  return out;
}

function lsm({ process, field, host }: ProcessCheckInput): ConfigError[] {
  const out: ConfigError[] = [];
  if (process.apparmorProfile && !host.apparmor) {
    out.push(new ConfigError(formatPath([...prefix(field), 'apparmorProfile']), `AppArmor profile "${process.apparmorProfile}" requested but AppArmor is not enabled on this host`));
  }
  if (process.selinuxLabel && !host.selinux) {
    out.push(new ConfigError(formatPath([...prefix(field), 'selinuxLabel']), 'SELinux label requested but SELinux is not enabled on this host'));
  }
  return out;
}

const prefix = (field: string): Segment[] => (field ? [field] : []);

/** The checks of a container's config, in the order they report. */
export const CONTAINER_CHECKS: readonly ContainerCheck[] = [
  rootfs,
  namespaces,
  userNamespace,
  rootless,
  timeNamespace,
  uts,
  security,
  sysctl,
  cgroups,
  intelRdt,
  mounts,
  seccomp,
  memoryPolicy,
];

/** The checks of a process (the container's, or one exec'd into it). */
export const PROCESS_CHECKS: readonly ProcessCheck[] = [rlimits, lsm, execCPUAffinity];

/** Every problem of a container's config (its process included); empty when it is valid. */
export function containerProblems(input: ContainerCheckInput): ConfigError[] {
  const out = CONTAINER_CHECKS.flatMap((check) => check(input));
  if (input.spec.process) out.push(...processProblems({ process: input.spec.process, field: 'process', host: input.host }));
  return out;
}

export function processProblems(input: ProcessCheckInput): ConfigError[] {
  return PROCESS_CHECKS.flatMap((check) => check(input));
}

/** Throw the problems found: one ConfigError, or ConfigErrors listing several. */
export function throwProblems(problems: readonly ConfigError[]): void {
  if (problems.length === 1) throw problems[0];
  if (problems.length > 1) throw new ConfigErrors([...problems]);
}
