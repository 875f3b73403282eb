// Drives the parent side of the parent/child protocol (docs/architecture.md):
//
//   runtime                          stage 1 child              container process
//   spawn(plan) ───clone3──────────▶ joins / unshare(user)
//               ◀── STAGE1 ────────  waits
//   id maps, cgroups ── GO ────────▶ unshare(others), clone3(CLONE_PARENT) ──▶ setup...
//               ◀── INIT_PID ──────  exits
//               ◀── HOOKS ───────────────────────────────────────────────── waits
//   hooks ── GO ───────────────────────────────────────────────────────────▶ pivot_root ...
//               ◀── READY ──────────────────────────────────────────────── execve(stub)
//               ◀── EOF (sync socket closed on exec) ─────────────────────
//
// Any ERROR message, or EOF before READY, fails the launch: both children are killed and
// reaped, and the error names the step, the path or field, and the errno text.
import fs from 'node:fs';
import { type ChildMessage, Msg, native } from '../native/addon.js';
import type { SpawnPlan } from '../native/plan-types.js';
import { ChildSetupError } from '../util/errors.js';
import { describeChildError } from './child-errors.js';
import { trace } from '../util/trace.js';

export interface LaunchHandlers {
  /** Stage 1 is in its namespaces: write id maps, add `pid` to the cgroups. */
  onStage1?(stage1Pid: number): void;
  /** Mounts are in place, pivot_root not yet done: run prestart/createRuntime/createContainer. */
  onHooks?(initPid: number, initPidfd: number): void;
  /** The seccomp notify listener fd arrived. */
  onSeccompFd?(fd: number, initPid: number): void;
}

export interface Launched {
  /** Host pid of the container process. */
  pid: number;
  pidfd: number;
}

export function launch(plan: SpawnPlan, handlers: LaunchHandlers = {}): Launched {
  const addon = native();
  const child = addon.spawn(plan);
  trace('launch: spawned');
  let initPid = 0;
  let initPidfd = -1;
  let ready = false;
  const kill = () => {
    for (const fd of [initPidfd, child.pidfd]) {
      if (fd < 0) continue;
      try {
        addon.pidfdSendSignal(fd, 9);
      } catch {
        // already gone
      }
      try {
        addon.waitPidfd(fd, false);
      } catch {
        // not our child or already reaped
      }
    }
  };
  try {
    for (;;) {
      const msg = addon.recvMessage(child.syncFd);
      switch (msg.type) {
        case Msg.STAGE1:
          trace('launch: stage1');
          handlers.onStage1?.(child.pid);
          trace('launch: stage1 handled');
          addon.sendMessage(child.syncFd, Msg.GO);
          break;
        case Msg.INIT_PID:
          initPid = msg.pid;
          // A child of ours (CLONE_PARENT) that cannot be reaped by anyone else yet:
          // its pid cannot be reused before we open the pidfd.
          initPidfd = addon.pidfdOpen(initPid);
          addon.waitPidfd(child.pidfd, false);
          break;
        case Msg.HOOKS:
          handlers.onHooks?.(initPid, initPidfd);
          addon.sendMessage(child.syncFd, Msg.GO);
          break;
        case Msg.SECCOMP_FD:
          handlers.onSeccompFd?.(msg.fd, initPid);
          break;
        case Msg.READY:
          trace('launch: ready');
          ready = true;
          break;
        case Msg.ERROR:
          throw childError(msg, plan);
        case Msg.EOF:
          if (ready) return { pid: initPid, pidfd: initPidfd };
          throw new ChildSetupError(exitedEarly(initPidfd, child.pidfd), 'setup', 0, '');
        default:
          throw new ChildSetupError(`unexpected message ${msg.type} from the container process`, 'protocol', 0, '');
      }
    }
  } catch (err) {
    kill();
    if (initPidfd >= 0) fs.closeSync(initPidfd);
    throw err;
  } finally {
    fs.closeSync(child.syncFd);
    fs.closeSync(child.pidfd);
  }
}

function childError(msg: ChildMessage, plan: SpawnPlan): ChildSetupError {
  const text = describeChildError(msg, plan);
  return new ChildSetupError(text, msg.step, msg.errno, msg.detail);
}

/** The child vanished without a word: say how it ended. */
function exitedEarly(initPidfd: number, stage1Pidfd: number): string {
  const addon = native();
  for (const fd of [initPidfd, stage1Pidfd]) {
    if (fd < 0) continue;
    try {
      const r = addon.waitPidfd(fd, true);
      if (r?.signal) return `container process was killed by signal ${r.signal} during setup`;
      if (r && r.exitCode !== null) return `container process exited with status ${r.exitCode} during setup`;
    } catch {
      // reaped already
    }
  }
  return 'container process exited during setup';
}
