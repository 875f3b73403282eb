/**
 * Run-wide test context: the identifiers and temp-directory bookkeeping that the other
 * helpers share.
 *
 * Every resource a test run creates carries this run's id, so two test runs on the same
 * machine (two engineers, or a developer and CI) never mistake each other's containers,
 * mounts or cgroups for leaks:
 *   - temp dirs:   <os.tmpdir()>/tsrunc-test-<runId>-<kind>-XXXXXX
 *   - cgroups:     /tsrunc-test-<runId>/<name>   (in every cgroup hierarchy)
 *
 * Temp dirs made while a test runs belong to that test and are removed after it (by the
 * root hooks in hooks.ts); those made in `before` hooks live until the end of the run.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type MountInfoLine, parseMountInfo } from '../../src/linux/mountinfo.js';

/** Absolute path of the repository (the directory holding package.json). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Short id unique to this test process; safe in file names, cgroup names and container ids. */
export const RUN_ID = `${Date.now().toString(36)}${process.pid.toString(36)}`;

/** Every temp dir of this run starts with this absolute path prefix. */
export const TMP_PREFIX = path.join(os.tmpdir(), `tsrunc-test-${RUN_ID}-`);

/** The cgroup (relative to each hierarchy's root) under which all test containers live. */
export const CGROUP_PREFIX = `/tsrunc-test-${RUN_ID}`;

let uniqueCounter = 0;
/** A short name unique within this run: `<prefix>-<n><random>` (valid as a container id). */
export function uniqueName(prefix = 't'): string {
  uniqueCounter += 1;
  return `${prefix}-${uniqueCounter}${Math.random().toString(36).slice(2, 7)}`;
}

/** A cgroupsPath for a test container: `/tsrunc-test-<runId>/<name>`. */
export function testCgroupPath(name: string = uniqueName('cg')): string {
  return `${CGROUP_PREFIX}/${name}`;
}

// ---------------------------------------------------------------------------------------
// Temp directories
// ---------------------------------------------------------------------------------------

let inTest = false;
const testScoped: string[] = [];

/** Called by the root hooks: temp dirs made from now on belong to the running test. */
export function enterTest(): void {
  inTest = true;
}

/** Called by the root hooks after each test: forget the per-test --root, return this test's temp dirs. */
export function leaveTest(): string[] {
  inTest = false;
  currentRoot = undefined;
  return testScoped.splice(0);
}

/**
 * Create a fresh directory `<tmpdir>/tsrunc-test-<runId>-<kind>-XXXXXX`, mode 0755 (so that
 * a container whose root is mapped to an unprivileged host user can still traverse it).
 * Made during a test, it is removed after that test; otherwise (or with `runScoped`) at the
 * end of the run.
 */
export function makeTempDir(kind: string, opts: { runScoped?: boolean } = {}): string {
  const dir = mkdtempSync(`${TMP_PREFIX}${kind}-`);
  chmodSync(dir, 0o755);
  if (inTest && !opts.runScoped) testScoped.push(dir);
  return dir;
}

let currentRoot: string | undefined;
/**
 * The runtime state directory (`--root`) of the running test: created on first use,
 * a new one for every test.
 */
export function testRoot(): string {
  currentRoot ??= makeTempDir('root');
  return currentRoot;
}

/** All of this run's temp dirs still on disk. */
export function runTempDirs(): string[] {
  const dir = path.dirname(TMP_PREFIX);
  const base = path.basename(TMP_PREFIX);
  return readdirSync(dir)
    .filter((name) => name.startsWith(base))
    .map((name) => path.join(dir, name));
}

// ---------------------------------------------------------------------------------------
// Mounts
// ---------------------------------------------------------------------------------------

/** Parse /proc/self/mountinfo (the test process's mount namespace). */
export function readMountInfo(): MountInfoLine[] {
  return parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'));
}

/** Is `p` equal to `dir` or inside it? */
export function isUnder(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}

/** Mount points at or below `dir`, deepest first. */
export function mountsUnder(dir: string): string[] {
  return readMountInfo()
    .map((m) => m.mountPoint)
    .filter((mp) => isUnder(mp, dir))
    .sort((a, b) => b.length - a.length);
}

/**
 * Lazily detach (`umount -l`) every mount whose mount point satisfies `match`, deepest first,
 * repeating for stacked mounts. Returns the mount points that were found.
 */
export function detachMounts(match: (mountPoint: string) => boolean): string[] {
  const found: string[] = [];
  for (let round = 0; round < 20; round++) {
    const points = readMountInfo()
      .map((m) => m.mountPoint)
      .filter(match)
      .sort((a, b) => b.length - a.length);
    if (points.length === 0) break;
    for (const mp of points) {
      if (!found.includes(mp)) found.push(mp);
      try {
        execFileSync('umount', ['-l', mp], { stdio: 'ignore' });
      } catch {
        // Already gone (a parent was detached first) or not removable: the next round tells.
      }
    }
  }
  return found;
}

/**
 * Remove a directory tree without ever deleting through a mount: mounts below it are
 * detached first (a bind mount of a host directory must not have its contents removed).
 * Returns the mount points that had to be detached (normally none).
 */
export function safeRemove(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const detached = detachMounts((mp) => isUnder(mp, dir));
  const stuck = mountsUnder(dir);
  if (stuck.length > 0) throw new Error(`refusing to remove ${dir}: cannot detach mounts ${stuck.join(', ')}`);
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  return detached;
}
