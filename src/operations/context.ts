// What every operation gets from the command line's global flags.
import { type RootlessFacts, type StateRoot, hostRootlessFacts, parseRootlessFlag, requireStateRoot, rootlessCgroups, stateRoot } from '../linux/rootless.js';
import { StateStore } from '../state/store.js';
import type { Logger } from '../util/log.js';

export interface RuntimeContext {
  /** Container state under --root (or the default root); throws when there is none to be had. */
  readonly store: StateStore;
  log: Logger;
  /** --rootless true|false|auto: cgroup permission errors are worked around (runc's rootless cgroup manager). */
  readonly rootless: boolean;
  /** --systemd-cgroup: new containers get the systemd cgroup driver. */
  systemdCgroup: boolean;
  /** --criu: the criu binary for checkpoint and restore (absent: "criu" from $PATH). */
  criu?: string;
}

/** The default --root of this process (see stateRoot). */
export function defaultStateRoot(facts: RootlessFacts = hostRootlessFacts(), env: NodeJS.ProcessEnv = process.env): StateRoot {
  return stateRoot(env, facts);
}

/**
 * `root`: --root as given, or undefined for the default. The state store is made on first
 * use, so that commands without state (spec, features) work without a state root.
 */
export function makeContext(root: string | undefined, log: Logger, rootless: string | undefined, systemdCgroup = false, criu?: string): RuntimeContext {
  const facts = hostRootlessFacts();
  const rootlessFlag = parseRootlessFlag(rootless);
  let store: StateStore | undefined;
  let isRootless: boolean | undefined;
  return {
    get store() {
      if (!store) {
        const where = root === undefined ? requireStateRoot(defaultStateRoot(facts)) : { root, private: false };
        store = new StateStore(where.root, { private: where.private });
      }
      return store;
    },
    log,
    // Asked only by the operations that touch cgroups: root reads /proc/self/uid_map for it.
    get rootless() {
      isRootless ??= rootlessCgroups(rootlessFlag, systemdCgroup, facts);
      return isRootless;
    },
    systemdCgroup,
    criu,
  };
}
