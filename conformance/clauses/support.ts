/**
 * Shared pieces of the clause tests: the catalogue, `clause()` (a mocha `it` titled with a
 * catalogue id), and small helpers for running things in containers and looking at them
 * from the host.
 *
 * Every clause test is black-box: it drives the runtime under test (dist/ts-runc or
 * $TSRUNC_BIN) through its command line only, so the same tests measure runc.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { AssertionError } from 'node:assert';
import { type MountInfoLine, parseMountInfo } from '../../src/linux/mountinfo.js';
import { type Bundle, type BundleOptions, type OciConfig, makeBundle } from '../../test/helpers/bundle.js';
import { makeTempDir } from '../../test/helpers/context.js';
import { cgroupMounts } from '../../test/helpers/leaks.js';
import { type RtResult, describeResult, rt, rtOk, runtimeBin, state, testRoot, uniqueId, waitFor } from '../../test/helpers/runtime.js';

// ---------------------------------------------------------------------------------------
// The catalogue
// ---------------------------------------------------------------------------------------

/** One requirement of the runtime-spec, as listed in catalogue.json. */
export interface Clause {
  /** Stable id: `<document>.<section>.<what>`, e.g. `runtime.start.not-created-error`. */
  id: string;
  /** The spec document (`runtime.md`, `config.md`, ...). */
  doc: string;
  section: string;
  /** MUST, MUST NOT, REQUIRED, or `normative` for a requirement stated without a keyword. */
  keyword: string;
  /** A short quote of the clause. */
  text: string;
  /** `now`: tested here; `later`: belongs to a later issue (reported as NOT COVERED). */
  scope: 'now' | 'later';
  /** For `later` clauses: the feature it waits for. */
  later?: string;
  /** Other places in the spec stating the same requirement (tested by the same test). */
  also?: string[];
}

const CATALOGUE_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'catalogue.json');
let catalogueCache: Map<string, Clause> | undefined;

/** The catalogue, by id. */
export function catalogue(): Map<string, Clause> {
  if (!catalogueCache) {
    const doc = JSON.parse(readFileSync(CATALOGUE_FILE, 'utf8')) as { clauses: Clause[] };
    catalogueCache = new Map(doc.clauses.map((c) => [c.id, c]));
  }
  return catalogueCache;
}

/**
 * A test of one clause: `it('[<id>] <title>', fn)`. Throws while the file loads (which fails
 * the run loudly) when the id is not in the catalogue or is not in scope yet.
 */
export function clause(id: string, title: string, fn: (this: Mocha.Context) => void | Promise<void>): Mocha.Test {
  const c = catalogue().get(id);
  if (!c) throw new Error(`clause test for unknown clause id ${id} (add it to conformance/clauses/catalogue.json)`);
  if (c.scope !== 'now') throw new Error(`clause ${id} is marked scope "${c.scope}" in the catalogue but has a test`);
  return it(`[${id}] ${title}`, fn);
}

// ---------------------------------------------------------------------------------------
// Containers
// ---------------------------------------------------------------------------------------

/** A bundle whose container sees the host directory `out` at /out (read-write). */
export interface OutBundle extends Bundle {
  /** Host side of the container's /out. */
  out: string;
}

/** makeBundle() plus a fresh host directory bind-mounted at /out in the container. */
export function makeOutBundle(opts: BundleOptions = {}): OutBundle {
  const out = makeTempDir('out');
  const b = makeBundle({
    ...opts,
    mutate: (c) => {
      c.mounts!.push({ destination: '/out', type: 'bind', source: out, options: ['rbind', 'rw'] });
      opts.mutate?.(c);
    },
  });
  return Object.assign(b, { out });
}

/** Read a file the container wrote to /out ('' if it is not there). */
export function readOut(b: OutBundle, name: string): string {
  const f = path.join(b.out, name);
  return existsSync(f) ? readFileSync(f, 'utf8') : '';
}

/** `run` a container in the foreground; its args are `sh -c <script>`. */
export function runScript(script: string, opts: { mutate?: (c: OciConfig) => void; id?: string; args?: string[] } = {}): RtResult & { bundle: Bundle } {
  const bundle = makeBundle({ args: opts.args ?? ['sh', '-c', script], ...(opts.mutate ? { mutate: opts.mutate } : {}) });
  const r = rt(['run', '--bundle', bundle.dir, opts.id ?? uniqueId()]);
  return Object.assign(r, { bundle });
}

/** runScript() asserted to exit 0; returns its stdout. */
export function runScriptOk(script: string, opts: { mutate?: (c: OciConfig) => void; args?: string[] } = {}): string {
  const r = runScript(script, opts);
  expect(r.status, describeResult(r)).to.equal(0);
  return r.stdout;
}

/** Assert that a runtime invocation failed (non-zero exit, not killed, not timed out). */
export function expectError(r: RtResult, what: string): void {
  expect(r.error, `${what}: ${describeResult(r)}`).to.equal(undefined);
  expect(r.signal, `${what}: ${describeResult(r)}`).to.equal(null);
  expect(r.status, `${what} should have failed: ${describeResult(r)}`).to.not.equal(0);
}

/**
 * Fail with one line per problem when `problems` is not empty: tests that try several cases
 * collect what went wrong in each instead of stopping at the first.
 */
export function expectNoProblems(problems: string[], what: string): void {
  if (problems.length > 0) throw new AssertionError({ message: `${what}:\n${problems.map((p) => `- ${p}`).join('\n')}` });
}

/** Assert that no container `id` exists in the test's --root (state fails, no state dir, not listed). */
export function expectNoContainer(id: string): void {
  const s = rt(['state', id]);
  expect(s.status, `state ${id} should fail: the container must not exist\n${describeResult(s)}`).to.not.equal(0);
  expect(existsSync(path.join(testRoot(), id)), `state directory ${path.join(testRoot(), id)} left behind`).to.equal(false);
  const list = rt(['list', '-q']);
  if (list.status === 0) expect(list.stdout.split('\n'), 'listed by `list -q`').to.not.include(id);
}

/** Create a bundle's config with `mutate` applied, try `create`, expect it to fail and leave no container. */
export function expectCreateFails(mutate: (c: OciConfig) => void, what: string, opts: { args?: string[] } = {}): RtResult {
  const b = makeBundle({ args: opts.args ?? ['true'], mutate });
  const id = uniqueId();
  const r = rt(['create', '--bundle', b.dir, id]);
  try {
    expectError(r, what);
    expectNoContainer(id);
  } finally {
    if (r.status === 0) forceDelete(id);
  }
  return r;
}

/** `create` a container and return its id. */
export function create(b: Bundle, id: string = uniqueId()): string {
  rtOk(['create', '--bundle', b.dir, id]);
  return id;
}

/** Best-effort removal of a container (for finally blocks; the leak check backs it up). */
export function forceDelete(id: string): void {
  rt(['delete', '--force', id]);
}

/** Wait until `state id` says stopped. */
export async function waitStopped(id: string, ms = 10_000): Promise<void> {
  await waitFor(() => state(id).status === 'stopped', ms, { what: `container ${id} to stop` });
}

/** Kill a container with SIGKILL, wait for it to stop, delete it. */
export async function killAndDelete(id: string): Promise<void> {
  rtOk(['kill', id, 'KILL']);
  await waitStopped(id);
  rtOk(['delete', id]);
}

/** Is a process alive (and not a zombie)? */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** `/proc/<pid>/cmdline` as an argument list ([] when gone). */
export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((s, i, a) => s !== '' || i < a.length - 1);
  } catch {
    return [];
  }
}

/** Namespace link of a process (`net:[4026531840]`), or of the test process itself. */
export function nsLink(type: string, pid: number | 'self' = 'self'): string {
  return readlinkSync(`/proc/${pid}/ns/${type}`);
}

/** The namespace types /proc/<pid>/ns shows, as config.json names them. */
export const NS_FILES: Record<string, string> = {
  pid: 'pid',
  network: 'net',
  mount: 'mnt',
  ipc: 'ipc',
  uts: 'uts',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
};

// ---------------------------------------------------------------------------------------
// mountinfo
// ---------------------------------------------------------------------------------------

export type MountLine = MountInfoLine;
export { parseMountInfo };

/** The topmost (last listed) mount at `mountPoint`. */
export function mountAt(lines: MountLine[], mountPoint: string): MountLine | undefined {
  return lines.filter((m) => m.mountPoint === mountPoint).pop();
}

// ---------------------------------------------------------------------------------------
// Host-side fixtures
// ---------------------------------------------------------------------------------------

/** Run a host command, throwing with its stderr on failure. */
export function host(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/** Mount a tmpfs at `dir` on the host (made if missing); returns an unmount function. */
export function hostTmpfs(dir: string, opts: string[] = []): () => void {
  mkdirSync(dir, { recursive: true });
  host('mount', ['-t', 'tmpfs', ...(opts.length ? ['-o', opts.join(',')] : []), 'tmpfs', dir]);
  return () => host('umount', ['-l', dir]);
}

/** Directories of the container's cgroup (`cgroupsPath`) in every mounted hierarchy that has it. */
export function cgroupDirs(cgroupsPath: string): string[] {
  return cgroupMounts()
    .map((mp) => path.join(mp, cgroupsPath))
    .filter((d) => existsSync(d));
}

/**
 * Run the runtime through a shell that first sets something up for it (e.g. its own
 * oom_score_adj), with `--root <test root>` added like rt() does. Pipes for stdio: only for
 * commands that leave no container process behind holding them.
 */
export function rtVia(shellPrefix: string, args: string[], timeoutMs = 30_000): RtResult {
  const argv = ['--root', testRoot(), ...args];
  const r = spawnSync('/bin/sh', ['-c', `${shellPrefix}; exec "$@"`, 'sh', runtimeBin(), ...argv], {
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  });
  const out: RtResult = {
    status: r.status,
    signal: r.signal,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    command: `sh -c '${shellPrefix}; exec ...' ${runtimeBin()} ${argv.join(' ')}`,
  };
  if (r.error) out.error = r.error;
  return out;
}
