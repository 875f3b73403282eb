// exec: run a new process inside a created, running (or, with ignorePaused, paused)
// container. The process comes from a process.json or from the container's config.json
// process with the command line's overrides, as runc builds it. Foreground: wait for it,
// forward signals, relay its terminal, and return its status (128+signal when killed).
// Detached: write the pid file and return; the process is the caller's to reap (engines
// are subreapers).
import fs from 'node:fs';
import path from 'node:path';
import { native } from '../native/addon.js';
import { cgroupManagerFromState } from '../linux/cgroups/factory.js';
import { setgroupsDenied } from '../linux/idmap.js';
import { convertExec } from '../linux/specconv/index.js';
import { gatherProcessFacts } from '../linux/specconv/host-facts.js';
import { openPlan } from '../linux/specconv/open.js';
import { launch } from '../linux/launcher.js';
import { connectPidfdSocket, sendPidfd } from '../linux/pidfd-socket.js';
import { sendToSeccompAgent } from '../linux/seccomp-notify.js';
import { relayTerminal, requireControllingTerminal } from '../linux/terminal-relay.js';
import type { Process, Spec } from '../spec/types.js';
import { checkProcessFields, validateProcess } from '../spec/validate.js';
import { openLivePidfd } from '../state/liveness.js';
import { nsFlagsOf } from '../state/namespaces.js';
import { writeFileAtomic } from '../state/store.js';
import { ConfigError, ConfigErrors, ContainerStateError, RuntimeError, UsageError } from '../util/errors.js';
import { readJson } from '../util/json-input.js';
import { realtimePlacementError } from '../linux/process-attrs.js';
import type { RuntimeContext } from './context.js';
import { hookState, liveStatus, readSnapshot } from './container.js';
import { SignalForwarder } from './forward-signals.js';

/** The command line's way of describing the process (runc exec without --process). */
export interface ExecOverrides {
  args: string[];
  env: string[];
  cwd?: string;
  tty: boolean;
  /** "uid[:gid]" */
  user?: string;
  additionalGids: string[];
  caps: string[];
  /** Only when --no-new-privs was given (true or false). */
  noNewPrivs?: boolean;
  apparmor?: string;
  processLabel?: string;
}

export interface ExecOptions {
  id: string;
  /** A process.json file, or overrides of config.json's process. */
  source: { file: string } | { overrides: ExecOverrides };
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  pidfdSocket?: string;
  preserveFds: number;
  /** --cgroup values: `path` or `controller[,controller]:path`. */
  cgroups: string[];
  ignorePaused: boolean;
}

/** Read and validate a process.json (errors name its fields relative to the document). */
export function loadProcessFile(file: string): Process {
  const abs = path.resolve(file);
  const doc = readJson({ file: abs });
  const problems = validateProcess(doc).map((p) => (p.field === '' ? new ConfigError(abs, p.message) : p));
  if (problems.length) throw new ConfigErrors(problems);
  return doc as Process;
}

function parseId(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`parsing ${text} as int for ${what} failed: invalid syntax`);
  const n = Number(text);
  if (n > 0xffffffff) throw new UsageError(`parsing ${text} as int for ${what} failed: value out of range`);
  return n;
}

/** config.json's process with runc exec's flags applied (runc's getProcess). */
export function processFromOverrides(spec: Spec, o: ExecOverrides): Process {
  const base = spec.process;
  if (!base) throw new ConfigError('process', 'is required');
  if (o.args.length === 0) throw new UsageError('process args cannot be empty');
  const p: Process = structuredClone(base);
  p.args = [...o.args];
  p.env = [...(p.env ?? []), ...o.env];
  if (o.cwd !== undefined) p.cwd = o.cwd;
  p.terminal = o.tty;
  // The container's console size belongs to its own terminal.
  delete p.consoleSize;
  if (o.apparmor !== undefined) p.apparmorProfile = o.apparmor;
  if (o.processLabel !== undefined) p.selinuxLabel = o.processLabel;
  if (o.noNewPrivs !== undefined) p.noNewPrivileges = o.noNewPrivs;
  if (o.caps.length) {
    const caps = { ...(p.capabilities ?? {}) };
    const add = (set: string[] | undefined) => [...(set ?? []), ...o.caps];
    caps.bounding = add(caps.bounding);
    caps.effective = add(caps.effective);
    caps.permitted = add(caps.permitted);
    // Ambient capabilities need the inheritable bit, which --cap does not set: only when
    // the config already has inheritable ones (runc's rule).
    if (caps.inheritable?.length) caps.ambient = add(caps.ambient);
    p.capabilities = caps;
  }
  const user = { ...(p.user ?? { uid: 0, gid: 0 }) };
  if (o.user) {
    const [uid, gid] = o.user.split(':', 2) as [string, string | undefined];
    if (gid !== undefined) user.gid = parseId(gid, 'gid');
    user.uid = parseId(uid, 'uid');
  }
  if (o.additionalGids.length) {
    user.additionalGids = o.additionalGids.map((g) => parseId(g, 'additional gid'));
  }
  p.user = user;
  const problems = checkProcessFields(p, ['process']);
  if (problems.length) throw new ConfigErrors(problems);
  return p;
}

/** Statuses exec refuses, in runc's words. */
function checkStatus(status: string, ignorePaused: boolean): void {
  if (status === 'stopped') throw new ContainerStateError('cannot exec in a stopped container');
  if (status === 'creating') throw new ContainerStateError('cannot exec in a container that is still being created');
  if (status === 'paused' && !ignorePaused) {
    throw new ContainerStateError('cannot exec in a paused container (use --ignore-paused to override)');
  }
}

export async function exec(ctx: RuntimeContext, opts: ExecOptions): Promise<number> {
  // First of all: a signal from here on is the process's, even before it exists.
  const signals = opts.detach ? null : SignalForwarder.install();
  const addon = native();
  const rec = ctx.store.read(opts.id);
  checkStatus(liveStatus(ctx.store, rec), opts.ignorePaused);
  const spec = readSnapshot(ctx.store, opts.id);
  const fromFile = 'file' in opts.source;
  const proc = 'file' in opts.source ? loadProcessFile(opts.source.file) : processFromOverrides(spec, opts.source.overrides);
  if (proc.terminal && opts.detach && !opts.consoleSocket) {
    throw new UsageError('cannot allocate tty if ts-runc will detach without setting console socket');
  }
  if (!proc.terminal && opts.consoleSocket) {
    throw new UsageError('cannot use console socket if ts-runc will not detach or allocate tty');
  }
  if (proc.terminal && !opts.consoleSocket) requireControllingTerminal();
  if (opts.preserveFds < 0) throw new UsageError('--preserve-fds must be a non-negative number');
  const cg = rec.cgroup ? cgroupManagerFromState(rec.cgroup) : null;
  if (!cg && opts.cgroups.length) throw new RuntimeError('--cgroup: the container has no cgroup');
  const placement = cg?.execPlacement(opts.cgroups);

  const fds: number[] = [];
  /** Stop tracking an fd (it is closed, or handed on). */
  const untrack = (fd: number) => {
    const i = fds.indexOf(fd);
    if (i >= 0) fds.splice(i, 1);
  };
  const close = (fd: number) => {
    untrack(fd);
    fs.closeSync(fd);
  };
  try {
    const initPidfd = openLivePidfd(rec.pid, rec.pidStartTime);
    if (initPidfd === null) throw new ContainerStateError('cannot exec in a stopped container');
    fds.push(initPidfd);
    let consoleFd = -1;
    let consolePeer = -1;
    if (proc.terminal) {
      if (opts.consoleSocket) {
        consoleFd = addon.connectUnix(path.resolve(opts.consoleSocket));
        fds.push(consoleFd);
      } else {
        // A foreground exec with a terminal and no console socket: we relay it ourselves.
        [consolePeer, consoleFd] = addon.socketPair();
        fds.push(consolePeer, consoleFd);
      }
    }
    const pidfdSocket = opts.pidfdSocket ? connectPidfdSocket(opts.pidfdSocket) : -1;
    if (pidfdSocket >= 0) fds.push(pidfdSocket);

    const host = gatherProcessFacts(spec, proc);
    const converted = convertExec(
      spec,
      proc,
      {
        field: fromFile ? '' : 'process',
        nsFlags: nsFlagsOf(rec),
        preserveFds: opts.preserveFds,
        setgroupsDenied: setgroupsDenied(rec.pid),
        keyringName: rec.noNewKeyring ? null : `_ses.${rec.id}`,
      },
      host,
    );
    for (const w of converted.warnings) ctx.log.warn(w);
    const { plan } = openPlan(converted.draft, { console: consoleFd >= 0 ? { fd: consoleFd, relay: consolePeer >= 0 } : null, initPidfd });
    const launched = launch(plan, {
      onStage1: (pid) => {
        try {
          cg?.addProcess(pid, placement, ctx.rootless);
        } catch (err) {
          throw realtimePlacementError(err, proc, fromFile ? '' : 'process');
        }
      },
      // SCMP_ACT_NOTIFY in the container's profile: the exec'd process's listener goes to
      // the same agent, with the container's state (runc's setns process does the same).
      onSeccompFd: (fd, execPid) => {
        try {
          sendToSeccompAgent(spec.linux!.seccomp!, fd, execPid, { ...hookState(rec, 'running', rec.pid) });
        } finally {
          fs.closeSync(fd);
        }
      },
    });
    const pidfd = launched.pidfd;
    fds.push(pidfd);
    if (consoleFd >= 0) close(consoleFd);
    close(initPidfd);

    let master = -1;
    try {
      if (consolePeer >= 0) {
        master = addon.recvFd(consolePeer).fd;
        close(consolePeer);
      }
      if (pidfdSocket >= 0) {
        sendPidfd(pidfdSocket, pidfd);
        close(pidfdSocket);
      }
      if (opts.pidFile) writeFileAtomic(path.resolve(opts.pidFile), String(launched.pid), 0o644);
    } catch (err) {
      // The caller never learns about the process: do not leave it running.
      try {
        addon.pidfdSendSignal(pidfd, 9);
        addon.waitPidfd(pidfd, false);
      } catch {
        // already gone
      }
      if (master >= 0) fs.closeSync(master);
      throw err;
    }
    if (!signals) return 0;
    untrack(pidfd);
    return await waitForeground(pidfd, master, signals);
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
}

/** Wait for the exec'd process, forwarding signals and relaying its terminal. */
async function waitForeground(pidfd: number, master: number, signals: SignalForwarder): Promise<number> {
  signals.target(pidfd);
  const relay = master >= 0 ? relayTerminal(master, pidfd) : null;
  try {
    const result = await native().waitPidfdAsync(pidfd);
    return result.signal ? 128 + result.signal : (result.exitCode ?? 0);
  } finally {
    signals.finish();
    if (relay) await relay.finish();
    fs.closeSync(pidfd);
  }
}
