// The harness's side of bench/native/benchexec.c: compile the helpers, hand benchexec a
// list of commands, read back what it measured. Every runtime command of the benchmark,
// timed or not, goes through here, so each one gets the same stdin/stdout/stderr treatment
// (files, never pipes) and crun's commands their mount namespace.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const NATIVE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '../native');

/** Build benchexec and stamp (static) into `dir`; returns their paths. */
export function buildHelpers(dir) {
  mkdirSync(dir, { recursive: true });
  const out = {};
  for (const name of ['benchexec', 'stamp']) {
    const bin = path.join(dir, name);
    try {
      execFileSync('gcc', ['-O2', '-static', '-o', bin, path.join(NATIVE_DIR, `${name}.c`)], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      const why = err.code === 'ENOENT' ? 'gcc is not installed' : String(err.stderr ?? err.message).trim().split('\n')[0];
      throw new Error(`cannot build bench/native/${name}.c: ${why}`);
    }
    out[name] = bin;
  }
  return out;
}

/** A command that exited non-zero (or could not run): carries its first stderr line. */
export class CommandError extends Error {
  constructor(argv, result) {
    const why = result.timedOut
      ? `timed out: still running after ${result.timeoutS} s (waiting in ${result.wchan ?? '?'}), killed`
      : firstLine(result.stderr) || firstLine(result.stdout) || `exit status ${result.status}`;
    super(`${path.basename(argv[0])} ${argv.slice(1).filter((a) => !a.startsWith('/')).slice(-3).join(' ')}: ${why}`);
    this.reason = why;
    this.result = result;
  }
}

function firstLine(text) {
  const lines = String(text ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
  // runc and ts-runc prefix log lines with time=... level=error msg="..."; keep the message.
  const line = lines.find((l) => /level=(error|fatal)/.test(l)) ?? lines[0] ?? '';
  const msg = /msg="((?:[^"\\]|\\.)*)"/.exec(line);
  return (msg ? msg[1].replace(/\\"/g, '"') : line).slice(0, 300);
}

export class Stopwatch {
  /** @param {string} benchexec path of the built helper; @param {string} dir scratch dir for command files and outputs */
  constructor(benchexec, dir, timeoutS = 120) {
    this.benchexec = benchexec;
    this.timeoutS = timeoutS;
    this.dir = dir;
    this.calls = 0;
    mkdirSync(dir, { recursive: true });
  }

  /**
   * Run `cmds` (arrays of argv) in one benchexec: one after another, or all at once with
   * `parallel`. `ns` is a mount-namespace file to join. A command (or a parallel batch)
   * still running after the stopwatch's timeout is killed. Returns per-command results
   * ({ status, ms, startNs, endNs, maxrssKiB, stdout, stderr, outFile }) and `wallMs`.
   */
  run(cmds, { parallel = false, ns = null } = {}) {
    const n = ++this.calls;
    const dir = path.join(this.dir, String(n));
    mkdirSync(dir);
    const file = path.join(dir, 'cmds');
    writeFileSync(file, `${cmds.map((argv) => argv.join('\x1f')).join('\n')}\n`);
    const args = ['-d', dir, '-t', String(this.timeoutS), ...(parallel ? ['-p'] : []), ...(ns ? ['-m', ns] : []), file];
    const r = spawnSync(this.benchexec, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 << 20 });
    if (r.signal) throw new Error(`benchexec was killed by ${r.signal}`);
    if (r.status !== 0) throw new Error(`benchexec failed: ${firstLine(r.stderr) || `status ${r.status}`}`);
    const results = [];
    let wallMs = 0;
    for (const line of r.stdout.split('\n')) {
      const f = line.split(' ');
      if (f[0] === 'wall') {
        wallMs = Number(BigInt(f[2]) - BigInt(f[1])) / 1e6;
        continue;
      }
      if (f.length < 9) continue;
      const i = Number(f[0]);
      const startNs = BigInt(f[2]);
      const endNs = BigInt(f[3]);
      const outFile = path.join(dir, `${i}.out`);
      results[i] = {
        status: Number(f[1]),
        startNs,
        endNs,
        ms: Number(endNs - startNs) / 1e6,
        maxrssKiB: Number(f[4]),
        userMs: Number(f[5]) / 1e3,
        sysMs: Number(f[6]) / 1e3,
        timedOut: f[7] === '1',
        wchan: f[8] === '-' ? null : f[8],
        timeoutS: this.timeoutS,
        outFile,
        get stdout() {
          return readFileSync(outFile, 'utf8');
        },
        get stderr() {
          return readFileSync(path.join(dir, `${i}.err`), 'utf8');
        },
      };
    }
    if (results.length !== cmds.length) throw new Error(`benchexec reported ${results.length} of ${cmds.length} commands`);
    return { results, wallMs };
  }

  /** Run one command; throws CommandError unless it exits 0. */
  one(argv, opts = {}) {
    const r = this.run([argv], opts).results[0];
    if (r.status !== 0) throw new CommandError(argv, r);
    return r;
  }
}
