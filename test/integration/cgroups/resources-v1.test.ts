// linux.resources on the host's real cgroup v1 hierarchies (hybrid hosts included): the
// files each limit lands in, the device list compared with runc's, refusals that leave
// nothing behind, and the kernel enforcing what was written (OOM kill, pids limit).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { hostLayout } from '../../../src/linux/cgroups/mode.js';
import { type Bundle, makeBundle } from '../../helpers/bundle.js';
import { makeTempDir, testCgroupPath } from '../../helpers/context.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { hasCommand, requireCgroupV1Controller, requireRoot, skipWith } from '../../helpers/privileges.js';
import { rt, rtOk, startBackground, state, uniqueId, waitFor } from '../../helpers/runtime.js';

/** The container's directory in a v1 hierarchy. */
function v1Dir(b: Bundle, controller: string): string {
  const mount = hostLayout().v1.get(controller);
  if (!mount) throw new Error(`no v1 ${controller} hierarchy`);
  return path.join(mount, b.config.linux!.cgroupsPath);
}

const readCg = (b: Bundle, controller: string, file: string) => fs.readFileSync(path.join(v1Dir(b, controller), file), 'utf8').trim();

/** A block device of this machine (throttles need a real one). */
function blockDevice(): { major: number; minor: number } {
  const name = fs.readdirSync('/sys/block').find((d) => !/^(loop|ram|zram)/.test(d)) ?? fs.readdirSync('/sys/block')[0];
  const [major, minor] = fs.readFileSync(`/sys/block/${name}/dev`, 'utf8').trim().split(':').map(Number);
  return { major: major as number, minor: minor as number };
}

/** Every directory the container has (or had) in any hierarchy. */
function allDirs(cgroupsPath: string): string[] {
  const layout = hostLayout();
  const mounts = [...new Set([...layout.v1.values(), ...(layout.unified ? [layout.unified] : [])])];
  return mounts.map((m) => path.join(m, cgroupsPath));
}

describe('cgroups v1: resources on the real hierarchies', function () {
  useLeakCheck();

  before(function () {
    requireRoot(this);
    for (const c of ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'devices', 'freezer', 'blkio']) requireCgroupV1Controller(this, c);
  });

  it('writes every limit to its file', function () {
    const b = makeBundle({
      args: ['sleep', '600'],
      mutate: (c) => {
        c.linux!.resources = {
          ...c.linux!.resources,
          memory: { limit: 67108864, reservation: 33554432, swap: 134217728, swappiness: 10, disableOOMKiller: true },
          cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
          pids: { limit: 20 },
          blockIO: { weight: 300, throttleReadBpsDevice: [{ ...blockDevice(), rate: 1048576 }] },
        };
      },
    });
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    expect(readCg(b, 'memory', 'memory.limit_in_bytes')).to.equal('67108864');
    expect(readCg(b, 'memory', 'memory.soft_limit_in_bytes')).to.equal('33554432');
    expect(readCg(b, 'memory', 'memory.memsw.limit_in_bytes')).to.equal('134217728');
    expect(readCg(b, 'memory', 'memory.swappiness')).to.equal('10');
    expect(readCg(b, 'memory', 'memory.oom_control')).to.match(/^oom_kill_disable 1$/m);
    expect(readCg(b, 'cpu', 'cpu.shares')).to.equal('512');
    expect(readCg(b, 'cpu', 'cpu.cfs_quota_us')).to.equal('50000');
    expect(readCg(b, 'cpu', 'cpu.cfs_period_us')).to.equal('100000');
    expect(readCg(b, 'cpuset', 'cpuset.cpus')).to.equal('0');
    expect(readCg(b, 'cpuset', 'cpuset.mems')).to.equal('0');
    expect(readCg(b, 'pids', 'pids.max')).to.equal('20');
    const weightFile = fs.existsSync(path.join(v1Dir(b, 'blkio'), 'blkio.weight')) ? 'blkio.weight' : 'blkio.bfq.weight';
    expect(readCg(b, 'blkio', weightFile)).to.match(/^(default )?300$/m);
    expect(readCg(b, 'blkio', 'blkio.throttle.read_bps_device')).to.equal(`${blockDevice().major}:${blockDevice().minor} 1048576`);
    // The container process is in every one of those cgroups.
    const pid = state(id).pid as number;
    for (const c of ['memory', 'cpu', 'pids', 'devices']) expect(readCg(b, c, 'cgroup.procs').split('\n')).to.include(String(pid));
    rtOk(['delete', '--force', id]);
    for (const d of allDirs(b.config.linux!.cgroupsPath)) expect(fs.existsSync(d), d).to.equal(false);
  });

  it('pids.limit 0 is not set (as runc reads it): the container forks', function () {
    const b = makeBundle({ args: ['sh', '-c', 'echo $(echo forked)'], mutate: (c) => (c.linux!.resources = { ...c.linux!.resources, pids: { limit: 0 } }) });
    const r = rt(['run', '--bundle', b.dir, uniqueId()]);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('forked\n');
  });

  it('memory.kernelTCP goes to memory.kmem.tcp.limit_in_bytes (as crun; the runtime-tools suite checks it)', function () {
    const b = makeBundle({ args: ['sleep', '600'], mutate: (c) => (c.linux!.resources = { ...c.linux!.resources, memory: { kernelTCP: 10485760 } }) });
    if (!fs.existsSync(path.join(hostLayout().v1.get('memory')!, 'memory.kmem.tcp.limit_in_bytes'))) skipWith(this, 'this kernel has no memory.kmem.tcp.limit_in_bytes');
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    try {
      expect(readCg(b, 'memory', 'memory.kmem.tcp.limit_in_bytes')).to.equal('10485760');
    } finally {
      rtOk(['delete', '--force', id]);
    }
  });

  it('leaves the same device list as runc', function () {
    if (!hasCommand('runc')) skipWith(this, 'needs runc to compare with');
    const mutate = (c: Parameters<NonNullable<Parameters<typeof makeBundle>[0]>['mutate'] & object>[0]) => {
      c.linux!.resources.devices = [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }, { allow: false, type: 'c', major: 1, minor: 9, access: 'w' }];
    };
    const ours = makeBundle({ args: ['sleep', '600'], mutate });
    const theirs = makeBundle({ args: ['sleep', '600'], mutate });
    const id = uniqueId();
    const runcId = uniqueId('runc');
    const runcRoot = makeTempDir('runc-root');
    rtOk(['create', '--bundle', ours.dir, id]);
    // runc's container inherits stderr: a file, not a pipe spawnSync would wait on.
    const errFile = path.join(runcRoot, 'stderr');
    const errFd = fs.openSync(errFile, 'w');
    const r = spawnSync('runc', ['--root', runcRoot, 'create', '--bundle', theirs.dir, runcId], { stdio: ['ignore', errFd, errFd] });
    fs.closeSync(errFd);
    try {
      expect(r.status, fs.readFileSync(errFile, 'utf8')).to.equal(0);
      const list = (b: Bundle) => readCg(b, 'devices', 'devices.list').split('\n').sort();
      expect(list(ours)).to.deep.equal(list(theirs));
      expect(list(ours)).to.include('c 10:229 rw');
    } finally {
      spawnSync('runc', ['--root', runcRoot, 'delete', '--force', runcId], { stdio: 'ignore' });
      rtOk(['delete', '--force', id]);
    }
  });

  it('applies device rules to an existing deny-by-default cgroup that has children', function () {
    const b = makeBundle({ args: ['sleep', '600'] });
    const dir = v1Dir(b, 'devices');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'devices.deny'), 'a');
    fs.writeFileSync(path.join(dir, 'devices.allow'), 'c 4:1 rw');
    // With a child, the kernel refuses "a" (a reset): only differences can be written.
    fs.mkdirSync(path.join(dir, 'child'));
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    const list = readCg(b, 'devices', 'devices.list').split('\n');
    expect(list).to.not.include('c 4:1 rw');
    expect(list).to.include.members(['c 1:3 rwm', 'c 136:* rwm', 'c *:* m']);
    rtOk(['delete', '--force', id]);
    expect(fs.existsSync(dir)).to.equal(false);
  });

  it('fails create on a value the kernel refuses, naming file, value and errno, leaving nothing', function () {
    const b = makeBundle({ args: ['true'], mutate: (c) => (c.linux!.resources.cpu = { cpus: '4095' }) });
    const id = uniqueId();
    const r = rt(['create', '--bundle', b.dir, id]);
    expect(r.status).to.not.equal(0);
    // No such CPU: the kernel answers ERANGE or EINVAL depending on the machine.
    const file = path.join(v1Dir(b, 'cpuset'), 'cpuset.cpus');
    expect(r.stderr).to.contain(`linux.resources.cpu.cpus: failed to write \\"4095\\": write ${file}: `);
    expect(r.stderr).to.match(/: [a-z ]+ \((ERANGE|EINVAL)\)"\n$/);
    expect(rt(['state', id]).status).to.not.equal(0);
    for (const d of allDirs(b.config.linux!.cgroupsPath)) expect(fs.existsSync(d), d).to.equal(false);
  });

  it('refuses a limit for a controller the host does not have, naming the field', function () {
    if (hostLayout().v1.has('net_cls')) skipWith(this, 'net_cls is mounted here');
    const b = makeBundle({ args: ['true'], mutate: (c) => (c.linux!.resources.network = { classID: 1048577 }) });
    const r = rt(['run', '--bundle', b.dir, uniqueId()]);
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.contain('linux.resources.network.classID: cannot set net_cls limit: the net_cls cgroup controller is not available on this host');
  });

  it('refuses unified keys of controllers mounted as v1', function () {
    const b = makeBundle({ args: ['true'], mutate: (c) => (c.linux!.resources.unified = { 'memory.max': '1000000' }) });
    const r = rt(['run', '--bundle', b.dir, uniqueId()]);
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.contain('memory.max\\"]: cannot use unified on cgroup v1: the memory controller is mounted as cgroup v1 on this host');
  });

  it('on a hybrid host, puts hugetlb limits in the unified hierarchy where that controller lives', function () {
    const layout = hostLayout();
    const unified = layout.unified;
    const offered = unified ? fs.readFileSync(path.join(unified, 'cgroup.controllers'), 'utf8').split(/\s+/) : [];
    if (layout.mode !== 'hybrid' || layout.v1.has('hugetlb') || !offered.includes('hugetlb')) skipWith(this, 'needs a hybrid host whose cgroup2 offers hugetlb');
    if (!fs.existsSync('/sys/kernel/mm/hugepages/hugepages-2048kB')) skipWith(this, 'needs 2MB huge pages');
    const b = makeBundle({ args: ['sleep', '600'], mutate: (c) => (c.linux!.resources.hugepageLimits = [{ pageSize: '2MB', limit: 4194304 }]) });
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    const dir = path.join(unified as string, b.config.linux!.cgroupsPath);
    expect(fs.readFileSync(path.join(dir, 'hugetlb.2MB.max'), 'utf8').trim()).to.equal('4194304');
    expect(fs.readFileSync(path.join(path.dirname(dir), 'cgroup.subtree_control'), 'utf8')).to.match(/\bhugetlb\b/);
    const stats = JSON.parse(rtOk(['events', '--stats', id]));
    expect(stats.data.hugetlb).to.have.property('2MB');
    rtOk(['delete', '--force', id]);
  });

  it('contains a fork bomb under pids.limit', async function () {
    const limit = 16;
    const b = makeBundle({
      args: ['sh', '-c', 'sh -c "while :; do sleep 600 & done" 2>/dev/null & sleep 600'],
      mutate: (c) => (c.linux!.resources.pids = { limit }),
    });
    const id = uniqueId();
    rtOk(['run', '--detach', '--bundle', b.dir, id]);
    // The kernel counts refused forks in pids.events.
    await waitFor(() => Number(/^max (\d+)/m.exec(readCg(b, 'pids', 'pids.events'))?.[1] ?? 0) > 0, 10_000, { what: 'a fork to be refused' });
    expect(Number(readCg(b, 'pids', 'pids.current'))).to.be.at.most(limit);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(Number(readCg(b, 'pids', 'pids.current'))).to.be.at.most(limit);
    expect(state(id).status).to.equal('running');
    rtOk(['delete', '--force', id]);
  });

  it('OOM-kills past the memory limit and `events` reports it', async function () {
    const limit = 32 * 1024 * 1024;
    const b = makeBundle({
      args: ['sh', '-c', 'dd if=/dev/zero of=/dev/null bs=128M count=1; echo "dd exited $?"; sleep 600'],
      mutate: (c) => (c.linux!.resources.memory = { limit, swap: limit }),
    });
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    const ev = startBackground(['events', '--interval', '100ms', id]);
    try {
      await waitFor(() => ev.stdout().includes('"type":"stats"'), 10_000, { what: 'events to start' });
      rtOk(['start', id]);
      await waitFor(() => ev.stdout().includes('"type":"oom"'), 10_000, { what: 'an oom event' });
      const oomLine = ev.stdout().split('\n').find((l) => l.includes('"type":"oom"')) as string;
      expect(JSON.parse(oomLine)).to.deep.equal({ type: 'oom', id });
      expect(readCg(b, 'memory', 'memory.oom_control')).to.match(/^oom_kill [1-9]/m);
      const stats = ev.stdout().split('\n').filter((l) => l.includes('"type":"stats"')).map((l) => JSON.parse(l));
      expect(stats[0].data.memory.usage.limit).to.equal(limit);
      expect(state(id).status).to.equal('running');
      rtOk(['delete', '--force', id]);
      // Deleting the container removes its cgroup: the stream ends.
      const { status } = await ev.wait(5_000);
      expect(status, ev.stderr()).to.equal(0);
    } finally {
      ev.kill('SIGKILL');
    }
  });

  it('removes every cgroup on delete, nested ones made inside included', function () {
    const b = makeBundle({ args: ['sh', '-c', 'sleep 600 & sleep 600'] });
    const id = uniqueId();
    rtOk(['run', '--detach', '--bundle', b.dir, id]);
    const cgPath = b.config.linux!.cgroupsPath;
    // What a container (with write access to its cgroups) would do: sub-cgroups, with a process in one.
    for (const d of allDirs(cgPath)) fs.mkdirSync(path.join(d, 'nested/deeper'), { recursive: true });
    const pids = JSON.parse(rtOk(['ps', '--format', 'json', id])) as number[];
    const child = pids.find((p) => p !== state(id).pid) as number;
    for (const c of ['memory', 'pids', 'freezer']) fs.writeFileSync(path.join(v1Dir(b, c), 'nested/deeper/cgroup.procs'), String(child));
    expect(JSON.parse(rtOk(['ps', '--format', 'json', id])).sort()).to.deep.equal([...pids].sort());
    rtOk(['delete', '--force', id]);
    for (const d of allDirs(cgPath)) expect(fs.existsSync(d), d).to.equal(false);
  });

  it('uses the same cgroup for a relative cgroupsPath, under the runtime\'s own cgroup', function () {
    const rel = testCgroupPath().slice(1);
    const b = makeBundle({ args: ['sleep', '600'], cgroupsPath: rel });
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    const own = fs.readFileSync('/proc/self/cgroup', 'utf8').match(/^\d+:pids:(.*)$/m)?.[1] ?? '/';
    const procs = fs.readFileSync(path.join(hostLayout().v1.get('pids') as string, own, rel, 'cgroup.procs'), 'utf8');
    expect(procs.trim().split('\n')).to.include(String(state(id).pid));
    rtOk(['delete', '--force', id]);
  });
});
