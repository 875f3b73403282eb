// The cgroupfs driver against the kernel's cgroup2 hierarchy of this host, whatever controllers
// it offers (a hybrid host's unified hierarchy may offer none): the parts of cgroup v2 that
// are core files or eBPF, not controllers: cgroup.freeze, cpu.stat, device programs.
import { expect } from 'chai';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { applyResources } from '../../../src/linux/cgroups/apply.js';
import { CgroupDirs, UNIFIED } from '../../../src/linux/cgroups/dirs.js';
import { freeze, freezerState, thaw } from '../../../src/linux/cgroups/freezer.js';
import { readKeyValues } from '../../../src/linux/cgroups/fs.js';
import { type CgroupLayout, hostLayout } from '../../../src/linux/cgroups/mode.js';
import { watchOom } from '../../../src/linux/cgroups/oom.js';
import { collectStats } from '../../../src/linux/cgroups/stats.js';
import { toJson } from '../../../src/util/json-exact.js';
import { CGROUP_PREFIX, uniqueName } from '../../helpers/context.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireRoot, skipWith } from '../../helpers/privileges.js';
import { waitFor } from '../../helpers/runtime.js';

const sleepMs = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('cgroups v2 driver on the kernel\'s cgroup2 (core files and eBPF)', function () {
  useLeakCheck();
  let cg: CgroupDirs;
  let dir: string;
  let children: ChildProcess[];

  before(function () {
    requireRoot(this);
    if (!hostLayout().unified) skipWith(this, 'no cgroup2 hierarchy mounted');
  });

  beforeEach(function () {
    const layout: CgroupLayout = { mode: 'v2', unified: hostLayout().unified, v1: new Map() };
    cg = CgroupDirs.plan({ inner: `${CGROUP_PREFIX}/${uniqueName('v2k')}`, absolute: true }, layout, new Map());
    dir = cg.dirs[UNIFIED] as string;
    cg.create();
    children = [];
  });

  afterEach(async function () {
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? null : new Promise((r) => c.once('exit', r)))));
    try {
      thaw(cg);
    } catch {
      // already gone
    }
    cg.destroy();
  });

  /** A shell that joins the cgroup and runs `script`; resolves once it is a member. */
  async function member(script: string): Promise<ChildProcess> {
    const child = spawn('/bin/busybox', ['sh', '-c', `echo $$ > ${dir}/cgroup.procs && ${script}`], { stdio: 'ignore' });
    children.push(child);
    await waitFor(() => fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim() !== '', 5_000, { what: 'the shell to join' });
    return child;
  }

  const usage = () => readKeyValues(dir, 'cpu.stat')?.get('usage_usec') ?? 0n;

  it('freezes a busy process (cgroup.events says frozen, cpu.stat stops) and thaws it', async function () {
    await member('while :; do :; done');
    await waitFor(() => usage() > 10_000n, 5_000, { what: 'the loop to run' });
    freeze(cg);
    expect(fs.readFileSync(path.join(dir, 'cgroup.events'), 'utf8')).to.match(/^frozen 1$/m);
    expect(freezerState(cg)).to.equal('FROZEN');
    const frozenAt = usage();
    await sleepMs(300);
    expect(usage()).to.equal(frozenAt);
    thaw(cg);
    expect(freezerState(cg)).to.equal('THAWED');
    await waitFor(() => usage() - frozenAt > 10_000n, 5_000, { what: 'the thawed loop to use CPU again' });
  });

  it('applies linux.resources.devices as an eBPF program (runc\'s defaults come after the config\'s rules)', async function () {
    applyResources(cg, { devices: [{ allow: false, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 7, access: 'rwm' }] });
    const child = spawn('/bin/busybox', ['sh', '-c', `echo $$ > ${dir}/cgroup.procs; for d in /dev/null /dev/full /dev/mem; do if (: < $d) 2>&-; then echo "$d ok"; else echo "$d denied"; fi; done`], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    children.push(child);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => child.once('exit', r));
    expect(out.trim().split('\n')).to.deep.equal(['/dev/null ok', '/dev/full ok', '/dev/mem denied']);
  });

  it('reports CPU usage from cpu.stat in the stats', async function () {
    await member('while :; do :; done');
    // The machine is shared: wait for some CPU time rather than for a fixed share of it.
    await waitFor(() => usage() > 20_000n, 5_000, { what: 'CPU time to accumulate' });
    const stats = JSON.parse(toJson(collectStats(cg, [])));
    expect(stats.cpu.usage.total).to.be.at.least(20_000_000);
    expect(stats.cpu.usage.user + stats.cpu.usage.kernel).to.be.above(0);
  });

  it('notices the cgroup going away while watching for OOM', function () {
    const watcher = watchOom(cg);
    try {
      expect(watcher.check()).to.equal('none');
      cg.destroy();
      expect(watcher.check()).to.equal('gone');
    } finally {
      watcher.close();
    }
    cg.create();
  });
});
