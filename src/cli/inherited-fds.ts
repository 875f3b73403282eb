// --preserve-fds N (and socket activation's $LISTEN_FDS): descriptors 3 .. 3+N-1 go on to
// the container. Only descriptors the caller passed may: one of the runtime's own would hand
// the container a piece of the runtime (its event loop, the exec fifo, the lock...).
//
// The check runs in main before the runtime opens anything (the lock, the fifo, even the
// addon's cgroup thread): what is open then is the caller's descriptors and those Node made
// while starting. Node cannot be told apart by FD_CLOEXEC (it sets the flag on every
// inherited descriptor at start-up), but they are allocated lowest-number-first after the
// caller's, and the first one Node (or Bun) keeps is its event loop's epoll, made before any
// of its eventfds and wake-up pipes (checked with strace on both). So the lowest gap in the
// caller's range holds that epoll, which is of a kind no caller passes: walking up from fd 3
// finds a missing caller descriptor before any other of the runtime's. A pipe is not told
// apart: the caller may pass both ends of one, as runc allows.
import fs from 'node:fs';
import { type FlagValues, flag } from './args.js';
import { UsageError } from '../util/errors.js';

const FIRST_EXTRA_FD = 3;
/** readlink(/proc/self/fd/N) of descriptors only a runtime makes for itself. */
const INTERNAL_KINDS = /^anon_inode:(?:\[?(?:eventpoll|eventfd|signalfd|timerfd|inotify|io_uring)\]?)$/;

/** Socket activation: $LISTEN_FDS descriptors are passed on too (as runc does). */
function listenFds(): number {
  const n = Number(process.env.LISTEN_FDS ?? 0);
  return Number.isInteger(n) && n > 0 && process.env.LISTEN_PID === String(process.pid) ? n : 0;
}

/** How many descriptors after stdio go to the container: --preserve-fds plus $LISTEN_FDS. */
export function preservedFdCount(preserveFds: number): number {
  if (preserveFds < 0) throw new UsageError('--preserve-fds must be a non-negative number');
  return preserveFds + listenFds();
}

function target(fd: number | string): string | null {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
}

/** Refuse unless every descriptor of 3 .. 3+count-1 is open and was passed by the caller. */
export function verifyPreservedFds(preserveFds: number, count: number): void {
  if (count === 0) return;
  const refuse = (fd: number, why: string) =>
    new UsageError(`--preserve-fds ${preserveFds}: file descriptor ${fd} ${why} (descriptors ${FIRST_EXTRA_FD} to ${FIRST_EXTRA_FD + count - 1} must be the caller's)`);
  for (let fd = FIRST_EXTRA_FD; fd < FIRST_EXTRA_FD + count; fd++) {
    const what = target(fd);
    if (what === null) throw refuse(fd, 'is not open');
    if (INTERNAL_KINDS.test(what)) throw refuse(fd, 'is not one the caller passed');
  }
}

/** The preflight of the commands with --preserve-fds (create, run, exec). */
export function checkPreservedFds(flags: FlagValues): void {
  const preserveFds = flag.int(flags, 'preserve-fds');
  verifyPreservedFds(preserveFds, preservedFdCount(preserveFds));
}
