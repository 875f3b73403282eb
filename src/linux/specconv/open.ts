// After the conversion: open what the draft names (namespace paths to join, id-mapped
// trees, the console socket) and hand back the SpawnPlan the addon takes. One function
// opens them all, so one place closes them all when any step fails.
import fs from 'node:fs';
import { native } from '../../native/addon.js';
import type { SpawnPlan } from '../../native/plan-types.js';
import { ConfigError, RuntimeError, SystemError, errorMessage } from '../../util/errors.js';
import { IdmapTrees } from '../idmap-mounts.js';
import { MS_REC } from '../mount-options.js';
import type { PlanDraft } from './draft.js';

/** The descriptors an operation provides itself (it keeps and closes them). */
export interface GivenFds {
  /** Installed as 0, 1, 2 in the process; the runtime's own by default. */
  stdio?: [number, number, number];
  /**
   * The console socket (a terminal's master goes there): a path to connect to, or an fd;
   * relay: the runtime's own socket pair, the runtime relays the pty (run/exec -t).
   */
  console?: { path: string } | { fd: number; relay?: boolean } | null;
  /** create: the fifo tsrunc-init blocks on until `start`. */
  execFifoFd?: number;
  /** pidfd of the container's init, for a plan that joins it. */
  initPidfd?: number;
}

export interface OpenedPlan {
  plan: SpawnPlan;
  /** The fds opened here: the caller closes them once the plan is launched. */
  fds: number[];
}

function openNamespace(path: string, field: string): number {
  try {
    return fs.openSync(path, fs.constants.O_RDONLY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(field, `${path}: ${code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
}

/** A device node the runtime makes for a container in a user namespace (DeviceDraft.node). */
function makeNode(d: { path: string; mode: number; major: number; minor: number }, owner: { uid: number; gid: number }): number {
  try {
    return native().deviceNodeTree(d.mode, d.major, d.minor, owner.uid, owner.gid);
  } catch (err) {
    throw new SystemError(`linux.devices: cannot make ${d.path}: ${errorMessage(err)}`, (err as NodeJS.ErrnoException).code ?? '');
  }
}

export function openPlan(draft: PlanDraft, given: GivenFds = {}): OpenedPlan {
  if (draft.joinInit && given.initPidfd === undefined) throw new RuntimeError('internal error: a plan that joins a container needs its init pidfd');
  const fds: number[] = [];
  const opened = (fd: number) => {
    fds.push(fd);
    return fd;
  };
  try {
    const console = given.console;
    const consoleSocketFd = !console ? -1 : 'fd' in console ? console.fd : opened(native().connectUnix(console.path));
    const joins = draft.joins.map((j) => ({ fd: opened(openNamespace(j.path, j.field)), nstype: j.nstype, path: j.path }));
    const trees = new IdmapTrees(fds);
    const mounts = draft.mounts.map(({ idmap, detach, ...m }) => ({
      ...m,
      mountFd: idmap ? trees.make(idmap) : detach && m.source !== null ? trees.clone(m.source, (m.flags & MS_REC) !== 0, m.dest) : -1,
    }));
    const devices = draft.devices.map(({ node, ...d }) => ({ ...d, mountFd: node ? opened(makeNode(d, node)) : -1 }));
    const { joinInit, ...rest } = draft;
    const plan: SpawnPlan = {
      ...rest,
      joins,
      devices,
      joinPidfd: joinInit ? (given.initPidfd as number) : -1,
      mounts,
      process: {
        ...draft.process,
        consoleSocketFd,
        consoleRelayed: !!console && 'relay' in console && console.relay === true,
        stdioFds: given.stdio ?? [0, 1, 2],
        execFifoFd: given.execFifoFd ?? -1,
      },
    };
    return { plan, fds };
  } catch (err) {
    for (const fd of fds) fs.closeSync(fd);
    throw err;
  }
}
