// podman driving the runtime under test: `podman --runtime <ts-runc> --cgroup-manager
// cgroupfs` with a private storage root, run root, tmpdir, network config dir and
// containers.conf, the locally built busybox image loaded from an OCI archive.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir } from '../helpers/context.js';
import { writePodmanConfig } from '../helpers/engine-setup.mjs';
import { useLeakCheck } from '../helpers/leaks.js';
import { requireCriu } from '../integration/criu/support.js';
import { uniqueName } from '../helpers/context.js';
import {
  type CmdOptions,
  type CmdResult,
  busyboxImage,
  cgroupExists,
  cmd,
  describeCmd,
  deleteLink,
  engineRuntime,
  killProcessesNaming,
  links,
  needs,
  removeEmptyTree,
  removeCgroupTree,
  removeOurs,
  removeFirewallChains,
  requireEngine,
  settle as settleEngine,
  underPty,
  unmountUnder,
} from './support.js';

const PODMAN_COMMANDS = ['podman', 'conmon', '/usr/lib/podman/netavark', 'catatonit', 'iptables', 'script'];

/** A podman with all of its state in one directory. */
class Podman {
  readonly env: NodeJS.ProcessEnv;
  readonly global: string[];
  constructor(readonly dir: string) {
    this.env = {
      ...process.env,
      ...writePodmanConfig(dir, ['events_logger = "file"', `events_logfile_path = "${path.join(dir, 'events.log')}"`]),
    };
    this.global = [
      '--root', path.join(dir, 'storage'),
      '--runroot', path.join(dir, 'run'),
      '--tmpdir', path.join(dir, 'tmp'),
      '--network-config-dir', path.join(dir, 'networks'),
      '--storage-driver', 'overlay',
      '--runtime', engineRuntime(),
      '--cgroup-manager', 'cgroupfs',
      '--events-backend', 'file',
    ];
  }

  /**
   * podman runs in its own directory: conmon inherits the directory and, when a container
   * is OOM-killed, creates a file named "oom" in it (conmon 2.1's write_oom_files).
   */
  get options(): CmdOptions {
    return { env: this.env, cwd: this.dir };
  }

  run(args: string[], opts: CmdOptions = {}): CmdResult {
    return cmd('podman', [...this.global, ...args], { ...this.options, ...opts });
  }

  ok(args: string[], opts: CmdOptions = {}): string {
    const r = this.run(args, opts);
    if (r.status !== 0) throw new Error(describeCmd(r));
    return r.stdout;
  }

  argv(args: string[]): string[] {
    return ['podman', ...this.global, ...args];
  }
}

describe('engines: podman', function () {
  this.timeout(120_000);
  useLeakCheck();
  let pm: Podman;
  let image: string;
  let linksBefore: Set<string>;
  let forwardBefore = '';
  let netavarkBefore = false;
  const settle = settleEngine();
  /** Host paths podman makes outside its own directories (netavark's IPAM db, the SHM lock). */
  const HOST_PATHS = ['/run/containers', '/run/netns', '/dev/shm/libpod_lock'];
  let newHostPaths: string[] = [];
  /** With the cgroupfs manager podman puts containers under this cgroup. */
  const PARENT_CGROUP = '/libpod_parent';
  let parentCgroupExisted = true;

  before(function () {
    requireEngine(this, PODMAN_COMMANDS);
    newHostPaths = HOST_PATHS.filter((p) => !existsSync(p));
    parentCgroupExisted = cgroupExists(PARENT_CGROUP);
    linksBefore = links();
    forwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
    netavarkBefore = cmd('iptables', ['-t', 'nat', '-S']).stdout.includes('NETAVARK');
    pm = new Podman(makeTempDir('podman'));
    const img = busyboxImage();
    pm.ok(['load', '-i', img.ociArchive]);
    image = img.name;
    // containers/storage bind-mounts its overlay directory while any layer is mounted and
    // drops it when the last one goes: a container kept running for the whole suite makes
    // that mount (and this container's) part of every test's baseline.
    pm.ok(['run', '-d', '--name', 'keeper', image, 'sleep', '86400']);
  });

  after(function () {
    if (!pm) return;
    pm.run(['rm', '--all', '--force', '--time', '0']);
    pm.run(['rmi', '--all', '--force']);
    pm.run(['system', 'reset', '--force']);
    killProcessesNaming(pm.dir);
    unmountUnder(pm.dir);
    for (const l of links()) if (!linksBefore.has(l) && (l === 'podman0' || l.startsWith('veth'))) deleteLink(l);
    if (!netavarkBefore) removeFirewallChains('NETAVARK');
    writeFileSync('/proc/sys/net/ipv4/ip_forward', forwardBefore);
    if (!parentCgroupExisted) removeCgroupTree(PARENT_CGROUP);
    // /run/netns may be shared with other users of `ip netns`: only removed when empty.
    for (const p of newHostPaths) (p === '/run/netns' ? removeEmptyTree : removeOurs)(p);
  });

  beforeEach(() => settle.before());
  afterEach(async () => settle.after());

  const name = () => uniqueName('pm');

  describe('run', function () {
    it('run --rm: output and status 0', function () {
      const r = pm.run(['run', '--rm', image, 'echo', 'hello from podman']);
      expect(r.status, describeCmd(r)).to.equal(0);
      expect(r.stdout).to.equal('hello from podman\n');
    });

    it('exit codes: 42 from the program, 126 not executable, 127 not found', function () {
      expect(pm.run(['run', '--rm', image, 'sh', '-c', 'exit 42']).status).to.equal(42);
      const notExec = pm.run(['run', '--rm', image, '/etc/passwd']);
      expect(notExec.status, describeCmd(notExec)).to.equal(126);
      expect(notExec.stderr).to.include('permission denied');
      const notFound = pm.run(['run', '--rm', image, 'no-such-program']);
      expect(notFound.status, describeCmd(notFound)).to.equal(127);
      expect(notFound.stderr).to.include('executable file not found in $PATH');
    });

    it('exit codes: 137 when killed, 143 on SIGTERM through --init', function () {
      const a = name();
      pm.ok(['run', '-d', '--name', a, image, 'sleep', '600']);
      pm.ok(['kill', '-s', 'KILL', a]);
      expect(pm.ok(['wait', a]).trim()).to.equal('137');
      const b = name();
      pm.ok(['run', '-d', '--init', '--name', b, image, 'sleep', '600']);
      pm.ok(['kill', '-s', 'TERM', b]);
      expect(pm.ok(['wait', b]).trim()).to.equal('143');
      pm.ok(['rm', a, b]);
    });

    it('run -d, then logs', function () {
      const c = name();
      pm.ok(['run', '-d', '--name', c, image, 'sh', '-c', 'echo line one; echo line two; sleep 600']);
      try {
        let logs = '';
        for (let i = 0; i < 50 && !logs.includes('line two'); i++) {
          logs = pm.ok(['logs', c]);
          if (!logs.includes('line two')) execFileSync('sleep', ['0.1']);
        }
        expect(logs).to.equal('line one\nline two\n');
      } finally {
        pm.run(['rm', '-f', '-t', '0', c]);
      }
    });

    it('run -it through a pseudo-terminal', function () {
      const r = underPty(pm.argv(['run', '--rm', '-it', image, 'sh', '-c', 'tty; exit 5']), pm.options);
      expect(r.status, describeCmd(r)).to.equal(5);
      expect(r.stdout).to.match(/\/dev\/pts\/\d+/);
    });

    it('stdin piped with -i', function () {
      const r = pm.run(['run', '--rm', '-i', image, 'sh', '-c', 'tr a-z A-Z'], { input: 'piped input\n' });
      expect(r.status, describeCmd(r)).to.equal(0);
      expect(r.stdout).to.equal('PIPED INPUT\n');
    });

    it('--user, --workdir, --env', function () {
      const out = pm.ok(['run', '--rm', '--user', '1000:1000', '--workdir', '/tmp', '--env', 'GREETING=hi', image, 'sh', '-c', 'id -u; id -g; pwd; echo $GREETING']);
      expect(out).to.equal('1000\n1000\n/tmp\nhi\n');
    });

    it('--read-only', function () {
      const r = pm.run(['run', '--rm', '--read-only', image, 'sh', '-c', 'touch /file']);
      expect(r.status).to.not.equal(0);
      expect(r.stderr + r.stdout).to.include('Read-only file system');
    });

    it('-v: a host directory', function () {
      const host = makeTempDir('volume');
      writeFileSync(path.join(host, 'from-host'), 'host data\n');
      const out = pm.ok(['run', '--rm', '-v', `${host}:/data`, image, 'sh', '-c', 'cat /data/from-host; echo written > /data/from-container']);
      expect(out).to.equal('host data\n');
      expect(readFileSync(path.join(host, 'from-container'), 'utf8')).to.equal('written\n');
    });

    it('--cap-drop ALL and --privileged', function () {
      expect(pm.ok(['run', '--rm', '--cap-drop', 'ALL', image, 'grep', 'CapEff', '/proc/self/status'])).to.match(/CapEff:\s+0+\n/);
      const bounding = readFileSync('/proc/self/status', 'utf8').match(/^CapBnd:\s+(\w+)$/m)![1];
      const priv = pm.ok(['run', '--rm', '--privileged', image, 'sh', '-c', 'grep CapEff /proc/self/status; ls /dev | wc -l']);
      expect(priv).to.include(`CapEff:\t${bounding}`);
      expect(Number(priv.trim().split('\n').pop())).to.be.above(20); // the host's devices
    });

    it('--pid host sees the host\'s processes', function () {
      const out = pm.ok(['run', '--rm', '--pid', 'host', image, 'sh', '-c', `test -d /proc/${process.pid} && echo sees-test-runner`]);
      expect(out).to.equal('sees-test-runner\n');
    });

    it('--network none: only loopback', function () {
      const out = pm.ok(['run', '--rm', '--network', 'none', image, 'ls', '/sys/class/net']);
      expect(out.trim().split(/\s+/)).to.deep.equal(['lo']);
    });

    it('the default bridge network, and -p 127.0.0.1:PORT', async function () {
      const c = name();
      const port = 20000 + (process.pid % 20000);
      pm.ok(['run', '-d', '--name', c, '-p', `127.0.0.1:${port}:8080`, image, 'sh', '-c', 'mkdir -p /www && echo served-by-busybox > /www/index.html && exec httpd -f -p 8080 -h /www']);
      try {
        const addr = pm.ok(['inspect', c, '--format', '{{.NetworkSettings.IPAddress}}']).trim();
        expect(addr).to.match(/^10\.88\.\d+\.\d+$/);
        let body = '';
        for (let i = 0; i < 50 && !body; i++) {
          const r = cmd('busybox', ['wget', '-q', '-O', '-', `http://127.0.0.1:${port}/index.html`]);
          body = r.status === 0 ? r.stdout : '';
          if (!body) await new Promise((res) => setTimeout(res, 100));
        }
        expect(body).to.equal('served-by-busybox\n');
      } finally {
        pm.run(['rm', '-f', '-t', '0', c]);
      }
    });
  });

  describe('a running container', function () {
    let c: string;
    beforeEach(function () {
      c = name();
      pm.ok(['run', '-d', '--init', '--name', c, image, 'sleep', '600']);
    });
    afterEach(function () {
      pm.run(['rm', '-f', '-t', '0', c]);
    });

    it('exec: output and status', function () {
      needs(this, { seccomp: true });
      expect(pm.ok(['exec', c, 'echo', 'from exec'])).to.equal('from exec\n');
      expect(pm.run(['exec', c, 'sh', '-c', 'exit 42']).status).to.equal(42);
      expect(pm.run(['exec', c, 'no-such-program']).status).to.equal(127);
    });

    it('exec --user --workdir --env, and -i with stdin', function () {
      needs(this, { seccomp: true });
      expect(pm.ok(['exec', '--user', '1000', '--workdir', '/tmp', '--env', 'X=y', c, 'sh', '-c', 'id -u; pwd; echo $X'])).to.equal('1000\n/tmp\ny\n');
      expect(pm.ok(['exec', '-i', c, 'cat'], { input: 'to exec\n' })).to.equal('to exec\n');
    });

    it('exec -t through a pseudo-terminal', function () {
      needs(this, { seccomp: true });
      const r = underPty(pm.argv(['exec', '-it', c, 'sh', '-c', 'tty; exit 3']), pm.options);
      expect(r.status, describeCmd(r)).to.equal(3);
      expect(r.stdout).to.match(/\/dev\/pts\/\d+/);
    });

    it('top lists the container\'s processes', function () {
      expect(pm.ok(['top', c])).to.match(/sleep 600/);
    });

    it('stop: SIGTERM reaches the program through --init (143)', function () {
      pm.ok(['stop', '-t', '10', c]);
      expect(pm.ok(['inspect', c, '--format', '{{.State.ExitCode}}']).trim()).to.equal('143');
    });

    it('kill -s and wait', function () {
      pm.ok(['kill', '-s', 'USR1', c]);
      expect(pm.ok(['wait', c]).trim()).to.equal(String(128 + 10));
    });

    it('pause and unpause', function () {
      needs(this, { commands: ['pause', 'resume'] });
      pm.ok(['pause', c]);
      expect(pm.ok(['inspect', c, '--format', '{{.State.Status}}']).trim()).to.equal('paused');
      pm.ok(['unpause', c]);
      expect(pm.ok(['inspect', c, '--format', '{{.State.Status}}']).trim()).to.equal('running');
    });
  });

  describe('resources', function () {
    it('--memory is enforced: an allocation above it is OOM-killed (137)', function () {
      needs(this, { resources: true });
      const limit = pm.ok(['run', '--rm', '--memory', '32m', '--memory-swap', '32m', image, 'sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max']);
      expect(limit.trim()).to.equal(String(32 * 1024 * 1024));
      const r = pm.run(['run', '--rm', '--memory', '32m', '--memory-swap', '32m', image, 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1']);
      expect(r.status, describeCmd(r)).to.equal(137);
    });

    it('--pids-limit is enforced', function () {
      needs(this, { resources: true });
      const r = pm.run(['run', '--rm', '--pids-limit', '8', image, 'sh', '-c', 'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max; for i in 1 2 3 4 5 6 7 8 9 10; do sleep 2 & done 2>&1; wait']);
      const out = r.stdout + r.stderr;
      const [max] = out.split('\n');
      expect(max).to.equal('8');
      expect(out).to.include("can't fork");
    });
  });

  describe('checkpoint and restore (CRIU)', function () {
    beforeEach(function () {
      requireCriu(this);
    });

    /** The numbers a counting container printed (podman logs), checked to be 1, 2, 3... */
    const counted = (c: string): number[] => {
      const values = pm.ok(['logs', c]).split('\n').filter(Boolean).map(Number);
      values.forEach((v, i) => expect(v, `log line ${i} of ${c}`).to.equal(i + 1));
      return values;
    };
    const countPast = async (c: string, n: number): Promise<number> => {
      for (let i = 0; i < 100; i++) {
        const last = counted(c).at(-1) ?? 0;
        if (last > n) return last;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`${c} did not count past ${n}`);
    };
    const status = (c: string) => pm.ok(['inspect', c, '--format', '{{.State.Status}}']).trim();
    const COUNTER = ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done'];

    it('container checkpoint, then restore: it counts on', async function () {
      const c = name();
      pm.ok(['run', '-d', '--name', c, image, ...COUNTER]);
      try {
        await countPast(c, 3);
        pm.ok(['container', 'checkpoint', c]);
        expect(status(c)).to.equal('exited');
        const saved = counted(c).length;
        pm.ok(['container', 'restore', c]);
        expect(status(c)).to.equal('running');
        await countPast(c, saved + 3);
      } finally {
        pm.run(['rm', '-f', '-t', '0', c]);
      }
    });

    it('checkpoint --export, restore --import as a new container', async function () {
      const c = name();
      const copy = name();
      const archive = path.join(makeTempDir('checkpoint'), 'ctr.tar.gz');
      pm.ok(['run', '-d', '--name', c, image, ...COUNTER]);
      try {
        await countPast(c, 3);
        pm.ok(['container', 'checkpoint', '--export', archive, c]);
        const saved = counted(c).length;
        pm.ok(['container', 'restore', '--import', archive, '--name', copy]);
        expect(status(copy)).to.equal('running');
        // The archive carries the log too: the copy's goes on from the saved count, 1, 2, 3...
        await countPast(copy, saved + 3);
      } finally {
        pm.run(['rm', '-f', '-t', '0', c, copy]);
      }
    });
  });
});
