// Engines driving the runtimes: `podman run --rm IMAGE true`, and containerd's
// `ctr run --rm IMAGE ID true`, with each runtime as the engine's OCI runtime; and how many
// runtime commands the engine makes for one such run (counted once per runtime through a
// logging wrapper — `#!/bin/sh`, log argv, exec the runtime — never in the timed runs,
// where the engine calls the runtime itself).
//
// podman gets a private everything (storage root, run root, tmpdir, config files) under the
// work dir, the busybox image the engine tests build (test/engines/image.ts, loaded through
// tsx), `--network none` (no bridge or firewall rules made on a shared machine; the same for
// every runtime), and the cgroupfs manager. crun runs podman's whole process tree in its
// mount namespace (see runtimes.mjs).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { killProcessesNaming, processes, removeEmptyCgroupTree, writeContainerdConfig, writePodmanConfig } from '../../test/helpers/engine-setup.mjs';
import { cgroupMounts } from './cleanup.mjs';
import { NotApplicable } from './runner.mjs';

const PARENT_CGROUP = '/libpod_parent';
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
/** Host paths podman may create outside its own directories. */
const HOST_PATHS = ['/run/containers', '/run/netns', '/dev/shm/libpod_lock'];
const IMAGE = 'docker.io/library/busybox:tsrunc-bench';

function which(cmd) {
  return (process.env.PATH ?? '').split(':').some((d) => d && existsSync(path.join(d, cmd)));
}

/** Is some other podman or conmon (someone else's engine) running? Then its lock file stays. */
function otherPodmansRunning() {
  return processes().some(([, comm]) => comm === 'podman' || comm === 'conmon');
}

/** The podman every runtime shares in one run: made on first use, removed by the run's cleanup. */
class Podman {
  constructor({ repo, workDir, cleanup }, sw) {
    for (const c of ['podman', 'conmon']) if (!which(c)) throw new NotApplicable(`${c} is not installed (scripts/install-engines.sh installs it)`);
    this.sw = sw;
    this.dir = path.join(workDir, 'podman');
    this.parentCgroupExisted = cgroupMounts().some((mp) => existsSync(path.join(mp, PARENT_CGROUP)));
    this.newHostPaths = HOST_PATHS.filter((p) => !existsSync(p));
    cleanup.addHook('podman', () => this.cleanup());
    const env = writePodmanConfig(this.dir, [
      'events_logger = "none"',
      // Locks as files in podman's private tmpdir, not the host-wide /dev/shm/libpod_lock
      // other podmans on the machine use.
      'lock_type = "file"',
    ]);
    Object.assign(process.env, env);
    this.global = [
      '--root', path.join(this.dir, 'storage'),
      '--runroot', path.join(this.dir, 'run'),
      '--tmpdir', path.join(this.dir, 'tmp'),
      '--storage-driver', 'overlay',
      '--cgroup-manager', 'cgroupfs',
      '--events-backend', 'none',
    ];
    this.ok(['load', '-i', busyboxArchive(repo, workDir)]);
  }

  argv(runtimePath, args) {
    return ['podman', ...this.global, '--runtime', runtimePath, ...args];
  }

  ok(args, { runtime = null, ns = null } = {}) {
    const argv = runtime ? this.argv(runtime, args) : ['podman', ...this.global, ...args];
    return this.sw.one(argv, { ns });
  }

  /** `podman run --rm --network none IMAGE true` with `runtimePath` (in `ns`): the benchexec result. */
  runTrue(runtimePath, ns) {
    return this.ok(['run', '--rm', '--network', 'none', IMAGE, 'true'], { runtime: runtimePath, ns });
  }

  /** The runtime commands one `podman run --rm` makes with `runtimePath`, as { total, names }. */
  countCommands(runtimePath, ns, tag) {
    return countThroughWrapper(this.dir, `podman-${tag}`, runtimePath, (wrapper) => this.runTrue(wrapper, ns));
  }

  cleanup() {
    try {
      this.sw.one(['podman', ...this.global, 'rm', '--all', '--force', '--time', '0']);
    } catch {
      // nothing left, or podman cannot run: the steps below still apply
    }
    killProcessesNaming(this.dir);
    if (!this.parentCgroupExisted) removeEmptyCgroupTree(cgroupMounts(), PARENT_CGROUP);
    for (const p of this.newHostPaths) {
      if (!existsSync(p)) continue;
      if (p === '/run/netns') {
        if (readdirSync(p).length === 0) rmdirSync(p);
      } else if (p === '/dev/shm/libpod_lock') {
        if (!otherPodmansRunning()) rmSync(p, { force: true });
      } else rmSync(p, { recursive: true, force: true });
    }
  }
}

/** Where the runc shim keeps runtime state (its default Root, one dir per namespace). */
const SHIM_RUN_DIR = '/run/containerd';

/**
 * A private containerd (own config, root, state, sockets; CRI off) for `ctr run --rm`, with
 * each runtime as the runc shim's binary (`--runc-binary`) and each container in the run's
 * cgroup prefix (`--cgroup`). crun is left out: the shim would have to run in crun's mount
 * namespace, i.e. a second daemon.
 */
class Containerd {
  constructor({ repo, workDir, cleanup }, sw, runId, cgroupPrefix) {
    for (const c of ['containerd', 'ctr', 'containerd-shim-runc-v2']) if (!which(c)) throw new NotApplicable(`${c} is not installed (scripts/install-engines.sh installs it)`);
    this.sw = sw;
    this.dir = path.join(workDir, 'containerd');
    this.ns = `tsrb${runId}`;
    this.sock = path.join(this.dir, 'containerd.sock');
    this.cgroupPrefix = cgroupPrefix;
    this.n = 0;
    this.shimRunDirExisted = existsSync(SHIM_RUN_DIR);
    mkdirSync(path.join(this.dir, 'fifo'), { recursive: true });
    const config = writeContainerdConfig(this.dir, this.sock);
    const log = openSync(path.join(this.dir, 'containerd.log'), 'a');
    this.daemon = spawn('containerd', ['--config', config], { stdio: ['ignore', log, log], detached: true });
    closeSync(log);
    cleanup.addHook('containerd', () => this.cleanup());
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (existsSync(this.sock) && this.sw.run([this.ctr(['version'])]).results[0].status === 0) break;
      if (this.daemon.exitCode !== null || Date.now() > deadline) {
        const tail = readFileSync(path.join(this.dir, 'containerd.log'), 'utf8').trim().split('\n').slice(-1)[0];
        throw new Error(`containerd did not start: ${tail}`);
      }
      sleep(100);
    }
    this.sw.one(this.ctr(['image', 'import', busyboxArchive(repo, workDir)]));
  }

  ctr(args) {
    return ['ctr', '--address', this.sock, '-n', this.ns, ...args];
  }

  /** `ctr run --rm IMAGE <id> true` with `runtimePath` as the shim's runc: the benchexec result. */
  runTrue(runtimePath) {
    this.n += 1;
    const id = `c${this.n}`;
    return this.sw.one(
      this.ctr(['run', '--rm', '--runc-binary', runtimePath, '--fifo-dir', path.join(this.dir, 'fifo'), '--cgroup', `${this.cgroupPrefix}/ctr-${id}`, IMAGE, id, 'true']),
    );
  }

  countCommands(runtimePath, tag) {
    return countThroughWrapper(this.dir, `ctr-${tag}`, runtimePath, (wrapper) => this.runTrue(wrapper));
  }

  cleanup() {
    try {
      const tasks = this.sw.run([this.ctr(['task', 'ls', '-q'])]).results[0].stdout.split('\n').filter(Boolean);
      for (const t of tasks) this.sw.run([this.ctr(['task', 'delete', '--force', t])]);
      const ctrs = this.sw.run([this.ctr(['container', 'ls', '-q'])]).results[0].stdout.split('\n').filter(Boolean);
      if (ctrs.length) this.sw.run([this.ctr(['container', 'delete', ...ctrs])]);
    } catch {
      // the daemon is gone: the steps below still apply
    }
    if (this.daemon.exitCode === null && this.daemon.signalCode === null) {
      this.daemon.kill('SIGTERM');
      for (let i = 0; i < 100 && existsSync(`/proc/${this.daemon.pid}`) && !isZombie(this.daemon.pid); i++) sleep(50);
      try {
        this.daemon.kill('SIGKILL');
      } catch {
        // gone
      }
    }
    killProcessesNaming(this.dir);
    rmSync(path.join(SHIM_RUN_DIR, 'runc', this.ns), { recursive: true, force: true });
    if (!this.shimRunDirExisted && !processes().some(([, comm]) => comm === 'containerd' || comm.startsWith('containerd-shim'))) {
      rmSync(SHIM_RUN_DIR, { recursive: true, force: true });
    }
  }
}

function isZombie(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

/**
 * Run `once(wrapper)` with a logging wrapper in place of `runtimePath`; returns the runtime
 * commands it made as { total, names }. Engines may still call the runtime a moment after
 * their command returned (podman's cleanup, a shim's delete): the log is read once it has
 * been quiet for 300 ms.
 */
function countThroughWrapper(dir, tag, runtimePath, once) {
  const log = path.join(dir, `commands-${tag}.log`);
  const wrapper = path.join(dir, `logging-${tag}`);
  writeFileSync(log, '');
  writeFileSync(wrapper, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${runtimePath}' "$@"\n`, { mode: 0o755 });
  once(wrapper);
  let text = readFileSync(log, 'utf8');
  for (let quiet = 0, waited = 0; quiet < 300 && waited < 3000; waited += 50) {
    sleep(50);
    const now = readFileSync(log, 'utf8');
    quiet = now === text ? quiet + 50 : 0;
    text = now;
  }
  const lines = text.split('\n').filter(Boolean);
  return { total: lines.length, names: lines.map(subcommand) };
}

/** The runc-style subcommand of a logged runtime command line (global flags skipped). */
const VALUE_FLAGS = new Set(['--root', '--log', '--log-format', '--criu']);
function subcommand(line) {
  const words = line.split(' ');
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (VALUE_FLAGS.has(w)) i++;
    else if (!w.startsWith('-')) return w;
  }
  return '?';
}

let archive = null;
/** The busybox OCI archive both engines load, built once per run. */
function busyboxArchive(repo, workDir) {
  archive ??= buildImage(repo, path.join(workDir, 'image'));
  return archive;
}

/** Build the engine tests' busybox image (OCI archive) with test/engines/image.ts; returns the archive. */
function buildImage(repo, dir) {
  mkdirSync(dir, { recursive: true });
  const imageTs = path.join(repo, 'test/engines/image.ts');
  const code = `import { buildBusyboxImage } from ${JSON.stringify(imageTs)};
process.stdout.write(JSON.stringify(buildBusyboxImage(${JSON.stringify(dir)}, ${JSON.stringify(IMAGE)})));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: repo, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the busybox image failed: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-1)[0]}`);
  return JSON.parse(r.stdout).ociArchive;
}

function summarize(names) {
  const counts = new Map();
  for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  return [...counts].map(([n, k]) => (k > 1 ? `${n} ×${k}` : n)).join(', ');
}

let shared = null;
let containerd = null;
const commandNotes = [];
const ctrNotes = [];

export const ENGINE_CASES = [
  {
    id: 'podman',
    title: 'podman run --rm IMAGE true with each runtime',
    floor: false,
    metrics: ['podman', 'podman-commands'],
    setup(ctx) {
      shared ??= new Podman(ctx.env, ctx.sw);
      const runtimePath = ctx.rt.argv[0];
      const counted = shared.countCommands(runtimePath, ctx.rt.ns, ctx.rt.tag);
      commandNotes.push(`podman → ${ctx.rt.name}: ${counted.total} runtime commands per run (${summarize(counted.names)})`);
      return { runtimePath, commands: counted.total };
    },
    iterate(ctx, s) {
      const r = shared.runTrue(s.runtimePath, ctx.rt.ns);
      return { podman: r.ms, 'podman-commands': s.commands };
    },
    notes: () => [
      'podman: `podman run --rm --network none IMAGE true`, cgroupfs manager, private storage; runtime commands counted once per runtime through a logging wrapper',
      ...commandNotes,
    ],
  },
  {
    id: 'containerd',
    title: 'ctr run --rm IMAGE true with each runtime (containerd, runc shim)',
    floor: false,
    metrics: ['ctr', 'ctr-commands'],
    setup(ctx) {
      if (ctx.rt.ns) throw new NotApplicable("not measured with containerd: its shim would have to run in crun's mount namespace (a second daemon)");
      containerd ??= new Containerd(ctx.env, ctx.sw, ctx.env.runId, ctx.env.cgroupPrefix);
      const runtimePath = ctx.rt.argv[0];
      const counted = containerd.countCommands(runtimePath, ctx.rt.tag);
      ctrNotes.push(`ctr → ${ctx.rt.name}: ${counted.total} runtime commands per run (${summarize(counted.names)})`);
      return { runtimePath, commands: counted.total };
    },
    iterate(ctx, s) {
      return { ctr: containerd.runTrue(s.runtimePath).ms, 'ctr-commands': s.commands };
    },
    notes: () => ['containerd: `ctr run --rm --cgroup … IMAGE ID true` against a private containerd (runc shim v2, --runc-binary)', ...ctrNotes],
  },
];
