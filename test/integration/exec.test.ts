// exec: a new process in a running container — its namespaces, cgroups, identity,
// capabilities, limits and status; detached exec with a pid file; --process files; and
// the failures engines match on (runc's words, exit status 255, nothing left behind).
import { expect } from 'chai';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readlinkSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeBundle } from '../helpers/bundle.js';
import { makeTempDir, testRoot } from '../helpers/context.js';
import { useLeakCheck } from '../helpers/leaks.js';
import { requireCgroupV1Controller, requireRoot } from '../helpers/privileges.js';
import { describeResult, rt, rtOk, runtimeBin, startBackground, state, uniqueId, waitFor } from '../helpers/runtime.js';
import { setNamespace, useSleepers, useUserns } from './linux/support.js';

const NS_ENTRIES = ['pid', 'net', 'mnt', 'ipc', 'uts', 'cgroup', 'user', 'time'];

function procStatus(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/** Parent pid, from /proc/<pid>/stat (comm may contain spaces). */
function ppidOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

/** Run the runtime with `fd` as its stdout (and stderr); its exit status. */
function spawnSyncOut(args: string[], fd: number): number | null {
  return spawnSync(runtimeBin(), ['--root', testRoot(), ...args], { stdio: ['ignore', fd, fd], timeout: 30_000 }).status;
}

/** `exec --detach --pid-file` a sleep; returns its host pid. */
function execDetachedSleep(id: string, flags: string[] = []): number {
  const pidFile = path.join(makeTempDir('pidfile'), 'exec.pid');
  rtOk(['exec', '--detach', '--pid-file', pidFile, ...flags, id, 'sleep', '600']);
  return Number(readFileSync(pidFile, 'utf8'));
}

describe('exec', function () {
  this.timeout(30_000);
  useLeakCheck();
  const startSleeper = useSleepers();
  beforeEach(function () {
    requireRoot(this);
  });

  describe('the process', function () {
    it('runs in the container and its status is exec\'s status', function () {
      const sleeper = startSleeper();
      expect(rtOk(['exec', sleeper.id, 'echo', 'hello'])).to.equal('hello\n');
      const r = rt(['exec', sleeper.id, 'sh', '-c', 'exit 42']);
      expect(r.status, describeResult(r)).to.equal(42);
    });

    it('exits with 128+signal when the process is killed', function () {
      const sleeper = startSleeper();
      const r = rt(['exec', sleeper.id, 'sh', '-c', 'kill -9 $$']);
      expect(r.status, describeResult(r)).to.equal(137);
    });

    it('joins every namespace of the container and is a child of its PID namespace', function () {
      const sleeper = startSleeper((c) => {
        useUserns(c);
        setNamespace(c, 'cgroup');
        setNamespace(c, 'time');
      });
      const pid = execDetachedSleep(sleeper.id);
      try {
        for (const entry of NS_ENTRIES) {
          expect(readlinkSync(`/proc/${pid}/ns/${entry}`), entry).to.equal(readlinkSync(`/proc/${sleeper.pid}/ns/${entry}`));
        }
        // A pid of its own inside the container's PID namespace (not 1: that is the init).
        const nspid = procStatus(pid).NSpid!.split(/\s+/).map(Number);
        expect(nspid).to.have.length(2);
        expect(nspid[1]).to.be.above(1);
        // Root in the container is the mapped host id.
        expect(procStatus(pid).Uid!.split(/\s+/)[0]).to.equal('100000');
        // The namespaces the container made are not the host's.
        for (const entry of ['pid', 'user', 'time', 'cgroup']) expect(readlinkSync(`/proc/${pid}/ns/${entry}`), entry).to.not.equal(readlinkSync(`/proc/self/ns/${entry}`));
      } finally {
        killPid(pid);
      }
    });

    it('is in the container\'s cgroups', function () {
      const sleeper = startSleeper();
      const pid = execDetachedSleep(sleeper.id);
      try {
        expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).to.equal(readFileSync(`/proc/${sleeper.pid}/cgroup`, 'utf8'));
      } finally {
        killPid(pid);
      }
    });

    it('gets the capabilities, rlimits and no_new_privs of the container\'s config', function () {
      const sleeper = startSleeper((c) => {
        c.process!.capabilities = { bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_KILL'], permitted: ['CAP_KILL', 'CAP_CHOWN'] };
        c.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 321, hard: 654 }];
        c.process!.noNewPrivileges = true;
      });
      const out = rtOk(['exec', sleeper.id, 'sh', '-c', 'grep -E "^(Cap|NoNewPrivs)" /proc/self/status; ulimit -n; ulimit -Hn']);
      const init = procStatus(sleeper.pid);
      for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) {
        expect(out, set).to.include(`${set}:\t${init[set]}\n`);
      }
      expect(out).to.match(/CapBnd:\s+0*21\n/); // CAP_CHOWN (0) | CAP_KILL (5)
      expect(out).to.match(/NoNewPrivs:\s+1\n/);
      expect(out).to.match(/\n321\n654\n$/);
    });

    it('applies --user, --additional-gids, --cwd, --env, --cap and --no-new-privs', function () {
      const sleeper = startSleeper((c) => {
        c.process!.noNewPrivileges = false;
        c.process!.capabilities = { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] };
      });
      const out = rtOk([
        'exec', '--user', '1000:1001', '--additional-gids', '2000', '-g', '2001', '--cwd', '/tmp',
        '--env', 'FOO=bar', '-e', 'BAZ=qux', '--cap', 'CAP_NET_RAW', '--no-new-privs',
        sleeper.id, 'sh', '-c', 'id -u; id -g; id -G; pwd; echo $FOO $BAZ; grep -E "^(CapBnd|NoNewPrivs)" /proc/self/status',
      ]);
      const l = out.split('\n');
      expect(l.slice(0, 5)).to.deep.equal(['1000', '1001', '1001 2000 2001', '/tmp', 'bar qux']);
      expect(out).to.match(/CapBnd:\s+0*2020\n/); // CAP_KILL (5) | CAP_NET_RAW (13)
      expect(out).to.match(/NoNewPrivs:\s+1\n/);
    });

    it('keeps the container\'s environment and adds --env to it', function () {
      const sleeper = startSleeper((c) => c.process!.env!.push('FROM_CONFIG=1'));
      expect(rtOk(['exec', '-e', 'EXTRA=2', sleeper.id, 'sh', '-c', 'echo $FROM_CONFIG $EXTRA'])).to.equal('1 2\n');
    });

    it('refuses --env without "=" (as runc), naming the entry, and runs nothing', function () {
      const sleeper = startSleeper();
      const marker = `/tmp/ran-${uniqueId()}`;
      const r = rt(['exec', '--env', 'NOEQ', sleeper.id, 'touch', marker]);
      expect(r.status, describeResult(r)).to.not.equal(0);
      expect(r.stderr).to.match(/invalid environment variable: missing '='/);
      expect(r.stderr.trim().split('\n')).to.have.length(1);
      expect(rt(['exec', sleeper.id, 'test', '-e', marker]).status).to.equal(1);
    });

    it('the process has a process group of the container (getpgrp() is not 0), as with runc', function () {
      const sleeper = startSleeper();
      const pgrp = Number(rtOk(['exec', sleeper.id, 'sh', '-c', 'cut -d" " -f5 /proc/$$/stat']).trim());
      expect(pgrp).to.be.greaterThan(0);
    });

    it('--no-new-privs sets no_new_privs where the config does not (crun\'s exec no-new-privs case, capabilities {})', function () {
      const sleeper = startSleeper((c) => {
        c.process!.noNewPrivileges = false;
        c.process!.capabilities = {};
      });
      expect(rtOk(['exec', sleeper.id, 'grep', 'NoNewPrivs', '/proc/self/status'])).to.match(/NoNewPrivs:\s+0/);
      expect(rtOk(['exec', '--no-new-privs', sleeper.id, 'grep', 'NoNewPrivs', '/proc/self/status'])).to.match(/NoNewPrivs:\s+1/);
    });

    it('process.execCPUAffinity: the final CPUs are the exec\'d process\'s (the config\'s, as runc takes them)', function () {
      const sleeper = startSleeper((c) => ((c.process as Record<string, unknown>).execCPUAffinity = { initial: '0', final: '0' }));
      expect(rtOk(['exec', sleeper.id, 'grep', 'Cpus_allowed_list', '/proc/self/status'])).to.match(/Cpus_allowed_list:\s+0\n/);
    });

    it('stdio that is a file becomes the exec user\'s (runc, crun), so the process can reopen it', function () {
      const sleeper = startSleeper();
      const out = path.join(makeTempDir('stdio'), 'out');
      const fd = openSync(out, 'w');
      try {
        const r = spawnSyncOut(['exec', '--user', '1000:1000', sleeper.id, 'sh', '-c', ': >> /proc/self/fd/1 && echo ok'], fd);
        expect(r, readFileSync(out, 'utf8')).to.equal(0);
      } finally {
        closeSync(fd);
      }
      expect(readFileSync(out, 'utf8')).to.equal('ok\n');
    });

    it('execs into a created container that has not started', function () {
      const b = makeBundle({ args: ['sleep', '600'] });
      const id = uniqueId();
      rtOk(['create', '--bundle', b.dir, id]);
      try {
        expect(rtOk(['exec', id, 'echo', 'created'])).to.equal('created\n');
        expect(state(id).status).to.equal('created');
      } finally {
        rtOk(['delete', '--force', id]);
      }
    });

    it('forwards signals to the process in the foreground', async function () {
      const sleeper = startSleeper();
      const bg = startBackground(['exec', sleeper.id, 'sh', '-c', 'trap "exit 7" TERM; echo ready; while :; do sleep 0.1; done']);
      await waitFor(() => bg.stdout().includes('ready'), 10_000, { what: 'the exec\'d process to start' });
      bg.kill('SIGTERM');
      const { status } = await bg.wait(10_000);
      expect(status, bg.stderr()).to.equal(7);
    });

    it('detached: writes the pid file and leaves the process running', async function () {
      const sleeper = startSleeper();
      const pid = execDetachedSleep(sleeper.id);
      try {
        expect(existsSync(`/proc/${pid}`)).to.equal(true);
        // The runtime returns once the setup is done; the last execve (tsrunc-init -> sleep)
        // may still be under way, and /proc/PID/cmdline reads empty during it.
        const program = () => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
        await waitFor(() => program() !== '', 5_000, { what: `process ${pid} to finish its execve` });
        expect(program()).to.equal('sleep');
        // The runtime has exited; the process is no child of it any more.
        expect(readFileSync(`/proc/${ppidOf(pid)}/cmdline`, 'utf8')).to.not.include('exec');
      } finally {
        killPid(pid);
      }
    });
  });

  describe('--preserve-fds and --ignore-paused', function () {
    it('--preserve-fds passes the runtime\'s extra descriptors on to the process', async function () {
      const sleeper = startSleeper();
      const dir = makeTempDir('fds');
      const file = path.join(dir, 'passed');
      writeFileSync(file, 'through fd 3\n');
      const extra = openSync(file, 'r');
      try {
        const child = spawn(runtimeBin(), ['--root', testRoot(), 'exec', '--preserve-fds', '1', sleeper.id, 'sh', '-c', 'cat <&3'], {
          stdio: ['ignore', 'pipe', 'pipe', extra],
        });
        let out = '';
        child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
        const status = await new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
        expect(status).to.equal(0);
        expect(out).to.equal('through fd 3\n');
      } finally {
        closeSync(extra);
      }
    });

    it('--ignore-paused: the exec waits in the frozen container and completes once it is thawed', async function () {
      requireCgroupV1Controller(this, 'freezer');
      const sleeper = startSleeper();
      const own = readFileSync(`/proc/${sleeper.pid}/cgroup`, 'utf8').match(/^\d+:freezer:(.*)$/m)![1]!;
      const freezer = path.join('/sys/fs/cgroup/freezer', own, 'freezer.state');
      writeFileSync(freezer, 'FROZEN');
      let thawed = false;
      try {
        const bg = startBackground(['exec', '--ignore-paused', sleeper.id, 'echo', 'after thaw']);
        await new Promise((r) => setTimeout(r, 500));
        expect(bg.stdout()).to.equal('');
        writeFileSync(freezer, 'THAWED');
        thawed = true;
        const { status } = await bg.wait(10_000);
        expect(status, bg.stderr()).to.equal(0);
        expect(bg.stdout()).to.equal('after thaw\n');
      } finally {
        if (!thawed) writeFileSync(freezer, 'THAWED');
      }
    });
  });

  describe('--process', function () {
    it('runs the process a process.json describes', function () {
      const sleeper = startSleeper();
      const file = path.join(makeTempDir('process'), 'process.json');
      writeFileSync(file, JSON.stringify({
        args: ['sh', '-c', 'echo $A; pwd; id -u'],
        env: ['PATH=/bin', 'A=from-file'],
        cwd: '/tmp',
        user: { uid: 7, gid: 7 },
      }));
      expect(rtOk(['exec', '--process', file, sleeper.id])).to.equal('from-file\n/tmp\n7\n');
    });

    it('rejects an invalid process.json with one line naming the field', function () {
      const sleeper = startSleeper();
      const file = path.join(makeTempDir('process'), 'process.json');
      writeFileSync(file, JSON.stringify({ args: ['true'], cwd: 'relative' }));
      const r = rt(['exec', '-p', file, sleeper.id]);
      expect(r.status, describeResult(r)).to.equal(255);
      expect(r.stderr).to.match(/cwd/);
      expect(r.stderr.trim().split('\n')).to.have.length(1);
    });
  });

  describe('--cgroup', function () {
    it('puts the process in an existing sub-cgroup of the container', function () {
      requireCgroupV1Controller(this, 'pids');
      const sleeper = startSleeper();
      const own = readFileSync(`/proc/${sleeper.pid}/cgroup`, 'utf8').match(/^\d+:pids:(.*)$/m)![1]!;
      const sub = path.join('/sys/fs/cgroup/pids', own, 'sub');
      mkdirSync(sub);
      try {
        const pid = execDetachedSleep(sleeper.id, ['--cgroup', 'pids:sub']);
        try {
          const cg = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
          expect(cg).to.match(new RegExp(`^\\d+:pids:${own}/sub$`, 'm'));
          expect(cg).to.match(new RegExp(`^\\d+:memory:${own}$`, 'm'));
        } finally {
          killPid(pid);
          awaitGone(pid);
        }
      } finally {
        if (existsSync(sub)) rmdirSync(sub);
      }
    });

    it('refuses a sub-cgroup that does not exist', function () {
      const sleeper = startSleeper();
      const r = rt(['exec', '--cgroup', 'nosuch', sleeper.id, 'true']);
      expect(r.status, describeResult(r)).to.equal(255);
      expect(r.stderr).to.include('does not exist');
    });
  });

  describe('failures', function () {
    const cases: [string, string[], RegExp][] = [
      ['a program not in PATH', ['nosuch-program'], /exec: \\?"nosuch-program\\?": executable file not found in \$PATH/],
      ['a missing path', ['/nosuch'], /no such file or directory/],
      ['a file that is not executable', ['/etc/passwd'], /permission denied/],
      ['a missing working directory', ['--cwd', '/nosuch', 'true'], /no such file or directory/],
      ['a user that is not a number', ['--user', 'abc', 'true'], /abc/],
    ];
    for (const [what, args, message] of cases) {
      it(`${what}: exit 255, runc's words`, function () {
        const sleeper = startSleeper();
        const flags = args.filter((a, i) => a.startsWith('-') || args[i - 1]?.startsWith('-'));
        const command = args.slice(flags.length);
        const r = rt(['exec', ...flags, sleeper.id, ...command]);
        expect(r.status, describeResult(r)).to.equal(255);
        expect(r.stderr).to.match(/exec failed: /);
        expect(r.stderr).to.match(message);
        // The container is untouched.
        expect(state(sleeper.id).status).to.equal('running');
      });
    }

    it('an unknown container: "container does not exist"', function () {
      const r = rt(['exec', 'no-such-container', 'true']);
      expect(r.status, describeResult(r)).to.equal(255);
      expect(r.stderr).to.include('container does not exist');
    });

    it('a stopped container: "cannot exec in a stopped container"', async function () {
      const b = makeBundle({ args: ['true'] });
      const id = uniqueId();
      rtOk(['run', '--detach', '--bundle', b.dir, id]);
      try {
        await waitFor(() => state(id).status === 'stopped', 5_000, { what: `${id} to stop` });
        const r = rt(['exec', id, 'true']);
        expect(r.status, describeResult(r)).to.equal(255);
        expect(r.stderr).to.include('cannot exec in a stopped container');
      } finally {
        rtOk(['delete', '--force', id]);
      }
    });

    it('a paused container: refused unless --ignore-paused', function () {
      requireCgroupV1Controller(this, 'freezer');
      const sleeper = startSleeper();
      const own = readFileSync(`/proc/${sleeper.pid}/cgroup`, 'utf8').match(/^\d+:freezer:(.*)$/m)![1]!;
      const freezer = path.join('/sys/fs/cgroup/freezer', own, 'freezer.state');
      writeFileSync(freezer, 'FROZEN');
      try {
        const r = rt(['exec', sleeper.id, 'true']);
        expect(r.status, describeResult(r)).to.equal(255);
        expect(r.stderr).to.include('cannot exec in a paused container');
      } finally {
        writeFileSync(freezer, 'THAWED');
      }
    });

    it('--tty with --detach needs a console socket; a console socket needs --tty', function () {
      const sleeper = startSleeper();
      const a = rt(['exec', '--detach', '--tty', sleeper.id, 'sh']);
      expect(a.status).to.equal(255);
      expect(a.stderr).to.match(/cannot allocate tty if (ts-)?runc will detach without setting console socket/);
      const b = rt(['exec', '--console-socket', '/nonexistent.sock', sleeper.id, 'sh']);
      expect(b.status).to.equal(255);
      expect(b.stderr).to.match(/cannot use console socket if (ts-)?runc will not detach or allocate tty/);
    });

    it('the container\'s seccomp profile confines the exec\'d process too', function () {
      const sleeper = startSleeper((c) => {
        c.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdirat', 'mkdir'], action: 'SCMP_ACT_ERRNO' }] };
      });
      const r = rt(['exec', sleeper.id, 'sh', '-c', 'grep ^Seccomp: /proc/self/status; mkdir /tmp/denied']);
      expect(r.stdout).to.match(/Seccomp:\s+2/);
      expect(r.status).to.not.equal(0);
      expect(r.stderr).to.include('Operation not permitted');
      expect(existsSync(path.join(sleeper.bundle.rootfs, 'tmp/denied'))).to.equal(false);
    });
  });
});

/** Wait (briefly) until a killed pid is gone, so the leak checker does not see it. */
function awaitGone(pid: number): void {
  for (let i = 0; i < 200 && existsSync(`/proc/${pid}`); i++) execFileSync('sleep', ['0.01']);
}
