// dockerd (Debian's docker.io 20.10) driving the runtime under test: a private daemon with
// its own --data-root, --exec-root, --pidfile, socket and bridge, `--add-runtime
// ts-runc=<runtime>`, and `docker run --runtime ts-runc`. dockerd goes through its own
// containerd and the runc shim (BinaryName = the runtime); it maps a failed start to 127 or
// 126 only from the runtime's error text ("executable file not found", "no such file or
// directory", "permission denied").
import { expect } from 'chai';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir, uniqueName } from '../helpers/context.js';
import { useLeakCheck } from '../helpers/leaks.js';
import { skipWith } from '../helpers/privileges.js';
import {
  type CmdOptions,
  type CmdResult,
  type Daemon,
  busyboxImage,
  cgroupExists,
  cmd,
  cmdOk,
  deleteLink,
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

/** Debian's client; /usr/local/bin may hold a newer one that does not match the daemon. */
const DOCKER = '/usr/bin/docker';
const BRIDGE = 'tsrdocker0';
const BRIDGE_CIDR = '172.31.254.1/24';
/** Files dockerd makes outside its own directories. */
const HOST_PATHS = ['/run/docker', '/run/containerd', '/etc/docker/key.json'];

class Dockerd {
  readonly sock: string;
  readonly env: NodeJS.ProcessEnv;
  daemon: Daemon | undefined;
  constructor(readonly dir: string) {
    this.sock = path.join(dir, 'docker.sock');
    this.env = { ...process.env, DOCKER_CONFIG: path.join(dir, 'client'), DOCKER_HOST: `unix://${this.sock}` };
  }

  async start(): Promise<void> {
    const config = path.join(this.dir, 'daemon.json');
    writeFileSync(config, '{}\n');
    mkdirSync(path.join(this.dir, 'client'), { recursive: true });
    this.daemon = startDaemon(
      'dockerd',
      [
        '--config-file', config,
        '--data-root', path.join(this.dir, 'data'),
        '--exec-root', path.join(this.dir, 'exec'),
        '--pidfile', path.join(this.dir, 'docker.pid'),
        '--host', `unix://${this.sock}`,
        '--add-runtime', `ts-runc=${engineRuntime()}`,
        '--bridge', BRIDGE,
        // Leave the host's firewall alone: -p is served by docker-proxy.
        '--iptables=false', '--ip-masq=false', '--ip-forward=false',
      ],
      path.join(this.dir, 'dockerd.log'),
    );
    await waitReady(() => existsSync(this.sock) && this.docker(['version']).status === 0, 'dockerd', this.daemon.log, 60_000);
  }

  docker(args: string[], opts: CmdOptions = {}): CmdResult {
    return cmd(DOCKER, args, { env: this.env, ...opts });
  }

  ok(args: string[], opts: CmdOptions = {}): string {
    const r = this.docker(args, opts);
    if (r.status !== 0) throw new Error(describeCmd(r));
    return r.stdout;
  }
}

describe('engines: docker', function () {
  this.timeout(120_000);
  useLeakCheck();
  let dk: Dockerd;
  let image: string;
  let newHostPaths: string[] = [];
  /** dockerd's cgroupfs parent for its containers. */
  let dockerCgroupExisted = true;
  const settle = settleEngine();

  before(async function () {
    requireEngine(this, ['dockerd', DOCKER, 'containerd', 'containerd-shim-runc-v2', 'docker-proxy', 'script']);
    newHostPaths = HOST_PATHS.filter((p) => !existsSync(p));
    dockerCgroupExisted = cgroupExists('/docker');
    cmdOk('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
    cmdOk('ip', ['addr', 'add', BRIDGE_CIDR, 'dev', BRIDGE]);
    cmdOk('ip', ['link', 'set', BRIDGE, 'up']);
    dk = new Dockerd(makeTempDir('docker'));
    await dk.start();
    image = 'busybox:tsrunc-test';
    dk.ok(['import', busyboxImage().rootfsTar, image]);
  });

  after(async function () {
    if (dk?.daemon) {
      const all = dk.docker(['ps', '-aq']).stdout.split('\n').filter(Boolean);
      if (all.length) dk.docker(['rm', '-f', ...all]);
      dk.docker(['rmi', '-f', image]);
      await dk.daemon.stop();
      killProcessesNaming(dk.dir);
      unmountUnder(dk.dir);
    }
    deleteLink(BRIDGE);
    if (!dockerCgroupExisted) removeCgroupTree('/docker');
    for (const p of newHostPaths) removeOurs(p);
  });

  beforeEach(() => settle.before());
  afterEach(async () => settle.after());

  const name = () => uniqueName('dk');
  const run = (args: string[], opts: CmdOptions = {}) => dk.docker(['run', '--rm', '--runtime', 'ts-runc', ...args], opts);

  describe('docker run --runtime ts-runc', function () {
    it('runs the program: output and status 0 and 42', function () {
      const r = run([image, 'echo', 'hello from docker']);
      expect(r.status, describeCmd(r)).to.equal(0);
      expect(r.stdout).to.equal('hello from docker\n');
      expect(run([image, 'sh', '-c', 'exit 42']).status).to.equal(42);
    });

    it('a failed start: 127 for a missing program, 126 for a non-executable one', function () {
      const missing = run([image, 'no-such-program']);
      expect(missing.status, describeCmd(missing)).to.equal(127);
      expect(missing.stderr).to.include('executable file not found in $PATH');
      const noPath = run([image, '/no/such/path']);
      expect(noPath.status, describeCmd(noPath)).to.equal(127);
      expect(noPath.stderr).to.include('no such file or directory');
      const notExec = run([image, '/etc/passwd']);
      expect(notExec.status, describeCmd(notExec)).to.equal(126);
      expect(notExec.stderr).to.include('permission denied');
    });

    it('137 when killed; 143 on SIGTERM through --init', function () {
      const a = name();
      dk.ok(['run', '-d', '--runtime', 'ts-runc', '--name', a, image, 'sleep', '600']);
      dk.ok(['kill', a]);
      expect(dk.ok(['wait', a]).trim()).to.equal('137');
      const b = name();
      dk.ok(['run', '-d', '--runtime', 'ts-runc', '--init', '--name', b, image, 'sleep', '600']);
      dk.ok(['kill', '-s', 'TERM', b]);
      expect(dk.ok(['wait', b]).trim()).to.equal('143');
      dk.ok(['rm', a, b]);
    });

    it('--init: docker-init is PID 1', function () {
      expect(run(['--init', image, 'cat', '/proc/1/cmdline']).stdout.split('\0')[0]).to.match(/docker-init$/);
    });

    it('-it through a pseudo-terminal; -i with stdin', function () {
      const r = underPty([DOCKER, 'run', '--rm', '-it', '--runtime', 'ts-runc', image, 'sh', '-c', 'tty; exit 2'], { env: dk.env });
      expect(r.status, describeCmd(r)).to.equal(2);
      expect(r.stdout).to.match(/\/dev\/pts\/\d+/);
      expect(run(['-i', image, 'tr', 'a-z', 'A-Z'], { input: 'piped\n' }).stdout).to.equal('PIPED\n');
    });

    it('--user, --workdir, --env, --read-only', function () {
      expect(run(['--user', '1000:1000', '--workdir', '/tmp', '--env', 'K=v', image, 'sh', '-c', 'id -u; id -g; pwd; echo $K']).stdout).to.equal('1000\n1000\n/tmp\nv\n');
      const ro = run(['--read-only', image, 'touch', '/file']);
      expect(ro.status).to.not.equal(0);
      expect(ro.stderr).to.include('Read-only file system');
    });

    it('-v, --cap-drop ALL, --network none', function () {
      const host = makeTempDir('dk-volume');
      writeFileSync(path.join(host, 'f'), 'host file\n');
      expect(run(['-v', `${host}:/data`, image, 'cat', '/data/f']).stdout).to.equal('host file\n');
      expect(run(['--cap-drop', 'ALL', image, 'grep', 'CapEff', '/proc/self/status']).stdout).to.match(/CapEff:\s+0+\n/);
      expect(run(['--network', 'none', image, 'ls', '/sys/class/net']).stdout.trim().split(/\s+/)).to.deep.equal(['lo']);
    });

    it('--privileged: every capability, the host\'s devices', function () {
      // dockerd asks for every capability it knows, whatever the host has; a bounding set
      // without some of them (CAP_SYS_RESOURCE on the project's VMs) fails the start with
      // runc too ("unable to apply caps: operation not permitted"). podman filters instead.
      const bounding = BigInt(`0x${readFileSync('/proc/self/status', 'utf8').match(/^CapBnd:\s+(\w+)$/m)![1]}`);
      const lastCap = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
      const all = (1n << BigInt(lastCap + 1)) - 1n;
      if (bounding !== all) skipWith(this, `this host's bounding set (${bounding.toString(16)}) lacks capabilities docker --privileged requests; runc fails the same way`);
      const r = run(['--privileged', image, 'sh', '-c', 'grep CapEff /proc/self/status; ls /dev | wc -l']);
      expect(r.stdout).to.include(`CapEff:\t${bounding.toString(16).padStart(16, '0')}`);
      expect(Number(r.stdout.trim().split('\n').pop())).to.be.above(20);
    });

    it('the bridge network and -p 127.0.0.1:PORT', async function () {
      const c = name();
      const port = 20000 + ((process.pid + 7) % 20000);
      dk.ok(['run', '-d', '--runtime', 'ts-runc', '--name', c, '-p', `127.0.0.1:${port}:8080`, image, 'sh', '-c', 'mkdir -p /www && echo served > /www/index.html && exec httpd -f -p 8080 -h /www']);
      try {
        expect(dk.ok(['inspect', c, '--format', '{{.NetworkSettings.IPAddress}}']).trim()).to.match(/^172\.31\.254\.\d+$/);
        let body = '';
        for (let i = 0; i < 50 && !body; i++) {
          const r = cmd('busybox', ['wget', '-q', '-O', '-', `http://127.0.0.1:${port}/index.html`]);
          body = r.status === 0 ? r.stdout : '';
          if (!body) await new Promise((res) => setTimeout(res, 100));
        }
        expect(body).to.equal('served\n');
      } finally {
        dk.docker(['rm', '-f', c]);
      }
    });
  });

  describe('a running container', function () {
    let c: string;
    beforeEach(function () {
      c = name();
      dk.ok(['run', '-d', '--runtime', 'ts-runc', '--init', '--name', c, image, 'sleep', '600']);
    });
    afterEach(function () {
      dk.docker(['rm', '-f', c]);
    });

    it('logs', function () {
      const l = name();
      dk.ok(['run', '-d', '--runtime', 'ts-runc', '--name', l, image, 'sh', '-c', 'echo first; echo second']);
      expect(dk.ok(['wait', l]).trim()).to.equal('0');
      expect(dk.ok(['logs', l])).to.equal('first\nsecond\n');
      dk.ok(['rm', l]);
    });

    it('exec: output and status', function () {
      needs(this, { seccomp: true });
      expect(dk.ok(['exec', c, 'echo', 'from exec'])).to.equal('from exec\n');
      expect(dk.docker(['exec', c, 'sh', '-c', 'exit 5']).status).to.equal(5);
      const missing = dk.docker(['exec', c, 'no-such-program']);
      expect(missing.status).to.equal(126);
      expect(missing.stdout + missing.stderr).to.include('executable file not found in $PATH');
    });

    it('top', function () {
      expect(dk.ok(['top', c])).to.match(/sleep 600/);
    });

    it('stop: SIGTERM through --init (143)', function () {
      dk.ok(['stop', '-t', '10', c]);
      expect(dk.ok(['inspect', c, '--format', '{{.State.ExitCode}}']).trim()).to.equal('143');
    });

    it('kill -s and wait', function () {
      dk.ok(['kill', '-s', 'USR1', c]);
      expect(dk.ok(['wait', c]).trim()).to.equal(String(128 + 10));
    });

    it('restart: a new container process', function () {
      const before = dk.ok(['inspect', c, '--format', '{{.State.Pid}}']).trim();
      dk.ok(['restart', '-t', '5', c]);
      const state = dk.ok(['inspect', c, '--format', '{{.State.Running}} {{.State.Pid}}']).trim().split(' ');
      expect(state[0]).to.equal('true');
      expect(state[1]).to.not.equal(before);
    });

    it('pause and unpause', function () {
      needs(this, { commands: ['pause', 'resume'] });
      dk.ok(['pause', c]);
      expect(dk.ok(['inspect', c, '--format', '{{.State.Status}}']).trim()).to.equal('paused');
      dk.ok(['unpause', c]);
      expect(dk.ok(['inspect', c, '--format', '{{.State.Status}}']).trim()).to.equal('running');
    });

    it('update --memory changes the limit of the running container', function () {
      needs(this, { resources: true, commands: ['update'] });
      dk.ok(['update', '--memory', '64m', '--memory-swap', '64m', c]);
      const pid = dk.ok(['inspect', c, '--format', '{{.State.Pid}}']).trim();
      const memcg = /^\d+:[^:]*\bmemory\b[^:]*:(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))![1]!;
      expect(readFileSync(path.join('/sys/fs/cgroup/memory', memcg, 'memory.limit_in_bytes'), 'utf8').trim()).to.equal(String(64 * 1024 * 1024));
    });
  });

  describe('resources', function () {
    it('--memory: an allocation above it is OOM-killed (137)', function () {
      needs(this, { resources: true });
      const r = run(['--memory', '32m', '--memory-swap', '32m', image, 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1']);
      expect(r.status, describeCmd(r)).to.equal(137);
    });
  });
});
