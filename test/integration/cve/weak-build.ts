/**
 * Deliberately weakened builds of the addon and of the CLI, for showing that each CVE
 * regression test fails once the wall it checks is removed.
 *
 *   TSRUNC_WEAKEN=exe,fds,procfs,console,config node scripts/test.mjs test/integration/cve
 *
 * TSRUNC_WEAKEN is read here, by the test harness only; the runtime never reads it. When
 * it is set, the suites call `useWeakenedBuild()`, which builds a private copy of the addon
 * with `CPPFLAGS=-DTSRUNC_WEAKEN_<CLASS>...` (addon/child/weaken.h lists what each class
 * turns off) into a cache directory keyed by the sources and the classes, and points the
 * runtime under test at it with TSRUNC_NATIVE_DIR (src/native/addon.ts) for that suite.
 * Classes of the TypeScript side (src/util/weaken.ts) are a private copy of the CLI built
 * with TSRUNC_BUILD_WEAKEN=<class> (scripts/build.mjs), run as the runtime under test
 * (TSRUNC_BIN). Normal builds define none of these, so they contain none of it.
 *
 * Expected: with a class weakened, the tests of that class fail and the others pass.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../helpers/context.js';

/** Weakening classes and their macros (addon/child/weaken.h). */
export const WEAKEN_CLASSES: Readonly<Record<string, string>> = {
  exe: 'TSRUNC_WEAKEN_EXE',
  fds: 'TSRUNC_WEAKEN_FDS',
  procfs: 'TSRUNC_WEAKEN_PROCFS',
  console: 'TSRUNC_WEAKEN_CONSOLE',
};

/** Weakening classes of the CLI bundle (src/util/weaken.ts). */
export const CLI_WEAKEN_CLASSES: readonly string[] = ['config'];

/**
 * Weakening classes of the executable rather than the addon: its suite compiles its own
 * weakened copy (scripts/bun.mjs, compileExecutable's options).
 */
export const EXECUTABLE_WEAKEN_CLASSES: readonly string[] = ['autoload'];

/** The classes asked for in TSRUNC_WEAKEN ("all" for every class), sorted. */
export function requestedWeakening(): string[] {
  const raw = (process.env.TSRUNC_WEAKEN ?? '').trim();
  if (!raw) return [];
  const known = [...Object.keys(WEAKEN_CLASSES), ...CLI_WEAKEN_CLASSES, ...EXECUTABLE_WEAKEN_CLASSES];
  const names = raw === 'all' ? known : raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!known.includes(n)) throw new Error(`TSRUNC_WEAKEN: unknown class "${n}" (known: ${known.join(', ')}, all)`);
  }
  return [...new Set(names)].sort();
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
    .sort();
}

/** Build (or reuse) the weakened addon; returns the directory holding tsrunc.node, tsrunc-child and tsrunc-init. */
export function buildWeakened(classes: readonly string[]): string {
  const hash = createHash('sha256');
  hash.update(classes.join(','));
  for (const f of [path.join(REPO_ROOT, 'binding.gyp'), ...filesUnder(path.join(REPO_ROOT, 'addon'))]) {
    hash.update(path.relative(REPO_ROOT, f));
    hash.update(readFileSync(f));
  }
  const dir = path.join(os.tmpdir(), `tsrunc-weak-${classes.join('-')}-${hash.digest('hex').slice(0, 12)}`);
  const release = path.join(dir, 'build/Release');
  if (['tsrunc.node', 'tsrunc-child', 'tsrunc-init'].every((f) => existsSync(path.join(release, f)))) return release;

  const work = `${dir}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  cpSync(path.join(REPO_ROOT, 'binding.gyp'), path.join(work, 'binding.gyp'));
  cpSync(path.join(REPO_ROOT, 'addon'), path.join(work, 'addon'), { recursive: true });
  symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(work, 'node_modules'));
  const gyp = path.join(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
  const defines = classes.map((c) => `-D${WEAKEN_CLASSES[c]}`).join(' ');
  execFileSync(process.execPath, [gyp, 'rebuild'], {
    cwd: work,
    env: { ...process.env, npm_config_nodedir: process.env.npm_config_nodedir ?? '/usr', CPPFLAGS: defines },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 600_000,
  });
  rmSync(dir, { recursive: true, force: true });
  renameSync(work, dir);
  if (!statSync(path.join(release, 'tsrunc.node')).isFile()) throw new Error(`weakened build left no addon in ${release}`);
  return release;
}

/**
 * In a describe block: when TSRUNC_WEAKEN names classes, run the block's tests against a
 * weakened build (TSRUNC_NATIVE_DIR for every runtime invocation), and say so in the
 * suite's title output. Without it, nothing changes.
 */
export function useWeakenedBuild(): void {
  const requested = requestedWeakening();
  const native = requested.filter((c) => WEAKEN_CLASSES[c]);
  const cli = requested.filter((c) => CLI_WEAKEN_CLASSES.includes(c));
  if (native.length + cli.length === 0) return; // executable classes build their own copy
  const saved = { TSRUNC_NATIVE_DIR: process.env.TSRUNC_NATIVE_DIR, TSRUNC_BIN: process.env.TSRUNC_BIN };
  before(function () {
    this.timeout(900_000);
    if (native.length) process.env.TSRUNC_NATIVE_DIR = buildWeakened(native);
    if (cli.length) process.env.TSRUNC_BIN = buildWeakenedCli(cli);
    console.log(`      (weakened build: ${requested.join(', ')} -> ${[process.env.TSRUNC_NATIVE_DIR, process.env.TSRUNC_BIN].filter(Boolean).join(', ')})`);
  });
  after(function () {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
}

/**
 * Build (or reuse) a copy of the CLI with TSRUNC_BUILD_WEAKEN=<classes>; returns its
 * executable. It loads the addon of this checkout (or TSRUNC_NATIVE_DIR's).
 */
export function buildWeakenedCli(classes: readonly string[]): string {
  // addon/protocol: the build generates the plan's TypeScript from it (scripts/gen-protocol.mjs);
  // addon/stub: it compiles the launcher (dist/ts-runc) from there (scripts/bun.mjs).
  const inputs = ['src', 'scripts', 'schemas', 'addon/protocol', 'addon/stub', 'package.json', 'tsconfig.json'];
  const hash = createHash('sha256');
  hash.update(classes.join(','));
  for (const f of inputs.flatMap((i) => (statSync(path.join(REPO_ROOT, i)).isDirectory() ? filesUnder(path.join(REPO_ROOT, i)) : [path.join(REPO_ROOT, i)]))) {
    if (f.includes(`${path.sep}generated${path.sep}`)) continue;
    hash.update(path.relative(REPO_ROOT, f));
    hash.update(readFileSync(f));
  }
  const dir = path.join(os.tmpdir(), `tsrunc-weak-cli-${classes.join('-')}-${hash.digest('hex').slice(0, 12)}`);
  const bin = path.join(dir, 'dist/ts-runc');
  if (existsSync(bin)) return bin;

  const work = `${dir}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  for (const i of inputs) cpSync(path.join(REPO_ROOT, i), path.join(work, i), { recursive: true });
  symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(work, 'node_modules'));
  symlinkSync(path.join(REPO_ROOT, 'build'), path.join(work, 'build'));
  execFileSync(process.execPath, [path.join(work, 'scripts/build.mjs'), '--no-typecheck'], {
    cwd: work,
    env: { ...process.env, TSRUNC_BUILD_WEAKEN: classes.join(',') },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 600_000,
  });
  rmSync(dir, { recursive: true, force: true });
  renameSync(work, dir);
  return bin;
}
