// The one place the native addon is loaded, with the types of everything it exports.
// The C++ side is addon/parent/binding.cc; keep the two in step.
import path from 'node:path';

/** One packet of a message socket: its bytes (empty at EOF) and an attached fd or -1. */
export interface Packet {
  data: Buffer;
  fd: number;
  /** Longer than the capacity asked for: `data` is cut short. */
  truncated: boolean;
}

export interface WaitResult {
  pid: number;
  /** Exit status when the process exited, else null. */
  exitCode: number | null;
  /** Signal number when the process was killed, else null. */
  signal: number | null;
}

export interface SpawnedChild {
  /** Host pid of the first (stage 1) child. */
  pid: number;
  pidfd: number;
  /** Runtime end of the SOCK_SEQPACKET sync socket. */
  syncFd: number;
}

export interface NativeAddon {
  /**
   * Start the child program (tsrunc-child, from a sealed memfd) on a serialized plan
   * (encodePlan), with only `keepFds` of the runtime's descriptors.
   */
  spawn(plan: Buffer, keepFds: number[]): SpawnedChild;
  pidfdOpen(pid: number): number;
  pidfdSendSignal(pidfd: number, signal: number): void;
  waitPidfd(pidfd: number, noHang: boolean): WaitResult | null;
  waitPidfdAsync(pidfd: number): Promise<WaitResult>;
  poll(fds: [number, number][], timeoutMs: number): number[];
  /** One packet of `socketFd` (sync.cc); ECONNRESET is thrown (the peer left a message of ours unread). */
  recvPacket(socketFd: number, capacity: number): Packet;
  /** One packet; a peer already gone is not an error (the caller learns that from recvPacket). */
  sendMessage(socketFd: number, bytes: Buffer): void;
  sendFd(socketFd: number, fd: number, payload: string): void;
  recvFd(socketFd: number): { fd: number; payload: string };
  /** A close-on-exec AF_UNIX pair: SOCK_STREAM, or SOCK_SEQPACKET when `seqpacket`. */
  socketPair(seqpacket?: boolean): [number, number];
  connectUnix(path: string): number;
  pipe(): [number, number];
  memfd(name: string): number;
  flock(fd: number, op: number): boolean;
  mkfifo(path: string, mode: number): void;
  strerror(errno: number): string;
  /** Start a no-op migration of this process into its own cgroup on a thread (see proc.cc). */
  primeCgroupMigration(procsFile: string): void;
  closeFd(fd: number): void;
  getWinsize(fd: number): { rows: number; cols: number } | null;
  setWinsize(fd: number, rows: number, cols: number): void;
  /** Clear ONLCR on a terminal (on a pty master: the pair's, i.e. the container's side). */
  clearOnlcr(fd: number): void;
  seccompVersion(): { major: number; minor: number; micro: number };
  /** Compile a translated seccomp profile to classic BPF (src/linux/seccomp.ts builds the input). */
  seccompCompile(profile: SeccompCompileInput): { bpf: Buffer; unknownSyscalls: string[] };
  /** A new user namespace with these uid_map / gid_map texts, as an fd (close-on-exec). */
  usernsFd(uidMap: string, gidMap: string): number;
  /**
   * A detached clone of `source` id-mapped through usernsFd: with its submounts when
   * `rbind`, the mapping applied to them too when `ridmap`.
   */
  idmappedTree(source: string, usernsFd: number, rbind: boolean, ridmap: boolean): number;
  /**
   * A detached bind mount of a device node made on a private tmpfs (mode with its S_IF* type,
   * host uid and gid), for a container in a user namespace to move into place.
   */
  deviceNodeTree(mode: number, major: number, minor: number, uid: number, gid: number): number;
  /** Load a BPF_PROG_TYPE_CGROUP_DEVICE program (raw instructions); returns its fd. */
  bpfDeviceProgramLoad(insns: Buffer): number;
  /** Attach a device program to a cgroup2 directory fd (BPF_F_ALLOW_MULTI). */
  bpfDeviceProgramAttach(cgroupFd: number, progFd: number): void;
  /** Ids of the device programs attached to the cgroup itself. */
  bpfDeviceProgramQuery(cgroupFd: number): number[];
  /** Detach the device program with this id from the cgroup. */
  bpfDeviceProgramDetach(cgroupFd: number, progId: number): void;
  /** A close-on-exec eventfd (cgroup v1 OOM notifications). */
  eventfd(): number;
  /** Make `path` and its parents inside `rootfs`, never leaving it (symlinks resolved in it); an empty file last when `file`. */
  mkdirInRoot(rootfs: string, path: string, file: boolean): void;
}

/** Input of seccompCompile: the profile with every name already turned into a number. */
export interface SeccompCompileInput {
  /** SCMP_ACT_* value (kernel SECCOMP_RET_* with the errno/data in the low 16 bits). */
  defaultAction: number;
  /** libseccomp architecture names ("x86_64", "x86", "x32", ...); the native one is implied. */
  architectures: string[];
  /** Build a binary tree instead of a linear list (long profiles). */
  optimize: boolean;
  rules: {
    syscall: string;
    action: number;
    /** Conditions that must all hold (SCMP_CMP_* operators). */
    args: { index: number; op: number; value: bigint; valueTwo: bigint }[];
  }[];
  /**
   * Every syscall name of the profile, when syscalls newer than all of them should fail
   * with ENOSYS on the listed architectures (runc's stub); absent: no stub.
   */
  enosysNames?: string[];
}

/** poll(2) event bits. */
export const POLLIN = 0x001;
export const POLLERR = 0x008;

/** flock(2) operations. */
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

/** Where the build puts the addon and its programs (tsrunc-child, tsrunc-init). */
function buildDir(): string {
  const override = process.env.TSRUNC_NATIVE_DIR;
  if (override) return override;
  return path.resolve(installDir(), '../build/Release');
}

/**
 * The directory two levels below the repo root that holds the running code: dist/ for the
 * Bun executable (found by its real path: `npm link` puts a symlink on PATH) and the
 * bundle run by Node, src/native/ for the sources run by tsx.
 */
export function installDir(): string {
  if ((globalThis as { Bun?: { isStandaloneExecutable?: boolean } }).Bun?.isStandaloneExecutable) return path.dirname(process.execPath);
  const here = typeof __dirname === 'string' ? __dirname : path.dirname(new URL(import.meta.url).pathname);
  return path.basename(here) === 'native' ? path.dirname(here) : here;
}

let cached: NativeAddon | undefined;

export function native(): NativeAddon {
  if (!cached) {
    // process.dlopen, not require(): the module resolution require() does first costs more
    // (~1 ms) than loading the library itself, on every command.
    const mod = { exports: {} as NativeAddon };
    process.dlopen(mod, path.join(buildDir(), 'tsrunc.node'));
    cached = mod.exports;
  }
  return cached;
}
