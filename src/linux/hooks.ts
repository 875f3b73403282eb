// Lifecycle hooks (config.md "POSIX-platform Hooks"): each gets the container state on
// stdin, its own args and env, and an optional timeout. Runtime-namespace hooks are plain
// child processes; container-namespace hooks (createContainer, startContainer) are
// started inside the container's namespaces through the same launcher as the container.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { native } from '../native/addon.js';
import type { Hook } from '../spec/types.js';
import { HookError, errorMessage } from '../util/errors.js';
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

const OUTPUT_LIMIT = 4096;

function envObject(env: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env ?? []) {
    const eq = e.indexOf('=');
    if (eq > 0) out[e.slice(0, eq)] = e.slice(eq + 1);
  }
  return out;
}

function outputSuffix(stdout: string, stderr: string): string {
  const clip = (s: string) => s.trim().replace(/\s+/g, ' ').slice(0, OUTPUT_LIMIT);
  const parts = [];
  if (stdout.trim()) parts.push(`stdout: ${clip(stdout)}`);
  if (stderr.trim()) parts.push(`stderr: ${clip(stderr)}`);
  return parts.length ? `, ${parts.join(', ')}` : '';
}

function hookLabel(kind: HookKind, i: number, hook: Hook): string {
  return `error running ${kind} hook #${i} (${hook.path})`;
}

/** Run one hook in the runtime's namespaces; throws a HookError when it fails. */
function runHostHook(kind: HookKind, i: number, hook: Hook, state: HookState): void {
  const args = hookArgs(hook);
  const r = spawnSync(hook.path, args.slice(1), {
    argv0: args[0],
    env: envObject(hook.env),
    input: JSON.stringify(state),
    timeout: hook.timeout ? hook.timeout * 1000 : undefined,
    killSignal: 'SIGKILL',
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  const label = hookLabel(kind, i, hook);
  // A hook need not read the state: EPIPE on its stdin is not a failure (runc ignores it too).
  const ignoredEpipe = (r.error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE' && (r.status !== null || r.signal !== null);
  if (r.error && !ignoredEpipe) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ETIMEDOUT') throw new HookError(kind, `${label}: timeout after ${hook.timeout} seconds`);
    if (code === 'ENOENT') throw new HookError(kind, `${label}: fork/exec ${hook.path}: no such file or directory`);
    if (code === 'EACCES') throw new HookError(kind, `${label}: fork/exec ${hook.path}: permission denied`);
    throw new HookError(kind, `${label}: ${errorMessage(r.error)}`);
  }
  if (r.signal) throw new HookError(kind, `${label}: signal: ${r.signal}${outputSuffix(r.stdout, r.stderr)}`);
  if (r.status !== 0) throw new HookError(kind, `${label}: exit status ${r.status}${outputSuffix(r.stdout, r.stderr)}`);
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

/** Run hooks inside the container's namespaces (fork, setns, fork for the PID namespace). */
export function runContainerHooks(
  kind: HookKind,
  hooks: readonly Hook[] | undefined,
  state: HookState,
  target: ContainerTarget,
): void {
  const addon = native();
  (hooks ?? []).forEach((hook, i) => {
    const label = hookLabel(kind, i, hook);
    const [stdinR, stdinW] = addon.pipe();
    const out = addon.memfd('hook-output');
    let pidfd = -1;
    try {
      fs.writeSync(stdinW, JSON.stringify(state));
      fs.closeSync(stdinW);
      const { plan } = openPlan(convertHook(hook, target.nsFlags), { stdio: [stdinR, out, out], initPidfd: target.pidfd });
      try {
        pidfd = launch(plan).pidfd;
      } catch (err) {
        throw new HookError(kind, `${label}: ${errorMessage(err)}`);
      }
      const timeoutMs = hook.timeout ? hook.timeout * 1000 : -1;
      const revents = addon.poll([[pidfd, 1]], timeoutMs);
      if (!revents[0]) {
        addon.pidfdSendSignal(pidfd, 9);
        addon.waitPidfd(pidfd, false);
        throw new HookError(kind, `${label}: timeout after ${hook.timeout} seconds`);
      }
      const r = addon.waitPidfd(pidfd, false);
      if (r && (r.signal || r.exitCode !== 0)) {
        const output = fs.readFileSync(`/proc/self/fd/${out}`, 'utf8');
        const how = r.signal ? `signal: ${r.signal}` : `exit status ${r.exitCode}`;
        throw new HookError(kind, `${label}: ${how}${outputSuffix('', output)}`);
      }
    } finally {
      for (const fd of [stdinR, out, pidfd]) if (fd >= 0) fs.closeSync(fd);
    }
  });
}
