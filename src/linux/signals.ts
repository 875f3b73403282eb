// Signal names and numbers (Linux, x86_64 and arm64 share these).
import { UsageError } from '../util/errors.js';

export const SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGIOT: 6, SIGBUS: 7,
  SIGFPE: 8, SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14,
  SIGTERM: 15, SIGSTKFLT: 16, SIGCHLD: 17, SIGCLD: 17, SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20,
  SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27,
  SIGWINCH: 28, SIGIO: 29, SIGPOLL: 29, SIGPWR: 30, SIGSYS: 31,
};

const SIGRTMIN = 34;
const SIGRTMAX = 64;

/** "KILL", "SIGKILL", "sigkill", "9", "RTMIN+3" -> number; a usage error otherwise. */
export function parseSignal(text: string): number {
  const s = text.trim();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    // 0 checks that the process exists without signalling it (kill(2)), as runc allows.
    if (n >= 0 && n <= SIGRTMAX) return n;
    throw new UsageError(`invalid signal "${text}"`);
  }
  let name = s.toUpperCase();
  if (!name.startsWith('SIG')) name = `SIG${name}`;
  const fixed = SIGNALS[name];
  if (fixed !== undefined) return fixed;
  const rt = /^SIGRT(MIN|MAX)([+-]\d+)?$/.exec(name);
  if (rt) {
    const n = (rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX) + Number(rt[2] ?? 0);
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
  }
  throw new UsageError(`unknown signal "${text}"`);
}
