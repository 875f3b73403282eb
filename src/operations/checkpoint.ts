// checkpoint: CRIU saves a running container to an image directory (runc's checkpoint).
// The runtime prepares what CRIU cannot know: which mounts and namespaces are outside the
// container, its cgroups (frozen through the freezer), what its stdio were. Afterwards the
// container is gone (CRIU killed it; we remove its state and cgroups, poststop hooks run)
// unless --leave-running or --pre-dump. A failed checkpoint leaves it running as it was:
// CRIU resumes the tasks, and nothing of ours has changed.
import fs from 'node:fs';
import path from 'node:path';
import { CgroupDirs, UNIFIED } from '../linux/cgroups/dirs.js';
import { requireCriu } from '../criu/binary.js';
import { dumpMounts, dumpNamespaces, hostBinds, maskedFiles } from '../criu/external.js';
import type { CriuCgMode, CriuOpts, CriuPageServerInfo, CriuReq } from '../criu/generated/rpc.js';
import { prepareDir, prepareEmptyDir, stdioDescriptors, writeDescriptors } from '../criu/images.js';
import { type SharedCriuFlags, cgroupsMode, emptyNamespaces, pageServer, sharedCriuOpts } from '../criu/options.js';
import { type FeatureNeeds, criuFailure, explainCriuFailures, requireFeatures } from '../criu/outcome.js';
import { CriuSession } from '../criu/swrk.js';
import { hostLayout } from '../linux/cgroups/mode.js';
import { withLock } from '../state/lock.js';
import type { Spec } from '../spec/types.js';
import type { ContainerRecord } from '../state/types.js';
import { ContainerStateError, RuntimeError, UsageError, describeFsError } from '../util/errors.js';
import type { RuntimeContext } from './context.js';
import { destroyContainer, killAndWait, liveStatus, readSnapshot } from './container.js';

export interface CheckpointOptions extends SharedCriuFlags {
  id: string;
  /** Default: ./checkpoint (runc's). */
  imagePath?: string;
  /** Relative to the image path (a previous --pre-dump). */
  parentPath?: string;
  leaveRunning?: boolean;
  tcpSkipInFlight?: boolean;
  linkRemap?: boolean;
  /** An fd of ours CRIU's lazy-pages readiness is reported on (a \0 byte); -1: none. */
  statusFd?: number;
  pageServer?: string;
  preDump?: boolean;
}

const LOG_FILE = 'dump.log';

/** The default image directory, runc's: ./checkpoint. */
export function defaultImagePath(): string {
  return path.resolve('checkpoint');
}

/** --parent-path: relative to the image directory, and an existing directory there. */
function checkParentPath(imageDir: string, parent: string): void {
  if (path.isAbsolute(parent)) throw new UsageError('--parent-path must be relative (to --image-path)');
  const real = path.join(imageDir, parent);
  let st: fs.Stats;
  try {
    st = fs.statSync(real);
  } catch (err) {
    throw new UsageError(`invalid --parent-path: ${describeFsError(err)}`);
  }
  if (!st.isDirectory()) throw new UsageError(`invalid --parent-path: ${real} is not a directory`);
}

/** --status-fd: one of our descriptors, open for writing. */
function checkStatusFd(fd: number): void {
  let info: string;
  try {
    info = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
  } catch {
    throw new UsageError(`invalid --status-fd argument ${fd}: bad file descriptor`);
  }
  const flags = parseInt(/^flags:\s*([0-7]+)/m.exec(info)?.[1] ?? '0', 8);
  if ((flags & 3) === fs.constants.O_RDONLY) throw new UsageError(`invalid --status-fd argument ${fd}: not writable`);
}

/** The cgroup CRIU freezes the container through: the v1 freezer, or the v2 directory. */
function freezerCgroup(rec: ContainerRecord): string | undefined {
  if (!rec.cgroup) return undefined;
  const cg = CgroupDirs.fromState(rec.cgroup);
  return cg.hasV1('freezer') ? cg.dirs.freezer : rec.cgroup.mode === 'v2' ? cg.dirs[UNIFIED] : undefined;
}

/** What the command line asked of CRIU, checked before the container is touched. */
interface DumpSettings {
  mode: CriuCgMode;
  emptyNs: number;
  ps: CriuPageServerInfo | undefined;
  statusFd: number;
  imageDir: string;
  workDir: string | undefined;
}

/** The DUMP (or PRE_DUMP) request for the container; CRIU opens our fds through /proc. */
function dumpRequest(opts: CheckpointOptions, s: DumpSettings, rec: ContainerRecord, spec: Spec, imagesFd: number, workFd: number): CriuReq {
  const criuOpts: CriuOpts = {
    ...sharedCriuOpts(opts, { imagesFd, workFd, logFile: LOG_FILE, root: rec.rootfs, mode: s.mode, emptyNs: s.emptyNs }),
    pid: rec.pid,
    leave_running: opts.leaveRunning === true,
    tcp_skip_in_flight: opts.tcpSkipInFlight === true,
    link_remap: opts.linkRemap === true,
    external: dumpNamespaces(spec, rec.pid),
  };
  const freezer = freezerCgroup(rec);
  if (freezer) criuOpts.freeze_cgroup = freezer;
  if (s.ps) criuOpts.ps = s.ps;
  if (opts.parentPath) {
    criuOpts.parent_img = opts.parentPath;
    criuOpts.track_mem = true;
  }
  if (!opts.preDump) {
    // A pre-dump saves memory only.
    const binds = hostBinds(spec, rec.bundle, { layout: hostLayout(), dirs: rec.cgroup?.dirs ?? null });
    criuOpts.ext_mnt = dumpMounts(binds, maskedFiles(spec, rec.pid));
  }
  return { type: opts.preDump ? 'PRE_DUMP' : 'DUMP', opts: criuOpts };
}

/** CRIU saves the container into s.imageDir (or fails, and the container runs on). */
function dump(ctx: RuntimeContext, bin: string, opts: CheckpointOptions, s: DumpSettings, rec: ContainerRecord, spec: Spec): void {
  const fds: number[] = [];
  const session = CriuSession.start(bin);
  try {
    const imagesFd = fs.openSync(s.imageDir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    fds.push(imagesFd);
    const workFd = s.workDir ? fs.openSync(s.workDir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY) : -1;
    if (workFd >= 0) fds.push(workFd);
    session.requireVersion();
    const needs: FeatureNeeds = {};
    if (opts.preDump || opts.parentPath) needs.mem_track = opts.preDump ? '--pre-dump' : '--parent-path';
    if (opts.lazyPages) needs.lazy_pages = '--lazy-pages';
    requireFeatures(session, needs);

    const req = dumpRequest(opts, s, rec, spec, imagesFd, workFd);
    if (!opts.preDump) writeDescriptors(s.imageDir, stdioDescriptors(rec.pid));
    let statusOpen = s.statusFd >= 0;
    const resp = session.request(req, (n) => {
      if (n.fd >= 0) fs.closeSync(n.fd);
      if (n.script !== 'status-ready' || !statusOpen) return;
      // The lazy-pages server is up: tell whoever waits on --status-fd.
      statusOpen = false;
      try {
        fs.writeSync(s.statusFd, Buffer.from([0]));
      } catch (err) {
        ctx.log.warn(`can't write \\0 to status fd: ${describeFsError(err)}`);
      } finally {
        fs.closeSync(s.statusFd);
      }
    });
    if (!resp.success) throw criuFailure('checkpoint', resp, path.join(s.workDir ?? s.imageDir, LOG_FILE));
  } finally {
    session.close();
    for (const fd of fds) fs.closeSync(fd);
  }
}

export function checkpoint(ctx: RuntimeContext, opts: CheckpointOptions): void {
  const statusFd = opts.statusFd ?? -1;
  if (statusFd >= 0) checkStatusFd(statusFd);
  const settings: DumpSettings = {
    mode: cgroupsMode(opts.manageCgroupsMode),
    emptyNs: emptyNamespaces(opts.emptyNs ?? []),
    ps: opts.pageServer ? pageServer(opts.pageServer) : undefined,
    statusFd,
    imageDir: path.resolve(opts.imagePath || defaultImagePath()),
    workDir: opts.workPath ? path.resolve(opts.workPath) : undefined,
  };
  const bin = requireCriu(ctx.criu);

  withLock(ctx.store, opts.id, () => {
    const rec = ctx.store.read(opts.id);
    const status = liveStatus(ctx.store, rec);
    if (status !== 'running' && status !== 'paused') {
      throw new ContainerStateError(`Container cannot be checkpointed in ${status} state`);
    }
    const spec = readSnapshot(ctx.store, opts.id);
    prepareEmptyDir(settings.imageDir, '--image-path');
    if (opts.parentPath) checkParentPath(settings.imageDir, opts.parentPath);
    if (settings.workDir) prepareDir(settings.workDir, '--work-path');
    explainCriuFailures(bin, () => dump(ctx, bin, opts, settings, rec, spec));
    if (opts.leaveRunning || opts.preDump) return;
    // CRIU killed the processes once they were saved: what remains is ours to remove.
    killAndWait(rec);
    try {
      destroyContainer(ctx, rec, spec);
    } catch (err) {
      if (err instanceof RuntimeError) ctx.log.warn(err.message);
      else throw err;
    }
  });
}
