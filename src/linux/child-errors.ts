// The child reports {step, errno, index} (step ids and texts: addon/protocol/plan.json);
// this turns that into the one line the user reads, in runc's words where engines match on
// them ("executable file not found in $PATH", "no such file or directory", "permission
// denied"). What the step worked on comes from the plan: the step's subject names a plan
// field, and the index picks the entry (mounts[i].dest, say).
import { native } from '../native/addon.js';
import { FIELDS, NO_INDEX, STEPS, Step, type WireMsg } from '../native/generated/protocol.js';
import type { SpawnPlan } from '../native/plan-types.js';
import { CAPABILITIES } from './capabilities.js';
import { RLIMITS } from './rlimits.js';
import { userNamespaceRefusal } from './rootless.js';

type Describer = (m: WireMsg, plan: SpawnPlan, err: string) => string;

const mountAt = (plan: SpawnPlan, m: WireMsg) => plan.mounts[m.index];
const program = (plan: SpawnPlan) => plan.process.execPath ?? plan.process.argv[0] ?? '';
const capability = (n: number) => CAPABILITIES[n] ?? `capability ${n}`;

const DESCRIBE: Readonly<Partial<Record<number, Describer>>> = {
  [Step.EXEC_LOOKUP]: (_m, plan) => `exec: "${program(plan)}": executable file not found in $PATH`,
  [Step.EXEC_STAT]: (_m, plan, err) => `exec: "${program(plan)}": stat ${program(plan)}: ${err}`,
  [Step.EXEC_ACCESS]: (_m, plan, err) => `exec: "${program(plan)}": ${err}`,
  [Step.EXEC]: (_m, _p, err) => `exec tsrunc-init: ${err}`,
  [Step.CHDIR]: (_m, plan, err) => `chdir to cwd ("${plan.process.cwd}") set in config.json failed: ${err}`,
  [Step.CWD_MKDIR]: (_m, plan, err) => `mkdir cwd ("${plan.process.cwd}") in the rootfs failed: ${err}`,
  [Step.MOUNT]: (m, plan, err) => {
    const mt = mountAt(plan, m);
    return `error mounting "${mt?.source ?? ''}" to rootfs at "${mt?.dest ?? ''}": mount ${mt?.fstype ?? ''}: ${err}`;
  },
  [Step.BIND_MOUNT]: (m, plan, err) => {
    const mt = mountAt(plan, m);
    return `error mounting "${mt?.source ?? ''}" to rootfs at "${mt?.dest ?? ''}": bind mount: ${err}`;
  },
  [Step.MOUNT_TARGET]: (m, plan, err) => `error creating mount target "${mountAt(plan, m)?.dest ?? ''}" in the rootfs: ${err}`,
  [Step.MOUNT_SETATTR]: (m, plan, err) => `error setting mount options on "${mountAt(plan, m)?.dest ?? ''}": ${err}`,
  [Step.MOUNT_PROPAGATION]: (m, plan, err) => `error setting mount propagation on "${mountAt(plan, m)?.dest ?? ''}": ${err}`,
  // Confinement (proc-mounts.ts, rootfs.cc): runc's words for the same refusals.
  [Step.MOUNT_NOT_DIRECTORY]: (m, plan) => {
    const mt = mountAt(plan, m);
    return `filesystem "${mt?.fstype ?? ''}" must be mounted on ordinary directory: "${mt?.dest ?? ''}" is a symlink or not a directory`;
  },
  [Step.MOUNT_OVER_PROC]: (m, plan) => `"${mountAt(plan, m)?.dest ?? ''}" cannot be mounted because it is inside /proc (the target resolves into procfs)`,
  [Step.MOVE_MOUNT]: (m, plan, err) => `error attaching the id-mapped mount at "${mountAt(plan, m)?.dest ?? ''}": ${err}`,
  [Step.SETNS]: (m, plan, err) => `failed to join namespace ${plan.joins[m.index]?.path ?? ''}: ${err}`,
  [Step.UNSHARE]: (_m, _p, err) => `failed to create namespaces: ${err}`,
  [Step.UNSHARE_USER]: (m, _p, err) => {
    // A user namespace refused by the kernel's settings: say which, and how to allow it.
    const why = userNamespaceRefusal(m.err);
    return `failed to create user namespace: ${err}${why ? ` (${why})` : ''}`;
  },
  [Step.RLIMIT]: (m, plan, err) => {
    const r = plan.process.rlimits[m.index];
    const name = Object.keys(RLIMITS).find((k) => RLIMITS[k] === r?.resource) ?? `resource ${r?.resource}`;
    return `process.rlimits[${m.index}]: error setting ${name} (soft ${r?.soft ?? ''}, hard ${r?.hard ?? ''}): ${err}`;
  },
  [Step.SYSCTL]: (m, plan, err) => `error setting sysctl ${(plan.sysctls[m.index]?.key ?? '').replace(/\//g, '.')}: ${err}`,
  [Step.MKNOD]: (m, plan, err) => `error creating device node ${plan.devices[m.index]?.path ?? ''}: ${err}`,
  [Step.DEVICE_EXISTS]: (m, plan) => `linux.devices: ${plan.devices[m.index]?.path ?? ''} already exists in the rootfs and is not that device`,
  [Step.SYMLINK_NOT_EMPTY]: (m, plan) =>
    `${plan.symlinks[m.index]?.path ?? ''} is a directory with content in the rootfs; the symlink the runtime makes there cannot replace it`,
  [Step.OOM_SCORE_ADJ]: (_m, plan, err) => `error setting oom_score_adj to ${plan.process.oomScoreAdj}: ${err}`,
  // runc's warning for the same case (libcontainer/capabilities).
  [Step.AMBIENT_RAISE]: (m, _p, err) => `can't raise ambient capability ${capability(m.index)}: ${err}`,
  [Step.CAPBSET_DROP]: (m, _p, err) => `unable to drop ${capability(m.index)} from the bounding set: ${err}`,
  [Step.PLAN_FIELD]: (m) => `internal error: the child program refused the plan's ${FIELDS[m.index] ?? `field ${m.index}`}`,
  [Step.PLAN_FD]: (m) => `internal error: the descriptor of the plan's ${FIELDS[m.index] ?? 'fields'} is not open in the child program`,
};

export function stepName(step: number): string {
  return STEPS[step]?.name ?? `step ${step}`;
}

/** The plan value a step's index points at, as text (see StepInfo.subject). */
export function stepSubject(m: WireMsg, plan: SpawnPlan): string | undefined {
  const subject = STEPS[m.step]?.subject;
  if (!subject) return undefined;
  const [kind, rest] = subject.split(':');
  if (rest === 'i') {
    if (m.index === NO_INDEX) return undefined;
    if (kind === 'field') return FIELDS[m.index];
    if (kind === 'capability') return capability(m.index);
    return `${kind} ${m.index}`;
  }
  let value: unknown = plan;
  for (const part of subject.split('.')) {
    const [, key, indexed] = /^(\w+)(\[i\])?$/.exec(part) ?? [];
    if (!key || value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
    if (indexed) {
      if (m.index === NO_INDEX || !Array.isArray(value)) return undefined;
      value = value[m.index];
    }
  }
  if (value === null || value === undefined) return undefined;
  return typeof value === 'object' ? JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) : String(value);
}

export function describeChildError(m: WireMsg, plan: SpawnPlan): string {
  const err = m.err ? native().strerror(m.err) : 'unknown error';
  const describe = DESCRIBE[m.step];
  if (describe) return describe(m, plan, err);
  const info = STEPS[m.step];
  const subject = stepSubject(m, plan);
  const text = `${info?.field ? `${info.field}: ` : ''}${info?.text ?? `step ${m.step}`}${subject ? ` ${subject}` : ''}`;
  return `${text}: ${err}`;
}
