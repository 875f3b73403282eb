// The runtimes side by side: ts-runc (the package's bin, or TSRUNC_BIN), runc, crun, and
// the floor — an empty program compiled by the pinned Bun as ts-runc is (scripts/bun.mjs),
// standing in for every runtime command of a case: what Bun's start-up costs. Each real
// runtime gets a private --root on tmpfs. crun 1.8.1 refuses to work on hybrid cgroups
// while the cgroup2 hierarchy lists any controller, so when that is the case here its
// commands run in a mount namespace where that one file reads empty (benchexec --hold-ns);
// everything else it sees is the host's.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bunBinary, compileExecutable, compileLauncher } from '../../scripts/bun.mjs';
import { versionOf } from './machine.mjs';

export const FLOOR = 'floor';
export const RUNTIME_NAMES = ['ts-runc', 'runc', 'crun', FLOOR];

const UNIFIED_CONTROLLERS = '/sys/fs/cgroup/unified/cgroup.controllers';

export class Runtime {
  /**
   * @param {object} o
   * @param {string} o.name  ts-runc | runc | crun | floor
   * @param {string[]} o.argv  how to invoke it (before global flags)
   * @param {string} [o.root]  private --root
   * @param {string|null} [o.ns]  mount namespace file its commands join
   */
  constructor({ name, argv, root = null, ns = null }) {
    this.name = name;
    this.argv = argv;
    this.root = root;
    this.ns = ns;
    this.floor = name === FLOOR;
    this.available = true;
    this.reason = null;
    this.version = null;
    this.note = null;
  }

  /** The command line for runtime arguments `args` (the floor ignores them). */
  cmd(args) {
    if (this.floor) return [...this.argv];
    return [...this.argv, '--root', this.root, ...args];
  }

  /** Short tag for container ids. */
  get tag() {
    return { 'ts-runc': 'ts', runc: 'rc', crun: 'cr', floor: 'fl' }[this.name] ?? this.name.slice(0, 2);
  }

  unavailable(reason) {
    this.available = false;
    this.reason = reason;
  }
}

function which(cmd) {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = path.join(dir, cmd);
    if (existsSync(p)) return p;
  }
  return null;
}

/** ts-runc's executable: TSRUNC_BIN, else the package's bin entry (run as engines run it). */
export function tsRuncBin(repo) {
  if (process.env.TSRUNC_BIN) return path.resolve(process.env.TSRUNC_BIN);
  const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.['ts-runc'];
  return path.resolve(repo, bin ?? 'dist/ts-runc');
}

/** Start the namespace holder crun runs in; resolves to its ns file, or throws with why. */
function holdCrunNamespace(benchexec, workDir, cleanup) {
  const empty = path.join(workDir, 'empty-controllers');
  writeFileSync(empty, '');
  const child = spawn(benchexec, ['--hold-ns', empty], { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanup.addChild(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error('namespace holder did not start')), 5000);
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('ready')) {
        clearTimeout(timer);
        child.stdout.destroy();
        child.stderr.destroy();
        child.unref();
        resolve(`/proc/${child.pid}/ns/mnt`);
      }
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(err.trim() || 'namespace holder exited'));
    });
  });
}

/**
 * The runtimes to compare (`select`: names, default all), each with a private root under
 * `workDir`. Missing binaries are marked unavailable with the reason; whether each one can
 * actually run a container here is probed later (see probe in cases.mjs).
 */
export async function discoverRuntimes({ repo, workDir, select, benchexec, cleanup }) {
  const wanted = select ?? RUNTIME_NAMES;
  const rts = [];
  const rootOf = (name) => {
    const dir = path.join(workDir, 'roots', name);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  for (const name of RUNTIME_NAMES) {
    if (!wanted.includes(name)) continue;
    if (name === FLOOR) {
      rts.push(floorRuntime(repo));
      continue;
    }
    const bin = name === 'ts-runc' ? tsRuncBin(repo) : which(name);
    const rt = new Runtime({ name, argv: [bin ?? name], root: rootOf(name) });
    rts.push(rt);
    if (!bin || !existsSync(bin)) {
      rt.unavailable(name === 'ts-runc' ? `not built: ${bin} is missing (npm run build)` : `${name} is not installed`);
      continue;
    }
    rt.version = versionOf([bin]);
    cleanup.addRuntime(rt);
    if (name === 'crun' && needsCrunNamespace()) {
      try {
        rt.ns = await holdCrunNamespace(benchexec, workDir, cleanup);
        rt.note = `crun refuses hybrid cgroups while ${UNIFIED_CONTROLLERS} lists a controller (here: ${controllers()}); its commands run in a mount namespace where that file reads empty`;
      } catch (err) {
        rt.unavailable(`refuses hybrid cgroups (cgroup2 lists ${controllers()}) and the namespace that hides it could not be made: ${err.message}`);
      }
    }
  }
  return rts;
}

/**
 * The floor: an empty program compiled like ts-runc, by the same Bun, with the same flags.
 * It is compiled beside the repository's dist/ (node_modules/.cache/ts-runc-bench), not in
 * the work dir on tmpfs: a command's peak RSS counts the pages of its executable that it
 * touched, and how many pages each fault maps depends on the filesystem (here an empty
 * Bun program peaks at ~25 MiB run from ext4, ~20 MiB from tmpfs), so the floor must live
 * where ts-runc's executable does.
 */
function floorRuntime(repo) {
  const bun = bunBinary();
  const bin = path.join(repo, 'node_modules/.cache/ts-runc-bench/bun-floor');
  const rt = new Runtime({ name: FLOOR, argv: [bin] });
  if (!bun) {
    rt.unavailable('no pinned Bun for this machine (npm ci installs it)');
    return rt;
  }
  const entry = `${bin}.js`;
  mkdirSync(path.dirname(bin), { recursive: true });
  writeFileSync(entry, '');
  try {
    // Started as ts-runc is: through the launcher that turns the JIT off.
    compileExecutable(bun, entry, `${bin}-bun`);
    compileLauncher(bin);
  } catch (err) {
    rt.unavailable(`cannot compile the empty program: ${err.message}`);
    return rt;
  }
  rt.version = `an empty program compiled by bun ${versionOf([bun]) ?? '?'} (${bin})`;
  return rt;
}

function controllers() {
  try {
    return readFileSync(UNIFIED_CONTROLLERS, 'utf8').trim().split(/\s+/).join(', ') || 'none';
  } catch {
    return 'none';
  }
}

function needsCrunNamespace() {
  try {
    return readFileSync(UNIFIED_CONTROLLERS, 'utf8').trim().length > 0;
  } catch {
    return false;
  }
}
