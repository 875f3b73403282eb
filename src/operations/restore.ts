// restore: a container brought back from a checkpoint image (runc's restore). Like create,
// it makes a container record (state directory, config snapshot, cgroups, pid file,
// console) from a bundle, which may be a new one and the id a new one; but CRIU makes the
// processes, in the new cgroups (criu itself is put there first), with the new bundle's
// mounts and the namespaces it joins. prestart and createRuntime hooks run when CRIU has
// set up the namespaces. Without --detach, ts-runc waits for the container as `run` does.
// A failed restore leaves nothing: no state directory, cgroup or process.
import fs from 'node:fs';
import path from 'node:path';
import { native } from '../native/addon.js';
import { newCgroupManager } from '../linux/cgroups/factory.js';
import type { CgroupManager } from '../linux/cgroups/manager.js';
import { hostLayout, ownCgroups } from '../linux/cgroups/mode.js';
import { runHostHooks } from '../linux/hooks.js';
import { resolveRootfs } from '../linux/specconv/host-facts.js';
import { restoredMaster } from '../linux/terminal-relay.js';
import { requireCriu } from '../criu/binary.js';
import { type HostBind, type RestoreNamespaces, hostBinds, mountpoints, restoreMounts, restoreNamespaces } from '../criu/external.js';
import type { CgroupRoot, CriuCgMode, CriuOpts, CriuReq, CriuVersion, InheritFd } from '../criu/generated/rpc.js';
import { checkImageDir, prepareDir, readDescriptors } from '../criu/images.js';
import { type SharedCriuFlags, cgroupsMode, emptyNamespaces, sharedCriuOpts } from '../criu/options.js';
import { criuFailure, explainCriuFailures, requireFeatures } from '../criu/outcome.js';
import { CriuSession } from '../criu/swrk.js';
import { loadConfig } from '../spec/load.js';
import type { Spec } from '../spec/types.js';
import { checkContainerId } from '../state/container-id.js';
import { readProcStat } from '../state/liveness.js';
import { writeFileAtomic } from '../state/store.js';
import type { ContainerRecord, NamespaceState } from '../state/types.js';
import { ConfigError, RuntimeError, UsageError, errorMessage } from '../util/errors.js';
import { defaultImagePath } from './checkpoint.js';
import type { RuntimeContext } from './context.js';
import { hookState, killAndWait } from './container.js';
import { waitInForeground } from './foreground.js';
import { abandonNewContainer, claimNewContainer, newContainerRecord, settleNewContainer } from './new-container.js';

export interface RestoreOptions extends SharedCriuFlags {
  id: string;
  bundle?: string;
  /** Default: ./checkpoint (runc's). */
  imagePath?: string;
  detach?: boolean;
  pidFile?: string;
  consoleSocket?: string;
  lsmProfile?: string;
  lsmMountContext?: string;
}

const LOG_FILE = 'restore.log';
/** criu's fds: 0-2 stdio, 3 the RPC socket, then the namespaces it is handed. */
const FIRST_EXTRA_FD = 4;
/** CRIU honours the LSM options from this version on. */
const LSM_MIN_VERSION = { major: 3, minor: 16 };
/** Payload of the console-socket message, as create's child sends it. */
const CONSOLE_PAYLOAD = '/dev/ptmx';

/** runc's checks of --console-socket against process.terminal and --detach. */
function checkTerminal(spec: Spec, detach: boolean, consoleSocket: string | undefined): void {
  const terminal = spec.process?.terminal === true;
  if (detach && terminal && !consoleSocket) {
    throw new UsageError('cannot allocate tty if ts-runc will detach without setting console socket');
  }
  if ((!detach || !terminal) && consoleSocket) {
    throw new UsageError('cannot use console socket if ts-runc will not detach or allocate tty');
  }
}

/** The stdio pipes recorded at checkpoint, handed to CRIU as our own fds 0-2 (runc's inherit_fd). */
function stdioPipes(descriptors: readonly string[]): InheritFd[] {
  return descriptors.slice(0, 3).flatMap((d, fd) => (d.startsWith('pipe:') ? [{ key: d, fd }] : []));
}

/** CRIU's cgroup roots: where criu itself was put, per controller ("" for v2). */
function cgroupRoots(pid: number): CgroupRoot[] {
  return [...ownCgroups(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'))].map(([ctrl, p]) => ({ ctrl, path: p }));
}

/** The namespaces of the record: the config's, plus the time namespace CRIU restores into. */
function restoredNamespaces(spec: Spec, pid: number): NamespaceState[] {
  const out = (spec.linux?.namespaces ?? []).map((ns) => ({ type: ns.type, path: ns.path ?? '' }));
  if (!out.some((ns) => ns.type === 'time')) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/ns/time`) !== fs.readlinkSync('/proc/self/ns/time')) out.push({ type: 'time', path: '' });
    } catch {
      // no time namespaces on this kernel
    }
  }
  return out;
}

/** What restore works from, checked before anything is made. */
interface RestoreInputs {
  opts: RestoreOptions;
  spec: Spec;
  bundle: string;
  rootfs: string;
  imageDir: string;
  workDir: string | undefined;
  descriptors: string[];
  mode: CriuCgMode;
  emptyNs: number;
}

/** The RESTORE request: our fds, criu's cgroups, the new bundle's mounts and namespaces. */
function restoreRequest(r: RestoreInputs, criuPid: number, binds: HostBind[], namespaces: RestoreNamespaces, imagesFd: number, workFd: number): CriuReq {
  const { opts, spec } = r;
  const criuOpts: CriuOpts = {
    ...sharedCriuOpts(opts, { imagesFd, workFd, logFile: LOG_FILE, root: r.rootfs, mode: r.mode, emptyNs: r.emptyNs }),
    evasive_devices: true,
    rst_sibling: true,
    cg_root: cgroupRoots(criuPid),
    ext_mnt: restoreMounts(binds, (spec.linux?.maskedPaths ?? []).length > 0),
    inherit_fd: [...stdioPipes(r.descriptors), ...namespaces.inheritFd],
    join_ns: namespaces.joinNs,
  };
  if (opts.lsmProfile) criuOpts.lsm_profile = opts.lsmProfile;
  if (opts.lsmMountContext) criuOpts.lsm_mount_context = opts.lsmMountContext;
  return { type: 'RESTORE', opts: criuOpts };
}

function atLeast(v: CriuVersion, min: { major: number; minor: number }): boolean {
  return v.major_number > min.major || (v.major_number === min.major && v.minor_number >= min.minor);
}

/**
 * CRIU brings the processes back (criu put into the container's cgroups first, so they start
 * there). Returns the restored pid and, for a terminal without a console socket, the pty
 * master to relay (else -1). `record.pid` is set as soon as there is a process to kill.
 */
function criuRestore(
  ctx: RuntimeContext,
  bin: string,
  r: RestoreInputs,
  record: ContainerRecord,
  cgroups: CgroupManager | null,
  binds: HostBind[],
  fds: { images: number; work: number; console: number; namespaces: RestoreNamespaces },
): { pid: number; master: number } {
  // A terminal comes back through orphan-pts-master; otherwise criu passes our stdio on.
  const terminal = r.spec.process?.terminal === true;
  const session = CriuSession.start(bin, { stdio: terminal ? ['ignore', 'ignore', 'ignore'] : [0, 1, 2], extraFds: fds.namespaces.fds });
  let master = -1;
  try {
    cgroups?.addInitProcess(session.pid);
    const version = session.requireVersion();
    if ((r.opts.lsmProfile || r.opts.lsmMountContext) && !atLeast(version, LSM_MIN_VERSION)) {
      throw new UsageError(`--lsm-profile and --lsm-mount-context need CRIU ${LSM_MIN_VERSION.major}.${LSM_MIN_VERSION.minor} or newer`);
    }
    requireFeatures(session, r.opts.lazyPages ? { lazy_pages: '--lazy-pages' } : {});
    const req = restoreRequest(r, session.pid, binds, fds.namespaces, fds.images, fds.work);
    const resp = session.request(req, (n) => {
      if (n.script === 'setup-namespaces') {
        const state = hookState(record, 'created', n.pid);
        runHostHooks('prestart', r.spec.hooks?.prestart, state);
        runHostHooks('createRuntime', r.spec.hooks?.createRuntime, state);
      } else if (n.script === 'post-restore') {
        record.pid = n.pid;
        record.pidStartTime = readProcStat(n.pid)?.startTime ?? 0;
        ctx.store.write(record);
      }
      if (n.fd < 0) return;
      if (n.script === 'orphan-pts-master' && fds.console >= 0) {
        try {
          native().sendFd(fds.console, n.fd, CONSOLE_PAYLOAD);
        } finally {
          fs.closeSync(n.fd);
        }
      } else if (n.script === 'orphan-pts-master' && master < 0) {
        master = restoredMaster(n.fd);
      } else {
        fs.closeSync(n.fd);
      }
    });
    if (!resp.success || !resp.restore) throw criuFailure('restore', resp, path.join(r.workDir ?? r.imageDir, LOG_FILE));
    return { pid: resp.restore.pid, master };
  } catch (err) {
    if (master >= 0) fs.closeSync(master);
    throw err;
  } finally {
    session.close();
  }
}

/** Mount points CRIU will mount onto, made in the root filesystem (symlink-safe). */
function makeMountpoints(spec: Spec, bundle: string, rootfs: string): void {
  for (const mp of mountpoints(spec, bundle)) {
    try {
      native().mkdirInRoot(rootfs, mp.dest, mp.file);
    } catch (err) {
      throw new RuntimeError(`create mount point ${mp.dest} in ${rootfs}: ${errorMessage(err)}`);
    }
  }
}

export async function restore(ctx: RuntimeContext, opts: RestoreOptions): Promise<number> {
  const id = checkContainerId(opts.id);
  const detach = opts.detach === true;
  const bundle = path.resolve(opts.bundle ?? '.');
  const spec = loadConfig(bundle);
  if (!spec.process) throw new ConfigError('process', 'is required');
  checkTerminal(spec, detach, opts.consoleSocket);
  const imageDir = path.resolve(opts.imagePath || defaultImagePath());
  checkImageDir(imageDir);
  const rootfs = resolveRootfs(bundle, spec);
  if ('error' in rootfs) throw new ConfigError('root.path', rootfs.error);
  const inputs: RestoreInputs = {
    opts,
    spec,
    bundle,
    rootfs: rootfs.path,
    imageDir,
    workDir: opts.workPath ? path.resolve(opts.workPath) : undefined,
    descriptors: readDescriptors(imageDir),
    mode: cgroupsMode(opts.manageCgroupsMode),
    emptyNs: emptyNamespaces(opts.emptyNs ?? []),
  };
  const bin = requireCriu(ctx.criu);
  if (ctx.store.exists(id)) throw new RuntimeError(`container with id exists: ${id}`);

  const layout = hostLayout();
  // Made as create makes them, by the driver --systemd-cgroup chooses; criu joins them as
  // the container's first process (criuRestore), so its tasks come back inside.
  const cgroups = newCgroupManager({ id, spec, layout, systemd: ctx.systemdCgroup, rootless: ctx.rootless, warn: (m) => ctx.log.warn(m) });
  const record: ContainerRecord = { ...newContainerRecord(ctx, id, bundle, inputs.rootfs, spec, cgroups), started: true };
  // As create: a restore killed from here on leaves a "creating" container delete --force removes.
  const lock = claimNewContainer(ctx, record, spec, cgroups);
  const fds: number[] = [];
  let pidfd = -1;
  let master = -1;
  try {
    cgroups?.create(spec.linux?.resources, { warn: (m) => ctx.log.warn(m), ignorePermissionErrors: ctx.rootless });

    if (inputs.workDir) prepareDir(inputs.workDir, '--work-path');
    const images = fs.openSync(imageDir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    fds.push(images);
    const work = inputs.workDir ? fs.openSync(inputs.workDir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY) : -1;
    if (work >= 0) fds.push(work);
    // runc works from inside the bundle: a relative socket path is relative to it.
    const consoleFd = opts.consoleSocket ? native().connectUnix(path.resolve(bundle, opts.consoleSocket)) : -1;
    if (consoleFd >= 0) fds.push(consoleFd);
    const namespaces = restoreNamespaces(spec, FIRST_EXTRA_FD);
    fds.push(...namespaces.fds);
    const binds = hostBinds(spec, bundle, { layout, dirs: cgroups?.dirs ?? null });
    makeMountpoints(spec, bundle, inputs.rootfs);

    const restored = explainCriuFailures(bin, () => criuRestore(ctx, bin, inputs, record, cgroups, binds, { images, work, console: consoleFd, namespaces }));
    master = restored.master;
    pidfd = native().pidfdOpen(restored.pid);
    record.pid = restored.pid;
    record.pidStartTime = readProcStat(restored.pid)?.startTime ?? 0;
    record.namespaces = restoredNamespaces(spec, restored.pid);
    settleNewContainer(ctx, record, 'running');
    if (opts.pidFile) writeFileAtomic(path.resolve(opts.pidFile), String(restored.pid), 0o644);
  } catch (err) {
    if (pidfd >= 0) fs.closeSync(pidfd);
    if (master >= 0) fs.closeSync(master);
    killAndWait(record);
    abandonNewContainer(ctx, record, spec, err, 'restore');
    throw err;
  } finally {
    for (const fd of fds) fs.closeSync(fd);
    lock.release();
  }
  if (detach) {
    fs.closeSync(pidfd);
    return 0;
  }
  return waitInForeground(ctx, record, spec, pidfd, master, false);
}
