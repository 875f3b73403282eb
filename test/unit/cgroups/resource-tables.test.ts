// The v1 and v2 resource tables on their own: which file each field goes to, the value
// conversions, the order of writes, and what is refused or only warned about. The context
// (which files exist, current values) is given per test.
import { expect } from 'chai';
import { type CgroupStep, type CgroupWrite, type GroupId, type PlanContext, hugePageSizeName } from '../../../src/linux/cgroups/plan.js';
import { V1_TABLE } from '../../../src/linux/cgroups/resources-v1.js';
import { V2_TABLE, blkioToIoWeight, sharesToWeight, swapToV2 } from '../../../src/linux/cgroups/resources-v2.js';
import type { LinuxResources } from '../../../src/spec/types.js';
import { ConfigError } from '../../../src/util/errors.js';

interface Fake {
  files?: string[];
  values?: Record<string, bigint>;
  texts?: Record<string, string>;
  update?: boolean;
}

function context(f: Fake, warnings: string[]): PlanContext {
  return {
    exists: (_c, file) => (f.files ?? []).includes(file),
    readUint: (_c, file) => f.values?.[file] ?? null,
    read: (_c, file) => f.texts?.[file] ?? null,
    hugePageSizes: ['2MB', '1GB'],
    update: f.update === true,
    warn: (m) => warnings.push(m),
  };
}

/** [file, value] pairs a table plans for one group. */
function plan(table: typeof V1_TABLE, group: GroupId, res: LinuxResources, f: Fake = {}): { writes: [string, string][]; warnings: string[]; steps: CgroupStep[] } {
  const warnings: string[] = [];
  const steps = table[group].plan(res, context(f, warnings));
  const writes = steps.filter((s): s is CgroupWrite => s.kind === 'write').map((w) => [w.file, w.value] as [string, string]);
  return { writes, warnings, steps };
}

describe('cgroups: resource tables', function () {
  describe('v1', function () {
    it('memory: limit, reservation, swappiness, OOM killer, hierarchy', function () {
      const { writes, warnings } = plan(V1_TABLE, 'memory', {
        memory: { limit: 67108864, reservation: 33554432, swappiness: 10, disableOOMKiller: true, useHierarchy: true },
      });
      expect(writes).to.deep.equal([
        ['memory.limit_in_bytes', '67108864'],
        ['memory.soft_limit_in_bytes', '33554432'],
        ['memory.swappiness', '10'],
        ['memory.oom_control', '1'],
        ['memory.use_hierarchy', '1'],
      ]);
      expect(warnings).to.deep.equal([]);
    });

    it('memory: swap is raised before the limit when it grows past the current limit', function () {
      const grow = plan(V1_TABLE, 'memory', { memory: { limit: 200 << 20, swap: 400 << 20 } }, { values: { 'memory.limit_in_bytes': BigInt(100 << 20) } });
      expect(grow.writes.map((w) => w[0])).to.deep.equal(['memory.memsw.limit_in_bytes', 'memory.limit_in_bytes']);
      const shrink = plan(V1_TABLE, 'memory', { memory: { limit: 50 << 20, swap: 80 << 20 } }, { values: { 'memory.limit_in_bytes': BigInt(100 << 20) } });
      expect(shrink.writes.map((w) => w[0])).to.deep.equal(['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes']);
    });

    it('memory: -1 means unlimited, and unlimited memory unlimits swap too when swap is accounted', function () {
      const { writes } = plan(V1_TABLE, 'memory', { memory: { limit: -1 } }, { files: ['memory.memsw.limit_in_bytes'] });
      expect(writes).to.deep.equal([
        ['memory.memsw.limit_in_bytes', '-1'],
        ['memory.limit_in_bytes', '-1'],
      ]);
      expect(plan(V1_TABLE, 'memory', { memory: { limit: -1 } }).writes).to.deep.equal([['memory.limit_in_bytes', '-1']]);
    });

    it('memory: kernel is ignored with runc\'s warning, kernelTCP goes to kmem.tcp (as crun); useHierarchy false is ignored', function () {
      const { writes, warnings } = plan(V1_TABLE, 'memory', { memory: { kernel: 1 << 20, kernelTCP: 1 << 20, useHierarchy: false } });
      expect(writes).to.deep.equal([['memory.kmem.tcp.limit_in_bytes', '1048576']]);
      expect(warnings).to.deep.equal([
        'Kernel memory settings are ignored and will be removed',
        'linux.resources.memory.useHierarchy: false is ignored: the kernel always accounts memory hierarchically',
      ]);
    });

    it('memory: swappiness outside 0-100 is refused with runc\'s words', function () {
      expect(() => plan(V1_TABLE, 'memory', { memory: { swappiness: 101 } })).to.throw(
        ConfigError,
        'linux.resources.memory.swappiness: invalid value:101. valid memory swappiness range is 0-100',
      );
    });

    it('memory: a refused limit is explained with usage and peak', function () {
      const { steps } = plan(V1_TABLE, 'memory', { memory: { limit: 1000 } }, { values: { 'memory.usage_in_bytes': 5000n, 'memory.max_usage_in_bytes': 9000n } });
      const w = steps[0] as CgroupWrite;
      expect(w.explain?.('EBUSY')).to.equal('unable to set memory limit to 1000 (current usage: 5000, peak usage: 9000)');
      expect(w.explain?.('EINVAL')).to.equal(undefined);
    });

    it('cpu: shares, period (retried after quota on EINVAL), quota, burst, realtime, idle', function () {
      const { writes, steps } = plan(V1_TABLE, 'cpu', {
        cpu: { shares: 512, period: 100000, quota: 50000, burst: 10000, realtimePeriod: 1000000, realtimeRuntime: 950000, idle: 0 },
      });
      expect(writes).to.deep.equal([
        ['cpu.shares', '512'],
        ['cpu.cfs_period_us', '100000'],
        ['cpu.cfs_quota_us', '50000'],
        ['cpu.cfs_burst_us', '10000'],
        ['cpu.rt_period_us', '1000000'],
        ['cpu.rt_runtime_us', '950000'],
        ['cpu.idle', '0'],
      ]);
      expect((steps[1] as CgroupWrite).retryOnEinval).to.equal(true);
    });

    it('cpu: shares outside 2..262144 are refused', function () {
      expect(() => plan(V1_TABLE, 'cpu', { cpu: { shares: 1 } })).to.throw(ConfigError, 'the minimum allowed cpu-shares is 2');
      expect(() => plan(V1_TABLE, 'cpu', { cpu: { shares: 262145 } })).to.throw(ConfigError, 'the maximum allowed cpu-shares is 262144');
    });

    it('cpuset and pids (0 is not set, as runc reads it; -1 is max)', function () {
      expect(plan(V1_TABLE, 'cpuset', { cpu: { cpus: '0-1', mems: '0' } }).writes).to.deep.equal([
        ['cpuset.cpus', '0-1'],
        ['cpuset.mems', '0'],
      ]);
      expect(plan(V1_TABLE, 'pids', { pids: { limit: 0 } }).writes).to.deep.equal([]);
      expect(plan(V1_TABLE, 'pids', { pids: { limit: 5 } }).writes).to.deep.equal([['pids.max', '5']]);
      expect(plan(V1_TABLE, 'pids', { pids: { limit: -1 } }).writes).to.deep.equal([['pids.max', 'max']]);
    });

    it('blkio: CFQ files when present, else BFQ; throttles per device; leaf weights warned without CFQ', function () {
      const res: LinuxResources = {
        blockIO: {
          weight: 500,
          leafWeight: 300,
          weightDevice: [{ major: 8, minor: 0, weight: 600, leafWeight: 200 }],
          throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
          throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 2097152 }],
          throttleReadIOPSDevice: [{ major: 8, minor: 16, rate: 100 }],
          throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 200 }],
        },
      };
      const cfq = plan(V1_TABLE, 'blockIO', res, { files: ['blkio.weight', 'blkio.leaf_weight'] });
      expect(cfq.writes).to.deep.equal([
        ['blkio.weight', '500'],
        ['blkio.leaf_weight', '300'],
        ['blkio.weight_device', '8:0 600'],
        ['blkio.leaf_weight_device', '8:0 200'],
        ['blkio.throttle.read_bps_device', '8:0 1048576'],
        ['blkio.throttle.write_bps_device', '8:0 2097152'],
        ['blkio.throttle.read_iops_device', '8:16 100'],
        ['blkio.throttle.write_iops_device', '8:16 200'],
      ]);
      const bfq = plan(V1_TABLE, 'blockIO', res, { files: ['blkio.bfq.weight'] });
      expect(bfq.writes.slice(0, 2)).to.deep.equal([
        ['blkio.bfq.weight', '500'],
        ['blkio.bfq.weight_device', '8:0 600'],
      ]);
      expect(bfq.warnings).to.have.length(2);
      expect(bfq.warnings[0]).to.match(/^linux\.resources\.blockIO\.leafWeight is ignored/);
    });

    it('hugetlb: limit and reservation files; unknown page sizes refused naming the entry', function () {
      expect(plan(V1_TABLE, 'hugetlb', { hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }] }, { files: ['hugetlb.2MB.rsvd.limit_in_bytes'] }).writes).to.deep.equal([
        ['hugetlb.2MB.limit_in_bytes', '4194304'],
        ['hugetlb.2MB.rsvd.limit_in_bytes', '4194304'],
      ]);
      expect(() => plan(V1_TABLE, 'hugetlb', { hugepageLimits: [{ pageSize: '2MB', limit: 1 }, { pageSize: '3MB', limit: 1 }] })).to.throw(
        ConfigError,
        'linux.resources.hugepageLimits[1].pageSize: "3MB" is not a huge page size of this host (sizes: 2MB, 1GB)',
      );
    });

    it('network and rdma', function () {
      expect(plan(V1_TABLE, 'netClass', { network: { classID: 1048577 } }).writes).to.deep.equal([['net_cls.classid', '1048577']]);
      expect(plan(V1_TABLE, 'netPriority', { network: { priorities: [{ name: 'eth0', priority: 5 }, { name: 'lo', priority: 1 }] } }).writes).to.deep.equal([
        ['net_prio.ifpriomap', 'eth0 5'],
        ['net_prio.ifpriomap', 'lo 1'],
      ]);
      expect(plan(V1_TABLE, 'rdma', { rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 }, rxe3: { hcaObjects: 7 } } }).writes).to.deep.equal([
        ['rdma.max', 'mlx5_1 hca_handle=3 hca_object=10000'],
        ['rdma.max', 'rxe3 hca_object=7'],
      ]);
    });

    it('devices: reset to deny-all, then the allow exceptions', function () {
      const { writes } = plan(V1_TABLE, 'devices', { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }] });
      expect(writes[0]).to.deep.equal(['devices.deny', 'a']);
      expect(writes).to.deep.include(['devices.allow', 'c 10:229 rw']);
      expect(writes).to.deep.include(['devices.allow', 'c 136:* rwm']);
      expect(writes.filter((w) => w[0] === 'devices.deny')).to.have.length(1);
      // A fresh cgroup under an allow-all parent also starts with the reset.
      expect(plan(V1_TABLE, 'devices', { devices: [] }, { texts: { 'devices.list': 'a *:* rwm\n' } }).writes[0]).to.deep.equal(['devices.deny', 'a']);
    });

    it('devices: from a deny-by-default cgroup, only the differences (never "deny all" in between)', function () {
      const list = 'c *:* m\nb *:* m\nc 1:3 rwm\nc 1:5 rwm\nc 1:7 rwm\nc 1:8 rwm\nc 1:9 rwm\nc 5:0 rwm\nc 5:2 rwm\nc 10:200 rwm\nc 136:* rwm\nc 4:1 rw\n';
      const { writes } = plan(V1_TABLE, 'devices', { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'b', major: 8, minor: 0, access: 'r' }] }, { texts: { 'devices.list': list } });
      expect(writes).to.deep.equal([
        ['devices.deny', 'c 4:1 rw'],
        ['devices.allow', 'b 8:0 r'],
      ]);
    });
  });

  describe('v2', function () {
    it('converts shares to cpu.weight and blkio weights to io.weight as runc does', function () {
      expect(sharesToWeight(2)).to.equal(1);
      expect(sharesToWeight(1024)).to.equal(39);
      expect(sharesToWeight(262144)).to.equal(10000);
      expect(blkioToIoWeight(10)).to.equal(1);
      expect(blkioToIoWeight(500)).to.equal(4950);
      expect(blkioToIoWeight(1000)).to.equal(10000);
    });

    it('converts memory+swap to memory.swap.max', function () {
      expect(swapToV2(0, 0)).to.equal(0);
      expect(swapToV2(0, -1)).to.equal(-1);
      expect(swapToV2(-1, 100)).to.equal(-1);
      expect(swapToV2(300, 100)).to.equal(200);
      expect(swapToV2(100, 100)).to.equal(0);
      expect(() => swapToV2(50, 100)).to.throw(ConfigError, 'memory+swap limit (50) should be >= memory limit (100)');
      expect(() => swapToV2(300, 0)).to.throw(ConfigError, 'unable to set swap limit without memory limit');
    });

    it('memory: swap.max before max, low for the reservation; swap equal to memory disables swap', function () {
      expect(plan(V2_TABLE, 'memory', { memory: { limit: 100 << 20, swap: 300 << 20, reservation: 50 << 20 } }).writes).to.deep.equal([
        ['memory.swap.max', String(200 << 20)],
        ['memory.max', String(100 << 20)],
        ['memory.low', String(50 << 20)],
      ]);
      expect(plan(V2_TABLE, 'memory', { memory: { limit: 100, swap: 100 } }).writes).to.deep.equal([
        ['memory.swap.max', '0'],
        ['memory.max', '100'],
      ]);
      expect(plan(V2_TABLE, 'memory', { memory: { limit: -1 } }).writes).to.deep.equal([
        ['memory.swap.max', 'max'],
        ['memory.max', 'max'],
      ]);
    });

    it('memory: v1-only fields are warned about, not written', function () {
      const { writes, warnings } = plan(V2_TABLE, 'memory', { memory: { swappiness: 60, disableOOMKiller: true, kernel: 1 } });
      expect(writes).to.deep.equal([]);
      expect(warnings).to.deep.equal([
        'Kernel memory settings are ignored and will be removed',
        'linux.resources.memory.swappiness is ignored: cgroup v2 has no per-cgroup swappiness',
        'linux.resources.memory.disableOOMKiller is ignored: cgroup v2 cannot disable the OOM killer',
      ]);
    });

    it('memory: checkBeforeUpdate refuses a limit below current usage on update only', function () {
      const res: LinuxResources = { memory: { limit: 1000, checkBeforeUpdate: true } };
      const usage = { values: { 'memory.current': 5000n } };
      expect(() => plan(V2_TABLE, 'memory', res, { ...usage, update: true })).to.throw(ConfigError, 'rejecting memory limit 1000 below current usage 5000');
      expect(plan(V2_TABLE, 'memory', res, usage).writes).to.deep.equal([['memory.max', '1000']]);
      expect(plan(V2_TABLE, 'memory', { memory: { limit: 1000 } }, { ...usage, update: true }).writes).to.deep.equal([['memory.max', '1000']]);
    });

    it('cpu: idle, weight, cpu.max ("max" without a quota), burst after', function () {
      expect(plan(V2_TABLE, 'cpu', { cpu: { idle: 1, shares: 1024, quota: 50000, period: 100000, burst: 1000 } }).writes).to.deep.equal([
        ['cpu.idle', '1'],
        ['cpu.weight', '39'],
        ['cpu.max', '50000 100000'],
        ['cpu.max.burst', '1000'],
      ]);
      expect(plan(V2_TABLE, 'cpu', { cpu: { period: 100000 } }).writes).to.deep.equal([['cpu.max', 'max 100000']]);
      expect(plan(V2_TABLE, 'cpu', { cpu: { quota: -1 } }).writes).to.deep.equal([['cpu.max', 'max']]);
    });

    it('cpu: realtime limits are refused (no v2 equivalent)', function () {
      expect(() => plan(V2_TABLE, 'cpu', { cpu: { realtimeRuntime: 1000 } })).to.throw(
        ConfigError,
        'linux.resources.cpu.realtimeRuntime: realtime CPU limits are not supported on cgroup v2',
      );
    });

    it('io: BFQ weight when offered, else converted io.weight; throttles into io.max', function () {
      const res: LinuxResources = {
        blockIO: { weight: 500, leafWeight: 10, weightDevice: [{ major: 8, minor: 0, weight: 100 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 600 }], throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 300 }] },
      };
      const plain = plan(V2_TABLE, 'blockIO', res);
      expect(plain.writes).to.deep.equal([
        ['io.weight', '4950'],
        ['io.weight', '8:0 910'],
        ['io.max', '8:0 rbps=600'],
        ['io.max', '8:16 wiops=300'],
      ]);
      expect(plain.warnings).to.deep.equal(['linux.resources.blockIO.leafWeight is ignored: cgroup v2 has no leaf weights']);
      expect(plan(V2_TABLE, 'blockIO', res, { files: ['io.bfq.weight'] }).writes.slice(0, 2)).to.deep.equal([
        ['io.bfq.weight', '500'],
        ['io.bfq.weight', '8:0 100'],
      ]);
    });

    it('hugetlb: .max and .rsvd.max', function () {
      expect(plan(V2_TABLE, 'hugetlb', { hugepageLimits: [{ pageSize: '1GB', limit: 1073741824 }] }, { files: ['hugetlb.1GB.rsvd.max'] }).writes).to.deep.equal([
        ['hugetlb.1GB.max', '1073741824'],
        ['hugetlb.1GB.rsvd.max', '1073741824'],
      ]);
    });

    it('network is ignored with a warning; devices become one program step', function () {
      const net = plan(V2_TABLE, 'netClass', { network: { classID: 1 } });
      expect(net.steps).to.deep.equal([]);
      expect(net.warnings).to.deep.equal(['linux.resources.network.classID is ignored: cgroup v2 has no net_cls or net_prio controller']);
      const dev = plan(V2_TABLE, 'devices', { devices: [{ allow: false, access: 'rwm' }] });
      expect(dev.steps.map((s) => s.kind)).to.deep.equal(['device-program']);
    });
  });

  it('names huge page sizes as the hugetlb files do', function () {
    expect([64, 2048, 32768, 1048576].map(hugePageSizeName)).to.deep.equal(['64KB', '2MB', '32MB', '1GB']);
  });
});
