// Which cgroup manager serves a container: chosen once at create time from the host's
// layout and the global flags, recorded in state.json, and rebuilt from there by every
// later command (whatever flags those are given, as runc does with its state).
import type { LinuxResources, Spec } from '../../spec/types.js';
import type { CgroupState } from '../../state/types.js';
import { ContainerStateError, SystemError } from '../../util/errors.js';
import { CgroupfsManager } from './cgroupfs.js';
import { CgroupDirs } from './dirs.js';
import type { CgroupDriverName, CgroupManager } from './manager.js';
import { type CgroupLayout, hostLayout } from './mode.js';
import { cgroupPathSpec } from './path.js';
import { SystemdManager } from '../systemd/manager.js';

export interface CgroupRequest {
  id: string;
  spec: Spec;
  /** --systemd-cgroup */
  systemd: boolean;
  /** The rootless cgroup manager (--rootless, or auto: not root on the host). */
  rootless: boolean;
  /** The host's unless a test gives one. */
  layout?: CgroupLayout;
  /** Where a rootless container without cgroups says that its limits are not applied. */
  warn?: (message: string) => void;
}

/** What decides the driver, besides the flags: can this user make the cgroup (rootless)? */
export interface DriverFacts {
  /** The container's cgroup directories this user cannot make or join (see CgroupDirs.undelegated). */
  undelegated: readonly string[];
  /** linux.cgroupsPath was given (runc then fails rather than going without). */
  explicitPath: boolean;
}

/**
 * The driver for a new container, null for none:
 *
 *   --systemd-cgroup               systemd (the user's own, over the user bus, when rootless)
 *   root                           cgroupfs
 *   rootless, cgroups delegated    cgroupfs, in the delegated subtree
 *   rootless, none, no path given  none: the container runs in the runtime's cgroups
 *   rootless, none, a path given   an error (as runc's), naming the directory and the ways out
 */
export function chooseDriver(req: Pick<CgroupRequest, 'systemd' | 'rootless'>, facts: () => DriverFacts): CgroupDriverName | null {
  if (req.systemd) return 'systemd';
  if (!req.rootless) return 'cgroupfs';
  const { undelegated, explicitPath } = facts();
  if (undelegated.length === 0) return 'cgroupfs';
  if (!explicitPath) return null;
  throw new SystemError(
    `linux.cgroupsPath: rootless: cannot use cgroup ${undelegated[0]}: this user has no cgroups delegated there; ` +
      'leave linux.cgroupsPath out to run without cgroups, use a delegated one, or --systemd-cgroup with a user systemd',
  );
}

/** Limits a container without cgroups goes without (the resources' top-level names). */
export function limitsAsked(resources: LinuxResources | undefined): string[] {
  return Object.entries(resources ?? {})
    .filter(([name, v]) => name !== 'devices' && v !== undefined && v !== null && !(typeof v === 'object' && Object.keys(v).length === 0))
    .map(([name]) => name);
}

/** The manager of a new container's cgroup; nothing is made on the host yet. Null: no cgroup. */
export function newCgroupManager(req: CgroupRequest): CgroupManager | null {
  const layout = req.layout ?? hostLayout();
  const cgroupsPath = req.spec.linux?.cgroupsPath;
  let dirs: CgroupDirs | undefined;
  const planDirs = () => (dirs ??= CgroupDirs.plan(cgroupPathSpec(cgroupsPath, req.id), layout));
  const driver = chooseDriver(req, () => ({ undelegated: planDirs().undelegated(), explicitPath: !!cgroupsPath }));
  switch (driver) {
    case 'cgroupfs':
      return new CgroupfsManager(planDirs());
    case 'systemd':
      return SystemdManager.plan({ id: req.id, cgroupsPath, annotations: req.spec.annotations, rootless: req.rootless, layout });
    case null: {
      // Device rules need no warning: a rootless container has only the host's device
      // nodes, bound in, which the user could open anyway.
      const asked = limitsAsked(req.spec.linux?.resources);
      if (asked.length) req.warn?.(`rootless: no cgroup is delegated to this user, so linux.resources (${asked.join(', ')}) are not applied`);
      return null;
    }
  }
}

/** The manager that made this container's cgroup, from its state. */
export function cgroupManagerFromState(state: CgroupState): CgroupManager {
  if (state.systemd) return SystemdManager.fromState({ ...state, systemd: state.systemd });
  return new CgroupfsManager(CgroupDirs.fromState(state));
}

/**
 * The cgroup of a container for an operation that needs one (`what`): a rootless container
 * made without delegated cgroups has none (runc: "cgroups not configured for container").
 */
export function requireCgroup(state: CgroupState | null, what: string): CgroupManager {
  if (!state) throw new ContainerStateError(`cannot ${what}: cgroups not configured for container (it is rootless, and no cgroup was delegated to its user)`);
  return cgroupManagerFromState(state);
}
