// Smoke test of the benchmark harness (bench/run.mjs) in its quickest mode, against the
// runtime under test (TSRUNC_BIN or dist/ts-runc) and Bun's floor. Benchmarks are not
// tests: nothing here looks at how fast anything is, only at the shape of what the harness
// prints and writes, that a failing case is reported rather than fatal, and that it leaves
// nothing behind.
import { expect } from 'chai';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, makeTempDir } from '../helpers/context.js';
import { requireCommand, requireRoot } from '../helpers/privileges.js';
import { runtimeBin } from '../helpers/runtime.js';

const QUICKEST = ['--quick', '--runs', '1', '--warmup', '0', '--no-engines', '--quiet'];

function bench(args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [path.join(REPO_ROOT, 'bench/run.mjs'), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, TSRUNC_BIN: runtimeBin(), ...env },
    timeout: 180_000,
    killSignal: 'SIGINT',
  });
}

function describe_(r: SpawnSyncReturns<string>): string {
  return `status ${r.status}, signal ${r.signal}\n--- stderr ---\n${r.stderr}--- stdout ---\n${r.stdout}`;
}

/** The cells of the table row titled `title` (everything after the title, split on spaces). */
function rowCells(table: string, title: string): string[] {
  const line = table.split('\n').find((l) => l.startsWith(`  ${title}`));
  expect(line, `no row "${title}" in:\n${table}`).to.be.a('string');
  return line!.slice(40).trim().split(/\s+/);
}

interface Cell {
  median: number | null;
  samples: number[];
  error?: string;
}
interface ResultDoc {
  schema: string;
  startedAt: string;
  run: { id: string; workDir: string; cgroupPrefix: string };
  machine: { kernel: string; cpus: number; node: string; gitCommit: string | null };
  options: { runs: number; quick: boolean };
  runtimes: { name: string; available: boolean; version: string | null }[];
  metrics: { id: string; title: string; unit: string }[];
  results: Record<string, Record<string, Cell>>;
  targets: { text: string; met: boolean | null }[];
  floorMs: number | null;
}

/** Nothing of the run is left: work dir, cgroups in every hierarchy. */
function expectNothingLeft(doc: ResultDoc): void {
  expect(existsSync(doc.run.workDir), `${doc.run.workDir} left behind`).to.equal(false);
  const cgroupRoots = readdirSync('/sys/fs/cgroup').map((d) => path.join('/sys/fs/cgroup', d));
  for (const root of ['/sys/fs/cgroup', ...cgroupRoots]) {
    expect(existsSync(path.join(root, doc.run.cgroupPrefix)), `cgroup ${doc.run.cgroupPrefix} left in ${root}`).to.equal(false);
  }
}

describe('bench: the harness in its quickest mode', function () {
  this.timeout(240_000);
  let out: SpawnSyncReturns<string>;
  let resultsDir: string;
  let doc: ResultDoc;

  before(function () {
    requireRoot(this);
    // The harness builds its stopwatch with gcc (g++ in scripts/apt-packages.txt brings it).
    requireCommand(this, 'gcc');
    requireCommand(this, 'busybox');
    resultsDir = makeTempDir('bench-results');
    out = bench([...QUICKEST, '--only', 'run,state', '--runtimes', 'ts-runc,floor', '--results', resultsDir]);
    expect(out.status, describe_(out)).to.equal(0);
    doc = JSON.parse(readFileSync(path.join(resultsDir, 'latest.json'), 'utf8')) as ResultDoc;
  });

  it('prints one table: runtimes side by side, ratios, a row per measure', function () {
    const header = out.stdout.split('\n').find((l) => /^\s+ts-runc\s+floor\s+ts\/floor\s*$/.test(l));
    expect(header, out.stdout).to.be.a('string');
    for (const title of ['run /bin/true', 'state (running)', 'kill KILL (running)', 'kill + delete', 'peak RSS: run', 'peak RSS: state']) {
      const [ts, floor, ratio] = rowCells(out.stdout, title);
      expect(Number(ts), `${title}: ts-runc`).to.be.a('number').and.not.NaN;
      expect(Number(floor), `${title}: floor`).to.be.a('number').and.not.NaN;
      expect(ratio, `${title}: ratio`).to.match(/^\d+(\.\d+)?x$/);
    }
    // The waiting container has no floor: a dash, and no ratio.
    expect(rowCells(out.stdout, 'created, waiting for start: RSS')).to.have.lengthOf(3).and.to.include('-');
    // Cases not selected have no rows (their targets say "not measured").
    expect(out.stdout.split('\n').some((l) => l.startsWith('  exec /bin/true'))).to.equal(false);
    expect(out.stdout).to.match(/n\/a {6}exec \/bin\/true ≤ 1\.5 × runc's: not measured/);
    expect(out.stdout).to.match(/Targets \(issue 12\)/);
  });

  it('writes <timestamp>.json and latest.json with machine, runtimes, cases and numeric medians', function () {
    const files = readdirSync(resultsDir).sort();
    expect(files).to.have.lengthOf(2);
    expect(files).to.include('latest.json');
    expect(readFileSync(path.join(resultsDir, files.find((f) => f !== 'latest.json')!), 'utf8')).to.equal(
      readFileSync(path.join(resultsDir, 'latest.json'), 'utf8'),
    );
    expect(doc.schema).to.equal('ts-runc-bench/1');
    expect(doc.machine.kernel).to.equal(os.release());
    expect(doc.machine.cpus).to.equal(os.cpus().length);
    expect(doc.machine.node).to.equal(process.version);
    expect(doc.options.runs).to.equal(1);
    expect(doc.runtimes.map((r) => r.name)).to.deep.equal(['ts-runc', 'floor']);
    expect(doc.runtimes.every((r) => r.available)).to.equal(true);
    for (const metric of ['run', 'state', 'kill', 'delete-killed', 'kill+delete', 'rss-run', 'rss-state', 'rss-kill']) {
      for (const rt of ['ts-runc', 'floor']) {
        const cell = doc.results[metric]?.[rt];
        expect(cell, `${metric}/${rt}`).to.be.an('object');
        expect(cell!.samples, `${metric}/${rt}`).to.have.lengthOf(1);
        expect(cell!.median, `${metric}/${rt}`).to.be.a('number').above(0);
      }
    }
    for (const metric of ['waiting-rss', 'waiting-anon']) {
      expect(doc.results[metric]?.['ts-runc']?.median, metric).to.be.a('number').at.least(0);
      expect(doc.results[metric]).to.not.have.property('floor');
    }
    expect(doc.results).to.not.have.property('exec');
    expect(doc.metrics.map((m) => m.id)).to.include.members(['run', 'state', 'sequence', 'par20', 'podman']);
    expect(doc.floorMs).to.be.a('number').above(0);
    expect(doc.targets.length).to.be.above(0);
    for (const t of doc.targets) expect(t.met === null || typeof t.met === 'boolean', t.text).to.equal(true);
  });

  it('leaves no work dir and no cgroups behind', function () {
    expectNothingLeft(doc);
  });

  it('--compare prints the medians of two result files side by side', function () {
    const latest = path.join(resultsDir, 'latest.json');
    const r = bench(['--compare', latest, latest]);
    expect(r.status, describe_(r)).to.equal(0);
    const row = r.stdout.split('\n').find((l) => l.startsWith('run /bin/true (ms) '));
    expect(row, r.stdout).to.be.a('string');
    // ts-runc A, B, Δ, floor A, B, Δ: the same file twice changes nothing.
    const cells = row!.slice('run /bin/true (ms)'.length).trim().split(/\s+/);
    expect(cells).to.have.lengthOf(6);
    expect(cells[0]).to.equal(cells[1]);
    expect(cells[2]).to.equal('+0.0%');
  });

  it('refuses unknown options and cases with a message', function () {
    const r = bench(['--no-such-option']);
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.include('unknown option --no-such-option');
    const c = bench([...QUICKEST, '--only', 'no-such-case', '--no-save']);
    expect(c.status).to.not.equal(0);
    expect(c.stderr).to.include('unknown case(s): no-such-case');
  });

  it('shows "error" and the reason for a case that fails for a runtime, and carries on', function () {
    requireCommand(this, 'runc');
    // A runtime that is runc except that `state` fails.
    const dir = makeTempDir('bench-broken');
    const fake = path.join(dir, 'broken-state');
    writeFileSync(fake, '#!/bin/sh\nfor a in "$@"; do [ "$a" = state ] && { echo "state is broken on purpose" >&2; exit 1; }; done\nexec runc "$@"\n', { mode: 0o755 });
    const resultsDir2 = makeTempDir('bench-results');
    const r = bench([...QUICKEST, '--only', 'run,state', '--runtimes', 'ts-runc,floor', '--results', resultsDir2], { TSRUNC_BIN: fake });
    expect(r.status, describe_(r)).to.equal(0);
    const [stateCell] = rowCells(r.stdout, 'state (running)');
    expect(stateCell).to.match(/^error\[\d+\]$/);
    const n = /\[(\d+)\]/.exec(stateCell!)![1];
    expect(r.stdout).to.include(`[${n}] ts-runc: state is broken on purpose`);
    expect(Number(rowCells(r.stdout, 'run /bin/true')[0])).to.not.be.NaN;
    const doc2 = JSON.parse(readFileSync(path.join(resultsDir2, 'latest.json'), 'utf8')) as ResultDoc;
    expect(doc2.results.state!['ts-runc']!.error).to.equal('state is broken on purpose');
    expect(doc2.results.state!['ts-runc']!.median).to.equal(null);
    expect(doc2.results.run!['ts-runc']!.median).to.be.a('number');
    expectNothingLeft(doc2);
  });
});
