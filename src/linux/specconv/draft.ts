// What the conversion produces: the SpawnPlan (src/native/plan-types.ts) with every
// decision made but no descriptor in it. Where the plan needs an fd, the draft says what
// to open (a namespace path, an id-mapped tree, the container's init to join); open.ts
// opens them, after the conversion, and fills the plan in. The types make it impossible
// for the conversion to hold an fd, and `draftPlan` is the one place a whole plan is
// written out, so the init, exec and hook plans cannot drift apart.
import type { MountPlan, ProcessPlan, SpawnPlan } from '../../native/plan-types.js';
import type { DeviceDraft } from '../devices.js';

/** A namespace the container joins by path. */
export interface NamespaceJoin {
  /** CLONE_NEW* constant. */
  nstype: number;
  path: string;
  /** Its place in config.json, for errors when it cannot be opened. */
  field: string;
}

/**
 * An id-mapped bind mount: the runtime makes a detached clone of `source`, id-mapped
 * through a user namespace with these maps (src/linux/idmap-mounts.ts), and the child
 * moves it into place.
 */
export interface IdmapTree {
  source: string;
  /** uid_map / gid_map text ("containerID hostID size\n" lines). */
  uidMap: string;
  gidMap: string;
  /** rbind: the clone takes the submounts along. */
  rbind: boolean;
  /** ridmap: the mapping applies to the submounts too. */
  recursive: boolean;
  field: string;
}

/**
 * `detach`: a bind mount of a container with a user namespace of its own. The runtime makes
 * a detached clone of the source (open_tree) before the fork and the child moves it into
 * place, as runc does: the namespace's root may not be able to reach the source by path
 * (a directory only the host's root may enter), and the clone needs no path at all.
 */
export type MountDraft = Omit<MountPlan, 'mountFd'> & { idmap: IdmapTree | null; detach: boolean };

/** The process part, without the descriptors the operation provides. */
export type ProcessDraft = Omit<ProcessPlan, 'consoleSocketFd' | 'consoleRelayed' | 'stdioFds' | 'execFifoFd'>;

export interface PlanDraft extends Omit<SpawnPlan, 'joins' | 'joinPidfd' | 'mounts' | 'devices' | 'process'> {
  joins: NamespaceJoin[];
  devices: DeviceDraft[];
  /** Join every namespace of the container's init (joinPidfdFlags) through its pidfd. */
  joinInit: boolean;
  mounts: MountDraft[];
  process: ProcessDraft;
}

/** A plan that sets nothing up: a process started where its parent is. */
function nothingToSetUp(): Omit<PlanDraft, 'process'> {
  return {
    joins: [],
    joinInit: false,
    joinPidfdFlags: 0,
    newUserns: false,
    unshareFlags: 0,
    timensOffsets: null,
    stage1Sync: false,
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
    newSessionKeyring: false,
    keyringName: null,
    loopbackUp: false,
  };
}

/** A whole plan: `process`, and what `parts` sets up; everything else is left alone. */
export function draftPlan(process: ProcessDraft, parts: Partial<Omit<PlanDraft, 'process'>>): PlanDraft {
  return { ...nothingToSetUp(), ...parts, process };
}
