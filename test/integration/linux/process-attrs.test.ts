// The container process's Linux attributes (config.md "Process", "Hostname", "Domainname";
// config-linux.md "Sysctl"): hostname, domainname, sysctls, rlimits, oomScoreAdj, user,
// umask, cwd, env, PATH lookup and noNewPrivileges, as the process sees them.
import { expect } from 'chai';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeBundle } from '../../helpers/bundle.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireRoot } from '../../helpers/privileges.js';
import { dropNamespace, keyValues, lines, runBundle, runSh, runShOk } from './support.js';

const CAP_SYS_RESOURCE = 24;

/** A limit of the test process (which the runtime inherits) from /proc/self/limits. */
function ownLimit(name: string): { soft: string; hard: string } {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(name))!;
  const [soft, hard] = line.slice(name.length).trim().split(/\s+/);
  return { soft: soft!, hard: hard! };
}

function boundingSetHas(cap: number): boolean {
  const hex = /^CapBnd:\s+([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]!;
  return (BigInt(`0x${hex}`) >> BigInt(cap)) & 1n ? true : false;
}

describe('linux: process attributes', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  describe('hostname and domainname', function () {
    it('hostname is set in the new UTS namespace', function () {
      expect(runShOk('hostname', (c) => (c.hostname = 'ctr-host'))).to.equal('ctr-host\n');
    });

    it('domainname is set in the new UTS namespace', function () {
      expect(runShOk('cat /proc/sys/kernel/domainname', (c) => (c.domainname = 'example.test'))).to.equal('example.test\n');
    });

    it('a hostname without a UTS namespace fails naming the field', function () {
      const r = runSh('true', (c) => {
        c.hostname = 'ctr-host';
        dropNamespace(c, 'uts');
      });
      expect(r.status).to.not.equal(0);
      expect(r.stderr).to.include('hostname');
      expect(r.stderr.trim().split('\n')).to.have.length(1);
    });
  });

  describe('linux.sysctl', function () {
    it('net.ipv4.ip_forward is set in the new network namespace only', function () {
      const host = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
      const wanted = host.trim() === '1' ? '0' : '1';
      const out = runShOk('cat /proc/sys/net/ipv4/ip_forward', (c) => (c.linux!.sysctl = { 'net.ipv4.ip_forward': wanted }));
      expect(out.trim()).to.equal(wanted);
      expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8')).to.equal(host);
    });

    it('kernel.shmmax is set in the new IPC namespace only', function () {
      const host = readFileSync('/proc/sys/kernel/shmmax', 'utf8');
      const out = runShOk('cat /proc/sys/kernel/shmmax', (c) => (c.linux!.sysctl = { 'kernel.shmmax': '123456789' }));
      expect(out.trim()).to.equal('123456789');
      expect(readFileSync('/proc/sys/kernel/shmmax', 'utf8')).to.equal(host);
    });

    it('an unknown sysctl fails naming it', function () {
      const r = runSh('true', (c) => (c.linux!.sysctl = { 'net.ipv4.no_such_knob': '1' }));
      expect(r.status).to.not.equal(0);
      expect(r.stderr).to.include('net.ipv4.no_such_knob');
    });
  });

  describe('process.rlimits', function () {
    it('RLIMIT_NOFILE soft and hard show in ulimit and /proc/self/limits', function () {
      const out = runShOk('echo soft=$(ulimit -n); echo hard=$(ulimit -Hn); grep "Max open files" /proc/self/limits', (c) => {
        c.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 512, hard: 4096 }];
      });
      const kv = keyValues(out);
      expect([kv.soft, kv.hard]).to.deep.equal(['512', '4096']);
      expect(lines(out)).to.include('Max open files 512 4096 files');
    });

    it('several limits apply together', function () {
      const out = runShOk('grep -E "Max (processes|core file size)" /proc/self/limits', (c) => {
        c.process!.rlimits = [
          { type: 'RLIMIT_NPROC', soft: 100, hard: 200 },
          { type: 'RLIMIT_CORE', soft: 0, hard: 1024 },
        ];
      });
      expect(lines(out)).to.include.members(['Max core file size 0 1024 bytes', 'Max processes 100 200 processes']);
    });

    it('raising a hard limit above the runtime’s without CAP_SYS_RESOURCE fails naming the limit', function () {
      const { hard } = ownLimit('Max open files');
      if (hard === 'unlimited' || boundingSetHas(CAP_SYS_RESOURCE)) this.skip();
      const r = runSh('true', (c) => {
        c.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: Number(hard) + 1000 }];
      });
      expect(r.status).to.not.equal(0);
      expect(r.stderr).to.match(/RLIMIT_NOFILE|rlimits\[0\]/);
      expect(r.stderr.trim().split('\n')).to.have.length(1);
    });
  });

  describe('process.oomScoreAdj', function () {
    it('a raised value shows in /proc/self/oom_score_adj', function () {
      expect(runShOk('cat /proc/self/oom_score_adj', (c) => (c.process!.oomScoreAdj = 500))).to.equal('500\n');
    });

    it('lowering below the current value works with CAP_SYS_RESOURCE, else fails clearly', function () {
      const current = Number(readFileSync('/proc/self/oom_score_adj', 'utf8'));
      const lower = Math.max(-1000, current - 100);
      const r = runSh('cat /proc/self/oom_score_adj', (c) => (c.process!.oomScoreAdj = lower));
      if (boundingSetHas(CAP_SYS_RESOURCE)) {
        expect(r.status, r.stderr).to.equal(0);
        expect(r.stdout).to.equal(`${lower}\n`);
      } else {
        expect(r.status).to.not.equal(0);
        expect(r.stderr).to.match(/oom_score_adj/);
        expect(r.stderr).to.include(String(lower));
        expect(r.stderr.trim().split('\n')).to.have.length(1);
      }
    });
  });

  describe('process.user', function () {
    it('uid, gid and additionalGids', function () {
      const out = runShOk('echo uid=$(id -u); echo gid=$(id -g); echo groups=$(id -G)', (c) => {
        c.process!.user = { uid: 1000, gid: 1001, additionalGids: [10, 20] };
      });
      const kv = keyValues(out);
      expect([kv.uid, kv.gid]).to.deep.equal(['1000', '1001']);
      expect(kv.groups!.split(' ').sort()).to.deep.equal(['10', '1001', '20']);
    });

    it('without additionalGids the process has no supplementary groups', function () {
      const out = runShOk('grep ^Groups: /proc/self/status', (c) => {
        c.process!.user = { uid: 1000, gid: 1001 };
      });
      expect(lines(out)).to.deep.equal(['Groups:']);
    });

    it('umask applies to new files', function () {
      const out = runShOk('echo umask=$(umask); touch /tmp/f; mkdir /tmp/d; echo f=$(stat -c %a /tmp/f); echo d=$(stat -c %a /tmp/d)', (c) => {
        c.root!.readonly = false;
        c.process!.user = { uid: 0, gid: 0, umask: 0o027 };
      });
      expect(keyValues(out)).to.deep.equal({ umask: '0027', f: '640', d: '750' });
    });

    it('without a umask the process gets 0022 (as with runc)', function () {
      expect(runShOk('umask')).to.equal('0022\n');
    });
  });

  describe('process.cwd', function () {
    it('the process starts in cwd', function () {
      expect(runShOk('pwd', (c) => (c.process!.cwd = '/etc'))).to.equal('/etc\n');
    });

    it('a cwd that does not exist in the image is created', function () {
      const b = makeBundle({ args: ['sh', '-c', 'pwd; stat -c %F .'], mutate: (c) => (c.process!.cwd = '/work/deep/dir') });
      const r = runBundle(b);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.equal('/work/deep/dir\ndirectory\n');
    });
  });

  describe('process.env and args', function () {
    it('the environment is exactly the configured one', function () {
      const env = ['PATH=/bin', 'HOME=/root', 'A=1', 'WITH_SPACES=two words', 'EMPTY='];
      const b = makeBundle({ args: ['env'], env });
      const r = runBundle(b);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout.split('\n').filter(Boolean).sort()).to.deep.equal([...env].sort());
    });

    it('without HOME in env, HOME comes from the user’s /etc/passwd entry (as with runc)', function () {
      const b = makeBundle({ args: ['env'], env: ['PATH=/bin'] });
      const r = runBundle(b);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout.split('\n').filter(Boolean).sort()).to.deep.equal(['HOME=/root', 'PATH=/bin']);
    });

    it('args[0] is looked up in the container’s PATH, not the host’s', function () {
      const b = makeBundle({ args: ['only-in-container', 'arg1'], env: ['PATH=/opt/ctr-bin:/bin'] });
      mkdirSync(path.join(b.rootfs, 'opt/ctr-bin'), { recursive: true });
      const prog = path.join(b.rootfs, 'opt/ctr-bin/only-in-container');
      writeFileSync(prog, '#!/bin/sh\necho "ran $0 $1"\n');
      chmodSync(prog, 0o755);
      const r = runBundle(b);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.equal('ran /opt/ctr-bin/only-in-container arg1\n');
    });
  });

  describe('process.noNewPrivileges', function () {
    for (const [value, expected] of [
      [true, '1'],
      [false, '0'],
    ] as const) {
      it(`${value}: NoNewPrivs is ${expected} in /proc/self/status`, function () {
        const out = runShOk('grep ^NoNewPrivs: /proc/self/status', (c) => (c.process!.noNewPrivileges = value));
        expect(lines(out)).to.deep.equal([`NoNewPrivs: ${expected}`]);
      });
    }
  });
});
