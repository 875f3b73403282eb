// Config that would reach the host's kernel (issue 9, "Config that reaches the host
// kernel"): sysctls outside the container's namespaces, cgroup core files through
// `unified`, the id the kernel reads as "unchanged", and NUL bytes that cut strings short
// in C. Each is refused at create (or exec, or update) naming the field, nothing is left
// behind (leak check), and the host's value is the same after as before.
//
// Built without these checks (TSRUNC_WEAKEN=config, see README.md), ts-runc changes the
// host's sysctls, moves host processes into the container's cgroup, runs
// `--user 4294967295` as root and mounts over /dev/pts through "/dev/pts\u0000": every
// test here fails (the host's values are put back).
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { OciConfig } from '../../helpers/bundle.js';
import { makeBundle } from '../../helpers/bundle.js';
import { makeTempDir } from '../../helpers/context.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireRoot } from '../../helpers/privileges.js';
import { type RtResult, describeResult, rt, rtOk, uniqueId } from '../../helpers/runtime.js';
import { runSh, runShOk } from '../confinement/support.js';
import { useWeakenedBuild } from './weak-build.js';

type Namespace = 'ipc' | 'uts' | 'network';

const procSys = (key: string) => `/proc/sys/${key.replace(/\./g, '/')}`;
const hostValue = (key: string) => readFileSync(procSys(key), 'utf8');

/**
 * The host's value of `key` now; `unchanged()` checks it is still that, and puts it back
 * when it is not (a runtime without the check must not leave the host changed).
 */
function hostSysctl(key: string): { before: string; unchanged: () => void } {
  const before = hostValue(key);
  return {
    before,
    unchanged: () => {
      const now = hostValue(key);
      if (now !== before) writeFileSync(procSys(key), before);
      expect(now, `the host's ${key}`).to.equal(before);
    },
  };
}

function withoutNamespace(c: OciConfig, type: Namespace): void {
  c.linux!.namespaces = c.linux!.namespaces!.filter((n: { type: string }) => n.type !== type);
  if (type === 'uts') delete c.hostname;
}

function expectRefused(r: RtResult, ...words: string[]): void {
  expect(r.status, describeResult(r)).to.not.equal(0);
  for (const w of words) expect(r.stderr, describeResult(r)).to.include(w);
}

/** A sleeping host process, killed after the test. */
function hostSleeper(): { pid: number; cgroup: () => string; stop: () => void } {
  const child = spawn('sleep', ['600'], { stdio: 'ignore' });
  return {
    pid: child.pid!,
    cgroup: () => readFileSync(`/proc/${child.pid}/cgroup`, 'utf8'),
    stop: () => child.kill('SIGKILL'),
  };
}

describe('config that reaches the host kernel', function () {
  useWeakenedBuild();
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  describe('linux.sysctl: only keys of the container\'s own namespaces', function () {
    // A key of each namespace, and a value the host does not have.
    const MATRIX: { key: string; ns: Namespace; value: (host: string) => string }[] = [
      { key: 'kernel.msgmax', ns: 'ipc', value: (h) => String(Number(h) + 1) },
      { key: 'fs.mqueue.msg_max', ns: 'ipc', value: (h) => String(Number(h) - 1) },
      { key: 'kernel.domainname', ns: 'uts', value: () => 'ts-runc.test' },
      { key: 'net.ipv4.tcp_keepalive_probes', ns: 'network', value: (h) => String(Number(h) + 1) },
    ];

    for (const { key, ns, value } of MATRIX) {
      it(`${key}: set in a new ${ns} namespace, the host's unchanged`, function () {
        const host = hostSysctl(key);
        const wanted = value(host.before.trim());
        const out = runShOk(`cat ${procSys(key)}`, (c) => (c.linux!.sysctl = { [key]: wanted }));
        host.unchanged();
        expect(out.trim()).to.equal(wanted);
      });

      it(`${key}: refused without a ${ns} namespace, naming it; the host's unchanged`, function () {
        const host = hostSysctl(key);
        const r = runSh('true', (c) => {
          withoutNamespace(c, ns);
          c.linux!.sysctl = { [key]: value(host.before.trim()) };
        });
        host.unchanged();
        expectRefused(r, `sysctl \\"${key}\\"`);
      });
    }

    it('refused in the host\'s network namespace joined by path', function () {
      const key = 'net.ipv4.tcp_keepalive_probes';
      const host = hostSysctl(key);
      const r = runSh('true', (c) => {
        c.linux!.namespaces = c.linux!.namespaces!.map((n: { type: string }) => (n.type === 'network' ? { type: 'network', path: `/proc/${process.pid}/ns/net` } : n));
        c.linux!.sysctl = { [key]: String(Number(host.before) + 1) };
      });
      host.unchanged();
      expectRefused(r, `sysctl \\"${key}\\" not allowed in host network namespace`);
    });

    for (const key of ['vm.swappiness', 'kernel.hostname']) {
      it(`${key}: refused with every namespace, naming it; the host's unchanged`, function () {
        const host = hostSysctl(key);
        const r = runSh('true', (c) => (c.linux!.sysctl = { [key]: key === 'vm.swappiness' ? String((Number(host.before) + 1) % 100) : 'ts-runc-test' }));
        host.unchanged();
        expectRefused(r, `sysctl \\"${key}\\"`);
      });
    }
  });

  describe('linux.resources.unified: no cgroup core file, never on cgroup v1', function () {
    it('create refuses cgroup.procs with a host pid; the process stays where it was', function () {
      const sleeper = hostSleeper();
      try {
        const before = sleeper.cgroup();
        const r = runSh('true', (c) => (c.linux!.resources = { ...c.linux!.resources, unified: { 'cgroup.procs': String(sleeper.pid) } }));
        expectRefused(r, 'cgroup.procs');
        expect(sleeper.cgroup()).to.equal(before);
      } finally {
        sleeper.stop();
      }
    });

    it('update -r refuses it too, on a running container', function () {
      const sleeper = hostSleeper();
      const id = uniqueId();
      const b = makeBundle({ args: ['sleep', '600'] });
      rtOk(['run', '--detach', '--bundle', b.dir, id]);
      try {
        const before = sleeper.cgroup();
        const file = path.join(makeTempDir('update'), 'resources.json');
        writeFileSync(file, JSON.stringify({ unified: { 'cgroup.procs': String(sleeper.pid) } }));
        expectRefused(rt(['update', '-r', file, id]), 'cgroup.procs');
        expect(sleeper.cgroup()).to.equal(before);
      } finally {
        sleeper.stop();
        rt(['delete', '--force', id]);
      }
    });
  });

  describe('ids: 4294967295 is (uid_t)-1, "unchanged" to the kernel', function () {
    it('process.user.uid and gid are refused at create, naming the field', function () {
      const uid = runSh('id -u', (c) => (c.process!.user = { uid: 4294967295, gid: 0 }));
      expectRefused(uid, 'process.user.uid');
      expect(uid.stdout).to.equal('');
      const gid = runSh('id -g', (c) => (c.process!.user = { uid: 0, gid: 4294967295 }));
      expectRefused(gid, 'process.user.gid');
    });

    it('exec --user and --additional-gids are refused the same way', function () {
      const id = uniqueId();
      const b = makeBundle({ args: ['sleep', '600'] });
      rtOk(['run', '--detach', '--bundle', b.dir, id]);
      try {
        const user = rt(['exec', '--user', '4294967295', id, 'id', '-u']);
        expectRefused(user, 'process.user.uid');
        expect(user.stdout).to.equal('');
        expectRefused(rt(['exec', '--user', '0:4294967295', id, 'id', '-g']), 'process.user.gid');
        expectRefused(rt(['exec', '--additional-gids', '4294967295', id, 'true']), 'process.user.additionalGids[0]');
        expect(rtOk(['exec', '--user', '4294967294', id, 'id', '-u']).trim()).to.equal('4294967294');
      } finally {
        rt(['delete', '--force', id]);
      }
    });
  });

  describe('NUL bytes: refused in every string that reaches C', function () {
    it('a mount destination "/dev/pts\\u0000" does not cover /dev/pts', function () {
      const b = makeBundle({
        args: ['true'],
        mutate: (c) => c.mounts!.push({ destination: '/dev/pts\u0000', type: 'bind', source: 'host-dir', options: ['bind'] }),
      });
      mkdirSync(path.join(b.dir, 'host-dir'));
      const r = rt(['run', '--bundle', b.dir, uniqueId()]);
      expectRefused(r, 'mounts[7].destination: must not contain a NUL byte');
    });

    it('a hostname, an env entry, an exec process file', function () {
      expectRefused(runSh('hostname', (c) => (c.hostname = 'ab\u0000cd')), 'hostname: must not contain a NUL byte');
      expectRefused(runSh('true', (c) => c.process!.env!.push('X=1\u0000LD_PRELOAD=/x')), 'process.env[2]: must not contain a NUL byte');
      const id = uniqueId();
      const b = makeBundle({ args: ['sleep', '600'] });
      rtOk(['run', '--detach', '--bundle', b.dir, id]);
      try {
        const file = path.join(makeTempDir('process'), 'process.json');
        writeFileSync(file, JSON.stringify({ args: ['/bin/sh\u0000', '-c', 'true'], cwd: '/' }));
        expectRefused(rt(['exec', '--process', file, id]), 'args[0]: must not contain a NUL byte');
      } finally {
        rt(['delete', '--force', id]);
      }
    });
  });
});
