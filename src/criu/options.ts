// Command-line values turned into CRIU's terms, checked before anything is touched.
import { NAMESPACES } from '../linux/namespaces.js';
import { UsageError } from '../util/errors.js';
import type { CriuCgMode, CriuOpts, CriuPageServerInfo } from './generated/rpc.js';

/** --manage-cgroups-mode: runc's names; none given is CRIU's default (soft). */
const CGROUP_MODES: Readonly<Record<string, CriuCgMode>> = {
  '': 'DEFAULT',
  soft: 'SOFT',
  full: 'FULL',
  strict: 'STRICT',
  ignore: 'IGNORE',
};

export function cgroupsMode(value: string | undefined): CriuCgMode {
  const mode = CGROUP_MODES[value ?? ''];
  if (!mode) throw new UsageError(`invalid --manage-cgroups-mode value "${value}": soft, full, strict or ignore`);
  return mode;
}

/** --empty-ns: the namespaces CRIU makes but does not restore the contents of. */
const EMPTY_NS: Readonly<Record<string, number>> = { network: NAMESPACES.network.flag };

/**
 * The CLONE_NEW* mask for CRIU's empty_ns. The network namespace is always in it, as in
 * runc: the runtime does not manage network devices, so their configuration is not saved.
 */
export function emptyNamespaces(names: readonly string[]): number {
  let mask = NAMESPACES.network.flag;
  for (const name of names) {
    const flag = EMPTY_NS[name];
    if (flag === undefined) throw new UsageError(`--empty-ns: namespace "${name}" is not supported (only "network")`);
    mask |= flag;
  }
  return mask;
}

/** --page-server ADDRESS:PORT (an IPv6 address in brackets). */
export function pageServer(value: string): CriuPageServerInfo {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value);
  const address = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!address || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`--page-server "${value}": use --page-server ADDRESS:PORT`);
  }
  return { address, port };
}

/** The flags checkpoint and restore both take (runc's), as their options carry them. */
export interface SharedCriuFlags {
  workPath?: string;
  tcpEstablished?: boolean;
  extUnixSk?: boolean;
  shellJob?: boolean;
  lazyPages?: boolean;
  fileLocks?: boolean;
  manageCgroupsMode?: string;
  emptyNs?: string[];
  autoDedup?: boolean;
}

/** Where CRIU works for one request: our fds on the image and work directories (-1: none). */
export interface CriuWorkplace {
  imagesFd: number;
  workFd: number;
  logFile: string;
  root: string;
  mode: CriuCgMode;
  emptyNs: number;
}

/** The part of CRIU's options a dump and a restore share: the directories, the log, the shared flags. */
export function sharedCriuOpts(flags: SharedCriuFlags, w: CriuWorkplace): CriuOpts {
  const opts: CriuOpts = {
    images_dir_fd: w.imagesFd,
    log_level: 4,
    log_file: w.logFile,
    root: w.root,
    manage_cgroups: true,
    manage_cgroups_mode: w.mode,
    notify_scripts: true,
    shell_job: flags.shellJob === true,
    ext_unix_sk: flags.extUnixSk === true,
    tcp_established: flags.tcpEstablished === true,
    file_locks: flags.fileLocks === true,
    empty_ns: w.emptyNs,
    orphan_pts_master: true,
    auto_dedup: flags.autoDedup === true,
    lazy_pages: flags.lazyPages === true,
  };
  if (w.workFd >= 0) opts.work_dir_fd = w.workFd;
  return opts;
}
