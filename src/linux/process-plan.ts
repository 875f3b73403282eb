// config.json "process" -> ProcessPlan: what the child applies right before execve.
import type { ProcessPlan, SeccompPlan } from '../native/plan-types.js';
import type { Process } from '../spec/types.js';
import { ConfigError } from '../util/errors.js';
import { CAPABILITY_SETS, capabilityMask } from './capabilities.js';
import { IOPRIO_CLASSES, SCHED_FLAGS, SCHED_POLICIES, ioprioValue, lookup } from './process-attrs.js';
import { lsmEnabled } from './lsm.js';
import { rlimitResource } from './rlimits.js';

export interface ProcessPlanOptions {
  stdio: [number, number, number];
  consoleSocketFd: number;
  preserveFds: number;
  execFifoFd: number;
  /** setgroups(2) is allowed (false in a rootless user namespace). */
  setGroups: boolean;
  /** oom_score_adj from the config (init only). */
  oomScoreAdj: number | null;
  personality: number;
  warn: (msg: string) => void;
  /** Field path prefix for errors: "process" for config.json, "" for a process.json. */
  field: string;
  /** The compiled linux.seccomp filter (src/linux/seccomp.ts), if any. */
  seccomp?: SeccompPlan | null;
}

/** The value of the last PATH= entry (later entries win, as with setenv). */
export function pathFromEnv(env: readonly string[]): string | null {
  let value: string | null = null;
  for (const e of env) if (e.startsWith('PATH=')) value = e.slice(5);
  return value;
}

export function planProcess(proc: Process, opts: ProcessPlanOptions): ProcessPlan {
  const f = (name: string) => (opts.field ? `${opts.field}.${name}` : name);
  const args = proc.args ?? [];
  if (args.length === 0) throw new ConfigError(f('args'), 'must be a non-empty array');
  const env = proc.env ?? [];
  const user = proc.user ?? { uid: 0, gid: 0 };

  let capabilities: ProcessPlan['capabilities'] = null;
  if (proc.capabilities) {
    const caps = proc.capabilities as Record<string, string[] | undefined>;
    const masks = Object.fromEntries(
      CAPABILITY_SETS.map((set) => [set, capabilityMask(caps[set], f(`capabilities.${set}`), opts.warn)]),
    );
    capabilities = masks as unknown as NonNullable<ProcessPlan['capabilities']>;
  }

  const seen = new Set<string>();
  const rlimits = (proc.rlimits ?? []).map((r, i) => {
    const field = f(`rlimits[${i}].type`);
    if (seen.has(r.type)) throw new ConfigError(field, `duplicate ${r.type}`);
    seen.add(r.type);
    return { resource: rlimitResource(r.type, field), soft: BigInt(r.soft), hard: BigInt(r.hard) };
  });

  let scheduler: ProcessPlan['scheduler'] = null;
  if (proc.scheduler) {
    const s = proc.scheduler;
    scheduler = {
      policy: lookup(SCHED_POLICIES, s.policy, f('scheduler.policy'), 'scheduler policy'),
      nice: s.nice ?? 0,
      priority: s.priority ?? 0,
      flags: (s.flags ?? []).reduce((acc, name, i) => acc | lookup(SCHED_FLAGS, name, f(`scheduler.flags[${i}]`), 'scheduler flag'), 0n),
      runtime: BigInt(s.runtime ?? 0),
      deadline: BigInt(s.deadline ?? 0),
      period: BigInt(s.period ?? 0),
    };
  }

  let ioPriority: number | null = null;
  if (proc.ioPriority) {
    const klass = lookup(IOPRIO_CLASSES, proc.ioPriority.class, f('ioPriority.class'), 'I/O priority class');
    ioPriority = ioprioValue(klass, proc.ioPriority.priority);
  }

  if (proc.apparmorProfile && !lsmEnabled('apparmor')) {
    throw new ConfigError(f('apparmorProfile'), `AppArmor profile "${proc.apparmorProfile}" requested but AppArmor is not enabled on this host`);
  }
  if (proc.selinuxLabel && !lsmEnabled('selinux')) {
    throw new ConfigError(f('selinuxLabel'), `SELinux label requested but SELinux is not enabled on this host`);
  }

  // runc gives the process a HOME from the container's /etc/passwd when the config has
  // none; the child fills this placeholder in (it can read that file safely, in the root).
  const resolveHome = !env.some((e) => e.startsWith('HOME='));
  return {
    argv: args,
    envp: resolveHome ? [...env, 'HOME=/'] : env,
    pathEnv: pathFromEnv(env),
    resolveHome,
    cwd: proc.cwd,
    uid: user.uid,
    gid: user.gid,
    umask: user.umask ?? -1,
    additionalGids: user.additionalGids ?? [],
    setGroups: opts.setGroups,
    capabilities,
    noNewPrivileges: proc.noNewPrivileges === true,
    rlimits,
    oomScoreAdj: opts.oomScoreAdj,
    seccomp: opts.seccomp ?? null,
    terminal: proc.terminal === true,
    consoleSocketFd: opts.consoleSocketFd,
    consoleRows: proc.consoleSize?.height ?? 0,
    consoleCols: proc.consoleSize?.width ?? 0,
    stdioFds: opts.stdio,
    preserveFds: opts.preserveFds,
    execFifoFd: opts.execFifoFd,
    personality: opts.personality,
    scheduler,
    ioPriority,
    apparmorProfile: proc.apparmorProfile ?? null,
    selinuxLabel: proc.selinuxLabel ?? null,
  };
}
