// Which cgroup manager serves a container: chosen once at create time from the host's
// layout and the global flags, recorded in state.json, and rebuilt from there by every
// later command (whatever flags those are given, as runc does with its state).
import type { Spec } from '../../spec/types.js';
import type { CgroupState } from '../../state/types.js';
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
  rootless: boolean;
  /** The host's unless a test gives one. */
  layout?: CgroupLayout;
}

/**
 * The driver for a new container. The rows a rootless runtime adds go here: no delegated
 * subtree -> no cgroup (a warning when limits were asked), the user's systemd -> systemd on
 * the user bus.
 */
export function chooseDriver(req: Pick<CgroupRequest, 'systemd' | 'rootless'>): CgroupDriverName {
  return req.systemd ? 'systemd' : 'cgroupfs';
}

/** The manager of a new container's cgroup; nothing is made on the host yet. Null: no cgroup. */
export function newCgroupManager(req: CgroupRequest): CgroupManager | null {
  const layout = req.layout ?? hostLayout();
  switch (chooseDriver(req)) {
    case 'cgroupfs':
      return new CgroupfsManager(CgroupDirs.plan(cgroupPathSpec(req.spec.linux?.cgroupsPath, req.id), layout));
    case 'systemd':
      return SystemdManager.plan({ id: req.id, cgroupsPath: req.spec.linux?.cgroupsPath, annotations: req.spec.annotations, rootless: req.rootless, layout });
  }
}

/** The manager that made this container's cgroup, from its state. */
export function cgroupManagerFromState(state: CgroupState): CgroupManager {
  if (state.systemd) return SystemdManager.fromState({ ...state, systemd: state.systemd });
  return new CgroupfsManager(CgroupDirs.fromState(state));
}
