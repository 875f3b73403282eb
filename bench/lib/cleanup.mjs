// Everything the benchmark makes, removed at the end of a run, on an error, and on Ctrl-C:
// containers (every entry under each runtime's private --root is force-deleted), processes
// left in the run's cgroups, the cgroups themselves, mounts under the work dir, helper
// processes, and the work dir. Each step is best effort and independent of the others.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Mount points (cgroup and cgroup2) of every cgroup hierarchy. */
export function cgroupMounts() {
  const out = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    const type = post?.split(' ')[0];
    if (type === 'cgroup' || type === 'cgroup2') out.push(unescape(pre.split(' ')[4]));
  }
  return out;
}

function unescape(s) {
  return s.replace(/\\([0-7]{3})/g, (_m, oct) => String.fromCharCode(parseInt(oct, 8)));
}

/** Mount points at or below `dir` in this mount namespace, deepest first. */
export function mountsUnder(dir) {
  const out = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (!mp) continue;
    const p = unescape(mp);
    if (p === dir || p.startsWith(`${dir}/`)) out.push(p);
  }
  return out.sort((a, b) => b.length - a.length);
}

/** The cgroup directories at or below `rel` in every hierarchy, deepest first. */
function cgroupDirs(rel) {
  const dirs = [];
  const walk = (d) => {
    dirs.push(d);
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
  };
  for (const mp of cgroupMounts()) {
    const top = path.join(mp, rel);
    if (existsSync(top)) walk(top);
  }
  return dirs.reverse();
}

/** SIGKILL every process in the cgroups at or below `rel`, then remove them (waits up to `ms`). */
export function removeCgroupTree(rel, ms = 3000) {
  const deadline = Date.now() + ms;
  for (;;) {
    let left = 0;
    for (const d of cgroupDirs(rel)) {
      try {
        for (const pid of readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // gone already
          }
        }
      } catch {
        // no cgroup.procs (removed meanwhile)
      }
      try {
        rmdirSync(d);
      } catch {
        left++;
      }
    }
    if (left === 0 || Date.now() > deadline) return left;
    sleep(20);
  }
}

export class Cleanup {
  /** @param {string} workDir @param {string} cgroupPrefix */
  constructor(workDir, cgroupPrefix) {
    this.workDir = workDir;
    this.cgroupPrefix = cgroupPrefix;
    this.runtimes = [];
    this.hooks = [];
    this.children = [];
    this.stopwatch = null;
    this.done = false;
  }

  /** Containers under this runtime's --root are force-deleted at the end. */
  addRuntime(rt) {
    this.runtimes.push(rt);
  }

  /** A helper process (ChildProcess) to kill at the end. */
  addChild(child) {
    this.children.push(child);
  }

  /** Extra cleanup (e.g. an engine's), run first. */
  addHook(name, fn) {
    this.hooks.push({ name, fn });
  }

  /** Force-delete every container left under `rt`'s root. */
  sweepRuntime(rt) {
    if (!this.stopwatch || !existsSync(rt.root)) return;
    const ids = readdirSync(rt.root).filter((n) => {
      try {
        return statSync(path.join(rt.root, n)).isDirectory();
      } catch {
        return false;
      }
    });
    if (ids.length === 0) return;
    try {
      this.stopwatch.run(ids.map((id) => rt.cmd(['delete', '--force', id])), { ns: rt.ns });
    } catch {
      // the cgroup sweep below still kills what is left
    }
  }

  /** Run every step; returns the problems found (things that could not be removed). */
  run() {
    if (this.done) return [];
    this.done = true;
    const problems = [];
    const step = (name, fn) => {
      try {
        fn();
      } catch (err) {
        problems.push(`${name}: ${err.message}`);
      }
    };
    for (const h of this.hooks) step(h.name, h.fn);
    for (const rt of this.runtimes) step(`containers of ${rt.name}`, () => this.sweepRuntime(rt));
    step('cgroups', () => {
      const left = removeCgroupTree(this.cgroupPrefix);
      if (left > 0) problems.push(`cgroups: ${left} cgroup(s) under ${this.cgroupPrefix} could not be removed`);
    });
    for (const child of this.children) {
      step('helper process', () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
    }
    step('mounts', () => {
      for (const mp of mountsUnder(this.workDir)) execFileSync('umount', ['-l', mp], { stdio: 'ignore' });
    });
    step('work dir', () => rmSync(this.workDir, { recursive: true, force: true, maxRetries: 3 }));
    return problems;
  }
}
