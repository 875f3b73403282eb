#!/usr/bin/env node
// npm run bench: ts-runc beside runc, crun and Bun's floor (an empty compiled program), measured in one
// run and printed as one table of medians and ratios; results saved as JSON for later
// comparison (`--compare A.json B.json`). See docs/performance.md, "Benchmark".
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CASES, METRICS, selectCases } from './lib/cases.mjs';
import { Cleanup } from './lib/cleanup.mjs';
import { Context } from './lib/context.mjs';
import { ENGINE_CASES } from './lib/engines.mjs';
import { loadAverage, machineCpuSeconds, machineInfo, ownCpuSeconds } from './lib/machine.mjs';
import { evaluateTargets, median, renderReport } from './lib/report.mjs';
import { SCHEMA, loadResults, renderCompare, saveResults } from './lib/results.mjs';
import { Interrupted, Results, runCase } from './lib/runner.mjs';
import { FLOOR, RUNTIME_NAMES, discoverRuntimes } from './lib/runtimes.mjs';
import { Bundles } from './lib/bundles.mjs';
import { Stopwatch, buildHelpers } from './lib/stopwatch.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `usage: node bench/run.mjs [options]
       node bench/run.mjs --compare A.json B.json

  --runs N          measured iterations per case and runtime (default 10; --quick: 3)
  --batch-runs N    iterations of the sequence case (default 1); the 20-at-once case runs
                    3 × N (--quick: N)
  --sequence N      containers in the sequence case (default 100; --quick: 25)
  --warmup N        discarded iterations before measuring (default 1)
  --quick           fewer iterations: a quick look, under a minute
  --only LIST       cases (comma-separated): ${[...CASES.flatMap((c) => [c.id, ...(c.aliases ?? [])]), ...ENGINE_CASES.map((c) => c.id)].filter((v, i, a) => a.indexOf(v) === i).join(', ')}
  --runtimes LIST   among ${RUNTIME_NAMES.join(', ')} (default: all)
  --no-engines      leave out the engine cases (podman, containerd)
  --results DIR     where to write <timestamp>.json and latest.json (default bench/results)
  --no-save         print only
  --json            print the result document instead of the table
  --quiet           no progress on stderr
Environment: TSRUNC_BIN overrides the ts-runc executable (default: package.json's bin).`;

function parseOptions(argv) {
  const o = { runs: null, batchRuns: null, sequence: null, warmup: 1, quick: false, only: [], runtimes: null, engines: true, results: path.join(REPO, 'bench/results'), save: true, json: false, quiet: false, compare: null };
  const num = (v, name) => {
    if (!/^\d+$/.test(v ?? '') || Number(v) < 0) throw new Error(`${name} needs a whole number, got ${v}`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--runs': o.runs = num(value(), '--runs'); break;
      case '--batch-runs': o.batchRuns = num(value(), '--batch-runs'); break;
      case '--sequence': o.sequence = num(value(), '--sequence'); break;
      case '--warmup': o.warmup = num(value(), '--warmup'); break;
      case '--quick': o.quick = true; break;
      case '--only': o.only = value().split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--runtimes': o.runtimes = value().split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--no-engines': o.engines = false; break;
      case '--results': o.results = path.resolve(value()); break;
      case '--no-save': o.save = false; break;
      case '--json': o.json = true; break;
      case '--quiet': o.quiet = true; break;
      case '--compare': o.compare = [argv[++i], argv[++i]]; break;
      case '--help': case '-h': console.log(USAGE); process.exit(0); break;
      default: throw new Error(`unknown option ${a}\n${USAGE}`);
    }
  }
  if (o.compare && o.compare.some((f) => !f)) throw new Error('--compare needs two result files');
  o.runs ??= o.quick ? 3 : 10;
  o.batchRuns ??= 1;
  o.sequence ??= o.quick ? 25 : 100;
  if (o.runs < 1) throw new Error('--runs must be at least 1');
  if (o.runtimes) {
    const unknown = o.runtimes.filter((r) => !RUNTIME_NAMES.includes(r));
    if (unknown.length) throw new Error(`unknown runtime(s): ${unknown.join(', ')} (known: ${RUNTIME_NAMES.join(', ')})`);
  }
  return o;
}

/**
 * Variables that change what a JavaScript runtime does at start-up (NODE_EXTRA_CA_CERTS:
 * Node reads and parses a certificate bundle, ~50 ms on these machines; BUN_OPTIONS and
 * NODE_OPTIONS: extra flags). Removed from the environment of every measured command, so
 * no column pays for the session's environment. Returns the names removed.
 */
const STARTUP_ENV = ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS', 'NODE_V8_COVERAGE', 'NODE_DEBUG', 'NODE_COMPILE_CACHE', 'BUN_OPTIONS'];
function cleanEnvironment() {
  const removed = STARTUP_ENV.filter((name) => process.env[name] !== undefined);
  for (const name of removed) delete process.env[name];
  return removed;
}

/** Size and mtime of every file beside `bin` (its bundle, caches): to notice a rebuild mid-run. */
function buildFingerprint(bin) {
  try {
    const dir = path.dirname(bin);
    return readdirSync(dir)
      .sort()
      .map((f) => {
        const st = statSync(path.join(dir, f));
        return `${f}:${st.size}:${st.mtimeMs}`;
      })
      .join('|');
  } catch {
    return null;
  }
}

function tmpBase() {
  try {
    mkdirSync('/dev/shm', { recursive: true });
    return '/dev/shm';
  } catch {
    return os.tmpdir();
  }
}

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  if (opts.compare) {
    const [fa, fb] = opts.compare;
    console.log(renderCompare(fa, loadResults(fa), fb, loadResults(fb)));
    return 0;
  }
  if (process.getuid?.() !== 0) throw new Error('the benchmark creates containers: run it as root');
  const log = opts.quiet ? () => {} : (msg) => process.stderr.write(`${msg}\n`);
  const { cases, extras } = selectCases(opts.only, ENGINE_CASES.map((c) => c.id));
  const engineCases = ENGINE_CASES.filter((c) => opts.engines && (opts.only.length === 0 || extras.includes(c.id)));

  const runId = `${Date.now().toString(36).slice(-5)}${process.pid.toString(36)}`;
  const workDir = path.join(tmpBase(), `tsrunc-bench-${runId}`);
  mkdirSync(workDir, { mode: 0o755 });
  const cgroupPrefix = `/tsrunc-bench-${runId}`;
  const cleanup = new Cleanup(workDir, cgroupPrefix);

  let interrupted = false;
  const onSignal = (sig) => {
    if (interrupted) {
      // A second signal: clean up now and go.
      cleanup.run();
      process.exit(130);
    }
    interrupted = true;
    log(`\n${sig}: stopping after the current command, then cleaning up (again to force)`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', () => cleanup.run());

  const removedEnv = cleanEnvironment();
  const cpuAtStart = machineCpuSeconds();
  const wallAtStart = Date.now();
  const ownAtStart = ownCpuSeconds();
  const startedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const machine = machineInfo(REPO);
  const results = new Results();
  const notes = [];
  let runtimes = [];
  let tsBuild = null;
  if (removedEnv.length) notes.push(`environment: ${removedEnv.join(', ')} removed for every measured command (each changes what a JavaScript runtime does at start-up)`);
  try {
    const helpers = buildHelpers(path.join(workDir, 'bin'));
    const sw = new Stopwatch(helpers.benchexec, path.join(workDir, 'out'));
    cleanup.stopwatch = sw;
    runtimes = await discoverRuntimes({ repo: REPO, workDir, select: opts.runtimes, benchexec: helpers.benchexec, cleanup });
    // The default config as `runc spec` writes it (whether or not runc is compared), else ts-runc's.
    const specCommands = [['runc'], ...runtimes.filter((r) => r.available && !r.floor).map((r) => r.argv)];
    const bundles = new Bundles(workDir, cgroupPrefix, helpers, specCommands);
    const idPrefix = `b${runId}-`;
    const env = { repo: REPO, workDir, cleanup, runId, cgroupPrefix };
    const contextFor = (rt) => new Context(rt, sw, bundles, idPrefix, env);

    // Can each runtime run a container here at all? If not, its column says why.
    for (const rt of runtimes.filter((r) => r.available && !r.floor)) {
      const ctx = contextFor(rt);
      try {
        const id = ctx.newId('probe');
        ctx.timed(['run', '--bundle', ctx.bundle(id, ['/bin/true']), id]);
      } catch (err) {
        rt.unavailable(`cannot run a container here: ${err.reason ?? err.message}`);
      } finally {
        ctx.cleanup();
      }
    }
    const usable = runtimes.filter((r) => r.available);
    tsBuild = buildFingerprint(runtimes.find((r) => r.name === 'ts-runc')?.argv[0] ?? '');
    log(`runtimes: ${runtimes.map((r) => (r.available ? r.name : `${r.name} (n/a: ${r.reason})`)).join(', ')}`);

    const all = [...cases, ...engineCases];
    for (const [k, kase] of all.entries()) {
      const t0 = Date.now();
      log(`[${k + 1}/${all.length}] ${kase.id}: ${kase.title.replace('{sequence}', opts.sequence)}`);
      const metrics = kase.metrics;
      await runCase({ kase, runtimes: usable, metrics, results, opts, contextFor, interrupted: () => interrupted, log });
      log(`        ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      if (kase.notes) notes.push(...kase.notes());
    }
  } catch (err) {
    if (err instanceof Interrupted) {
      log('interrupted: cleaning up');
      const problems = cleanup.run();
      for (const p of problems) log(`cleanup: ${p}`);
      return 130;
    }
    throw err;
  }

  const warnings = [];
  const tsBin = runtimes.find((r) => r.name === 'ts-runc')?.argv[0];
  if (tsBuild !== null && tsBin && buildFingerprint(tsBin) !== tsBuild) {
    warnings.push(`ts-runc changed during the run (files beside ${tsBin} were rebuilt): its numbers mix two builds`);
  }
  // What else ran: the machine's busy CPU time during the run less the benchmark's own
  // (the harness, and every command with the processes it waited for; not counted as ours:
  // containers' processes, which their runtime does not wait for, and engine daemons).
  const cpuNow = machineCpuSeconds();
  const wallS = (Date.now() - wallAtStart) / 1000;
  let cpu = null;
  if (cpuAtStart && cpuNow && ownAtStart !== null) {
    const busy = cpuNow.busy - cpuAtStart.busy;
    const ours = ownCpuSeconds() - ownAtStart;
    const steal = cpuNow.steal - cpuAtStart.steal;
    cpu = { wallS: round(wallS), busyS: round(busy), benchmarkS: round(ours), othersCpus: round(Math.max(0, busy - ours) / wallS), stealCpus: round(steal / wallS) };
    if (cpu.othersCpus > 0.25) warnings.push(`the machine was busy: other work used ${cpu.othersCpus} of its ${machine.cpus} CPUs on average during the run (${round(busy - ours)} CPU-s in ${round(wallS)} s)`);
    if (cpu.stealCpus > 0.1) warnings.push(`the hypervisor took ${cpu.stealCpus} CPUs on average during the run (steal time): the host was busy`);
  }
  const doc = buildDocument({ startedAt, machine, opts, runtimes, results, notes, warnings, removedEnv, cpu, run: { id: runId, workDir, cgroupPrefix } });
  const problems = cleanup.run();
  for (const p of problems) log(`cleanup: ${p}`);
  if (opts.json) console.log(JSON.stringify(doc, null, 2));
  else console.log(renderReport(doc));
  if (opts.save) {
    const file = saveResults(opts.results, doc);
    log(`\nresults: ${path.relative(process.cwd(), file)} (and latest.json)`);
  }
  return 0;
}

const round = (x) => Math.round(x * 100) / 100;

function buildDocument({ startedAt, machine, opts, runtimes, results, notes, warnings, removedEnv, cpu, run }) {
  const out = {};
  for (const [metric, cells] of Object.entries(results.byMetric)) {
    out[metric] = {};
    for (const [rt, cell] of Object.entries(cells)) {
      const bad = cell.error ?? cell.skipped;
      out[metric][rt] = {
        median: bad ? null : median(cell.samples),
        samples: cell.samples,
        ...(cell.error ? { error: cell.error } : {}),
        ...(cell.skipped ? { notApplicable: cell.skipped } : {}),
      };
    }
  }
  // The floor for one command: the floor's samples of every single-command row, pooled.
  const pooled = METRICS.filter((m) => m.single && m.floor !== false).map((m) => m.id).flatMap(
    (id) => results.byMetric[id]?.[FLOOR]?.samples ?? [],
  );
  const doc = {
    schema: SCHEMA,
    startedAt,
    run,
    loadAtEnd: loadAverage(),
    cpu,
    machine,
    options: { runs: opts.runs, batchRuns: opts.batchRuns, sequence: opts.sequence, warmup: opts.warmup, quick: opts.quick, only: opts.only, engines: opts.engines },
    runtimes: runtimes.map((r) => ({ name: r.name, available: r.available, reason: r.reason, version: r.version, command: r.argv.join(' '), note: r.note })),
    floorMs: median(pooled),
    metrics: METRICS.map(({ id, title, unit }) => ({ id, title, unit })),
    results: out,
    environmentRemoved: removedEnv,
    warnings,
    notes,
  };
  doc.targets = evaluateTargets(doc);
  return doc;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`bench: ${err.message}\n`);
    process.exit(1);
  },
);
