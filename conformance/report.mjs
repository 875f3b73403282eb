#!/usr/bin/env node
// The conformance report (`npm run conformance`): runs the clause tests (conformance/clauses/
// *.test.ts) against the runtime under test and prints every clause of the catalogue
// (conformance/clauses/catalogue.json) with its outcome, grouped by spec document:
//
//   PASS          every test of the clause passed
//   FAIL          a test of the clause failed (or an in-scope clause has no test at all)
//   SKIP          its test cannot run on this machine (the reason is printed)
//   NOT COVERED   the clause belongs to a later issue (scope "later" in the catalogue)
//   NOT RUN       left out by --grep
//
// then the failures in full, and last the line `N passed, N failed, N skipped` (counting
// clauses). The results are also written as JSON to conformance/results/ (gitignored).
//
//   npm run conformance                               against dist/ts-runc
//   TSRUNC_BIN=$(which runc) npm run conformance      against another runtime
//   npm run conformance -- --grep hooks               only clauses whose test title matches
//   npm run conformance -- --verbose                  mocha's spec output while running
//
// Exit status: 0 when no clause failed, 1 otherwise.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { testEnv } from '../scripts/test-env.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const clausesDir = path.join(here, 'clauses');
const resultsDir = path.join(here, 'results');

/** Order of the documents in the report. */
const DOCS = ['runtime.md', 'runtime-linux.md', 'config.md', 'config-linux.md'];
const LABEL = { passed: 'PASS', failed: 'FAIL', skipped: 'SKIP', 'not-covered': 'NOT COVERED', 'not-run': 'NOT RUN' };

// ---------------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------------

const argv = process.argv.slice(2);
const verbose = argv.includes('--verbose');
const mochaArgs = argv.filter((a) => a !== '--verbose');
const filtered = mochaArgs.some((a) => ['--grep', '-g', '--fgrep', '-f'].includes(a) || a.startsWith('--grep='));
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n'));
  process.exit(0);
}

// ---------------------------------------------------------------------------------------
// Run the clause tests
// ---------------------------------------------------------------------------------------

const runtimeBin = process.env.TSRUNC_BIN ? path.resolve(process.env.TSRUNC_BIN) : path.join(repo, 'dist/ts-runc');
const runtimeName = process.env.TSRUNC_BIN ? path.basename(runtimeBin) : 'ts-runc';
const runtimeVersion = (() => {
  const r = spawnSync(runtimeBin, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim().split('\n').join('; ') : `unknown (${r.error?.message ?? r.stderr.trim()})`;
})();

const testFiles = readdirSync(clausesDir)
  .filter((f) => f.endsWith('.test.ts'))
  .sort()
  .map((f) => path.join(clausesDir, f));

const env = testEnv();

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tsrunc-conformance-'));
const rawFile = path.join(tmp, 'tests.json');
const startedAt = new Date();
console.log(`conformance: ${testFiles.length} clause test files against ${runtimeBin} (${runtimeVersion})`);

const status = await new Promise((resolve) => {
  const child = spawn(
    process.execPath,
    [
      '--import=tsx',
      path.join(repo, 'node_modules/mocha/bin/mocha.js'),
      '--reporter', path.join(here, 'clause-reporter.cjs'),
      '--require', path.join(repo, 'test/helpers/hooks.ts'),
      '--timeout', '60000',
      '--exit',
      ...mochaArgs,
      ...testFiles,
    ],
    {
      cwd: repo,
      stdio: 'inherit',
      env: { ...env, TSRUNC_CONFORMANCE_RESULTS_FILE: rawFile, ...(verbose ? { TSRUNC_CONFORMANCE_VERBOSE: '1' } : {}) },
    },
  );
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('close', (code, signal) => resolve({ code, signal }));
});
const raw = existsSync(rawFile) ? JSON.parse(readFileSync(rawFile, 'utf8')) : undefined;
rmSync(tmp, { recursive: true, force: true });
if (!raw) {
  console.log(`mocha ended without results (${status.signal ? `signal ${status.signal}` : `exit status ${status.code}`})`);
  console.log('0 passed, 1 failed, 0 skipped');
  process.exit(1);
}

// ---------------------------------------------------------------------------------------
// Clause outcomes
// ---------------------------------------------------------------------------------------

const { clauses } = JSON.parse(readFileSync(path.join(clausesDir, 'catalogue.json'), 'utf8'));
const byClause = new Map();
const strays = []; // tests whose title names no catalogue clause
for (const t of raw.tests) {
  if (t.clause && clauses.some((c) => c.id === t.clause)) {
    if (!byClause.has(t.clause)) byClause.set(t.clause, []);
    byClause.get(t.clause).push(t);
  } else {
    strays.push(t);
  }
}

function outcome(c) {
  const tests = byClause.get(c.id) ?? [];
  if (c.scope !== 'now') return { status: 'not-covered', note: `later: ${c.later ?? 'a later issue'}`, tests };
  if (tests.length === 0) {
    return filtered ? { status: 'not-run', note: 'not selected', tests } : { status: 'failed', note: 'no test for this clause', tests };
  }
  const failed = tests.filter((t) => t.state === 'failed');
  if (failed.length) return { status: 'failed', note: summarize(failed[0].error), tests };
  if (tests.some((t) => t.state === 'passed')) return { status: 'passed', note: '', tests };
  return { status: 'skipped', note: tests.map((t) => t.skipReason).filter(Boolean)[0] ?? 'skipped', tests };
}

function firstLine(text = '') {
  return text.split('\n').map((l) => l.trim()).find(Boolean) ?? '';
}

/**
 * One line saying why a test failed: for a failed runtime invocation (the helpers' message
 * quotes the command, then its stderr) the exit status and the first line of stderr,
 * without the log prefix; for a list of problems its first item; else the first line.
 */
function summarize(text = '') {
  const run = /`[^`]*` (exited with status \d+|was killed by \w+|failed: [^\n]*)\n--- stderr ---\n([^]*?)--- stdout ---/.exec(text);
  if (run) {
    const line = firstLine(run[2]).replace(/^time="[^"]*" level=\w+ msg="(.*)"$/, '$1').replace(/\\"/g, '"');
    const before = firstLine(text.slice(0, run.index).replace(/[:\s]+$/, ''));
    return `${before ? `${before}: ` : ''}${run[1]}${line ? `: ${line}` : ''}`;
  }
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const item = lines.find((l) => l.startsWith('- '));
  return item ? `${lines[0]} ${item}` : (lines[0] ?? '');
}

const results = clauses.map((c) => ({ ...c, ...outcome(c) }));

// ---------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------

const width = process.stdout.isTTY ? Math.max(100, process.stdout.columns ?? 120) : 220;
const clip = (s, n) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const idWidth = Math.max(...results.map((r) => r.id.length));
const docs = [...DOCS, ...new Set(results.map((r) => r.doc).filter((d) => !DOCS.includes(d)))];

console.log('');
for (const doc of docs) {
  const rows = results.filter((r) => r.doc === doc);
  if (rows.length === 0) continue;
  const count = (s) => rows.filter((r) => r.status === s).length;
  console.log(`${doc} (${rows.length} clauses: ${count('passed')} pass, ${count('failed')} fail, ${count('skipped')} skip, ${count('not-covered')} not covered)`);
  for (const r of rows) {
    const label = LABEL[r.status].padEnd(11);
    const note = r.note ? `  ${r.note}` : '';
    console.log(clip(`  ${label} ${r.id.padEnd(idWidth)}${note}`.trimEnd(), width));
  }
  console.log('');
}

const failures = results.filter((r) => r.status === 'failed');
if (failures.length || raw.hooks.length || strays.some((t) => t.state === 'failed')) {
  console.log('Failures');
  for (const r of failures) {
    console.log(`\n  ${r.id} (${r.doc}, ${r.section}: ${r.keyword})`);
    console.log(`    "${r.text}"`);
    for (const t of r.tests.filter((x) => x.state === 'failed')) {
      console.log(`    test: ${t.title}${t.file ? ` (${t.file})` : ''}`);
      for (const line of (t.error ?? '').split('\n').slice(0, 25)) console.log(`      ${line}`);
    }
    if (r.tests.length === 0) console.log('    no test names this clause: add one to conformance/clauses/');
  }
  for (const h of raw.hooks) console.log(`\n  hook: ${h.title}\n      ${h.error.split('\n').slice(0, 25).join('\n      ')}`);
  for (const t of strays.filter((x) => x.state === 'failed')) console.log(`\n  test without a catalogue clause: ${t.fullTitle}\n      ${firstLine(t.error)}`);
  console.log('');
}
if (strays.length) console.log(`note: ${strays.length} test(s) name no catalogue clause: ${strays.map((t) => t.fullTitle).join('; ')}`);

const counts = {
  passed: results.filter((r) => r.status === 'passed').length,
  // a failing before/after hook is a failure of the run even if no clause shows it
  failed: failures.length + raw.hooks.length,
  skipped: results.filter((r) => r.status === 'skipped').length,
  notCovered: results.filter((r) => r.status === 'not-covered').length,
  notRun: results.filter((r) => r.status === 'not-run').length,
};

mkdirSync(resultsDir, { recursive: true });
const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
const jsonFile = path.join(resultsDir, `${runtimeName}-${stamp}.json`);
const json = {
  runtime: runtimeBin,
  runtimeName,
  runtimeVersion,
  startedAt: startedAt.toISOString(),
  durationMs: Date.now() - startedAt.getTime(),
  filter: filtered ? mochaArgs : null,
  counts,
  clauses: results.map(({ tests, ...c }) => ({ ...c, tests })),
  hookFailures: raw.hooks,
  testsWithoutClause: strays,
};
writeFileSync(jsonFile, `${JSON.stringify(json, null, 2)}\n`);
writeFileSync(path.join(resultsDir, 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);

console.log(`${results.length} clauses: ${counts.notCovered} not covered (later scope)${counts.notRun ? `, ${counts.notRun} not run (filtered)` : ''}`);
console.log(`results: ${path.relative(process.cwd(), jsonFile)}`);
console.log(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
process.exit(counts.failed > 0 ? 1 : 0);
