// A validated config.json (plus create's options) -> the SpawnPlan for the container's
// init. Everything decided here is data; the child only carries it out.
import fs from 'node:fs';
import type { SpawnPlan } from '../native/plan-types.js';
import type { Spec } from '../spec/types.js';
import { ConfigError } from '../util/errors.js';
import type { NamespaceState } from '../state/types.js';
import type { CgroupDriver } from './cgroups/driver.js';
import type { CgroupLayout } from './cgroups/mode.js';
import { planDevSymlinks, planDevices } from './devices.js';
import { ROOTFS_PROPAGATION } from './mount-options.js';
import { cleanDest, devIsBindMounted, planMounts } from './mounts.js';
import { CLONE_NEWUSER, JOIN_ORDER, NAMESPACES, type NamespaceType, namespaceInfo } from './namespaces.js';
import { PERSONALITY_DOMAINS, lookup } from './process-attrs.js';
import { planProcess } from './process-plan.js';
import { planSeccomp } from './seccomp.js';
import { IdmappedMounts, checkIdmapMounts } from './idmap-mounts.js';
import { checkIntelRdt } from './intel-rdt.js';
import { applyMountLabel } from './lsm.js';
import { checkProcMounts, guardProcMounts } from './proc-mounts.js';

export interface ContainerPlanInput {
  id: string;
  bundle: string;
  spec: Spec;
  /** Absolute, symlink-free host path of the root filesystem. */
  rootfs: string;
  noPivot: boolean;
  noNewKeyring: boolean;
  consoleSocketFd: number;
  preserveFds: number;
  execFifoFd: number;
  cgroups: CgroupDriver | null;
  layout: CgroupLayout;
  rootless: boolean;
  warn: (msg: string) => void;
}

export interface ContainerPlan {
  plan: SpawnPlan;
  /** Namespace fds opened for joins; close after the launch. */
  openedFds: number[];
  namespaces: NamespaceState[];
  /** CLONE_NEW* of every namespace the container has (new or joined), for setns later. */
  nsFlags: number;
  newUserns: boolean;
}

function timensText(spec: Spec): string | null {
  const offsets = spec.linux?.timeOffsets;
  if (!offsets) return null;
  return Object.entries(offsets)
    .map(([clock, o]) => `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}\n`)
    .join('');
}

export function planContainer(input: ContainerPlanInput): ContainerPlan {
  const { spec } = input;
  const linux = spec.linux ?? {};
  const process = spec.process;
  if (!process) throw new ConfigError('process', 'is required');

  // Namespaces: new ones become clone/unshare flags, ones with a path are joined.
  const openedFds: number[] = [];
  const namespaces: NamespaceState[] = [];
  const joins: SpawnPlan['joins'] = [];
  let unshareFlags = 0;
  let nsFlags = 0;
  let newUserns = false;
  const present = new Map<NamespaceType, string>();
  try {
    (linux.namespaces ?? []).forEach((ns, i) => {
      const info = namespaceInfo(ns.type, `linux.namespaces[${i}].type`);
      present.set(ns.type as NamespaceType, ns.path ?? '');
      namespaces.push({ type: ns.type, path: ns.path ?? '' });
      nsFlags |= info.flag;
      if (ns.path) return;
      if (info.flag === CLONE_NEWUSER) newUserns = true;
      else unshareFlags |= info.flag;
    });
    for (const type of JOIN_ORDER) {
      const path = present.get(type);
      if (!path) continue;
      let fd: number;
      try {
        fd = fs.openSync(path, fs.constants.O_RDONLY);
      } catch (err) {
        const i = (linux.namespaces ?? []).findIndex((n) => n.type === type);
        throw new ConfigError(`linux.namespaces[${i}].path`, `${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
      }
      openedFds.push(fd);
      joins.push({ fd, nstype: NAMESPACES[type].flag, path });
    }
  } catch (err) {
    for (const fd of openedFds) fs.closeSync(fd);
    throw err;
  }
  const has = (t: NamespaceType) => present.has(t);
  const isNew = (t: NamespaceType) => present.get(t) === '';
  const inUserns = has('user');

  if ((spec.hostname || spec.domainname) && !has('uts')) {
    throw new ConfigError(spec.hostname ? 'hostname' : 'domainname', 'unable to set hostname without a private UTS namespace');
  }
  if (inUserns && isNew('user') && !(linux.uidMappings?.length && linux.gidMappings?.length)) {
    throw new ConfigError('linux.uidMappings', 'user namespaces enabled, but no uid or gid mappings found');
  }
  if (!has('user') && (linux.uidMappings?.length || linux.gidMappings?.length)) {
    throw new ConfigError('linux.uidMappings', 'uid and gid mappings require a user namespace');
  }
  if (linux.timeOffsets && !isNew('time')) {
    throw new ConfigError('linux.timeOffsets', 'time offsets require a new time namespace');
  }

  const setupMounts = isNew('mount');
  const mounts = spec.mounts ?? [];
  if (!has('mount') && (linux.maskedPaths?.length || linux.readonlyPaths?.length)) {
    throw new ConfigError(linux.maskedPaths?.length ? 'linux.maskedPaths' : 'linux.readonlyPaths', 'unable to restrict sys entries without a private MNT namespace');
  }
  checkIntelRdt(spec);
  if (setupMounts) {
    checkProcMounts(mounts, input.bundle);
    checkIdmapMounts(mounts);
  }
  const idmaps = new IdmappedMounts(linux, inUserns);
  const setupDev = setupMounts && !devIsBindMounted(mounts);
  const devices = setupDev ? planDevices(linux.devices, inUserns) : [];
  const symlinks = setupDev ? planDevSymlinks() : [];
  let mountPlans: SpawnPlan['mounts'] = [];
  try {
    mountPlans = setupMounts
      ? planMounts(mounts, {
          bundle: input.bundle,
          cgroupns: isNew('cgroup'),
          cgroups: input.cgroups,
          layout: input.layout,
          laterPaths: [...devices.map((d) => d.path), ...symlinks.map((s) => s.path), '/dev/console'],
          prepareBind: idmaps.prepare,
        })
      : [];
  } catch (err) {
    idmaps.closeAll();
    throw err;
  }
  openedFds.push(...idmaps.fds);
  guardProcMounts(mountPlans);
  applyMountLabel(mountPlans, linux.mountLabel);

  const hooks = spec.hooks ?? {};
  const hooksSync = [hooks.prestart, hooks.createRuntime, hooks.createContainer].some((h) => h && h.length > 0);
  const propagation = linux.rootfsPropagation ? lookup(ROOTFS_PROPAGATION, linux.rootfsPropagation, 'linux.rootfsPropagation', 'rootfs propagation') : 0;
  const personality = linux.personality
    ? lookup(PERSONALITY_DOMAINS, linux.personality.domain, 'linux.personality.domain', 'personality domain')
    : -1;

  const sysctls = Object.entries(linux.sysctl ?? {}).map(([key, value]) => {
    if (key.includes('..') || key.startsWith('/')) throw new ConfigError(`linux.sysctl["${key}"]`, 'invalid sysctl name');
    return { key: key.replace(/\./g, '/'), value: String(value) };
  });

  const processPlan = planProcess(process, {
    stdio: [0, 1, 2],
    consoleSocketFd: input.consoleSocketFd,
    preserveFds: input.preserveFds,
    execFifoFd: input.execFifoFd,
    setGroups: !(input.rootless && newUserns),
    oomScoreAdj: process.oomScoreAdj ?? null,
    personality,
    warn: input.warn,
    field: 'process',
    seccomp: planSeccomp(linux.seccomp),
  });

  const plan: SpawnPlan = {
    joins,
    joinPidfd: -1,
    joinPidfdFlags: 0,
    newUserns,
    unshareFlags,
    timensOffsets: timensText(spec),
    stage1Sync: true,
    isInit: true,
    rootfs: input.rootfs,
    rootfsPropagation: propagation,
    setupMounts,
    noPivot: input.noPivot,
    mounts: mountPlans,
    devices,
    symlinks,
    hooksSync,
    maskedPaths: setupMounts ? (linux.maskedPaths ?? []).map(cleanDest) : [],
    readonlyPaths: setupMounts ? (linux.readonlyPaths ?? []).map(cleanDest) : [],
    rootReadonly: setupMounts && spec.root?.readonly === true,
    hostname: spec.hostname ?? null,
    domainname: spec.domainname ?? null,
    sysctls,
    newSessionKeyring: !input.noNewKeyring,
    keyringName: `_ses.${input.id}`,
    process: processPlan,
  };
  return { plan, openedFds, namespaces, nsFlags, newUserns };
}
