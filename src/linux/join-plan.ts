// The SpawnPlan of a process that enters a running container (exec, container-namespace
// hooks): no namespaces of its own, no rootfs to set up; stage 1 joins every namespace of
// the container's init through its pidfd and stage 2 runs `process`.
import type { ProcessPlan, SpawnPlan } from '../native/plan-types.js';

export interface JoinTarget {
  /** pidfd of the container's init. */
  pidfd: number;
  /** CLONE_NEW* set of the namespaces to enter. */
  nsFlags: number;
}

export function joinPlan(
  target: JoinTarget,
  process: ProcessPlan,
  opts: { stage1Sync?: boolean; keyringName?: string | null } = {},
): SpawnPlan {
  const keyringName = opts.keyringName ?? null;
  return {
    joins: [],
    joinPidfd: target.pidfd,
    joinPidfdFlags: target.nsFlags,
    newUserns: false,
    unshareFlags: 0,
    timensOffsets: null,
    stage1Sync: opts.stage1Sync ?? false,
    isInit: false,
    rootfs: null,
    rootfsPropagation: 0,
    setupMounts: false,
    noPivot: false,
    mounts: [],
    devices: [],
    symlinks: [],
    hooksSync: false,
    maskedPaths: [],
    readonlyPaths: [],
    rootReadonly: false,
    hostname: null,
    domainname: null,
    sysctls: [],
    newSessionKeyring: keyringName !== null,
    keyringName,
    process,
  };
}
