// The systemd cgroup driver against the real systemd: the container's scope with its
// properties (as `systemctl show` reports them), the same limits in the cgroup files and
// enforced, update/pause/resume/events/ps through the driver, delete stopping the unit,
// annotations, nested slices made on demand, and refusals that leave nothing behind.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { type Bundle, type OciConfig, makeBundle } from '../helpers/bundle.js';
import { RUN_ID } from '../helpers/context.js';
import { useLeakCheck } from '../helpers/leaks.js';
import { rt, rtOk, state, testRoot, uniqueId, waitFor } from '../helpers/runtime.js';
import { CGROUP2, readCgroup, requireSystemdV2, stopUnit, unitLoaded, unitProperties } from './support.js';

const SD = '--systemd-cgroup';
const keyValue = (text: string, key: string) => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);

describe('hosts: the systemd cgroup driver', function () {
  useLeakCheck();
  const ids: string[] = [];
  const slices: string[] = [];

  before(function () {
    requireSystemdV2(this);
  });

  afterEach(function () {
    for (const id of ids.splice(0)) rt([SD, 'delete', '--force', id]);
  });

  after(function () {
    for (const s of slices.splice(0).reverse()) stopUnit(s);
  });

  /** A container in slice:prefix:id (or the default path when cgroupsPath is null). */
  function container(args: string[], mutate: (c: OciConfig) => void, cgroupsPath: string | null = null): { b: Bundle; id: string; unit: string; dir: string } {
    const id = uniqueId();
    const b = makeBundle({ args, cgroupsPath: cgroupsPath?.replace('%ID', id) ?? null, mutate });
    ids.push(id);
    const [slice, prefix, name] = cgroupsPath ? cgroupsPath.replace('%ID', id).split(':') : ['system.slice', 'ts-runc', id];
    const unit = `${prefix}-${name}.scope`;
    const sliceDir = (slice as string).replace(/\.slice$/, '').split('-').map((_, i, parts) => `${parts.slice(0, i + 1).join('-')}.slice`).join('/');
    return { b, id, unit, dir: path.join(CGROUP2, sliceDir, unit) };
  }

  it('runs the container in a transient scope with its limits as unit properties and in the files', function () {
    const c = container(['sleep', '600'], (cfg) => {
      cfg.linux!.resources = {
        ...cfg.linux!.resources,
        memory: { limit: 67108864, reservation: 16777216 },
        cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0' },
        pids: { limit: 40 },
      };
    });
    rtOk([SD, 'run', '--detach', '--bundle', c.b.dir, c.id]);
    const p = unitProperties(c.unit, 'ActiveState', 'Slice', 'Delegate', 'MemoryMax', 'MemoryLow', 'CPUWeight', 'CPUQuotaPerSecUSec', 'CPUQuotaPeriodUSec', 'TasksMax', 'AllowedCPUs', 'ControlGroup');
    expect(p).to.deep.equal({
      ActiveState: 'active',
      Slice: 'system.slice',
      Delegate: 'yes',
      MemoryMax: '67108864',
      MemoryLow: '16777216',
      CPUWeight: '20',
      CPUQuotaPerSecUSec: '500ms',
      CPUQuotaPeriodUSec: '100ms',
      TasksMax: '40',
      AllowedCPUs: '0',
      ControlGroup: `/system.slice/${c.unit}`,
    });
    const files: Record<string, string> = { 'memory.max': '67108864', 'memory.low': '16777216', 'cpu.weight': '20', 'cpu.max': '50000 100000', 'pids.max': '40', 'cpuset.cpus': '0' };
    for (const [f, v] of Object.entries(files)) expect(readCgroup(c.dir, f), f).to.equal(v);
    const pid = state(c.id).pid;
    expect(readCgroup(c.dir, 'cgroup.procs').split('\n')).to.include(String(pid));
    expect(JSON.parse(rtOk([SD, 'ps', '--format', 'json', c.id]))).to.deep.equal([pid]);
    const recorded = JSON.parse(fs.readFileSync(path.join(testRoot(), c.id, 'state.json'), 'utf8')).cgroup;
    expect(recorded.systemd).to.deep.equal({ unit: c.unit, userBus: false });
  });

  it('enforces them: the memory limit OOM-kills and the pids limit stops a fork bomb', async function () {
    const c = container(['sh', '-c', 'dd if=/dev/zero of=/dev/null bs=128M count=1; sh -c "while :; do sleep 600 & done" 2>/dev/null & sleep 600'], (cfg) => {
      cfg.linux!.resources.memory = { limit: 32 << 20, swap: 32 << 20 };
      cfg.linux!.resources.pids = { limit: 16 };
    });
    rtOk([SD, 'run', '--detach', '--bundle', c.b.dir, c.id]);
    await waitFor(() => keyValue(readCgroup(c.dir, 'memory.events'), 'oom_kill') >= 1, 30_000, { what: 'an OOM kill' });
    await waitFor(() => keyValue(readCgroup(c.dir, 'pids.events'), 'max') > 0, 30_000, { what: 'a refused fork' });
    expect(Number(readCgroup(c.dir, 'pids.current'))).to.be.at.most(16);
    expect(unitProperties(c.unit, 'ActiveState').ActiveState).to.equal('active');
  });

  it('update sets the unit\'s properties and the files; pause and resume freeze the scope; events reads it', function () {
    const c = container(['sleep', '600'], (cfg) => {
      cfg.linux!.resources.memory = { limit: 67108864 };
    });
    rtOk([SD, 'run', '--detach', '--bundle', c.b.dir, c.id]);
    rtOk([SD, 'update', '--memory', '100M', '--pids-limit', '30', '--cpu-quota', '12345', '--cpu-period', '100000', c.id]);
    expect(unitProperties(c.unit, 'MemoryMax', 'TasksMax', 'CPUQuotaPerSecUSec')).to.deep.equal({ MemoryMax: String(100 << 20), TasksMax: '30', CPUQuotaPerSecUSec: '130ms' });
    expect(readCgroup(c.dir, 'memory.max')).to.equal(String(100 << 20));
    // The quota is rounded up as systemd keeps it, so that file and unit agree.
    expect(readCgroup(c.dir, 'cpu.max')).to.equal('13000 100000');
    rtOk([SD, 'pause', c.id]);
    expect(readCgroup(c.dir, 'cgroup.freeze')).to.equal('1');
    expect(state(c.id).status).to.equal('paused');
    rtOk([SD, 'resume', c.id]);
    expect(state(c.id).status).to.equal('running');
    const stats = JSON.parse(rtOk([SD, 'events', '--stats', c.id]));
    expect(stats.data.memory.usage.limit).to.equal(100 << 20);
    expect(stats.data.pids.current).to.be.at.least(1);
  });

  it('delete stops the unit and its cgroup goes; a failed create leaves no unit', function () {
    const c = container(['sleep', '600'], () => {});
    rtOk([SD, 'run', '--detach', '--bundle', c.b.dir, c.id]);
    expect(unitLoaded(c.unit)).to.equal(true);
    rtOk([SD, 'delete', '--force', c.id]);
    expect(unitLoaded(c.unit)).to.equal(false);
    expect(fs.existsSync(c.dir)).to.equal(false);
    // The kernel refuses this cpuset (no such CPU) after the scope exists: it is stopped again.
    const bad = container(['true'], (cfg) => {
      cfg.linux!.resources.cpu = { cpus: '4000' };
    });
    const r = rt([SD, 'run', '--bundle', bad.b.dir, bad.id]);
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.match(/cpu/);
    expect(unitLoaded(bad.unit)).to.equal(false);
    expect(fs.existsSync(path.join(testRoot(), bad.id))).to.equal(false);
  });

  it('takes slice:prefix:name, making nested slices on demand', function () {
    const slice = `tsrunc-${RUN_ID}-nested.slice`;
    slices.push(`tsrunc.slice`, `tsrunc-${RUN_ID}.slice`, slice);
    const c = container(['sleep', '600'], () => {}, `${slice}:tsr:%ID`);
    rtOk([SD, 'run', '--detach', '--bundle', c.b.dir, c.id]);
    expect(c.dir).to.equal(path.join(CGROUP2, 'tsrunc.slice', `tsrunc-${RUN_ID}.slice`, slice, `tsr-${c.id}.scope`));
    expect(readCgroup(c.dir, 'cgroup.procs').split('\n')).to.include(String(state(c.id).pid));
    expect(unitProperties(c.unit, 'Slice').Slice).to.equal(slice);
  });

  it('talks to systemd in create and delete only of these commands, as runc does', async function () {
    const c = container(['sleep', '600'], () => {});
    const env = { ...process.env, TSRUNC_TRACE: '1' };
    /** Whether the command connected to D-Bus (its TSRUNC_TRACE mark). */
    const connects = (args: string[]) => {
      const r = rt([SD, ...args], { env });
      expect(r.status, `${args[0]}: ${r.stderr}`).to.equal(0);
      return r.stderr.includes('systemd: D-Bus connected');
    };
    const created = rt([SD, 'create', '--bundle', c.b.dir, c.id], { env });
    expect(created.status, created.stderr).to.equal(0);
    if (!/ ms .*main$/m.test(created.stderr)) this.skip(); // a runtime without ts-runc's trace marks
    expect(created.stderr).to.include('systemd: D-Bus connected');
    const light = { start: ['start', c.id], state: ['state', c.id], exec: ['exec', c.id, 'true'], ps: ['ps', c.id], pause: ['pause', c.id], resume: ['resume', c.id], events: ['events', '--stats', c.id], kill: ['kill', c.id, 'KILL'] };
    expect(Object.entries(light).filter(([, args]) => connects(args)).map(([name]) => name)).to.deep.equal([]);
    await waitFor(() => state(c.id).status === 'stopped', 10_000, { what: 'the container stopped' });
    expect(connects(['delete', c.id])).to.equal(true);
    expect(unitLoaded(c.unit)).to.equal(false);
  });

  it('passes org.systemd.property.* annotations, and refuses those reaching beyond the unit', function () {
    const c = container(['sleep', '600'], (cfg) => {
      cfg.annotations = { 'org.systemd.property.TimeoutStopSec': 'uint64 7', 'org.systemd.property.CollectMode': "'inactive-or-failed'" };
    });
    rtOk([SD, 'run', '--detach', '--bundle', c.b.dir, c.id]);
    expect(unitProperties(c.unit, 'TimeoutStopUSec', 'CollectMode')).to.deep.equal({ TimeoutStopUSec: '7s', CollectMode: 'inactive-or-failed' });
    const bad = container(['true'], (cfg) => {
      cfg.annotations = { 'org.systemd.property.Conflicts': "'sshd.service'" };
    });
    const r = rt([SD, 'run', '--bundle', bad.b.dir, bad.id]);
    expect(r.status).to.equal(1);
    expect(r.stderr.trim().split('\n')).to.have.length(1);
    expect(r.stderr).to.include('annotations[\\"org.systemd.property.Conflicts\\"]');
    expect(unitLoaded(bad.unit)).to.equal(false);
  });

  it('refuses a cgroupsPath that is not slice:prefix:name, naming the field', function () {
    const c = container(['true'], () => {}, '/not/systemd');
    const r = rt([SD, 'run', '--bundle', c.b.dir, c.id]);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.include('linux.cgroupsPath: expected cgroupsPath to be of format \\"slice:prefix:name\\"');
    expect(fs.existsSync(path.join(testRoot(), c.id))).to.equal(false);
  });
});
