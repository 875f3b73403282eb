// containerd driving the runtime under test through its runc shim (io.containerd.runc.v2,
// whose BinaryName option `ctr run --runc-binary` sets): a private containerd with its own
// config, root, state and socket (CRI off), and `ctr` commands against it. containerd
// calls the runtime as `--root DIR --log BUNDLE/log.json --log-format json <command>` and
// shows the last error line of that log: the failure cases check it is the real cause.
import { expect } from 'chai';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir, uniqueName } from '../helpers/context.js';
import { writeContainerdConfig } from '../helpers/engine-setup.mjs';
import { useLeakCheck } from '../helpers/leaks.js';
import {
  type CmdOptions,
  type CmdResult,
  type Daemon,
  busyboxImage,
  cmd,
  describeCmd,
  engineRuntime,
  killProcessesNaming,
  needs,
  removeCgroupTree,
  removeOurs,
  requireEngine,
  settle as settleEngine,
  startDaemon,
  underPty,
  unmountUnder,
  waitReady,
} from './support.js';

/** Where the runc shim keeps runtime state (its default `Root`, per namespace) and sockets. */
const SHIM_RUN_DIR = '/run/containerd';

class Containerd {
  readonly sock: string;
  readonly ns = uniqueName('tsrunc').replace(/-/g, '');
  daemon: Daemon | undefined;
  constructor(readonly dir: string) {
    this.sock = path.join(dir, 'containerd.sock');
  }

  async start(): Promise<void> {
    const config = writeContainerdConfig(this.dir, this.sock);
    mkdirSync(path.join(this.dir, 'fifo'), { recursive: true });
    this.daemon = startDaemon('containerd', ['--config', config], path.join(this.dir, 'containerd.log'));
    await waitReady(() => existsSync(this.sock) && this.ctr(['version']).status === 0, 'containerd', this.daemon.log);
  }

  ctr(args: string[], opts: CmdOptions = {}): CmdResult {
    return cmd('ctr', ['--address', this.sock, '-n', this.ns, ...args], opts);
  }

  ok(args: string[], opts: CmdOptions = {}): string {
    const r = this.ctr(args, opts);
    if (r.status !== 0) throw new Error(describeCmd(r));
    return r.stdout;
  }

  argv(args: string[]): string[] {
    return ['ctr', '--address', this.sock, '-n', this.ns, ...args];
  }

  /** `ctr run` flags every case uses: the runtime under test as the shim's runc binary. */
  get runFlags(): string[] {
    return ['--runc-binary', engineRuntime(), '--fifo-dir', path.join(this.dir, 'fifo')];
  }

  /** Remove every task and container of our namespace. */
  removeAll(): void {
    for (const line of this.ctr(['task', 'ls', '-q']).stdout.split('\n').filter(Boolean)) {
      this.ctr(['task', 'kill', '-s', 'KILL', line]);
      this.ctr(['task', 'delete', '--force', line]);
    }
    for (const line of this.ctr(['container', 'ls', '-q']).stdout.split('\n').filter(Boolean)) this.ctr(['container', 'delete', line]);
  }
}

describe('engines: containerd', function () {
  this.timeout(120_000);
  useLeakCheck();
  let ctd: Containerd;
  let image: string;
  let shimRunDirExisted = true;
  const settle = settleEngine();

  before(async function () {
    requireEngine(this, ['containerd', 'ctr', 'containerd-shim-runc-v2', 'script']);
    shimRunDirExisted = existsSync(SHIM_RUN_DIR);
    ctd = new Containerd(makeTempDir('containerd'));
    await ctd.start();
    const img = busyboxImage();
    ctd.ok(['image', 'import', img.ociArchive]);
    image = img.name;
  });

  after(async function () {
    if (!ctd?.daemon) return;
    ctd.removeAll();
    ctd.ctr(['image', 'rm', image]);
    await ctd.daemon.stop();
    killProcessesNaming(ctd.dir);
    unmountUnder(ctd.dir);
    removeOurs(path.join(SHIM_RUN_DIR, 'runc', ctd.ns));
    // Containers' cgroups are /<namespace>/<id>; the namespace's is left behind.
    removeCgroupTree(`/${ctd.ns}`);
    if (!shimRunDirExisted) removeOurs(SHIM_RUN_DIR);
  });

  beforeEach(() => settle.before());
  afterEach(async () => settle.after());

  const id = () => uniqueName('ctd');

  /** `ctr run --rm` with the runtime under test. */
  const run = (flags: string[], args: string[], opts: CmdOptions = {}) => ctd.ctr(['run', '--rm', ...ctd.runFlags, ...flags, image, id(), ...args], opts);

  describe('ctr run --rm', function () {
    it('runs the program: output and status', function () {
      const r = run([], ['echo', 'hello from containerd']);
      expect(r.status, describeCmd(r)).to.equal(0);
      expect(r.stdout).to.equal('hello from containerd\n');
      expect(run([], ['sh', '-c', 'exit 42']).status).to.equal(42);
    });

    it('a missing program: the runtime\'s real cause reaches the user', function () {
      const r = run([], ['no-such-program']);
      expect(r.status).to.not.equal(0);
      expect(r.stderr).to.include('OCI runtime create failed');
      expect(r.stderr).to.include('exec: "no-such-program": executable file not found in $PATH');
    });

    it('-t through a pseudo-terminal', function () {
      const r = underPty(ctd.argv(['run', '--rm', '-t', ...ctd.runFlags, image, id(), 'sh', '-c', 'tty; exit 6']));
      expect(r.status, describeCmd(r)).to.equal(6);
      expect(r.stdout).to.match(/\/dev\/pts\/\d+/);
    });

    it('--rootfs: a root filesystem directory instead of an image', function () {
      const rootfs = path.join(makeTempDir('ctd-rootfs'), 'rootfs');
      mkdirSync(rootfs);
      cmd('tar', ['-C', rootfs, '-xf', busyboxImage().rootfsTar]);
      const r = ctd.ctr(['run', '--rm', ...ctd.runFlags, '--rootfs', rootfs, id(), '/bin/echo', 'from rootfs']);
      expect(r.status, describeCmd(r)).to.equal(0);
      expect(r.stdout).to.equal('from rootfs\n');
    });

    it('--env and --cwd', function () {
      expect(run(['--env', 'COLOR=blue', '--cwd', '/tmp'], ['sh', '-c', 'echo $COLOR; pwd']).stdout).to.equal('blue\n/tmp\n');
    });

    it('--read-only', function () {
      const r = run(['--read-only'], ['sh', '-c', 'touch /file']);
      expect(r.status).to.not.equal(0);
      expect(r.stderr + r.stdout).to.include('Read-only file system');
    });

    it('--mount: a read-only bind mount of a host directory', function () {
      const host = makeTempDir('ctd-mount');
      writeFileSync(path.join(host, 'data'), 'from host\n');
      const r = run(['--mount', `type=bind,src=${host},dst=/data,options=rbind:ro`], ['sh', '-c', 'cat /data/data; touch /data/new']);
      expect(r.stdout).to.equal('from host\n');
      expect(r.stderr + r.stdout).to.include('Read-only file system');
      expect(existsSync(path.join(host, 'new'))).to.equal(false);
    });

    it('--net-host: the host\'s network interfaces', function () {
      const host = cmd('ls', ['/sys/class/net']).stdout;
      expect(run(['--net-host'], ['ls', '/sys/class/net']).stdout).to.equal(host);
    });

    it('--privileged: every capability of the host\'s bounding set', function () {
      const bounding = readFileSync('/proc/self/status', 'utf8').match(/^CapBnd:\s+(\w+)$/m)![1];
      expect(run(['--privileged'], ['grep', 'CapEff', '/proc/self/status']).stdout).to.equal(`CapEff:\t${bounding}\n`);
    });

    it('--seccomp: the default profile is loaded', function () {
      needs(this, { seccomp: true });
      expect(run(['--seccomp'], ['grep', '^Seccomp:', '/proc/self/status']).stdout).to.match(/Seccomp:\s+2\n/);
    });
  });

  describe('a running task', function () {
    let c: string;
    beforeEach(function () {
      c = id();
      ctd.ok(['run', '-d', ...ctd.runFlags, image, c, 'sleep', '600']);
    });
    afterEach(function () {
      ctd.ctr(['task', 'kill', '-s', 'KILL', c]);
      for (let i = 0; i < 50 && !/STOPPED/.test(ctd.ctr(['task', 'ls']).stdout); i++) cmd('sleep', ['0.1']);
      ctd.ctr(['task', 'delete', '--force', c]);
      ctd.ctr(['container', 'delete', c]);
    });

    it('task exec: output and status', function () {
      expect(ctd.ok(['task', 'exec', '--exec-id', 'e1', '--fifo-dir', path.join(ctd.dir, 'fifo'), c, 'echo', 'from exec'])).to.equal('from exec\n');
      expect(ctd.ctr(['task', 'exec', '--exec-id', 'e2', '--fifo-dir', path.join(ctd.dir, 'fifo'), c, 'sh', '-c', 'exit 7']).status).to.equal(7);
      const missing = ctd.ctr(['task', 'exec', '--exec-id', 'e3', '--fifo-dir', path.join(ctd.dir, 'fifo'), c, 'no-such-program']);
      expect(missing.status).to.not.equal(0);
      expect(missing.stderr).to.include('executable file not found in $PATH');
    });

    it('kill: the task stops', function () {
      ctd.ok(['task', 'kill', '-s', 'KILL', c]);
      let ls = '';
      for (let i = 0; i < 50 && !/STOPPED/.test(ls); i++) {
        ls = ctd.ok(['task', 'ls']);
        if (!/STOPPED/.test(ls)) cmd('sleep', ['0.1']);
      }
      expect(ls).to.match(new RegExp(`${c}\\s+\\d+\\s+STOPPED`));
    });

    it('ps lists the task\'s processes', function () {
      needs(this, { commands: ['ps'] });
      const pid = ctd.ok(['task', 'ls']).match(new RegExp(`${c}\\s+(\\d+)`))![1];
      expect(ctd.ok(['task', 'ps', c])).to.match(new RegExp(`^${pid}\\b`, 'm'));
    });

    it('pause and resume', function () {
      needs(this, { commands: ['pause', 'resume'] });
      ctd.ok(['task', 'pause', c]);
      expect(ctd.ok(['task', 'ls'])).to.match(new RegExp(`${c}\\s+\\d+\\s+PAUSED`));
      ctd.ok(['task', 'resume', c]);
      expect(ctd.ok(['task', 'ls'])).to.match(new RegExp(`${c}\\s+\\d+\\s+RUNNING`));
    });

    it('metrics', function () {
      const out = ctd.ok(['task', 'metrics', c]);
      expect(out).to.match(/memory\.usage_in_bytes|memory\.usage/);
      expect(out).to.match(/pids\.current\s+1\b/);
    });
  });

  describe('resources', function () {
    /** Run a detached task with `flags`, read files of its cgroup (v1 controller, or v2) from the host. */
    function cgroupFiles(flags: string[], controller: string, files: string[]): string[] {
      const c = id();
      ctd.ok(['run', '-d', ...ctd.runFlags, ...flags, image, c, 'sleep', '600']);
      try {
        const pid = ctd.ok(['task', 'ls']).match(new RegExp(`${c}\\s+(\\d+)`))![1];
        const cgroups = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
        const v1 = new RegExp(`^\\d+:[^:]*\\b${controller}\\b[^:]*:(.*)$`, 'm').exec(cgroups);
        const dir = v1 ? path.join('/sys/fs/cgroup', controller, v1[1]!) : path.join('/sys/fs/cgroup', /^0::(.*)$/m.exec(cgroups)![1]!);
        return files.map((f) => readFileSync(path.join(dir, f), 'utf8').trim());
      } finally {
        ctd.ctr(['task', 'kill', '-s', 'KILL', c]);
        for (let i = 0; i < 50 && !/STOPPED/.test(ctd.ctr(['task', 'ls']).stdout); i++) cmd('sleep', ['0.1']);
        ctd.ctr(['task', 'delete', '--force', c]);
        ctd.ctr(['container', 'delete', c]);
      }
    }

    it('--memory-limit', function () {
      needs(this, { resources: true });
      const [limit] = cgroupFiles(['--memory-limit', String(48 * 1024 * 1024)], 'memory', ['memory.limit_in_bytes']);
      expect(limit).to.equal(String(48 * 1024 * 1024));
    });

    it('--cpus', function () {
      needs(this, { resources: true });
      const [quota, period] = cgroupFiles(['--cpus', '0.5'], 'cpu', ['cpu.cfs_quota_us', 'cpu.cfs_period_us']).map(Number);
      expect(quota! / period!).to.equal(0.5);
    });
  });
});
