// Drives the runtime's side of the runtime/child protocol (docs/architecture.md):
//
//   runtime                          stage 1 (tsrunc-child)     container process
//   spawn(plan) ─vfork+execveat─────▶ checks the plan, joins / unshare(user)
//               ◀── STAGE1 ────────  waits
//   id maps, cgroups ── GO ────────▶ unshare(others), clone3(CLONE_PARENT) ──▶ setup...
//               ◀── INIT_PID ──────  exits
//               ◀── HOOKS ───────────────────────────────────────────────── waits
//   hooks ── GO ───────────────────────────────────────────────────────────▶ pivot_root ...
//               ◀── WARNING (any number, e.g. an ambient capability) ─────────
//               ◀── READY ──────────────────────────────────────────────── execve(stub)
//               ◀── EOF (sync socket closed on exec) ─────────────────────
//
// The plan crosses as bytes (encodePlan, generated from addon/protocol/plan.json), messages
// as the generated Msg record. Any ERROR, a message out of order, or EOF before READY fails
// the launch: both children are killed and reaped, and the error names the step, the path
// or field, and the errno text.
import fs from 'node:fs';
import { type Packet, native } from '../native/addon.js';
import { MSG_SIZE, MsgType, type WireMsg, decodeMsg, encodeMsg, encodePlan, planFds } from '../native/generated/protocol.js';
import type { SpawnPlan } from '../native/plan-types.js';
import { ChildSetupError, errorMessage } from '../util/errors.js';
import { logger } from '../util/log.js';
import { describeChildError, stepName, stepSubject } from './child-errors.js';
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

/** Descriptors the child program must get at their numbers: the plan's, and --preserve-fds. */
function keptFds(plan: SpawnPlan): number[] {
  const preserved = Array.from({ length: plan.process.preserveFds }, (_, i) => 3 + i);
  return [...new Set([...planFds(plan), ...preserved])];
}

export function launch(plan: SpawnPlan, handlers: LaunchHandlers = {}): Launched {
  const addon = native();
  const child = addon.spawn(encodePlan(plan), keptFds(plan));
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
  const protocolError = (what: string) => new ChildSetupError(`protocol error: ${what} from the container process`, 'protocol', 0, '');
  // Stage 1 sends INIT_PID right after its fork, the container process then talks on its
  // own: its first messages may come first. They wait here until the pid is known.
  const early: { msg: WireMsg; fd: number }[] = [];
  const handle = (msg: WireMsg, fd: number): Launched | null => {
    switch (msg.type) {
      case MsgType.STAGE1:
        trace('launch: stage1');
        handlers.onStage1?.(child.pid);
        trace('launch: stage1 handled');
        addon.sendMessage(child.syncFd, encodeMsg({ type: MsgType.GO }));
        return null;
      case MsgType.INIT_PID:
        if (initPid) throw protocolError('a second INIT_PID');
        initPid = msg.pid;
        // A child of ours (CLONE_PARENT) that cannot be reaped by anyone else yet:
        // its pid cannot be reused before we open the pidfd.
        initPidfd = addon.pidfdOpen(initPid);
        addon.waitPidfd(child.pidfd, false);
        for (const e of early.splice(0)) handle(e.msg, e.fd);
        return null;
      case MsgType.HOOKS:
        handlers.onHooks?.(initPid, initPidfd);
        addon.sendMessage(child.syncFd, encodeMsg({ type: MsgType.GO }));
        return null;
      case MsgType.SECCOMP_FD:
        if (fd < 0) throw protocolError('SECCOMP_FD without a descriptor');
        handlers.onSeccompFd?.(fd, initPid);
        return null;
      case MsgType.WARNING:
        logger.warn(describeChildError(msg, plan));
        return null;
      case MsgType.READY:
        trace('launch: ready');
        ready = true;
        return null;
      case MsgType.ERROR:
        throw new ChildSetupError(describeChildError(msg, plan), stepName(msg.step), msg.err, stepSubject(msg, plan) ?? '');
      case MsgType.EOF:
        if (ready && initPid) return { pid: initPid, pidfd: initPidfd };
        if (ready) throw protocolError('no INIT_PID');
        throw new ChildSetupError(exitedEarly(initPidfd, child.pidfd), 'setup', 0, '');
      default:
        throw protocolError(`unexpected message ${msg.type}`);
    }
  };
  const needsPid = new Set<number>([MsgType.HOOKS, MsgType.SECCOMP_FD, MsgType.READY]);
  try {
    for (;;) {
      const raw = receive(child.syncFd);
      let msg: WireMsg;
      try {
        if (raw.truncated) throw new Error(`a message longer than ${MSG_SIZE} bytes`);
        msg = raw.data.length === 0 ? { type: MsgType.EOF, step: 0, err: 0, pid: 0, index: 0 } : decodeMsg(raw.data);
      } catch (err) {
        if (raw.fd >= 0) fs.closeSync(raw.fd);
        throw protocolError(errorMessage(err));
      }
      if (raw.fd >= 0 && msg.type !== MsgType.SECCOMP_FD) {
        fs.closeSync(raw.fd);
        throw protocolError(`a descriptor with message ${msg.type}`);
      }
      if (!initPid && needsPid.has(msg.type)) {
        early.push({ msg, fd: raw.fd });
        continue;
      }
      const done = handle(msg, raw.fd);
      if (done) return done;
    }
  } catch (err) {
    for (const e of early) if (e.fd >= 0) fs.closeSync(e.fd);
    kill();
    if (initPidfd >= 0) fs.closeSync(initPidfd);
    throw err;
  } finally {
    fs.closeSync(child.syncFd);
    fs.closeSync(child.pidfd);
  }
}

/** The next message; a child that exited with a GO of ours unread (ECONNRESET) has ended like EOF. */
function receive(syncFd: number): Packet {
  try {
    return native().recvPacket(syncFd, MSG_SIZE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ECONNRESET') return { data: Buffer.alloc(0), fd: -1, truncated: false };
    throw err;
  }
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
