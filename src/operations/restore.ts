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
import { applyResources } from '../linux/cgroups/apply.js';
import { CgroupDriver } from '../linux/cgroups/driver.js';
import { hostLayout, ownCgroups } from '../linux/cgroups/mode.js';
import { cgroupPathSpec } from '../linux/cgroups/path.js';
import { runHostHooks } from '../linux/hooks.js';
import { requireCriu } from '../criu/binary.js';
import { hostBinds, mountpoints, restoreMounts, restoreNamespaces } from '../criu/external.js';
import type { CgroupRoot, CriuOpts, InheritFd } from '../criu/generated/rpc.js';
import { checkImageDir, prepareDir, readDescriptors } from '../criu/images.js';
import { cgroupsMode, emptyNamespaces } from '../criu/options.js';
import { criuFailure, explainCriuFailures, requireFeatures } from '../criu/outcome.js';
import { CriuSession } from '../criu/swrk.js';
import { loadConfig } from '../spec/load.js';
import { OCI_VERSION } from '../spec/defaults.js';
import type { Spec } from '../spec/types.js';
import { checkContainerId } from '../state/container-id.js';
import { readProcStat } from '../state/liveness.js';
import { ContainerLock } from '../state/lock.js';
import { CONFIG_FILE, writeFileAtomic } from '../state/store.js';
import type { ContainerRecord, NamespaceState } from '../state/types.js';
import { ConfigError, HookError, RuntimeError, UsageError, errorMessage } from '../util/errors.js';
import { defaultImagePath } from './checkpoint.js';
import type { RuntimeContext } from './context.js';
import { destroyContainer, hookState, killAndWait } from './container.js';
import { nowRfc3339Nano, resolveRootfs } from './create.js';
import { waitInForeground } from './run.js';

export interface RestoreOptions {
  id: string;
  bundle?: string;
  /** Default: ./checkpoint (runc's). */
  imagePath?: string;
  workPath?: string;
  detach?: boolean;
  pidFile?: string;
  consoleSocket?: string;
  tcpEstablished?: boolean;
  extUnixSk?: boolean;
  shellJob?: boolean;
  fileLocks?: boolean;
  manageCgroupsMode?: string;
  lazyPages?: boolean;
  emptyNs?: string[];
  autoDedup?: boolean;
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

export async function restore(ctx: RuntimeContext, opts: RestoreOptions): Promise<number> {
  const id = checkContainerId(opts.id);
  const mode = cgroupsMode(opts.manageCgroupsMode);
  const emptyNs = emptyNamespaces(opts.emptyNs ?? []);
  const detach = opts.detach === true;
  const bundle = path.resolve(opts.bundle ?? '.');
  const spec = loadConfig(bundle);
  if (!spec.process) throw new ConfigError('process', 'is required');
  checkTerminal(spec, detach, opts.consoleSocket);
  const imageDir = path.resolve(opts.imagePath || defaultImagePath());
  checkImageDir(imageDir);
  const descriptors = readDescriptors(imageDir);
  const workDir = opts.workPath ? path.resolve(opts.workPath) : undefined;
  const bin = requireCriu(ctx.criu);
  const rootfs = resolveRootfs(bundle, spec);
  if (ctx.store.exists(id)) throw new RuntimeError(`container with id exists: ${id}`);

  ctx.store.createDir(id);
  const lock = ContainerLock.forNewContainer(ctx.store, id);
  const record: ContainerRecord = {
    ociVersion: OCI_VERSION,
    id,
    status: 'creating',
    pid: 0,
    pidStartTime: 0,
    bundle,
    rootfs,
    annotations: spec.annotations,
    created: nowRfc3339Nano(),
    owner: '',
    cgroup: null,
    namespaces: [],
    rootless: ctx.rootless,
    started: true,
  };
  const fds: number[] = [];
  // Assigned inside a closure: typed so that TypeScript does not narrow it to null here.
  let session = null as CriuSession | null;
  let pidfd = -1;
  let master = -1;
  try {
    writeFileAtomic(ctx.store.file(id, CONFIG_FILE), JSON.stringify(spec));
    const layout = hostLayout();
    const cgroups = CgroupDriver.plan(cgroupPathSpec(spec.linux?.cgroupsPath, id), layout);
    record.cgroup = cgroups.toState();
    cgroups.create();
    applyResources(cgroups, spec.linux?.resources, { warn: (m) => ctx.log.warn(m), ignorePermissionErrors: ctx.rootless });
    ctx.store.write(record);

    if (workDir) prepareDir(workDir, '--work-path');
    const imagesFd = fs.openSync(imageDir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    fds.push(imagesFd);
    const workFd = workDir ? fs.openSync(workDir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY) : -1;
    if (workFd >= 0) fds.push(workFd);
    // runc works from inside the bundle: a relative socket path is relative to it.
    const consoleFd = opts.consoleSocket ? native().connectUnix(path.resolve(bundle, opts.consoleSocket)) : -1;
    if (consoleFd >= 0) fds.push(consoleFd);
    const namespaces = restoreNamespaces(spec, FIRST_EXTRA_FD);
    fds.push(...namespaces.fds);
    const binds = hostBinds(spec, bundle, cgroups, layout);
    for (const mp of mountpoints(spec, bundle)) {
      try {
        native().mkdirInRoot(rootfs, mp.dest, mp.file);
      } catch (err) {
        throw new RuntimeError(`create mount point ${mp.dest} in ${rootfs}: ${errorMessage(err)}`);
      }
    }

    // A terminal comes back through orphan-pts-master; otherwise criu passes our stdio on.
    const terminal = spec.process.terminal === true;
    const pid = explainCriuFailures(bin, () => {
      const started = CriuSession.start(bin, { stdio: terminal ? ['ignore', 'ignore', 'ignore'] : [0, 1, 2], extraFds: namespaces.fds });
      session = started;
      // The restored processes are criu's (CLONE_PARENT: our) children: they start in its cgroups.
      cgroups.addProcess(started.pid);
      const version = started.requireVersion();
      if ((opts.lsmProfile || opts.lsmMountContext) && (version.major_number < LSM_MIN_VERSION.major || (version.major_number === LSM_MIN_VERSION.major && version.minor_number < LSM_MIN_VERSION.minor))) {
        throw new UsageError(`--lsm-profile and --lsm-mount-context need CRIU ${LSM_MIN_VERSION.major}.${LSM_MIN_VERSION.minor} or newer`);
      }
      requireFeatures(session, opts.lazyPages ? { lazy_pages: '--lazy-pages' } : {});

      const criuOpts: CriuOpts = {
        images_dir_fd: imagesFd,
        evasive_devices: true,
        log_level: 4,
        log_file: LOG_FILE,
        rst_sibling: true,
        root: rootfs,
        manage_cgroups: true,
        manage_cgroups_mode: mode,
        notify_scripts: true,
        shell_job: opts.shellJob === true,
        ext_unix_sk: opts.extUnixSk === true,
        tcp_established: opts.tcpEstablished === true,
        file_locks: opts.fileLocks === true,
        empty_ns: emptyNs,
        orphan_pts_master: true,
        auto_dedup: opts.autoDedup === true,
        lazy_pages: opts.lazyPages === true,
        cg_root: cgroupRoots(started.pid),
        ext_mnt: restoreMounts(binds, (spec.linux?.maskedPaths ?? []).length > 0),
        inherit_fd: [...stdioPipes(descriptors), ...namespaces.inheritFd],
        join_ns: namespaces.joinNs,
      };
      if (workFd >= 0) criuOpts.work_dir_fd = workFd;
      if (opts.lsmProfile) criuOpts.lsm_profile = opts.lsmProfile;
      if (opts.lsmMountContext) criuOpts.lsm_mount_context = opts.lsmMountContext;

      const resp = started.request({ type: 'RESTORE', opts: criuOpts }, (n) => {
        if (n.script === 'setup-namespaces') {
          const state = hookState(record, 'creating', n.pid);
          runHostHooks('prestart', spec.hooks?.prestart, state);
          runHostHooks('createRuntime', spec.hooks?.createRuntime, state);
        } else if (n.script === 'post-restore') {
          // From here on a failure has processes to kill.
          record.pid = n.pid;
          record.pidStartTime = readProcStat(n.pid)?.startTime ?? 0;
          ctx.store.write(record);
        }
        if (n.fd < 0) return;
        if (n.script === 'orphan-pts-master' && consoleFd >= 0) {
          try {
            native().sendFd(consoleFd, n.fd, CONSOLE_PAYLOAD);
          } finally {
            fs.closeSync(n.fd);
          }
        } else if (n.script === 'orphan-pts-master' && master < 0) {
          master = n.fd;
        } else {
          fs.closeSync(n.fd);
        }
      });
      if (!resp.success || !resp.restore) throw criuFailure('restore', resp, path.join(workDir ?? imageDir, LOG_FILE));
      started.close();
      return resp.restore.pid;
    });
    pidfd = native().pidfdOpen(pid);
    record.pid = pid;
    record.pidStartTime = readProcStat(pid)?.startTime ?? 0;
    record.namespaces = restoredNamespaces(spec, pid);
    record.status = 'running';
    ctx.store.write(record);
    if (opts.pidFile) writeFileAtomic(path.resolve(opts.pidFile), String(pid), 0o644);
  } catch (err) {
    session?.close();
    if (pidfd >= 0) fs.closeSync(pidfd);
    if (master >= 0) fs.closeSync(master);
    killAndWait(record);
    try {
      destroyContainer(ctx, record, err instanceof HookError ? spec : null);
    } catch (cleanupErr) {
      ctx.log.warn(`cleanup after failed restore: ${errorMessage(cleanupErr)}`);
    }
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
