// The cgroupfs driver on a real cgroup v2 kernel with its controllers: every
// linux.resources field lands in its file and is enforced; the core files (cgroup.freeze,
// cgroup.kill, cgroup.events, memory.events) do their part; the cgroup namespace's root is
// the container's cgroup.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { type Bundle, type OciConfig, makeBundle } from '../helpers/bundle.js';
import { useLeakCheck } from '../helpers/leaks.js';
import { rt, rtOk, startBackground, state, uniqueId, waitFor } from '../helpers/runtime.js';
import { CGROUP2, readCgroup, requireSystemdV2 } from './support.js';

const dirOf = (b: Bundle) => path.join(CGROUP2, b.config.linux!.cgroupsPath);
const sleepMs = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const keyValue = (text: string, key: string) => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);

/** The container sees the cgroup filesystem at its namespace's root. */
function withCgroupNamespace(c: OciConfig, readonly: boolean): void {
  c.linux!.namespaces.push({ type: 'cgroup' });
  c.mounts = (c.mounts ?? []).filter((m) => m.destination !== '/sys/fs/cgroup');
  c.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', readonly ? 'ro' : 'rw'] });
}

describe('hosts: the cgroupfs driver on cgroup v2', function () {
  useLeakCheck();
  const ids: string[] = [];

  before(function () {
    requireSystemdV2(this);
  });

  afterEach(function () {
    for (const id of ids.splice(0)) rt(['delete', '--force', id]);
  });

  function start(args: string[], mutate: (c: OciConfig) => void, detach = true): { b: Bundle; id: string } {
    const b = makeBundle({ args, mutate });
    const id = uniqueId();
    ids.push(id);
    if (detach) rtOk(['run', '--detach', '--bundle', b.dir, id]);
    return { b, id };
  }

  it('writes every linux.resources field to its v2 file, enabling the controllers above it', function () {
    const { b } = start(['sleep', '600'], (c) => {
      c.linux!.resources = {
        ...c.linux!.resources,
        memory: { limit: 67108864, reservation: 33554432, swap: 100663296 },
        cpu: { shares: 512, quota: 20000, period: 100000, burst: 1000, idle: 0, cpus: '0', mems: '0' },
        pids: { limit: 64 },
        blockIO: { weight: 500 },
        unified: { 'memory.high': '50331648' },
      };
    });
    const dir = dirOf(b);
    const bfq = fs.existsSync(path.join(dir, 'io.bfq.weight'));
    const expected: Record<string, string> = {
      'memory.max': '67108864',
      'memory.low': '33554432',
      'memory.swap.max': '33554432',
      'memory.high': '50331648',
      'cpu.weight': '20',
      'cpu.max': '20000 100000',
      'cpu.max.burst': '1000',
      'cpu.idle': '0',
      'cpuset.cpus': '0',
      'cpuset.mems': '0',
      'pids.max': '64',
      [bfq ? 'io.bfq.weight' : 'io.weight']: bfq ? 'default 500' : 'default 4950',
    };
    for (const [file, value] of Object.entries(expected)) expect(readCgroup(dir, file), file).to.equal(value);
    const parent = readCgroup(path.dirname(dir), 'cgroup.subtree_control').split(' ');
    expect(parent).to.include.members(['cpu', 'cpuset', 'io', 'memory', 'pids']);
  });

  it('memory.max OOM-kills, memory.events counts it and `events` reports it', async function () {
    const limit = 32 << 20;
    const { b, id } = start(['sh', '-c', 'dd if=/dev/zero of=/dev/null bs=128M count=1; echo "dd exited $?"; sleep 600'], (c) => {
      c.linux!.resources.memory = { limit, swap: limit };
    }, false);
    rtOk(['create', '--bundle', b.dir, id]);
    const ev = startBackground(['events', '--interval', '200ms', id]);
    try {
      await waitFor(() => ev.stdout().includes('"type":"stats"'), 20_000, { what: 'events to start' });
      rtOk(['start', id]);
      await waitFor(() => ev.stdout().includes('"type":"oom"'), 30_000, { what: 'an oom event' });
      expect(keyValue(readCgroup(dirOf(b), 'memory.events'), 'oom_kill')).to.be.at.least(1);
      const stats = ev.stdout().split('\n').filter((l) => l.includes('"type":"stats"')).map((l) => JSON.parse(l));
      expect(stats[0].data.memory.usage.limit).to.equal(limit);
      expect(state(id).status).to.equal('running');
    } finally {
      ev.kill('SIGKILL');
    }
  });

  it('pids.max stops a fork bomb', async function () {
    const limit = 16;
    const { b, id } = start(['sh', '-c', 'sh -c "while :; do sleep 600 & done" 2>/dev/null & sleep 600'], (c) => {
      c.linux!.resources.pids = { limit };
    });
    const dir = dirOf(b);
    await waitFor(() => keyValue(readCgroup(dir, 'pids.events'), 'max') > 0, 20_000, { what: 'a fork to be refused' });
    expect(Number(readCgroup(dir, 'pids.current'))).to.be.at.most(limit);
    expect(state(id).status).to.equal('running');
  });

  it('cpu.max throttles a busy loop to its quota', async function () {
    const { b } = start(['sh', '-c', 'while :; do :; done'], (c) => {
      c.linux!.resources.cpu = { quota: 10000, period: 100000 };
    });
    const dir = dirOf(b);
    const usage = () => keyValue(readCgroup(dir, 'cpu.stat'), 'usage_usec');
    await waitFor(() => keyValue(readCgroup(dir, 'cpu.stat'), 'nr_throttled') >= 3, 20_000, { what: 'throttled periods' });
    const u0 = usage();
    const t0 = Date.now();
    await sleepMs(2000);
    const share = (usage() - u0) / ((Date.now() - t0) * 1000);
    // 10% of one CPU, with room for a period's slack; unthrottled it would be near 100%.
    expect(share).to.be.below(0.2);
  });

  it('the eBPF device filter denies a device node the rules do not allow', function () {
    // Opened for writing only: reading /dev/kmsg would also need CAP_SYSLOG.
    const tryKmsg = ['sh', '-c', 'if (: > /dev/kmsg) 2>/dev/null; then echo opened; else echo denied; fi'];
    const kmsg = (c: OciConfig, allow: boolean) => {
      c.linux!.devices = [{ path: '/dev/kmsg', type: 'c', major: 1, minor: 11, fileMode: 0o644, uid: 0, gid: 0 }];
      c.linux!.resources.devices = [{ allow: false, access: 'rwm' }, ...(allow ? [{ allow: true, type: 'c', major: 1, minor: 11, access: 'w' }] : [])];
    };
    const denied = makeBundle({ args: tryKmsg, mutate: (c) => kmsg(c, false) });
    expect(rtOk(['run', '--bundle', denied.dir, uniqueId()]).trim()).to.equal('denied');
    const allowed = makeBundle({ args: tryKmsg, mutate: (c) => kmsg(c, true) });
    expect(rtOk(['run', '--bundle', allowed.dir, uniqueId()]).trim()).to.equal('opened');
  });

  it('pause freezes through cgroup.freeze until cgroup.events says frozen; resume thaws', async function () {
    const { b, id } = start(['sh', '-c', 'while :; do :; done'], () => {});
    const dir = dirOf(b);
    rtOk(['pause', id]);
    expect(readCgroup(dir, 'cgroup.freeze')).to.equal('1');
    expect(keyValue(readCgroup(dir, 'cgroup.events'), 'frozen')).to.equal(1);
    expect(state(id).status).to.equal('paused');
    const usage = keyValue(readCgroup(dir, 'cpu.stat'), 'usage_usec');
    await sleepMs(500);
    expect(keyValue(readCgroup(dir, 'cpu.stat'), 'usage_usec')).to.equal(usage);
    rtOk(['resume', id]);
    expect(readCgroup(dir, 'cgroup.freeze')).to.equal('0');
    expect(state(id).status).to.equal('running');
  });

  it('delete --force kills a fork loop without a PID namespace (cgroup.kill) and removes the cgroup', async function () {
    const { b, id } = start(['sh', '-c', 'while :; do sleep 600 & done'], (c) => {
      c.linux!.namespaces = c.linux!.namespaces.filter((n: { type: string }) => n.type !== 'pid');
    });
    const dir = dirOf(b);
    await waitFor(() => Number(readCgroup(dir, 'pids.current')) > 20, 20_000, { what: 'the loop to fork' });
    rtOk(['delete', '--force', id]);
    ids.splice(ids.indexOf(id), 1);
    expect(fs.existsSync(dir)).to.equal(false);
  });

  it('the cgroup namespace\'s root is the container\'s cgroup', function () {
    const b = makeBundle({
      args: ['sh', '-c', 'cat /proc/self/cgroup; cat /sys/fs/cgroup/memory.max; cat /sys/fs/cgroup/cgroup.procs | wc -l'],
      mutate: (c) => {
        c.linux!.resources.memory = { limit: 50331648 };
        withCgroupNamespace(c, true);
      },
    });
    const out = rtOk(['run', '--bundle', b.dir, uniqueId()]).trim().split('\n');
    expect(out[0]).to.equal('0::/');
    expect(out[1]).to.equal('50331648');
    expect(Number(out[2])).to.be.at.least(1);
  });

  it('threaded mode: the container makes a threaded sub-cgroup of its own', function () {
    const b = makeBundle({
      args: ['sh', '-c', 'mkdir /sys/fs/cgroup/t && echo threaded > /sys/fs/cgroup/t/cgroup.type && cat /sys/fs/cgroup/t/cgroup.type /sys/fs/cgroup/cgroup.type'],
      mutate: (c) => {
        withCgroupNamespace(c, false);
      },
    });
    expect(rtOk(['run', '--bundle', b.dir, uniqueId()]).trim().split('\n')).to.deep.equal(['threaded', 'domain threaded']);
  });
});
