// Lifecycle hooks (config.md "POSIX-platform Hooks"): each gets the container state on
// stdin, its own args and env, and an optional timeout. Runtime-namespace hooks are plain
// child processes; container-namespace hooks (createContainer, startContainer) are
// started inside the container's namespaces through the same launcher as the container.
// Either way the runtime feeds the hook's stdin and streams its stdout and stderr (to the
// debug log) through pipes while it runs: a hook's output is never held whole.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { POLLERR, POLLIN, type WaitResult, native } from '../native/addon.js';
import type { Hook } from '../spec/types.js';
import { HookError, errnoText, errorMessage } from '../util/errors.js';
import { logger } from '../util/log.js';
import { launch } from './launcher.js';
import { convertHook, hookArgs } from './specconv/index.js';
import { openPlan } from './specconv/open.js';

export type HookKind = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';

export interface HookState {
  ociVersion: string;
  id: string;
  status: string;
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
}

/** Namespaces to enter for container-namespace hooks: pidfd of the container + CLONE_NEW* set. */
export interface ContainerTarget {
  pidfd: number;
  nsFlags: number;
}

/** How much of each output stream a failing hook's error message quotes (its end). */
const EXCERPT_LIMIT = 4096;
const READ_CHUNK = 64 * 1024;
/** After a hook exits, reads of what its descendants still write are bounded too. */
const DRAIN_CHUNKS = 64;
/** poll(2): writable (not exported by the addon, which only waits for input). */
const POLLOUT = 0x004;
/** A write of at most PIPE_BUF bytes to a pipe that poll calls writable does not block. */
const PIPE_BUF = 4096;

/**
 * A runtime-namespace hook's environment: its `env`, exactly; a hook without one inherits
 * the runtime's, as with runc and crun (their hooks are plain child processes; a hook such
 * as an OCI network plugin relies on PATH from the engine).
 */
function hookEnvironment(env: readonly string[] | undefined): NodeJS.ProcessEnv {
  if (env === undefined) return process.env;
  const out: Record<string, string> = {};
  for (const e of env) {
    const eq = e.indexOf('=');
    if (eq > 0) out[e.slice(0, eq)] = e.slice(eq + 1);
  }
  return out;
}

/**
 * A runtime-namespace hook's working directory: the bundle, as runc's hooks get it (runc
 * changes into the bundle), not the caller's directory; "/" once the bundle is gone
 * (a poststop after the engine removed it).
 */
function hookCwd(bundle: string): string {
  try {
    return fs.statSync(bundle).isDirectory() ? bundle : '/';
  } catch {
    return '/';
  }
}

function hookLabel(kind: HookKind, i: number, hook: Hook): string {
  return `error running ${kind} hook #${i} (${hook.path})`;
}

/**
 * One output stream of a running hook. Nothing is buffered whole: each line goes to the log
 * (debug level) as it comes, and only the last few KiB are kept, for the error message of a
 * hook that fails.
 */
class HookStream {
  open = true;
  private tail: Buffer = Buffer.alloc(0);
  /** The unfinished last line (lines are split at "\n", which no UTF-8 sequence contains). */
  private partial: Buffer = Buffer.alloc(0);
  constructor(
    readonly fd: number,
    /** "stdout" or "stderr". */
    private readonly name: string,
    /** Names the hook in the log: "prestart #0". */
    private readonly hook: string,
  ) {}

  take(chunk: Buffer): void {
    this.tail = keepLast(Buffer.concat([this.tail, chunk]), EXCERPT_LIMIT);
    if (logger.minLevel !== 'debug') return;
    let rest = Buffer.concat([this.partial, chunk]);
    for (let nl = rest.indexOf(0x0a); nl >= 0; nl = rest.indexOf(0x0a)) {
      this.log(rest.subarray(0, nl));
      rest = rest.subarray(nl + 1);
    }
    for (; rest.length > EXCERPT_LIMIT; rest = rest.subarray(EXCERPT_LIMIT)) this.log(rest.subarray(0, EXCERPT_LIMIT));
    this.partial = Buffer.from(rest);
  }

  end(): void {
    this.open = false;
    if (this.partial.length) this.log(this.partial);
    this.partial = Buffer.alloc(0);
  }

  /** `, stdout: ...` for an error message; empty when the stream said nothing. */
  excerpt(): string {
    const t = this.tail.toString('utf8').trim().replace(/\s+/g, ' ');
    return t ? `, ${this.name}: ${t}` : '';
  }

  private log(line: Buffer): void {
    logger.debug(`hook ${this.hook} ${this.name}: ${line.toString('utf8')}`);
  }
}

function keepLast(buf: Buffer, n: number): Buffer {
  return buf.length > n ? Buffer.from(buf.subarray(buf.length - n)) : buf;
}

/** A started hook: its pidfd and our ends of its stdin, stdout and stderr pipes. */
interface RunningHook {
  pidfd: number;
  stdin: number;
  stdout: number;
  stderr: number;
}

/** Pipes for a hook's stdio: [child's ends], [our ends]. */
function hookPipes(): { theirs: [number, number, number]; ours: { stdin: number; stdout: number; stderr: number } } {
  const addon = native();
  const [inR, inW] = addon.pipe();
  const [outR, outW] = addon.pipe();
  const [errR, errW] = addon.pipe();
  return { theirs: [inR, outW, errW], ours: { stdin: inW, stdout: outR, stderr: errR } };
}

/**
 * Feed the hook its state, stream its output, wait for it (killing it at its timeout), and
 * throw a HookError when it failed. Closes every fd of `h`.
 */
function superviseHook(kind: HookKind, i: number, hook: Hook, h: RunningHook, state: HookState): void {
  const addon = native();
  const label = hookLabel(kind, i, hook);
  const streams = [new HookStream(h.stdout, 'stdout', `${kind} #${i}`), new HookStream(h.stderr, 'stderr', `${kind} #${i}`)];
  let input: Buffer = Buffer.from(JSON.stringify(state));
  let stdin = h.stdin;
  const closeStdin = () => {
    if (stdin >= 0) fs.closeSync(stdin);
    stdin = -1;
  };
  const deadline = hook.timeout ? Date.now() + hook.timeout * 1000 : null;
  const buf = Buffer.allocUnsafe(READ_CHUNK);
  let reaped: WaitResult | null = null;
  try {
    let drains = 0;
    while (!reaped || (streams.some((s) => s.open) && drains++ < DRAIN_CHUNKS)) {
      const open = streams.filter((s) => s.open);
      const fds: [number, number][] = open.map((s) => [s.fd, POLLIN]);
      if (!reaped) fds.push([h.pidfd, POLLIN]);
      if (stdin >= 0) fds.push([stdin, POLLOUT]);
      // Once it has exited: only what its descendants already wrote, without waiting.
      const wait = reaped ? 0 : deadline === null ? -1 : Math.max(0, deadline - Date.now());
      const revents = addon.poll(fds, wait);
      if (reaped && revents.every((r) => !r)) break;
      // Checked on every turn: a hook that keeps writing must not outlive its timeout either.
      if (!reaped && deadline !== null && Date.now() >= deadline) {
        addon.pidfdSendSignal(h.pidfd, 9);
        addon.waitPidfd(h.pidfd, false);
        throw new HookError(kind, `${label}: timeout after ${hook.timeout} seconds`);
      }
      open.forEach((s, k) => {
        if (!revents[k]) return;
        let n = 0;
        try {
          n = fs.readSync(s.fd, buf, 0, buf.length, null);
        } catch {
          // unreadable: as good as closed
        }
        if (n === 0) s.end();
        else s.take(buf.subarray(0, n));
      });
      if (stdin >= 0 && revents[fds.length - 1]) {
        // POLLERR: the hook closed its stdin. A hook need not read the state (runc ignores it too).
        if (revents[fds.length - 1]! & POLLERR) input = Buffer.alloc(0);
        try {
          if (input.length) input = input.subarray(fs.writeSync(stdin, input, 0, Math.min(PIPE_BUF, input.length)));
        } catch {
          input = Buffer.alloc(0);
        }
        if (!input.length) closeStdin();
      }
      if (!reaped && revents[open.length]) {
        reaped = addon.waitPidfd(h.pidfd, false) ?? { pid: 0, exitCode: null, signal: null };
        closeStdin();
      }
    }
  } finally {
    closeStdin();
    for (const fd of [h.stdout, h.stderr, h.pidfd]) fs.closeSync(fd);
  }
  for (const s of streams) if (s.open) s.end();
  const output = streams.map((s) => s.excerpt()).join('');
  if (reaped?.signal) throw new HookError(kind, `${label}: signal: ${signalText(reaped.signal)}${output}`);
  if (reaped && reaped.exitCode !== 0) throw new HookError(kind, `${label}: exit status ${reaped.exitCode}${output}`);
}

/** A signal as runc's message gives it (Go's words: "killed", "terminated"...), else its name. */
function signalText(sig: number): string {
  const name = Object.entries(os.constants.signals).find(([, n]) => n === sig)?.[0];
  return name ? SIGNAL_WORDS[name] ?? name : String(sig);
}

const SIGNAL_WORDS: Readonly<Record<string, string>> = { SIGKILL: 'killed', SIGTERM: 'terminated', SIGSEGV: 'segmentation fault', SIGABRT: 'aborted' };

/** Start one hook in the runtime's namespaces; throws a HookError when it cannot be started. */
function startHostHook(kind: HookKind, i: number, hook: Hook, bundle: string): RunningHook {
  const addon = native();
  const { theirs, ours } = hookPipes();
  const args = hookArgs(hook);
  const cannotStart = () => {
    for (const fd of Object.values(ours)) fs.closeSync(fd);
    return new HookError(kind, `${hookLabel(kind, i, hook)}: fork/exec ${hook.path}: ${whyNotExecutable(hook.path)}`);
  };
  let child;
  try {
    child = spawn(hook.path, args.slice(1), { argv0: args[0], env: hookEnvironment(hook.env), cwd: hookCwd(bundle), stdio: theirs });
  } catch {
    // Bun throws at once where Node reports later (below).
    throw cannotStart();
  } finally {
    for (const fd of theirs) fs.closeSync(fd);
  }
  // The outcome is read below, synchronously: Node's own report would come later.
  child.on('error', () => undefined);
  child.unref();
  if (child.pid === undefined) throw cannotStart();
  // Nobody reaps it before we open this: libuv only would, from the event loop, which does
  // not run while we wait here. We reap it ourselves (superviseHook).
  return { pidfd: addon.pidfdOpen(child.pid), ...ours };
}

function whyNotExecutable(file: string): string {
  try {
    fs.accessSync(file, fs.constants.X_OK);
  } catch (err) {
    return errnoText(err);
  }
  return 'cannot be executed';
}

/** Run one hook in the runtime's namespaces; throws a HookError when it fails. */
function runHostHook(kind: HookKind, i: number, hook: Hook, state: HookState): void {
  superviseHook(kind, i, hook, startHostHook(kind, i, hook, state.bundle), state);
}

/** Run hooks in the runtime's namespaces, in order; the first failure throws. */
export function runHostHooks(kind: HookKind, hooks: readonly Hook[] | undefined, state: HookState): void {
  (hooks ?? []).forEach((hook, i) => runHostHook(kind, i, hook, state));
}

/**
 * Run every hook even when some fail, reporting each failure as a warning (poststop:
 * runtime.md step 13, "the remaining hooks and lifecycle continue as if the hook had succeeded").
 */
export function runHostHooksWarning(
  kind: HookKind,
  hooks: readonly Hook[] | undefined,
  state: HookState,
  warn: (msg: string) => void,
): void {
  (hooks ?? []).forEach((hook, i) => {
    try {
      runHostHook(kind, i, hook, state);
    } catch (err) {
      warn(errorMessage(err));
    }
  });
}

/**
 * startContainer hooks without an `env` of their own run with the container process's
 * environment, as runc runs them (a de facto behaviour engines rely on, not the spec's).
 */
export function withDefaultEnv(hooks: readonly Hook[] | undefined, env: readonly string[] | undefined): Hook[] {
  return (hooks ?? []).map((h) => (h.env === undefined ? { ...h, env: [...(env ?? [])] } : h));
}

/** Run hooks inside the container's namespaces (fork, setns, fork for the PID namespace). */
export function runContainerHooks(
  kind: HookKind,
  hooks: readonly Hook[] | undefined,
  state: HookState,
  target: ContainerTarget,
): void {
  (hooks ?? []).forEach((hook, i) => {
    const { theirs, ours } = hookPipes();
    let pidfd: number;
    try {
      pidfd = launch(openPlan(convertHook(hook, target.nsFlags), { stdio: theirs, initPidfd: target.pidfd }).plan).pidfd;
    } catch (err) {
      for (const fd of Object.values(ours)) fs.closeSync(fd);
      throw new HookError(kind, `${hookLabel(kind, i, hook)}: ${errorMessage(err)}`);
    } finally {
      for (const fd of theirs) fs.closeSync(fd);
    }
    superviseHook(kind, i, hook, { pidfd, ...ours }, state);
  });
}
