/**
 * Leak checking: after each test, nothing the test started may be left behind.
 *
 *   describe('run', function () {
 *     useLeakCheck();
 *     it('...', () => { ... });
 *   });
 *
 * What counts as left behind (all scoped to this test run, see context.ts):
 *   - state directories in any of the run's `--root` dirs;
 *   - mounts (in /proc/self/mountinfo) at or below the run's temp dirs;
 *   - cgroup directories below /tsrunc-test-<runId> in any cgroup hierarchy (v1 and v2);
 *   - live processes in such a cgroup, or whose command line names one of the run's temp dirs.
 *
 * A snapshot is taken before each test (before its beforeEach hooks) and compared after it
 * (after its afterEach hooks), so fixtures a suite shares across tests are not leaks of the
 * test; a suite-level check compares the end of the suite with its start. On a leak the
 * checker FIRST cleans up (force-delete through the runtime, kill, unmount, rmdir, remove),
 * so one leak cannot cascade into the next test, THEN fails the test, listing what leaked.
 *
 * The checks run from the root hooks in hooks.ts, which scripts/test.mjs loads.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CGROUP_PREFIX, TMP_PREFIX, detachMounts, isUnder, readMountInfo, runTempDirs, safeRemove } from './context.js';
import { sleepMs } from '../../src/util/sleep.js';
import { runtimeBin } from './runtime.js';

/** A process that belongs to the test run. */
export interface LeakedProcess {
  pid: number;
  /** `pid:starttime`, stable against pid reuse. */
  key: string;
  cmdline: string;
  /** Why it counts as the run's: its cgroup, or its command line. */
  why: string;
}

/** The run-scoped resources that exist at one moment. */
export interface Snapshot {
  stateDirs: Set<string>;
  mounts: Set<string>;
  cgroups: Set<string>;
  processes: Map<string, LeakedProcess>;
}

/** What exists now that did not exist in the baseline snapshot. */
export interface Leaks {
  stateDirs: string[];
  mounts: string[];
  cgroups: string[];
  processes: LeakedProcess[];
}

/** A snapshot in which nothing existed: findLeaks(EMPTY) lists everything of the run. */
export const EMPTY: Snapshot = { stateDirs: new Set(), mounts: new Set(), cgroups: new Set(), processes: new Map() };

function tryRead(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Mount points of every cgroup hierarchy (v1 controllers, named v1, and the v2 mount). */
export function cgroupMounts(): string[] {
  const points = readMountInfo()
    .filter((m) => m.fsType === 'cgroup' || m.fsType === 'cgroup2')
    .map((m) => m.mountPoint);
  return [...new Set(points)];
}

/** The run's prefix directory in each hierarchy where it exists. */
function prefixDirs(): string[] {
  return cgroupMounts()
    .map((mp) => path.join(mp, CGROUP_PREFIX))
    .filter((dir) => existsSync(dir));
}

/** Directories below `dir` (not `dir` itself), parents before children. */
function subdirs(dir: string): string[] {
  const out: string[] = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const child = path.join(dir, e.name);
    out.push(child, ...subdirs(child));
  }
  return out;
}

/** The run's state directories: `<root>/<container>` for each of the run's `--root` temp dirs. */
function stateDirs(): string[] {
  const rootKind = `${path.basename(TMP_PREFIX)}root-`;
  return runTempDirs()
    .filter((dir) => path.basename(dir).startsWith(rootKind))
    .flatMap((root) => {
      try {
        return readdirSync(root, { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => path.join(root, e.name));
      } catch {
        return [];
      }
    });
}

/** Mount points under the run's temp dirs; stacked mounts get `#2`, `#3`... suffixes. */
function runMounts(): string[] {
  const seen = new Map<string, number>();
  const out: string[] = [];
  for (const m of readMountInfo()) {
    if (!m.mountPoint.startsWith(TMP_PREFIX)) continue;
    const n = (seen.get(m.mountPoint) ?? 0) + 1;
    seen.set(m.mountPoint, n);
    out.push(n === 1 ? m.mountPoint : `${m.mountPoint}#${n}`);
  }
  return out;
}

/** Live (non-zombie) processes in the run's cgroups or naming the run's temp dirs. */
function runProcesses(): LeakedProcess[] {
  const out: LeakedProcess[] = [];
  const exclude = new Set([process.pid, process.ppid]);
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (exclude.has(pid)) continue;
    const stat = tryRead(`/proc/${pid}/stat`);
    if (!stat) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') continue; // dead, only not yet reaped
    const cmdline = (tryRead(`/proc/${pid}/cmdline`) ?? '').split('\0').join(' ').trim();
    const cgroupLine = (tryRead(`/proc/${pid}/cgroup`) ?? '')
      .split('\n')
      .find((line) => isUnder(line.split(':').slice(2).join(':'), CGROUP_PREFIX));
    const why = cgroupLine ? `in cgroup ${cgroupLine}` : cmdline.includes(TMP_PREFIX) ? 'command line names a test temp dir' : '';
    if (why) out.push({ pid, key: `${pid}:${fields[19]}`, cmdline, why });
  }
  return out;
}

/** Record what of the run exists now. */
export function takeSnapshot(): Snapshot {
  return {
    stateDirs: new Set(stateDirs()),
    mounts: new Set(runMounts()),
    cgroups: new Set(prefixDirs().flatMap(subdirs)),
    processes: new Map(runProcesses().map((p) => [p.key, p])),
  };
}

/** What exists now and did not in `base`. */
export function findLeaks(base: Snapshot): Leaks {
  const now = takeSnapshot();
  return {
    stateDirs: [...now.stateDirs].filter((d) => !base.stateDirs.has(d)),
    mounts: [...now.mounts].filter((m) => !base.mounts.has(m)),
    cgroups: [...now.cgroups].filter((c) => !base.cgroups.has(c)),
    processes: [...now.processes.values()].filter((p) => !base.processes.has(p.key)),
  };
}

export function hasLeaks(l: Leaks): boolean {
  return l.stateDirs.length + l.mounts.length + l.cgroups.length + l.processes.length > 0;
}

/** A readable multi-line list of `l`. */
export function formatLeaks(l: Leaks): string {
  const lines: string[] = [];
  const section = (title: string, items: string[]) => {
    if (items.length) lines.push(`  ${title}:`, ...items.map((i) => `    ${i}`));
  };
  section('state directories', l.stateDirs);
  section('processes', l.processes.map((p) => `pid ${p.pid} (${p.why}): ${p.cmdline || '?'}`));
  section('mounts', l.mounts);
  section('cgroups', l.cgroups);
  return lines.join('\n');
}

/** Thaw frozen cgroups (a frozen process cannot die of SIGKILL). */
function thaw(cgroups: string[]): void {
  for (const cg of cgroups) {
    for (const [file, value] of [
      ['freezer.state', 'THAWED'],
      ['cgroup.freeze', '0'],
    ] as const) {
      if (existsSync(path.join(cg, file))) {
        try {
          writeFileSync(path.join(cg, file), value);
        } catch {
          /* best effort */
        }
      }
    }
  }
}

/**
 * Remove what `leaks` lists, and whatever else of the run appeared since `base`:
 * force-delete leaked containers through the runtime, kill processes, detach mounts,
 * rmdir cgroups (deepest first), remove state dirs. Returns what could not be removed.
 */
export function cleanupLeaks(leaks: Leaks, base: Snapshot = EMPTY): Leaks {
  // 1. Ask the runtime to force-delete leaked containers: the orderly way out.
  const bin = runtimeBin();
  if (existsSync(bin)) {
    for (const dir of leaks.stateDirs) {
      spawnSync(bin, ['--root', path.dirname(dir), 'delete', '--force', path.basename(dir)], {
        stdio: 'ignore',
        timeout: 10_000,
        killSignal: 'SIGKILL',
      });
    }
  }
  // 2. Kill processes (thawing frozen cgroups first), and wait for them to go.
  for (let round = 0; round < 50; round++) {
    const procs = findLeaks(base).processes;
    if (procs.length === 0) break;
    if (round === 0) thaw(findLeaks(base).cgroups);
    for (const p of procs) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    sleepMs(100);
  }
  // 3. Detach mounts under the run's temp dirs.
  detachMounts((mp) => mp.startsWith(TMP_PREFIX) && !base.mounts.has(mp));
  // 4. Remove cgroups, deepest first; retry while exiting processes still hold them.
  for (let round = 0; round < 20; round++) {
    const cgroups = findLeaks(base).cgroups.sort((a, b) => b.length - a.length);
    if (cgroups.length === 0) break;
    for (const cg of cgroups) {
      try {
        rmdirSync(cg);
      } catch {
        /* busy or already gone: next round */
      }
    }
    if (findLeaks(base).cgroups.length > 0) sleepMs(100);
  }
  // 5. Remove state directories.
  for (const dir of findLeaks(base).stateDirs) {
    try {
      safeRemove(dir);
    } catch {
      /* reported below */
    }
  }
  return findLeaks(base);
}

/** Clean up `leaks` and build the error a test fails with (listing what leaked). */
function leakError(what: string, leaks: Leaks, base: Snapshot): Error {
  const left = cleanupLeaks(leaks, base);
  let message = `${what} left resources behind (now cleaned up):\n${formatLeaks(leaks)}`;
  if (hasLeaks(left)) message += `\ncould NOT clean up:\n${formatLeaks(left)}`;
  const err = new Error(message);
  err.stack = message; // the hook's stack trace says nothing useful
  return err;
}

// ---------------------------------------------------------------------------------------
// Mocha integration (driven by the root hooks in hooks.ts)
// ---------------------------------------------------------------------------------------

let rootHooksLoaded = false;
/** hooks.ts calls this when mocha loads it. */
export function markRootHooksLoaded(): void {
  rootHooksLoaded = true;
}

const checkedSuites = new WeakSet<Mocha.Suite>();
let testBaseline: Snapshot | undefined;

function isChecked(test: Mocha.Runnable | undefined): boolean {
  for (let s = test?.parent; s; s = s.parent) if (checkedSuites.has(s)) return true;
  return false;
}

/**
 * Check every test of the enclosing describe block (and of its nested blocks) for leaks,
 * and the block as a whole (its before/after hooks) at its end.
 */
export function useLeakCheck(): void {
  let suiteBaseline: Snapshot = EMPTY;
  before(function () {
    if (!rootHooksLoaded) {
      throw new Error('useLeakCheck() needs the root hooks: run mocha with --require test/helpers/hooks.ts (scripts/test.mjs does)');
    }
    const suite = this.test!.parent!;
    checkedSuites.add(suite);
    suiteBaseline = takeSnapshot();
    // Appended now, so it runs after every `after` hook the suite declared itself.
    suite.afterAll('leak check (suite)', function () {
      const leaks = findLeaks(suiteBaseline);
      if (hasLeaks(leaks)) throw leakError(`suite "${suite.fullTitle()}"`, leaks, suiteBaseline);
    });
  });
}

/** Root beforeEach: baseline for a leak-checked test (taken before its beforeEach hooks). */
export function leakCheckBeforeEach(test: Mocha.Runnable | undefined): void {
  testBaseline = isChecked(test) ? takeSnapshot() : undefined;
}

/** Root afterEach (after the test's afterEach hooks): the error to fail the test with, if it leaked. */
export function leakCheckAfterEach(test: Mocha.Runnable | undefined): Error | undefined {
  const base = testBaseline;
  testBaseline = undefined;
  if (!base) return undefined;
  const leaks = findLeaks(base);
  return hasLeaks(leaks) ? leakError(`test "${test?.fullTitle() ?? '?'}"`, leaks, base) : undefined;
}

/**
 * End of run: clean up everything of the run still present (reporting it as a leak),
 * then remove the run's cgroup prefix dirs and temp dirs.
 */
export function cleanupRun(): Error | undefined {
  const leaks = findLeaks(EMPTY);
  const err = hasLeaks(leaks) ? leakError('the test run', leaks, EMPTY) : undefined;
  for (const dir of prefixDirs()) {
    try {
      rmdirSync(dir);
    } catch {
      /* not empty: reported above */
    }
  }
  for (const dir of runTempDirs()) {
    try {
      safeRemove(dir);
    } catch {
      /* mounts that would not detach: reported above */
    }
  }
  return err;
}
