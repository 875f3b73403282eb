// What every operation gets from the command line's global flags.
import { StateStore } from '../state/store.js';
import type { Logger } from '../util/log.js';

export interface RuntimeContext {
  store: StateStore;
  log: Logger;
  /** --rootless: "true", "false" or "auto" (auto: rootless when not running as root). */
  rootless: boolean;
  /** --systemd-cgroup: new containers get the systemd cgroup driver. */
  systemdCgroup: boolean;
  /** --criu: the criu binary for checkpoint and restore (absent: "criu" from $PATH). */
  criu?: string;
}

export function makeContext(root: string, log: Logger, rootless: string | undefined, systemdCgroup = false, criu?: string): RuntimeContext {
  const euid = process.geteuid?.() ?? 0;
  const isRootless = rootless === 'true' || ((rootless === undefined || rootless === 'auto') && euid !== 0);
  return { store: new StateStore(root), log, rootless: isRootless, systemdCgroup, criu };
}
