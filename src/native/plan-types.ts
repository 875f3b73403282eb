// The flat, fully resolved plan handed to the addon's spawn(). Field names match
// addon/parent/plan_convert.cc; the C structs are in addon/common/plan.h.
//
// Everything here is already decided: paths are absolute, flags are numbers, capability
// sets are bit masks, the seccomp filter is compiled BPF. The child only walks it.

export interface NsJoinPlan {
  /** fd opened by the runtime on the namespace path. */
  fd: number;
  /** CLONE_NEW* constant. */
  nstype: number;
  /** The path, for error messages. */
  path: string;
}

export interface MountPlan {
  bind: boolean;
  /** Create the target as an empty file (bind of a file), not a directory. */
  createFile: boolean;
  source: string | null;
  /** Absolute path inside the container. */
  dest: string;
  fstype: string | null;
  data: string | null;
  /** MS_* flags for mount(2). */
  flags: number;
  /** MOUNT_ATTR_* set / cleared on this mount, and recursively. */
  attrSet: number;
  attrClr: number;
  rattrSet: number;
  rattrClr: number;
  /** MS_SHARED / MS_SLAVE / MS_PRIVATE / MS_UNBINDABLE, 0 for none. */
  propagation: number;
  propagationRecursive: boolean;
  /** Make it read-only after every later mount and device is in place. */
  lateReadonly: boolean;
  tmpcopyup: boolean;
  /**
   * A detached mount prepared by the runtime (an id-mapped clone of the source,
   * src/linux/idmap-mounts.ts), moved onto the target instead of mounting; -1 or absent: none.
   */
  mountFd?: number;
  /** The target may not be reached through any symlink and must be a directory (procfs, sysfs). */
  noSymlinks?: boolean;
  /** The target may lie on a procfs (proc at /proc, lxcfs-style files); src/linux/proc-mounts.ts. */
  mayCoverProc?: boolean;
}

export interface DevicePlan {
  path: string;
  /** S_IFCHR / S_IFBLK / S_IFIFO | permission bits. */
  mode: number;
  major: number;
  minor: number;
  uid: number;
  gid: number;
  /** In a user namespace: bind-mount hostPath instead of mknod. */
  bindFromHost: boolean;
  hostPath: string | null;
  /** A default device: replace whatever the image has at the path. A configured device
   * must not find a different file there (it may find the same device). */
  replaceExisting?: boolean;
}

export interface CapabilityMasks {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
}

export interface RlimitPlan {
  resource: number;
  soft: bigint;
  hard: bigint;
}

export interface SchedulerPlan {
  policy: number;
  nice: number;
  priority: number;
  flags: bigint;
  runtime: bigint;
  deadline: bigint;
  period: bigint;
}

export interface SeccompPlan {
  /** struct sock_filter[] as exported by libseccomp. */
  bpf: Buffer;
  /** SECCOMP_FILTER_FLAG_* */
  flags: number;
  /** Send the notify listener fd back to the runtime. */
  notify: boolean;
}

export interface ProcessPlan {
  argv: string[];
  /** Program to execute; null: look argv[0] up in pathEnv, as execvp does. */
  execPath?: string | null;
  envp: string[];
  pathEnv: string | null;
  /** The last envp entry is a "HOME=/" placeholder the child fills from /etc/passwd. */
  resolveHome?: boolean;
  cwd: string;
  uid: number;
  gid: number;
  /** -1: leave the umask alone (0022). */
  umask: number;
  additionalGids: number[];
  setGroups: boolean;
  capabilities: CapabilityMasks | null;
  noNewPrivileges: boolean;
  rlimits: RlimitPlan[];
  oomScoreAdj: number | null;
  seccomp: SeccompPlan | null;
  terminal: boolean;
  consoleSocketFd: number;
  consoleRows: number;
  consoleCols: number;
  /** fds to install as 0, 1, 2 (-1: keep). */
  stdioFds: [number, number, number];
  preserveFds: number;
  /** create: the fifo the stub blocks on until start; -1 otherwise. */
  execFifoFd: number;
  /** -1: leave. */
  personality: number;
  scheduler: SchedulerPlan | null;
  /** IOPRIO_PRIO_VALUE(class, level), or null. */
  ioPriority: number | null;
  apparmorProfile: string | null;
  selinuxLabel: string | null;
}

export interface SpawnPlan {
  joins: NsJoinPlan[];
  /** exec: join every namespace of this pidfd (joinPidfdFlags) in one setns. */
  joinPidfd: number;
  joinPidfdFlags: number;
  newUserns: boolean;
  /** CLONE_NEW* flags to unshare, except CLONE_NEWUSER. */
  unshareFlags: number;
  timensOffsets: string | null;
  /** Pause in stage 1 for id maps and cgroup placement. */
  stage1Sync: boolean;
  isInit: boolean;
  rootfs: string | null;
  rootfsPropagation: number;
  setupMounts: boolean;
  noPivot: boolean;
  mounts: MountPlan[];
  devices: DevicePlan[];
  symlinks: { target: string; path: string }[];
  /** Pause before pivot_root so the runtime can run hooks. */
  hooksSync: boolean;
  maskedPaths: string[];
  readonlyPaths: string[];
  rootReadonly: boolean;
  hostname: string | null;
  domainname: string | null;
  /** key in path form: net/ipv4/ip_forward */
  sysctls: { key: string; value: string }[];
  newSessionKeyring: boolean;
  keyringName: string | null;
  mountLabel: string | null;
  process: ProcessPlan;
  /** Path of the tsrunc-init binary; the addon copies it into a sealed memfd. */
  stubPath: string;
}
