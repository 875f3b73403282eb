/**
 * Shared pieces of the Linux-setup integration tests (test/integration/linux/): running a
 * busybox shell script in a fresh container, namespace bookkeeping, mountinfo parsing and
 * long-lived "sleeper" containers for tests that join another container's namespaces.
 *
 * Everything goes through the runtime under test (TSRUNC_BIN or dist/ts-runc), so the
 * same tests can be pointed at runc to check the tests themselves.
 */
import { execFileSync } from 'node:child_process';
import { lchownSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { type MountInfoLine, parseMountInfo } from '../../../src/linux/mountinfo.js';
import { type Bundle, type OciConfig, makeBundle } from '../../helpers/bundle.js';
import { type RtResult, describeResult, rt, rtOk, state, uniqueId, waitFor } from '../../helpers/runtime.js';

/** The host id that root in a test user namespace maps to, and the size of the range. */
export const USERNS_HOST_ID = 100000;
export const USERNS_SIZE = 65536;

/** `/proc/<pid>/ns/<entry>` as the host sees it, e.g. `net:[4026531840]`. */
export function nsLink(entry: string, pid: number | 'self' = 'self'): string {
  return readlinkSync(`/proc/${pid}/ns/${entry}`);
}

/** Add (or replace) a namespace in linux.namespaces. */
export function setNamespace(config: OciConfig, type: string, nsPath?: string): void {
  const list: { type: string; path?: string }[] = (config.linux!.namespaces ??= []);
  const entry = nsPath ? { type, path: nsPath } : { type };
  const i = list.findIndex((n) => n.type === type);
  if (i >= 0) list[i] = entry;
  else list.push(entry);
}

/** Remove a namespace from linux.namespaces. */
export function dropNamespace(config: OciConfig, type: string): void {
  config.linux!.namespaces = (config.linux!.namespaces ?? []).filter((n: { type: string }) => n.type !== type);
}

/** A new user namespace mapping container ids 0..65535 to host USERNS_HOST_ID.. . */
export function useUserns(config: OciConfig, hostId = USERNS_HOST_ID): void {
  setNamespace(config, 'user');
  config.linux!.uidMappings = [{ containerID: 0, hostID: hostId, size: USERNS_SIZE }];
  config.linux!.gidMappings = [{ containerID: 0, hostID: hostId, size: USERNS_SIZE }];
}

/** A bundle whose process is `sh -c <script>`. */
export function shBundle(script: string, mutate?: (config: OciConfig) => void): Bundle {
  return makeBundle({ args: ['sh', '-c', script], mutate });
}

/** `run` the bundle in the foreground under a fresh id (the container is deleted when it exits). */
export function runBundle(bundle: Bundle, runFlags: string[] = []): RtResult {
  return rt(['run', ...runFlags, '--bundle', bundle.dir, uniqueId()]);
}

/** Run `sh -c <script>` in a fresh container; the container's exit status is the result's. */
export function runSh(script: string, mutate?: (config: OciConfig) => void, runFlags: string[] = []): RtResult {
  return runBundle(shBundle(script, mutate), runFlags);
}

/** Like runSh, but the container must exit 0; returns its stdout. */
export function runShOk(script: string, mutate?: (config: OciConfig) => void, runFlags: string[] = []): string {
  const r = runSh(script, mutate, runFlags);
  if (r.status !== 0 || r.error) throw new Error(`container failed: ${describeResult(r)}`);
  return r.stdout;
}

/** Output lines, trimmed, empty ones dropped; runs of blanks collapsed to one space. */
export function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim().replace(/\s+/g, ' '))
    .filter((l) => l !== '');
}

/** `key=value` lines (the output of `echo key=$(...)` scripts) as a record. */
export function keyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

export { type MountInfoLine, parseMountInfo };

/** The topmost (last listed) mount at `mountPoint`, or undefined. */
export function mountAt(entries: MountInfoLine[], mountPoint: string): MountInfoLine | undefined {
  return entries.filter((m) => m.mountPoint === mountPoint).pop();
}

/** Host mount points at or below `dir` (the test process's mount namespace). */
export function hostMountsUnder(dir: string): string[] {
  return parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'))
    .map((m) => m.mountPoint)
    .filter((mp) => mp === dir || mp.startsWith(`${dir}/`));
}

/** `mount ...` on the host; returns a function that detaches it (idempotent). */
export function hostMount(args: string[], target: string): () => void {
  execFileSync('mount', [...args, target], { stdio: 'pipe' });
  let done = false;
  return () => {
    if (done) return;
    done = true;
    execFileSync('umount', ['-l', target], { stdio: 'pipe' });
  };
}

/** chown -hR `dir` to uid:gid (symlinks themselves, not their targets). */
export function chownTree(dir: string, uid: number, gid: number): void {
  lchownSync(dir, uid, gid);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) chownTree(p, uid, gid);
    else lchownSync(p, uid, gid);
  }
}

/** A container left running in the background (`run --detach`), for tests that join it. */
export interface Sleeper {
  id: string;
  /** Host pid of its init process. */
  pid: number;
  bundle: Bundle;
  /** Kill and delete it (safe to call twice). */
  stop(): void;
}

/** `run --detach` a container that sleeps; `mutate` adjusts its config. */
export function startSleeper(mutate?: (config: OciConfig) => void): Sleeper {
  const bundle = makeBundle({ args: ['sleep', '600'], mutate });
  const id = uniqueId('sleeper');
  rtOk(['run', '--detach', '--bundle', bundle.dir, id]);
  const pid = state(id).pid!;
  let stopped = false;
  return {
    id,
    pid,
    bundle,
    stop() {
      if (stopped) return;
      stopped = true;
      rtOk(['delete', '--force', id]);
    },
  };
}

/**
 * For a describe block: a startSleeper whose containers are stopped (deleted) after each
 * test, whatever happened in it.
 */
export function useSleepers(): (mutate?: (config: OciConfig) => void) => Sleeper {
  const started: Sleeper[] = [];
  afterEach(function () {
    for (const s of started.splice(0)) s.stop();
  });
  return (mutate) => {
    const s = startSleeper(mutate);
    started.push(s);
    return s;
  };
}

/** Run `fn` with a sleeper container that is stopped afterwards, whatever happens. */
export async function withSleeper<T>(mutate: ((config: OciConfig) => void) | undefined, fn: (s: Sleeper) => T | Promise<T>): Promise<T> {
  const s = startSleeper(mutate);
  try {
    return await fn(s);
  } finally {
    s.stop();
  }
}

export { waitFor };
