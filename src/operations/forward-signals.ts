// run, exec and restore in the foreground stand in for the container's process: the
// signals they get are passed on to it, as runc does. The handlers go in when the command
// starts, before anything is launched: a signal that arrives before the process exists is
// queued and sent once its pidfd is known, instead of killing the runtime and leaving the
// process running on its own.
import os from 'node:os';
import { native } from '../native/addon.js';

/**
 * The signals passed on: everything a terminal or a supervisor sends. Not SIGCHLD (ours),
 * SIGWINCH (the terminal relay passes the size on instead), nor SIGKILL/SIGSTOP (uncatchable).
 */
export const FORWARDED: readonly NodeJS.Signals[] = [
  'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU',
];

let installed: SignalForwarder | undefined;

export class SignalForwarder {
  private pidfd = -1;
  private finished = false;
  private readonly queued: NodeJS.Signals[] = [];
  private readonly handler = (sig: NodeJS.Signals) => this.deliver(sig);

  private constructor() {
    for (const s of FORWARDED) process.on(s, this.handler);
  }

  /**
   * Start catching the signals now; they are queued until target() names the process. Once
   * per process: the CLI calls it as soon as it knows the command (src/cli/main.ts), and
   * run, exec and restore (waitInForeground) get that same forwarder.
   */
  static install(): SignalForwarder {
    installed ??= new SignalForwarder();
    return installed;
  }

  /** The process to pass signals to: queued ones are sent now, in order. */
  target(pidfd: number): void {
    this.pidfd = pidfd;
    for (const sig of this.queued.splice(0)) this.deliver(sig);
  }

  /**
   * The process is gone (its pidfd is about to be closed): later signals are dropped. The
   * handlers stay, so that a signal during the clean-up does not kill the runtime halfway.
   */
  finish(): void {
    this.finished = true;
    this.pidfd = -1;
    this.queued.length = 0;
  }

  private deliver(sig: NodeJS.Signals): void {
    if (this.finished) return;
    if (this.pidfd < 0) {
      this.queued.push(sig);
      return;
    }
    try {
      native().pidfdSendSignal(this.pidfd, os.constants.signals[sig]);
    } catch {
      // already exited
    }
  }
}
