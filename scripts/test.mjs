#!/usr/bin/env node
// The test command (`npm test`): mocha over the TypeScript tests, loaded through tsx.
//
//   node scripts/test.mjs                      unit, integration and conformance tests
//   node scripts/test.mjs test/unit            only what is under the given dirs/files
//   node scripts/test.mjs --conformance        only conformance/
//   node scripts/test.mjs --grep 'run'         any other argument goes to mocha
//   TSRUNC_BIN=$(which runc) npm test          the same tests against another runtime
//
// Serial on purpose (no --parallel): the tests share global kernel state. The last line
// printed is always `N passed, N failed, N skipped` (from test/reporter.cjs, or written here
// if mocha died before reporting), and the exit status is non-zero when anything failed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { testEnv } from './test-env.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_DIRS = ['test/unit', 'test/integration', 'conformance'];
// mocha options whose next argument is a value, not a spec path
const VALUE_OPTIONS = new Set([
  '--grep', '-g', '--fgrep', '-f', '--timeout', '-t', '--slow', '-s', '--reporter', '-R',
  '--reporter-option', '--reporter-options', '-O', '--retries', '--require', '-r', '--ui', '-u',
  '--file', '--ignore', '--exclude', '--config', '--package', '--extension', '--spec', '--node-option', '-n',
]);

/** `*.test.ts` files under `dir` (relative to the repo), sorted. */
function testFiles(dir) {
  const abs = path.resolve(root, dir);
  if (!existsSync(abs)) return [];
  if (statSync(abs).isFile()) return [abs];
  const out = [];
  for (const e of readdirSync(abs, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = path.join(abs, e.name);
    if (e.isDirectory()) out.push(...testFiles(p));
    else if (e.name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

// Split our arguments into spec paths (existing files/dirs) and options for mocha.
const passThrough = [];
const specDirs = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--conformance') specDirs.push('conformance');
  else if (VALUE_OPTIONS.has(a)) passThrough.push(a, argv[++i] ?? '');
  else if (!a.startsWith('-') && existsSync(path.resolve(a))) specDirs.push(path.resolve(a));
  else passThrough.push(a);
}
const files = (specDirs.length ? specDirs : DEFAULT_DIRS).flatMap(testFiles);

const summaryLine = (p, f, s) => `${p} passed, ${f} failed, ${s} skipped`;
if (files.length === 0) {
  console.log(`no test files (*.test.ts) under ${(specDirs.length ? specDirs : DEFAULT_DIRS).join(', ')}`);
  console.log(summaryLine(0, 0, 0));
  process.exit(0);
}

const env = testEnv();

// Tests never write into the repository (a relative path, a program left in the run's working
// directory: conmon once dropped its "oom" file here and a merge committed it). Untracked,
// unignored files that appear during the run fail it. null outside a git checkout.
function untrackedFiles() {
  const r = spawnSync('git', ['ls-files', '--others', '--exclude-standard', '-z'], { cwd: root, encoding: 'utf8' });
  return r.status === 0 ? new Set(r.stdout.split('\0').filter(Boolean)) : null;
}
const untrackedBefore = untrackedFiles();

/** Files the run added to the repository (empty when it cannot tell). */
function strayFiles() {
  const after = untrackedFiles();
  return untrackedBefore && after ? [...after].filter((f) => !untrackedBefore.has(f)) : [];
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tsrunc-summary-'));
const summaryFile = path.join(tmp, 'summary');
const mochaArgs = [
  '--import=tsx',
  path.join(root, 'node_modules/mocha/bin/mocha.js'),
  '--reporter', path.join(root, 'test/reporter.cjs'),
  '--require', path.join(root, 'test/helpers/hooks.ts'),
  '--timeout', '60000', // integration tests start real containers
  '--slow', '2000',
  '--exit',
  ...(process.stdout.isTTY ? ['--color'] : []),
  ...passThrough,
  ...files,
];
const child = spawn(process.execPath, mochaArgs, {
  cwd: root,
  stdio: 'inherit',
  env: { ...env, TSRUNC_TEST_SUMMARY_FILE: summaryFile },
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));

child.on('close', (code, signal) => {
  let summary = existsSync(summaryFile) ? readFileSync(summaryFile, 'utf8').trim() : '';
  rmSync(tmp, { recursive: true, force: true });
  let status = code ?? 1;
  if (!summary) {
    // mocha died before the reporter's closing line (a file failed to load, a crash, a signal)
    console.log(`mocha ended without a summary (${signal ? `signal ${signal}` : `exit status ${code}`})`);
    console.log(summaryLine(0, 1, 0));
    process.exit(status || 1);
  }
  const [, passed, failed, skipped] = /^(\d+) passed, (\d+) failed, (\d+) skipped$/.exec(summary) ?? [];
  const stray = strayFiles();
  if (stray.length > 0) {
    // Last, so the closing line still counts it.
    console.log(`the tests left files in the repository (${root}): ${stray.join(', ')}`);
    console.log(summaryLine(passed, Number(failed) + 1, skipped));
    process.exit(status || 1);
  }
  if (Number(failed) === 0 && status !== 0) {
    // Something failed after the reporter had counted (e.g. an error at exit): say so, last.
    console.log(`mocha exited with status ${status} after reporting no failures`);
    console.log(summaryLine(passed, 1, skipped));
  } else if (Number(failed) > 0 && status === 0) {
    status = 1;
  }
  process.exit(status);
});
