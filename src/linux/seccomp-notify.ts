// Handing the seccomp notify fd to the agent at linux.seccomp.listenerPath (config-linux.md
// "The Container Process State"): one SOCK_STREAM connection per container process, the
// container process state as JSON with the fd in SCM_RIGHTS of the first (only) sendmsg,
// then the connection is closed. The runtime's copy of the fd is closed by the caller.
import fs from 'node:fs';
import { native } from '../native/addon.js';
import { OCI_VERSION } from '../spec/defaults.js';
import type { LinuxSeccomp } from '../spec/types.js';
import { SystemError, errorMessage } from '../util/errors.js';

/** The "container process state" document the agent receives. */
export interface ContainerProcessState {
  ociVersion: string;
  fds: string[];
  pid: number;
  metadata?: string;
  state: Record<string, unknown>;
}

export function containerProcessState(seccomp: LinuxSeccomp, pid: number, state: Record<string, unknown>): ContainerProcessState {
  const doc: ContainerProcessState = { ociVersion: OCI_VERSION, fds: ['seccompFd'], pid, state };
  if (seccomp.listenerMetadata !== undefined) doc.metadata = seccomp.listenerMetadata;
  return doc;
}

/** Send the listener fd and the state to listenerPath; any failure is an error. */
export function sendToSeccompAgent(seccomp: LinuxSeccomp, seccompFd: number, pid: number, state: Record<string, unknown>): void {
  const listener = seccomp.listenerPath;
  if (!listener) throw new SystemError('seccomp notify fd received but linux.seccomp.listenerPath is not set');
  const addon = native();
  let sock: number;
  try {
    sock = addon.connectUnix(listener);
  } catch (err) {
    throw new SystemError(`seccomp agent at ${listener}: ${errorMessage(err)}`);
  }
  try {
    addon.sendFd(sock, seccompFd, JSON.stringify(containerProcessState(seccomp, pid, state)));
  } catch (err) {
    throw new SystemError(`send the seccomp fd to ${listener}: ${errorMessage(err)}`);
  } finally {
    fs.closeSync(sock);
  }
}
