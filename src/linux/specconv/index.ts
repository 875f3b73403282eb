// The spec-to-plan conversion (runc's specconv): a validated config.json, the operation's
// options and the host facts (host-facts.ts) -> a PlanDraft (draft.ts). Pure: it reads no
// file, calls no addon, opens nothing; the fds the plan needs are opened afterwards from
// the draft (open.ts). Three entry points share the process part (process.ts):
//
//   convertContainer   the container's init (create, run)
//   convertExec        a process added to a running container
//   convertHook        a createContainer / startContainer hook, in the container's namespaces
//
// Which attributes an exec'd process takes from itself and which from the container's
// config follows runc (libcontainer's setns init):
//
//   from the process      args, env, cwd, user, additional gids, terminal, console size,
//                         scheduler, I/O priority, noNewPrivileges
//   process, else config  capabilities (when the process has none), rlimits (when it has
//                         none), AppArmor profile and SELinux label (when empty),
//                         execCPUAffinity
//   from the config       seccomp filter, personality, oom_score_adj, memory policy
import type { Hook, Process, Spec } from '../../spec/types.js';
import type { NamespaceState } from '../../state/types.js';
import { RuntimeError } from '../../util/errors.js';
import { planDevSymlinks, planDevices } from '../devices.js';
import { type IdMapWriting, planIdMapWriting } from '../idmap.js';
import { idmapTree } from '../idmap-mounts.js';
import { applyMountLabel } from '../lsm.js';
import { ROOTFS_PROPAGATION } from '../mount-options.js';
import { cleanDest, devIsBindMounted, planMounts } from '../mounts.js';
import { CLONE_NEWNS, CLONE_NEWUSER, JOIN_ORDER, NAMESPACES, type NamespaceType } from '../namespaces.js';
import { PERSONALITY_DOMAINS, cpuAffinityOf, lookup, memoryPolicyOf } from '../process-attrs.js';
import { guardProcMounts } from '../proc-mounts.js';
import { sysctlKey } from '../sysctl.js';
import { type PlanDraft, draftPlan } from './draft.js';
import type { HostFacts, ProcessFacts } from './host-facts.js';
import { convertProcess } from './process.js';
import { containerProblems, processProblems, throwProblems } from './validate.js';
import { viewSpec } from './view.js';

export type { PlanDraft } from './draft.js';

export interface ContainerOptions {
  id: string;
  /** Absolute bundle directory. */
  bundle: string;
  noPivot: boolean;
  noNewKeyring: boolean;
  preserveFds: number;
}

export interface ContainerConversion {
  draft: PlanDraft;
  /** The namespaces for state.json, as configured. */
  namespaces: NamespaceState[];
  /** CLONE_NEW* of every namespace the container has (new or joined), for setns later. */
  nsFlags: number;
  newUserns: boolean;
  /** How the runtime writes the new user namespace's id maps (null: no new user namespace). */
  idMaps: IdMapWriting | null;
  /** Warnings for the log (capabilities that cannot be granted). */
  warnings: string[];
}

function timensText(spec: Spec): string | null {
  const offsets = Object.entries(spec.linux?.timeOffsets ?? {});
  if (offsets.length === 0) return null;
  return offsets.map(([clock, o]) => `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}\n`).join('');
}

function personalityOf(spec: Spec): number {
  const p = spec.linux?.personality;
  return p ? lookup(PERSONALITY_DOMAINS, p.domain, 'linux.personality.domain', 'personality domain') : -1;
}

/** config.json (validated against its schema) -> the plan of the container's init. */
export function convertContainer(spec: Spec, opts: ContainerOptions, host: HostFacts): ContainerConversion {
  const view = viewSpec(spec, opts.bundle);
  throwProblems(containerProblems({ spec, view, host }));
  const process = spec.process;
  if (!process) throw new RuntimeError('internal error: a container without a process passed the checks');
  if ('error' in host.rootfs) throw new RuntimeError('internal error: a rootfs in error passed the checks');
  const linux = spec.linux ?? {};
  const ns = view.namespaces;

  const namespaces: NamespaceState[] = (linux.namespaces ?? []).map((n) => ({ type: n.type, path: n.path ?? '' }));
  let nsFlags = 0;
  let unshareFlags = 0;
  for (const n of linux.namespaces ?? []) {
    const flag = NAMESPACES[n.type as NamespaceType].flag;
    nsFlags |= flag;
    if (!n.path && flag !== CLONE_NEWUSER) unshareFlags |= flag;
  }
  const newUserns = ns.isNew('user');
  const idMaps = newUserns ? planIdMapWriting(linux, host.unprivileged) : null;
  const joins = JOIN_ORDER.flatMap((type) => {
    const path = ns.joinedPath(type);
    return path ? [{ nstype: NAMESPACES[type].flag, path, field: `${ns.field(type)}.path` }] : [];
  });

  const setupMounts = ns.isNew('mount');
  // Device nodes can only be bound from the host in a user namespace: the container's, or the runtime's own.
  const inUserns = ns.has('user') || host.runtimeInUserns;
  // Only a runtime that is root on the host can make device nodes, and clone its mounts for the container's namespace.
  const hostRoot = host.unprivileged === null && !host.runtimeInUserns;
  const setupDev = setupMounts && !devIsBindMounted(view.mounts);
  const devices = setupDev
    ? planDevices(
        linux.devices,
        inUserns ? { makeNodes: newUserns && hostRoot, uidMappings: linux.uidMappings, gidMappings: linux.gidMappings } : null,
      )
    : [];
  const symlinks = setupDev ? planDevSymlinks(host.kcore) : [];
  const isDirectory = (p: string) => {
    const f = host.paths.get(p);
    return !!f && !('error' in f) && f.kind === 'directory';
  };
  const isProcfs = (p: string) => {
    const f = host.paths.get(p);
    return !!f && !('error' in f) && f.procfs;
  };
  const mounts = setupMounts
    ? planMounts(view.mounts, {
        cgroupns: ns.isNew('cgroup'),
        cgroup: host.cgroup,
        isDirectory,
        idmap: (v) => idmapTree(v, linux),
        detachBinds: newUserns && hostRoot,
        laterPaths: [...devices.map((d) => d.path), ...symlinks.map((s) => s.path), '/dev/console'],
      })
    : [];
  guardProcMounts(mounts, isProcfs);
  applyMountLabel(mounts, linux.mountLabel, host.selinux);

  const hooks = spec.hooks ?? {};
  const warnings: string[] = [];
  const draft = draftPlan(
    convertProcess(process, {
      field: 'process',
      limits: host,
      setGroups: !idMaps?.denySetgroups,
      oomScoreAdj: process.oomScoreAdj ?? null,
      personality: personalityOf(spec),
      memoryPolicy: memoryPolicyOf(spec),
      cpuAffinity: null,
      seccomp: host.seccomp?.plan ?? null,
      preserveFds: opts.preserveFds,
      resolveHome: true,
      warnings,
    }),
    {
      joins,
      newUserns,
      unshareFlags,
      timensOffsets: timensText(spec),
      stage1Sync: true,
      isInit: true,
      rootfs: host.rootfs.path,
      rootfsPropagation: linux.rootfsPropagation
        ? lookup(ROOTFS_PROPAGATION, linux.rootfsPropagation, 'linux.rootfsPropagation', 'rootfs propagation')
        : 0,
      setupMounts,
      noPivot: opts.noPivot,
      mounts,
      devices,
      symlinks,
      hooksSync: [hooks.prestart, hooks.createRuntime, hooks.createContainer].some((h) => h && h.length > 0),
      maskedPaths: setupMounts ? (linux.maskedPaths ?? []).map(cleanDest) : [],
      readonlyPaths: setupMounts ? (linux.readonlyPaths ?? []).map(cleanDest) : [],
      rootReadonly: setupMounts && spec.root?.readonly === true,
      hostname: spec.hostname ?? null,
      domainname: spec.domainname ?? null,
      sysctls: Object.entries(linux.sysctl ?? {}).map(([key, value]) => ({ key: sysctlKey(key).path, value: String(value) })),
      newSessionKeyring: !opts.noNewKeyring,
      keyringName: `_ses.${opts.id}`,
      loopbackUp: ns.isNew('network'),
    },
  );
  return { draft, namespaces, nsFlags, newUserns, idMaps, warnings };
}

/**
 * The process as runc would run it: the exec process's own attributes, with the
 * container's config filling in what it leaves out.
 */
export function effectiveProcess(proc: Process, spec: Spec): Process {
  const base = spec.process;
  const out: Process = { ...proc };
  if (!out.capabilities && base?.capabilities) out.capabilities = base.capabilities;
  if (!out.rlimits?.length && base?.rlimits?.length) out.rlimits = base.rlimits;
  if (!out.apparmorProfile && base?.apparmorProfile) out.apparmorProfile = base.apparmorProfile;
  if (!out.selinuxLabel && base?.selinuxLabel) out.selinuxLabel = base.selinuxLabel;
  // The config's execCPUAffinity is for exec'd processes (config.md), runc's default for them.
  if (!out.execCPUAffinity && base?.execCPUAffinity) out.execCPUAffinity = base.execCPUAffinity;
  return out;
}

export interface ExecOptions {
  /** Field path prefix for errors: "" for a process.json, "process" for one built from config.json. */
  field: string;
  /** CLONE_NEW* set of the container's namespaces. */
  nsFlags: number;
  preserveFds: number;
  /** The container's user namespace denies setgroups (a rootless one mapping only its own gid). */
  setgroupsDenied: boolean;
  /** Session keyring to join (runc joins the container's "_ses.<id>"), null with --no-new-keyring. */
  keyringName: string | null;
}

/**
 * A process to add to a running container (`spec` is its config.json snapshot): stage 1
 * joins every namespace of the container's init through its pidfd, waits there until the
 * runtime has put it in the cgroups, and forks the process into the PID namespace.
 */
export function convertExec(spec: Spec, proc: Process, opts: ExecOptions, host: ProcessFacts): { draft: PlanDraft; warnings: string[] } {
  if (!(opts.nsFlags & CLONE_NEWNS)) {
    // Without a mount namespace the container's root is a chroot of its init, which a
    // joining process does not inherit; it would see the host's file system.
    throw new RuntimeError('exec into a container without its own mount namespace is not supported');
  }
  const process = effectiveProcess(proc, spec);
  throwProblems(processProblems({ process, field: opts.field, host }));
  const warnings: string[] = [];
  const draft = draftPlan(
    convertProcess(process, {
      field: opts.field,
      limits: host,
      setGroups: !opts.setgroupsDenied,
      oomScoreAdj: spec.process?.oomScoreAdj ?? null,
      personality: personalityOf(spec),
      memoryPolicy: memoryPolicyOf(spec),
      cpuAffinity: cpuAffinityOf(process, opts.field),
      seccomp: host.seccomp?.plan ?? null,
      preserveFds: opts.preserveFds,
      resolveHome: true,
      warnings,
    }),
    {
      joinInit: true,
      joinPidfdFlags: opts.nsFlags,
      stage1Sync: true,
      newSessionKeyring: opts.keyringName !== null,
      keyringName: opts.keyringName,
    },
  );
  return { draft, warnings };
}

/** The program and its argv[0]: a hook's args, or just its path (config.md "POSIX-platform Hooks"). */
export function hookArgs(hook: Hook): string[] {
  return hook.args && hook.args.length ? hook.args : [hook.path];
}

/**
 * A container-namespace hook (createContainer, startContainer): run as root with exactly
 * its env, in every namespace of the container's init (`nsFlags`), from "/".
 */
export function convertHook(hook: Hook, nsFlags: number): PlanDraft {
  const process = convertProcess(
    { args: hookArgs(hook), env: hook.env ?? [], cwd: '/', user: { uid: 0, gid: 0 } },
    {
      field: '',
      limits: null,
      setGroups: false,
      oomScoreAdj: null,
      personality: -1,
      memoryPolicy: null,
      cpuAffinity: null,
      seccomp: null,
      preserveFds: 0,
      resolveHome: false,
      execPath: hook.path,
      warnings: [],
    },
  );
  return draftPlan(process, { joinInit: true, joinPidfdFlags: nsFlags });
}
