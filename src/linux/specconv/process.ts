// The process part of every plan (container init, exec, container-namespace hooks): an
// OCI "process" object -> what the child applies right before execve.
import type { CpuAffinityPlan, MemoryPolicyPlan, SeccompPlan } from '../../native/plan-types.js';
import type { Process } from '../../spec/types.js';
import { ConfigError, RuntimeError } from '../../util/errors.js';
import { CAPABILITY_SETS, type CapabilityLimits, capabilityMask } from '../capabilities.js';
import { IOPRIO_CLASSES, SCHED_FLAGS, SCHED_POLICIES, ioprioValue, lookup } from '../process-attrs.js';
import { rlimitResource } from '../rlimits.js';
import type { ProcessDraft } from './draft.js';

export interface ProcessContext {
  /** Field path prefix for errors: "process" for config.json, "" for a process.json. */
  field: string;
  /** What the host lets capabilities be granted from; null where the process sets none (hooks). */
  limits: CapabilityLimits | null;
  /** setgroups(2) is allowed (false where a rootless user namespace denies it). */
  setGroups: boolean;
  /** oom_score_adj from the config (written for init and exec alike). */
  oomScoreAdj: number | null;
  /** personality(2) domain, -1 to leave it. */
  personality: number;
  /** linux.memoryPolicy (for init and exec alike, as runc). */
  memoryPolicy: MemoryPolicyPlan | null;
  /** exec only: process.execCPUAffinity (config.md: not for the init process). */
  cpuAffinity: CpuAffinityPlan | null;
  seccomp: SeccompPlan | null;
  preserveFds: number;
  /**
   * runc gives the container's processes a HOME from the container's /etc/passwd when the
   * environment has none; hooks get exactly their env.
   */
  resolveHome: boolean;
  /** The program to run, when it is not looked up in PATH (hooks: the hook's path). */
  execPath?: string;
  /** Warnings for the log (capabilities that cannot be granted). */
  warnings: string[];
}

/** The value of the last PATH= entry (later entries win, as with setenv). */
export function pathFromEnv(env: readonly string[]): string | null {
  let value: string | null = null;
  for (const e of env) if (e.startsWith('PATH=')) value = e.slice(5);
  return value;
}

function capabilityMasks(proc: Process, ctx: ProcessContext, f: (name: string) => string): ProcessDraft['capabilities'] {
  if (!proc.capabilities) return null;
  if (!ctx.limits) throw new RuntimeError('internal error: capabilities converted without the host capability facts');
  const caps = proc.capabilities as Record<string, string[] | undefined>;
  const limits = ctx.limits;
  const masks = Object.fromEntries(CAPABILITY_SETS.map((set) => [set, capabilityMask(caps[set], f(`capabilities.${set}`), limits, ctx.warnings)]));
  return masks as unknown as NonNullable<ProcessDraft['capabilities']>;
}

function scheduler(proc: Process, f: (name: string) => string): ProcessDraft['scheduler'] {
  const s = proc.scheduler;
  if (!s) return null;
  return {
    policy: lookup(SCHED_POLICIES, s.policy, f('scheduler.policy'), 'scheduler policy'),
    nice: s.nice ?? 0,
    priority: s.priority ?? 0,
    flags: (s.flags ?? []).reduce((acc, name, i) => acc | lookup(SCHED_FLAGS, name, f(`scheduler.flags[${i}]`), 'scheduler flag'), 0n),
    runtime: BigInt(s.runtime ?? 0),
    deadline: BigInt(s.deadline ?? 0),
    period: BigInt(s.period ?? 0),
  };
}

/** `proc` (already validated: src/linux/specconv/validate.ts) as the plan's process. */
export function convertProcess(proc: Process, ctx: ProcessContext): ProcessDraft {
  const f = (name: string) => (ctx.field ? `${ctx.field}.${name}` : name);
  const args = proc.args ?? [];
  if (args.length === 0) throw new ConfigError(f('args'), 'must be a non-empty array');
  const env = proc.env ?? [];
  const user = proc.user ?? { uid: 0, gid: 0 };
  if (!ctx.setGroups && user.additionalGids?.length) {
    throw new ConfigError(
      f('user.additionalGids'),
      'cannot set any additional groups in a rootless container whose user namespace denies setgroups (only its own gid is mapped): map subordinate gids (newgidmap) to allow them',
    );
  }
  // The child fills the "HOME=/" placeholder in from the root's /etc/passwd, which it can
  // read safely once inside the root.
  const resolveHome = ctx.resolveHome && !env.some((e) => e.startsWith('HOME='));
  const ioPriority = proc.ioPriority
    ? ioprioValue(lookup(IOPRIO_CLASSES, proc.ioPriority.class, f('ioPriority.class'), 'I/O priority class'), proc.ioPriority.priority ?? 0)
    : null;
  return {
    argv: args,
    execPath: ctx.execPath ?? null,
    envp: resolveHome ? [...env, 'HOME=/'] : env,
    // A given program is not looked up.
    pathEnv: ctx.execPath ? null : pathFromEnv(env),
    resolveHome,
    cwd: proc.cwd,
    uid: user.uid,
    gid: user.gid,
    umask: user.umask ?? -1,
    additionalGids: user.additionalGids ?? [],
    setGroups: ctx.setGroups,
    capabilities: capabilityMasks(proc, ctx, f),
    noNewPrivileges: proc.noNewPrivileges === true,
    rlimits: (proc.rlimits ?? []).map((r, i) => ({
      resource: rlimitResource(r.type, f(`rlimits[${i}].type`)),
      soft: BigInt(r.soft),
      hard: BigInt(r.hard),
    })),
    oomScoreAdj: ctx.oomScoreAdj,
    seccomp: ctx.seccomp,
    terminal: proc.terminal === true,
    consoleRows: proc.consoleSize?.height ?? 0,
    consoleCols: proc.consoleSize?.width ?? 0,
    preserveFds: ctx.preserveFds,
    personality: ctx.personality,
    scheduler: scheduler(proc, f),
    ioPriority,
    memoryPolicy: ctx.memoryPolicy,
    cpuAffinity: ctx.cpuAffinity,
    apparmorProfile: proc.apparmorProfile ?? null,
    selinuxLabel: proc.selinuxLabel ?? null,
  };
}
