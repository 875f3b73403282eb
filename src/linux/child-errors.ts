// The child reports {step, detail, errno, index}; this turns that into the one line the
// user reads, in runc's words where engines match on them ("executable file not found in
// $PATH", "no such file or directory", "permission denied").
import type { ChildMessage } from '../native/addon.js';
import { native } from '../native/addon.js';
import type { SpawnPlan } from '../native/plan-types.js';
import { RLIMITS } from './rlimits.js';
import { userNamespaceRefusal } from './rootless.js';

type Describer = (m: ChildMessage, plan: SpawnPlan, err: string) => string;

const mountAt = (plan: SpawnPlan, m: ChildMessage) => plan.mounts[m.index];

const STEPS: Readonly<Record<string, Describer>> = {
  'exec-lookup': (m) => `exec: "${m.detail}": executable file not found in $PATH`,
  'exec-stat': (m, _p, err) => `exec: "${m.detail}": stat ${m.detail}: ${err}`,
  'exec-access': (m, _p, err) => `exec: "${m.detail}": ${err}`,
  chdir: (m, _p, err) => `chdir to cwd ("${m.detail}") set in config.json failed: ${err}`,
  'mkdir cwd': (m, _p, err) => `mkdir cwd ("${m.detail}") in the rootfs failed: ${err}`,
  mount: (m, plan, err) => {
    const mt = mountAt(plan, m);
    return `error mounting "${mt?.source ?? ''}" to rootfs at "${m.detail}": mount ${mt?.fstype ?? ''}: ${err}`;
  },
  'bind mount': (m, plan, err) => `error mounting "${mountAt(plan, m)?.source ?? ''}" to rootfs at "${m.detail}": bind mount: ${err}`,
  'mount target': (m, _p, err) => `error creating mount target "${m.detail}" in the rootfs: ${err}`,
  'mount_setattr': (m, _p, err) => `error setting mount options on "${m.detail}": ${err}`,
  'mount propagation': (m, _p, err) => `error setting mount propagation on "${m.detail}": ${err}`,
  setns: (m, _p, err) => `failed to join namespace ${m.detail}: ${err}`,
  unshare: (m, _p, err) => {
    // A user namespace refused by the kernel's settings: say which, and how to allow it.
    const why = m.detail === 'user namespace' ? userNamespaceRefusal(m.errno) : null;
    return `failed to create ${m.detail}: ${err}${why ? ` (${why})` : ''}`;
  },
  setrlimit: (m, plan, err) => {
    const r = plan.process.rlimits[m.index];
    const name = Object.keys(RLIMITS).find((k) => RLIMITS[k] === r?.resource) ?? `resource ${r?.resource}`;
    return `process.rlimits[${m.index}]: error setting ${name} (soft ${r?.soft ?? ''}, hard ${r?.hard ?? ''}): ${err}`;
  },
  sysctl: (m, _p, err) => `error setting sysctl ${m.detail.replace(/\//g, '.')}: ${err}`,
  mknod: (m, _p, err) => `error creating device node ${m.detail}: ${err}`,
  'device exists': (m) => `linux.devices: ${m.detail} already exists in the rootfs and is not that device`,
  'oom_score_adj': (m, _p, err) => `error setting oom_score_adj to ${m.detail}: ${err}`,
  exec: (m, _p, err) => `exec ${m.detail}: ${err}`,
  // Confinement (proc-mounts.ts, rootfs.cc): runc's words for the same refusals.
  'ordinary directory': (m, plan) =>
    `filesystem "${mountAt(plan, m)?.fstype ?? ''}" must be mounted on ordinary directory: "${m.detail}" is a symlink or not a directory`,
  'mount over proc': (m) => `"${m.detail}" cannot be mounted because it is inside /proc (the target resolves into procfs)`,
  'move_mount': (m, _p, err) => `error attaching the id-mapped mount at "${m.detail}": ${err}`,
};

export function describeChildError(m: ChildMessage, plan: SpawnPlan): string {
  const err = m.errno ? native().strerror(m.errno) : 'unknown error';
  const describe = STEPS[m.step];
  if (describe) return describe(m, plan, err);
  return m.detail ? `${m.step} ${m.detail}: ${err}` : `${m.step}: ${err}`;
}
