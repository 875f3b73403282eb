// Process and container setup where runc or crun behave a way users notice (issue 11,
// "Process and container setup"): the loopback interface, scheduler, I/O priority, memory
// policy, and the inputs runc refuses. Each runs against runc too (TSRUNC_BIN).
import { expect } from 'chai';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hostLayout } from '../../../src/linux/cgroups/mode.js';
import type { OciConfig } from '../../helpers/bundle.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireCgroupV1Controller, requireRoot } from '../../helpers/privileges.js';
import { rtOk, uniqueId } from '../../helpers/runtime.js';
import { runBundle, runSh, runShOk, shBundle, useUserns } from './support.js';

/**
 * A real-time policy needs real-time CPU time in the task's cpu cgroup where the kernel
 * groups it (CONFIG_RT_GROUP_SCHED, cgroup v1): a new cgroup has none. The test gives the
 * container some, through the runtime's own cgroupsPath parents.
 */
function rtBudget(c: OciConfig): void {
  const cpu = hostLayout().v1.get('cpu');
  if (!cpu || !existsSync(path.join(cpu, 'cpu.rt_runtime_us'))) return;
  let dir = cpu;
  for (const part of (c.linux!.cgroupsPath as string).split('/').filter(Boolean).slice(0, -1)) {
    dir = path.join(dir, part);
    mkdirSync(dir, { recursive: true });
    if (Number(readFileSync(path.join(dir, 'cpu.rt_runtime_us'), 'utf8')) < 20000) writeFileSync(path.join(dir, 'cpu.rt_runtime_us'), '20000');
  }
  c.linux!.resources = { ...c.linux!.resources, cpu: { realtimeRuntime: 10000, realtimePeriod: 1000000 } };
}

/**
 * A bundle whose config.json has exact 64-bit numbers where `mutate` put the placeholder
 * strings of `exact` (JSON.stringify cannot write them).
 */
function exactBundle(script: string, exact: Record<string, string>, mutate: (c: OciConfig) => void) {
  const b = shBundle(script, mutate);
  let text = readFileSync(b.configPath, 'utf8');
  for (const [placeholder, digits] of Object.entries(exact)) text = text.replace(`"${placeholder}"`, digits);
  writeFileSync(b.configPath, text);
  return b;
}

/** A failed start: non-zero, one line naming `field`. */
function expectRefused(r: ReturnType<typeof runSh>, field: RegExp): void {
  expect(r.status, r.stderr).to.not.equal(0);
  expect(r.stderr).to.match(field);
  expect(r.stderr.trim().split('\n'), r.stderr).to.have.length(1);
}

describe('linux: process and container setup as runc and crun do it', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  describe('the network namespace', function () {
    it('a new one has its loopback interface up (127.0.0.1 answers)', function () {
      const script = 'cat /sys/class/net/lo/flags; nc -l -p 7777 </dev/null >/dev/null & ' +
        'for i in 1 2 3 4 5 6 7 8 9 10; do nc -w 1 127.0.0.1 7777 </dev/null 2>/dev/null && echo connected && break; sleep 0.2; done';
      const [flags, connected] = runShOk(script).trim().split('\n');
      expect(Number(flags) & 1, `IFF_UP in ${flags}`).to.equal(1);
      expect(connected).to.equal('connected');
    });
  });

  describe('mounts', function () {
    it('a tmpfs over an existing directory takes its mode (runc); mode= in the options still wins', function () {
      const out = runShOk('stat -c %a /etc /opt /srv', (c) => {
        c.mounts!.push({ destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] });
        c.mounts!.push({ destination: '/opt', type: 'tmpfs', source: 'tmpfs', options: ['mode=700'] });
        c.mounts!.push({ destination: '/srv', type: 'tmpfs', source: 'tmpfs' });
      });
      // /etc is 755 in the image; /opt has mode=700; /srv does not exist there: tmpfs's own 1777.
      expect(out.trim().split('\n')).to.deep.equal(['755', '700', '1777']);
    });

    it('tmpcopyup copies what the image has there into the tmpfs', function () {
      const out = runShOk('cat /etc/passwd | head -1; grep -c tmpfs /proc/self/mountinfo >/dev/null && grep " /etc " /proc/self/mountinfo | cut -d" " -f9', (c) => {
        c.mounts!.push({ destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] });
      });
      const [first, fstype] = out.trim().split('\n');
      expect(first).to.match(/^root:/);
      expect(fstype).to.equal('tmpfs');
    });

    it('a bind mount over / of the rootfs, followed by more mounts', function () {
      const b = shBundle('ls /proc/self >/dev/null && ls /sys/kernel >/dev/null && cat /marker', (c) => {
        c.mounts!.unshift({ destination: '/', type: 'bind', source: c.root!.path, options: ['rbind'] });
      });
      writeFileSync(path.join(b.rootfs, 'marker'), 'image\n');
      const r = runBundle(b);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.equal('image\n');
    });
  });

  describe('process.scheduler', function () {
    it('SCHED_FIFO is applied (with real-time time for the container\'s cpu cgroup where the kernel asks for it)', function () {
      const out = runShOk('grep -E "^policy|^prio" /proc/self/sched', (c) => {
        c.process!.scheduler = { policy: 'SCHED_FIFO', priority: 10 };
        rtBudget(c);
      });
      expect(out).to.match(/^policy\s+:\s+1$/m);
    });

    it('SCHED_RR with a user namespace (CAP_SYS_NICE of the initial namespace is needed)', function () {
      const out = runShOk('grep -E "^policy" /proc/self/sched', (c) => {
        c.process!.scheduler = { policy: 'SCHED_RR', priority: 5 };
        useUserns(c);
        rtBudget(c);
      });
      expect(out).to.match(/^policy\s+:\s+2$/m);
    });
  });

  describe('linux.memoryPolicy', function () {
    it('MPOL_BIND on node 0 shows in /proc/self/numa_maps', function () {
      const out = runShOk('grep -m1 -o "bind:0" /proc/self/numa_maps', (c) => (c.linux!.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0' }));
      expect(out.trim()).to.equal('bind:0');
    });

    it('a mode that takes nodes, without nodes, is refused naming the field', function () {
      expectRefused(runSh('true', (c) => (c.linux!.memoryPolicy = { mode: 'MPOL_INTERLEAVE' })), /linux\.memoryPolicy\.nodes/);
    });
  });

  describe('process.ioPriority', function () {
    it('IOPRIO_CLASS_IDLE needs no priority', function () {
      const out = runShOk('ionice -p $$', (c) => (c.process!.ioPriority = { class: 'IOPRIO_CLASS_IDLE' }));
      expect(out.trim()).to.match(/^idle/);
    });
  });

  describe('64-bit numbers are exact', function () {
    it('an rlimit of 18446744073709551615 is unlimited (not 0)', function () {
      const b = exactBundle('grep "Max core file size" /proc/self/limits', { SOFT: '18446744073709551615', HARD: '18446744073709551615' }, (c) => {
        c.process!.rlimits = [{ type: 'RLIMIT_CORE', soft: 'SOFT' as unknown as number, hard: 'HARD' as unknown as number }];
      });
      const r = runBundle(b);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout.split(/\s{2,}/).slice(1, 3)).to.deep.equal(['unlimited', 'unlimited']);
    });

    it('a blkio throttle of 2^53+1 bytes/s reaches the cgroup exactly, and the snapshot keeps it', function () {
      requireCgroupV1Controller(this, 'blkio');
      const dev = readdirSync('/sys/block').find((d) => !/^(loop|ram|zram)/.test(d)) ?? readdirSync('/sys/block')[0]!;
      const [major, minor] = readFileSync(`/sys/block/${dev}/dev`, 'utf8').trim().split(':').map(Number);
      const b = exactBundle('sleep 600', { RATE: '9007199254740993' }, (c) => {
        c.linux!.resources = { ...c.linux!.resources, blockIO: { throttleReadBpsDevice: [{ major, minor, rate: 'RATE' }] } };
      });
      const id = uniqueId();
      rtOk(['create', '--bundle', b.dir, id]);
      try {
        const file = path.join(hostLayout().v1.get('blkio')!, b.config.linux!.cgroupsPath, 'blkio.throttle.read_bps_device');
        expect(readFileSync(file, 'utf8').trim()).to.equal(`${major}:${minor} 9007199254740993`);
        // Commands after create read the config snapshot: it carries the exact value too.
        rtOk(['update', '--pids-limit', '50', id]);
        expect(readFileSync(file, 'utf8').trim()).to.equal(`${major}:${minor} 9007199254740993`);
      } finally {
        rtOk(['delete', '--force', id]);
      }
    });
  });

  describe('inputs runc refuses', function () {
    it('an env entry without "="', function () {
      expectRefused(runSh('true', (c) => c.process!.env!.push('NOEQ')), /process\.env\[\d+\]|environment variable/);
    });

    it('memory.limit -5 (only -1 means unlimited)', function () {
      expectRefused(runSh('true', (c) => (c.linux!.resources = { ...c.linux!.resources, memory: { limit: -5 } })), /memory/);
    });
  });
});
