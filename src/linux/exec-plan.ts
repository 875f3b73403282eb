// exec: the process to add to a running container -> the SpawnPlan that starts it there.
//
// Stage 1 joins every namespace of the container through the pidfd of its init (one
// setns(2) call; the kernel enters the user namespace first), the runtime moves it into
// the container's cgroups (or --cgroup sub-cgroups), and it forks the process into the
// container's PID namespace. Which attributes come from the process and which from the
// container's config follows runc (libcontainer's setns init):
//
//   from the process      args, env, cwd, user, additional gids, terminal, console size,
//                         scheduler, I/O priority, noNewPrivileges
//   process, else config  capabilities (when the process has none), rlimits (when it has
//                         none), AppArmor profile and SELinux label (when empty)
//   from the config       seccomp filter, personality, oom_score_adj
import type { SeccompPlan, SpawnPlan } from '../native/plan-types.js';
import type { Process, Spec } from '../spec/types.js';
import { RuntimeError } from '../util/errors.js';
import { joinPlan } from './join-plan.js';
import { CLONE_NEWNS, CLONE_NEWUSER } from './namespaces.js';
import { PERSONALITY_DOMAINS, lookup } from './process-attrs.js';
import { planProcess } from './process-plan.js';
import { planSeccomp } from './seccomp.js';

export interface ExecPlanInput {
  /** The container's config.json snapshot. */
  spec: Spec;
  /** The process to run (a process.json, or config.json's process with the flags applied). */
  process: Process;
  /** Field path prefix for errors: "" for a process.json, "process" for one built from config.json. */
  field: string;
  /** pidfd of the container's init and the CLONE_NEW* set of its namespaces. */
  pidfd: number;
  nsFlags: number;
  consoleSocketFd: number;
  preserveFds: number;
  /** The container was made rootless (its user namespace denies setgroups). */
  rootless: boolean;
  /** Session keyring to join (runc joins the container's "_ses.<id>"), null with --no-new-keyring. */
  keyringName: string | null;
  warn: (msg: string) => void;
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
  return out;
}

/** The container's seccomp filter, compiled for the exec'd process (as for its init). */
export function execSeccomp(spec: Spec): SeccompPlan | null {
  return planSeccomp(spec.linux?.seccomp, 'linux.seccomp');
}

export function planExec(input: ExecPlanInput): SpawnPlan {
  const { spec } = input;
  if (!(input.nsFlags & CLONE_NEWNS)) {
    // Without a mount namespace the container's root is a chroot of its init, which a
    // joining process does not inherit; it would see the host's file system.
    throw new RuntimeError('exec into a container without its own mount namespace is not supported');
  }
  const proc = effectiveProcess(input.process, spec);
  const personality = spec.linux?.personality
    ? lookup(PERSONALITY_DOMAINS, spec.linux.personality.domain, 'linux.personality.domain', 'personality domain')
    : -1;
  const newUserns = (spec.linux?.namespaces ?? []).some((n) => n.type === 'user' && !n.path);
  const processPlan = planProcess(proc, {
    stdio: [0, 1, 2],
    consoleSocketFd: input.consoleSocketFd,
    preserveFds: input.preserveFds,
    execFifoFd: -1,
    setGroups: !(input.rootless && newUserns && input.nsFlags & CLONE_NEWUSER),
    oomScoreAdj: spec.process?.oomScoreAdj ?? null,
    personality,
    warn: input.warn,
    field: input.field,
  });
  processPlan.seccomp = execSeccomp(spec);

  // Stage 1 waits in the container's namespaces until the runtime has put it in the cgroups.
  return joinPlan({ pidfd: input.pidfd, nsFlags: input.nsFlags }, processPlan, {
    stage1Sync: true,
    keyringName: input.keyringName,
  });
}
