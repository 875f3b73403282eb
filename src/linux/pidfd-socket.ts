// --pidfd-socket PATH (create, run, exec): hand the caller a pidfd of the container's (or
// the exec'd) process, the way runc does: connect to the AF_UNIX socket at PATH and send
// one message carrying the fd in SCM_RIGHTS, with the payload "pidfd".
import path from 'node:path';
import { native } from '../native/addon.js';
import { RuntimeError, errorMessage } from '../util/errors.js';

export const PIDFD_PAYLOAD = 'pidfd';

/** Connect to the socket at `socketPath`; the caller closes the fd. */
export function connectPidfdSocket(socketPath: string): number {
  const abs = path.resolve(socketPath);
  try {
    return native().connectUnix(abs);
  } catch (err) {
    throw new RuntimeError(`failed to dial ${abs}: ${errorMessage(err)}`);
  }
}

/** Send `pidfd` over an already connected socket. */
export function sendPidfd(socketFd: number, pidfd: number): void {
  try {
    native().sendFd(socketFd, pidfd, PIDFD_PAYLOAD);
  } catch (err) {
    throw new RuntimeError(`failed to send pidfd: ${errorMessage(err)}`);
  }
}
