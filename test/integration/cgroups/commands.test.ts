// update, pause, resume, ps and events against running containers on the host's cgroups,
// with runc's flags, outputs and error words.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { hostLayout } from '../../../src/linux/cgroups/mode.js';
import { type Bundle, makeBundle } from '../../helpers/bundle.js';
import { makeTempDir, testRoot } from '../../helpers/context.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireCgroupV1Controller, requireCommand, requireRoot } from '../../helpers/privileges.js';
import { rt, rtOk, state, uniqueId, waitFor } from '../../helpers/runtime.js';

function v1Dir(b: Bundle, controller: string): string {
  return path.join(hostLayout().v1.get(controller) as string, b.config.linux!.cgroupsPath);
}
const readCg = (b: Bundle, controller: string, file: string) => fs.readFileSync(path.join(v1Dir(b, controller), file), 'utf8').trim();
const sleepMs = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** linux.resources as state.json records them after update. */
function recordedResources(id: string): Record<string, any> {
  return JSON.parse(fs.readFileSync(path.join(testRoot(), id, 'state.json'), 'utf8')).resources;
}

describe('cgroups: update, pause, resume, ps, events', function () {
  useLeakCheck();
  let b: Bundle;
  let id: string;

  before(function () {
    requireRoot(this);
    for (const c of ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'freezer']) requireCgroupV1Controller(this, c);
  });

  function runDetached(args: string[], resources: Record<string, unknown> = {}): void {
    b = makeBundle({ args, mutate: (c) => Object.assign(c.linux!.resources, resources) });
    id = uniqueId();
    rtOk(['run', '--detach', '--bundle', b.dir, id]);
  }

  afterEach(function () {
    if (id) rt(['delete', '--force', id]);
  });

  describe('update', function () {
    it('changes a running container\'s limits with runc\'s flags and records them', function () {
      runDetached(['sleep', '600'], { memory: { limit: 67108864, swap: 134217728 }, cpu: { quota: 50000, period: 100000 } });
      rtOk([
        'update', '--memory', '100M', '--memory-swap', '300m', '--memory-reservation', '50M', '--cpu-share', '256',
        '--cpu-quota', '20000', '--cpu-period', '50000', '--pids-limit', '50', '--cpuset-cpus', '0', id,
      ]);
      expect(readCg(b, 'memory', 'memory.limit_in_bytes')).to.equal(String(100 << 20));
      expect(readCg(b, 'memory', 'memory.memsw.limit_in_bytes')).to.equal(String(300 << 20));
      expect(readCg(b, 'memory', 'memory.soft_limit_in_bytes')).to.equal(String(50 << 20));
      expect(readCg(b, 'cpu', 'cpu.shares')).to.equal('256');
      expect(readCg(b, 'cpu', 'cpu.cfs_quota_us')).to.equal('20000');
      expect(readCg(b, 'cpu', 'cpu.cfs_period_us')).to.equal('50000');
      expect(readCg(b, 'pids', 'pids.max')).to.equal('50');
      expect(readCg(b, 'cpuset', 'cpuset.cpus')).to.equal('0');
      const rec = recordedResources(id);
      expect(rec.memory).to.include({ limit: 100 << 20, swap: 300 << 20, reservation: 50 << 20 });
      expect(rec.cpu).to.include({ shares: 256, quota: 20000, period: 50000, cpus: '0' });
      expect(rec.pids).to.deep.equal({ limit: 50 });
      // What update did not name stays as created.
      expect(rec.devices).to.deep.equal(b.config.linux!.resources.devices);
    });

    it('keeps memory+swap consistent when only the memory limit grows', function () {
      runDetached(['sleep', '600'], { memory: { limit: 67108864, swap: 314572800 } });
      rtOk(['update', '--memory', '200M', id]);
      expect(readCg(b, 'memory', 'memory.limit_in_bytes')).to.equal(String(200 << 20));
      expect(readCg(b, 'memory', 'memory.memsw.limit_in_bytes')).to.equal('314572800');
    });

    it('reads a resources document from a file and from standard input', function () {
      runDetached(['sleep', '600']);
      const file = path.join(makeTempDir('update'), 'r.json');
      fs.writeFileSync(file, JSON.stringify({ memory: { limit: 83886080 }, pids: { limit: 12 } }));
      rtOk(['update', '-r', file, '--pids-limit', '99', id]);
      expect(readCg(b, 'memory', 'memory.limit_in_bytes')).to.equal('83886080');
      expect(readCg(b, 'pids', 'pids.max'), 'other flags are ignored with -r').to.equal('12');
      rtOk(['update', '--resources', '-', id], { input: '{"cpu": {"shares": 300}}' });
      expect(readCg(b, 'cpu', 'cpu.shares')).to.equal('300');
    });

    it('refuses bad input naming the flag or field, changing nothing', function () {
      runDetached(['sleep', '600'], { memory: { limit: 67108864 } });
      const bad = rt(['update', '--memory', 'abc', id]);
      expect(bad.status).to.equal(1);
      expect(bad.stderr).to.contain("invalid value for memory: invalid size: 'abc'");
      const badDoc = rt(['update', '-r', '-', id], { input: '{"memory": {"limit": "x"}}' });
      expect(badDoc.status).to.equal(1);
      expect(badDoc.stderr).to.match(/memory\.limit: /);
      const missing = rt(['update', '-r', '/nonexistent/r.json', id]);
      expect(missing.stderr).to.contain('open /nonexistent/r.json: no such file or directory');
      expect(readCg(b, 'memory', 'memory.limit_in_bytes')).to.equal('67108864');
    });

    it('reports a limit the kernel refuses, sets the old one back and records nothing', function () {
      runDetached(['sh', '-c', 'x=$(head -c 4000000 /dev/zero | tr "\\0" a); echo ready; sleep 600'], { memory: { limit: 67108864 } });
      // Below what the shell holds: v1 refuses (EBUSY) after failing to reclaim.
      const r = rt(['update', '--memory', '4096', id]);
      expect(r.status).to.equal(1);
      expect(r.stderr).to.match(/unable to set memory limit to 4096 \(current usage: \d+, peak usage: \d+\)/);
      expect(readCg(b, 'memory', 'memory.limit_in_bytes')).to.equal('67108864');
      expect(recordedResources(id)).to.equal(undefined);
    });

    it('refuses a stopped container with runc\'s words', async function () {
      runDetached(['true']);
      await waitFor(() => state(id).status === 'stopped', 5_000);
      const r = rt(['update', '--memory', '100M', id]);
      expect(r.status).to.equal(1);
      expect(r.stderr).to.contain('container not running');
    });
  });

  describe('pause and resume', function () {
    it('stops a busy loop until resumed', async function () {
      runDetached(['sh', '-c', 'while :; do :; done']);
      const usage = () => BigInt(readCg(b, 'cpuacct', 'cpuacct.usage'));
      await waitFor(() => usage() > 10_000_000n, 5_000, { what: 'the loop to run' });
      rtOk(['pause', id]);
      expect(state(id).status).to.equal('paused');
      expect(readCg(b, 'freezer', 'freezer.state')).to.equal('FROZEN');
      const frozenAt = usage();
      await sleepMs(300);
      expect(usage()).to.equal(frozenAt);
      rtOk(['resume', id]);
      expect(state(id).status).to.equal('running');
      await waitFor(() => usage() - frozenAt > 10_000_000n, 5_000, { what: 'the resumed loop to use CPU again' });
    });

    it('answers like runc when the state does not fit', async function () {
      runDetached(['sleep', '600']);
      expect(rt(['resume', id]).stderr).to.contain('container not paused');
      rtOk(['pause', id]);
      const again = rt(['pause', id]);
      expect(again.status).to.equal(1);
      expect(again.stderr).to.contain('container not running');
      rtOk(['resume', id]);
    });

    it('deletes a paused container with --force (its frozen processes die)', function () {
      runDetached(['sh', '-c', 'sleep 600 & sleep 600']);
      rtOk(['pause', id]);
      rtOk(['delete', '--force', id]);
      expect(rt(['state', id]).status).to.equal(1);
      expect(fs.existsSync(v1Dir(b, 'freezer'))).to.equal(false);
    });
  });

  describe('ps', function () {
    it('lists the container\'s host pids as JSON and as ps(1) rows', function () {
      requireCommand(this, 'ps');
      runDetached(['sh', '-c', 'sleep 600 & sleep 600']);
      const pids = JSON.parse(rtOk(['ps', '--format', 'json', id])) as number[];
      expect(pids).to.have.length(2);
      expect(pids).to.include(state(id).pid);
      const table = rtOk(['ps', id]).trim().split('\n');
      expect(table[0]).to.match(/^UID\s+PID\s+PPID/);
      expect(table.slice(1).map((l) => Number(l.trim().split(/\s+/)[1])).sort()).to.deep.equal([...pids].sort());
      const custom = rtOk(['ps', id, '-o', 'pid,comm']).trim().split('\n');
      expect(custom[0]).to.match(/^\s*PID\s+COMMAND$/);
      expect(custom.slice(1).map((l) => l.trim().split(/\s+/)[1])).to.deep.equal(['sleep', 'sleep']);
      expect(rtOk(['ps', id, '--', '-o', 'pid']).trim().split('\n')).to.have.length(3);
    });

    it('refuses an unknown format and ps output without a PID column', function () {
      runDetached(['sleep', '600']);
      expect(rt(['ps', '-f', 'yaml', id]).stderr).to.contain('invalid format option');
      expect(rt(['ps', id, '-o', 'comm']).stderr).to.contain("couldn't find PID field in ps output");
      expect(rt(['ps', 'no-such-container']).stderr).to.contain('container does not exist');
    });
  });

  describe('events', function () {
    it('--stats prints one stats event in runc\'s format', function () {
      runDetached(['sh', '-c', 'sleep 600 & sleep 600'], { memory: { limit: 67108864 }, pids: { limit: 30 } });
      const out = rtOk(['events', '--stats', id]);
      expect(out.endsWith('}\n')).to.equal(true);
      expect(out.trim().split('\n')).to.have.length(1);
      const ev = JSON.parse(out);
      expect(ev.type).to.equal('stats');
      expect(ev.id).to.equal(id);
      expect(Object.keys(ev.data)).to.deep.equal(['cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'intel_rdt', 'network_interfaces']);
      expect(ev.data.pids).to.deep.equal({ current: 2, limit: 30 });
      expect(ev.data.memory.usage.limit).to.equal(67108864);
      expect(ev.data.memory.usage.usage).to.be.above(0);
      expect(ev.data.memory.raw).to.have.property('total_rss');
      expect(ev.data.cpu.usage.total).to.be.above(0);
      expect(ev.data.cpu.usage.percpu).to.be.an('array');
      expect(ev.data.network_interfaces).to.equal(null);
    });

    it('refuses a stopped container and a bad interval', async function () {
      runDetached(['true']);
      await waitFor(() => state(id).status === 'stopped', 5_000);
      expect(rt(['events', id]).stderr).to.contain(`container with id ${id} is not running`);
      expect(rt(['events', '--interval', '0s', id]).stderr).to.contain('duration interval must be greater than 0');
      expect(rt(['events', '--interval', 'soon', id]).stderr).to.contain('invalid value \\"soon\\" for flag -interval: parse error');
    });
  });
});
