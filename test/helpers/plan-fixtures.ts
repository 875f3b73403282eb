/**
 * SpawnPlans for unit tests of the plan's path to the child (the serializer, the child
 * program on the recording system-call layer): a container init shaped like `runc spec`'s,
 * and its parts.
 */
import type { MountPlan, ProcessPlan, SpawnPlan } from '../../src/native/plan-types.js';

export const CAP_KILL = 5n;
export const CAP_NET_BIND_SERVICE = 10n;

export function mountPlan(dest: string, fstype: string | null, extra: Partial<MountPlan> = {}): MountPlan {
  return {
    bind: false,
    createFile: false,
    source: fstype,
    dest,
    fstype,
    data: null,
    flags: 0,
    attrSet: 0,
    attrClr: 0,
    rattrSet: 0,
    rattrClr: 0,
    propagation: 0,
    propagationRecursive: false,
    lateReadonly: false,
    tmpcopyup: false,
    ...extra,
  };
}

export function processPlan(extra: Partial<ProcessPlan> = {}): ProcessPlan {
  const caps = (1n << CAP_KILL) | (1n << CAP_NET_BIND_SERVICE);
  return {
    argv: ['sh', '-c', 'true'],
    envp: ['PATH=/bin', 'HOME=/'],
    pathEnv: '/bin',
    resolveHome: true,
    cwd: '/work',
    uid: 1000,
    gid: 1000,
    umask: -1,
    additionalGids: [10, 20],
    setGroups: true,
    capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: caps, ambient: 1n << CAP_KILL },
    noNewPrivileges: true,
    rlimits: [{ resource: 7, soft: 1024n, hard: 1024n }],
    oomScoreAdj: null,
    seccomp: { bpf: Buffer.from([6, 0, 0, 0, 0, 0, 0xff, 0x7f]), flags: 0, notify: false },
    terminal: false,
    consoleSocketFd: -1,
    consoleRows: 0,
    consoleCols: 0,
    stdioFds: [0, 1, 2],
    preserveFds: 0,
    execFifoFd: 7,
    personality: -1,
    scheduler: null,
    ioPriority: null,
    apparmorProfile: null,
    selinuxLabel: null,
    ...extra,
  };
}

/** A container init shaped like `runc spec`'s, with a bind mount and a device. */
export function initPlan(extra: Partial<SpawnPlan> = {}, proc: Partial<ProcessPlan> = {}): SpawnPlan {
  return {
    joins: [],
    joinPidfd: -1,
    joinPidfdFlags: 0,
    newUserns: false,
    unshareFlags: 0x20000 | 0x20000000 | 0x4000000,
    timensOffsets: null,
    stage1Sync: true,
    isInit: true,
    rootfs: '/rootfs',
    rootfsPropagation: 0,
    setupMounts: true,
    noPivot: false,
    mounts: [
      mountPlan('/proc', 'proc', { noSymlinks: true, mayCoverProc: true }),
      mountPlan('/dev', 'tmpfs', { data: 'mode=755' }),
      mountPlan('/dev/pts', 'devpts'),
      mountPlan('/sys', 'sysfs', { noSymlinks: true, lateReadonly: true }),
      mountPlan('/etc/hosts', 'none', { bind: true, source: '/host/hosts', createFile: true, attrSet: 1 }),
    ],
    devices: [{ path: '/dev/null', mode: 0o20666, major: 1, minor: 3, uid: 0, gid: 0, bindFromHost: false, hostPath: null, replaceExisting: true }],
    symlinks: [
      { target: '/proc/self/fd', path: '/dev/fd' },
      { target: 'pts/ptmx', path: '/dev/ptmx' },
    ],
    hooksSync: false,
    maskedPaths: ['/proc/kcore', '/sys/firmware'],
    readonlyPaths: ['/proc/sys'],
    rootReadonly: true,
    hostname: 'box',
    domainname: null,
    sysctls: [{ key: 'net/ipv4/ip_forward', value: '1' }],
    newSessionKeyring: true,
    keyringName: '_ses.box',
    process: processPlan(proc),
    ...extra,
  };
}
