// What a case does with one runtime: make ids and bundles, run runtime commands timed or
// untimed, find a container's init, wait for it to stop, and force-delete what it created.
// The floor's context runs the empty Bun program for every timed command and skips everything else,
// so a case measured on the floor costs exactly its timed runtime invocations.
import { readFileSync } from 'node:fs';
import { CommandError } from './stopwatch.mjs';

/** Ids are numbered across the whole run (contexts come and go with cases). */
let idCounter = 0;

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Is process `pid` gone or a zombie? */
export function stopped(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}

/** VmRSS and RssAnon of `pid`, in KiB. */
export function rssOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!m) throw new Error(`no ${name} in /proc/${pid}/status`);
    return Number(m[1]);
  };
  return { rss: field('VmRSS'), anon: field('RssAnon') };
}

export class Context {
  /**
   * @param {import('./runtimes.mjs').Runtime} rt
   * @param {import('./stopwatch.mjs').Stopwatch} sw
   * @param {import('./bundles.mjs').Bundles} bundles
   * @param {string} idPrefix unique to the run
   * @param {{repo: string, workDir: string, cleanup: import('./cleanup.mjs').Cleanup}} env the run's shared pieces
   */
  constructor(rt, sw, bundles, idPrefix, env) {
    this.rt = rt;
    this.env = env;
    this.sw = sw;
    this.bundles = bundles;
    this.idPrefix = idPrefix;
    this.floor = rt.floor;
    this.live = new Set();
  }

  /** A container id unique to this run: <prefix><runtime tag>-<case tag>-<n>. */
  newId(tag) {
    idCounter += 1;
    return `${this.idPrefix}${this.rt.tag}-${tag}-${idCounter}`;
  }

  /** Write the bundle for `id` (nothing for the floor); returns its directory. */
  bundle(id, args, variant = 'plain') {
    return this.floor ? '' : this.bundles.make(id, args, variant);
  }

  /** create/run make `id` live before they run (a failed create may leave something); run and delete retire it. */
  #before(args) {
    if (args[0] === 'create' || args[0] === 'run') this.live.add(args[args.length - 1]);
  }

  #succeeded(args) {
    if (args[0] === 'run' || args[0] === 'delete') this.live.delete(args[args.length - 1]);
  }

  /** A timed runtime command; throws CommandError if it fails. */
  timed(args) {
    this.#before(args);
    const r = this.sw.run([this.rt.cmd(args)], { ns: this.rt.ns }).results[0];
    if (r.status !== 0) throw new CommandError(this.rt.cmd(args), r);
    this.#succeeded(args);
    return r;
  }

  /** An untimed runtime command (skipped on the floor: returns null). */
  untimed(args) {
    if (this.floor) return null;
    return this.timed(args);
  }

  /**
   * Timed commands in one go, one after another or all at once; returns
   * { wallMs, results }. Throws on the first failed command.
   */
  batch(list, { parallel = false } = {}) {
    for (const args of list) this.#before(args);
    const out = this.sw.run(
      list.map((args) => this.rt.cmd(args)),
      { parallel, ns: this.rt.ns },
    );
    out.results.forEach((r, i) => {
      if (r.status === 0) this.#succeeded(list[i]);
    });
    const bad = out.results.findIndex((r) => r.status !== 0);
    if (bad >= 0) {
      const err = new CommandError(this.rt.cmd(list[bad]), out.results[bad]);
      const failed = out.results.filter((r) => r.status !== 0).length;
      const hung = out.results.map((r, i) => (r.timedOut ? list[i][0] : null)).filter(Boolean);
      if (failed > 1) err.reason = `${failed} of ${list.length} failed${hung.length ? ` (${hung.length} timed out: ${[...new Set(hung)].join(', ')})` : ''}; first: ${err.reason}`;
      throw err;
    }
    return out;
  }

  /** The pid of the container's init, from `state` (null on the floor). */
  pidOf(id) {
    if (this.floor) return null;
    const r = this.untimed(['state', id]);
    const pid = JSON.parse(r.stdout).pid;
    if (!(pid > 0)) throw new Error(`state ${id}: no pid in ${r.stdout.slice(0, 200)}`);
    return pid;
  }

  /** Status from `state` (untimed). */
  statusOf(id) {
    return JSON.parse(this.untimed(['state', id]).stdout).status;
  }

  /** Wait until `pid` has exited (up to `ms`). */
  waitStopped(pid, ms = 10_000) {
    if (pid === null) return;
    const deadline = Date.now() + ms;
    while (!stopped(pid)) {
      if (Date.now() > deadline) throw new Error(`container init ${pid} did not exit within ${ms} ms`);
      sleep(1);
    }
  }

  /** Force-delete every container this context created and did not delete. */
  cleanup() {
    if (this.floor || this.live.size === 0) return;
    const ids = [...this.live];
    this.live.clear();
    try {
      this.sw.run(
        ids.map((id) => this.rt.cmd(['delete', '--force', id])),
        { ns: this.rt.ns },
      );
    } catch {
      // the run's final sweep (cleanup.mjs) tries again
    }
  }
}
