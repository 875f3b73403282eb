// The cgroup v2 cg, pointed at a hierarchy root given as a parameter:
//   - a directory tree laid out like cgroup2 (cgroup.controllers, cgroup.subtree_control and
//     the controllers' files) under a temp dir, where every file written can be read back
//     exactly as written;
//   - the kernel's own cgroup2 at /sys/fs/cgroup, where the host is pure v2 with controllers
//     (the same assertions, less those about exact file text the kernel reformats).
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { applyResources, neededV2Controllers, planResources } from '../../../src/linux/cgroups/apply.js';
import { CgroupDirs, UNIFIED } from '../../../src/linux/cgroups/dirs.js';
import { freeze, freezerState, thaw } from '../../../src/linux/cgroups/freezer.js';
import { CgroupWriteError } from '../../../src/linux/cgroups/fs.js';
import { type CgroupLayout, hostLayout } from '../../../src/linux/cgroups/mode.js';
import type { CgroupWrite } from '../../../src/linux/cgroups/plan.js';
import { collectStats } from '../../../src/linux/cgroups/stats.js';
import { toJson } from '../../../src/util/json-exact.js';
import type { LinuxResources } from '../../../src/spec/types.js';
import { ConfigError } from '../../../src/util/errors.js';
import { CGROUP_PREFIX, makeTempDir, uniqueName } from '../../helpers/context.js';
import { requireRoot, skipWith } from '../../helpers/privileges.js';

const CONTROLLERS = ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma'];

/** Control files a v2 cgroup with all CONTROLLERS enabled has (those the tests touch). */
const LEAF_FILES = [
  'cgroup.procs', 'cgroup.controllers', 'cgroup.subtree_control', 'cgroup.freeze', 'cgroup.events', 'cgroup.type',
  'cpu.weight', 'cpu.max', 'cpu.max.burst', 'cpu.idle', 'cpu.stat', 'cpuset.cpus', 'cpuset.mems',
  'memory.max', 'memory.low', 'memory.swap.max', 'memory.current', 'memory.swap.current', 'memory.stat', 'memory.events', 'memory.peak',
  'pids.max', 'pids.current', 'io.max', 'io.weight', 'io.stat', 'hugetlb.2MB.max', 'hugetlb.2MB.current', 'hugetlb.2MB.events', 'rdma.max',
];

interface Tree {
  /** Exact file contents can be asserted (a plain directory tree, not the kernel). */
  exact: boolean;
  root: string;
  /** Make the container's path look like the kernel would before the driver creates it. */
  prepare(leaf: string): void;
  cleanup(leaf: string): void;
}

function fakeTree(): Tree {
  const root = makeTempDir('cgroup2');
  fs.writeFileSync(path.join(root, 'cgroup.controllers'), `${CONTROLLERS.join(' ')}\n`);
  fs.writeFileSync(path.join(root, 'cgroup.subtree_control'), '');
  return {
    exact: true,
    root,
    prepare(leaf) {
      const rel = path.relative(root, leaf).split(path.sep);
      let dir = root;
      for (const part of rel) {
        dir = path.join(dir, part);
        fs.mkdirSync(dir, { recursive: true });
        for (const f of dir === leaf ? LEAF_FILES : ['cgroup.subtree_control', 'cgroup.controllers']) {
          if (!fs.existsSync(path.join(dir, f))) fs.writeFileSync(path.join(dir, f), '');
        }
      }
    },
    cleanup() {},
  };
}

function kernelTree(): Tree {
  return {
    exact: false,
    root: '/sys/fs/cgroup',
    prepare() {},
    cleanup(leaf) {
      for (let d = leaf; d.startsWith(path.join('/sys/fs/cgroup', CGROUP_PREFIX)); d = path.dirname(d)) {
        try {
          fs.rmdirSync(d);
        } catch {
          break;
        }
      }
    },
  };
}

/** A pure v2 host with controllers to test against, or why not. */
function kernelV2Unavailable(): string | null {
  const layout = hostLayout();
  if (layout.mode !== 'v2') return `the host's cgroups are ${layout.mode}, not pure v2 (the fake tree covers v2 here)`;
  const controllers = fs.readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').trim();
  if (!controllers) return 'the cgroup2 root offers no controllers';
  return null;
}

const read = (dir: string, file: string) => fs.readFileSync(path.join(dir, file), 'utf8');
const words = (text: string) => text.split(/\s+/).filter(Boolean).map((w) => w.replace(/^\+/, '')).sort();

function suite(name: string, makeTree: () => Tree, unavailable: () => string | null): void {
  describe(`cgroups v2 driver: ${name}`, function () {
    let tree: Tree;
    let cg: CgroupDirs;
    let leaf: string;

    before(function () {
      const why = unavailable();
      if (why) skipWith(this, why);
      requireRoot(this);
    });

    beforeEach(function () {
      tree = makeTree();
      const layout: CgroupLayout = { mode: 'v2', unified: tree.root, v1: new Map() };
      const inner = `${CGROUP_PREFIX}/${uniqueName('v2')}/ctr`;
      cg = CgroupDirs.plan({ inner, absolute: true }, layout, new Map());
      leaf = cg.dirs[UNIFIED] as string;
      tree.prepare(leaf);
    });

    afterEach(function () {
      tree?.cleanup(leaf);
    });

    it('creates the directory, enabling every available controller in each parent', function () {
      cg.create();
      expect(fs.statSync(leaf).isDirectory()).to.equal(true);
      const available = words(read(tree.root, 'cgroup.controllers'));
      const expected = CONTROLLERS.filter((c) => available.includes(c)).sort();
      for (let dir = path.dirname(leaf); ; dir = path.dirname(dir)) {
        expect(words(read(dir, 'cgroup.subtree_control')), dir).to.include.members(expected);
        if (dir === tree.root) break;
      }
      if (tree.exact) {
        expect(read(leaf, 'cgroup.subtree_control')).to.equal('');
        expect(read(tree.root, 'cgroup.subtree_control')).to.equal('+cpuset +cpu +io +memory +hugetlb +pids +rdma');
      }
    });

    it('writes each field to its v2 file with runc\'s conversions', function () {
      cg.create();
      const res: LinuxResources = {
        memory: { limit: 268435456, swap: 536870912, reservation: 134217728 },
        cpu: { shares: 1024, quota: 50000, period: 100000, cpus: '0', mems: '0' },
        pids: { limit: 20 },
      };
      applyResources(cg, res, { hugePageSizes: ['2MB'] });
      const expected: Record<string, string> = {
        'memory.max': '268435456',
        'memory.swap.max': '268435456',
        'memory.low': '134217728',
        'cpu.weight': '39',
        'cpu.max': '50000 100000',
        'cpuset.cpus': '0',
        'cpuset.mems': '0',
        'pids.max': '20',
      };
      for (const [file, value] of Object.entries(expected)) {
        if (file === 'memory.swap.max' && !fs.existsSync(path.join(leaf, file))) continue; // no swap accounting
        expect(read(leaf, file).trim(), file).to.equal(value);
      }
    });

    it('plans the exact sequence of writes, devices included, and enables only what they need', function () {
      const res: LinuxResources = {
        devices: [{ allow: false, access: 'rwm' }],
        blockIO: { weight: 500, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 600 }], throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 700 }] },
        hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
        rdma: { mlx5_1: { hcaHandles: 3 } },
        unified: { 'memory.high': '1073741824', 'cgroup.max.depth': '4' },
      };
      const steps = planResources(cg, res, { hugePageSizes: ['2MB'] });
      const shown = steps.map(({ step }) => (step.kind === 'write' ? `${step.file}=${step.value}` : step.kind));
      expect(shown).to.deep.equal([
        'io.weight=4950',
        'io.max=8:0 rbps=600',
        'io.max=8:0 wbps=700',
        'hugetlb.2MB.max=4194304',
        'rdma.max=mlx5_1 hca_handle=3',
        'device-program',
        'memory.high=1073741824',
        'cgroup.max.depth=4',
      ]);
      expect(neededV2Controllers(steps).sort()).to.deep.equal(['hugetlb', 'io', 'memory', 'rdma']);
      expect(steps.every((s) => s.version === 2)).to.equal(true);
      const fields = steps.filter((s) => s.step.kind === 'write').map((s) => (s.step as CgroupWrite).field);
      expect(fields[0]).to.equal('linux.resources.blockIO.weight');
      expect(fields[fields.length - 1]).to.equal('linux.resources.unified["cgroup.max.depth"]');
    });

    it('refuses unified keys that are not CONTROLLER.PARAMETER files of an available controller', function () {
      expect(() => planResources(cg, { unified: { '../memory.max': '1' } })).to.throw(ConfigError, 'must be a file name (no slashes)');
      expect(() => planResources(cg, { unified: { 'nonsense.max': '1' } })).to.throw(
        ConfigError,
        'linux.resources.unified["nonsense.max"]: can\'t be set: controller "nonsense" not available',
      );
    });

    it('reports a refused write with the file, the value and the errno', function () {
      cg.create();
      const bad = tree.exact ? { unified: { 'memory.oom.group': '1' } } : { cpu: { cpus: '4095' } };
      let caught: unknown;
      try {
        applyResources(cg, bad);
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(CgroupWriteError);
      const e = caught as CgroupWriteError;
      expect(e.file).to.equal(path.join(leaf, tree.exact ? 'memory.oom.group' : 'cpuset.cpus'));
      expect(e.errno).to.equal(tree.exact ? 'ENOENT' : 'EINVAL');
      expect(e.message).to.contain(`failed to write "${e.value}": write ${e.file}:`);
      expect(e.message).to.match(/\((ENOENT|EINVAL)\)$/);
    });

    it('freezes through cgroup.freeze and waits for cgroup.events to say frozen', function () {
      cg.create();
      if (tree.exact) fs.writeFileSync(path.join(leaf, 'cgroup.events'), 'populated 0\nfrozen 1\n');
      freeze(cg, { timeoutMs: 2000 });
      expect(read(leaf, 'cgroup.freeze').trim()).to.equal('1');
      expect(freezerState(cg)).to.equal('FROZEN');
      if (tree.exact) fs.writeFileSync(path.join(leaf, 'cgroup.events'), 'populated 0\nfrozen 0\n');
      thaw(cg, { timeoutMs: 2000 });
      expect(read(leaf, 'cgroup.freeze').trim()).to.equal('0');
      expect(freezerState(cg)).to.equal('THAWED');
    });

    it('gives up on a freeze that never completes, thawing again', function () {
      if (!tree.exact) this.skip();
      cg.create();
      fs.writeFileSync(path.join(leaf, 'cgroup.events'), 'populated 1\nfrozen 0\n');
      expect(() => freeze(cg, { timeoutMs: 50 })).to.throw(/unable to freeze/);
      expect(read(leaf, 'cgroup.freeze')).to.equal('0');
    });

    it('reports statistics in runc\'s events format', function () {
      if (!tree.exact) this.skip();
      cg.create();
      const files: Record<string, string> = {
        'cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\nthrottled_usec 20\n',
        'memory.current': '4096\n',
        'memory.max': 'max\n',
        'memory.peak': '8192\n',
        'memory.swap.current': '0\n',
        'memory.swap.max': 'max\n',
        'memory.stat': 'file 100\nanon 200\n',
        'memory.events': 'low 0\nhigh 0\nmax 2\noom 0\noom_kill 0\n',
        'pids.current': '3\n',
        'pids.max': '20\n',
        'io.stat': '8:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n',
        'hugetlb.2MB.current': '0\n',
        'hugetlb.2MB.events': 'max 0\n',
        'cpuset.cpus': '0-1\n',
      };
      for (const [f, v] of Object.entries(files)) fs.writeFileSync(path.join(leaf, f), v);
      const json = toJson(collectStats(cg, ['2MB']));
      expect(JSON.parse(json)).to.deep.equal({
        cpu: { usage: { total: 1500000, kernel: 500000, user: 1000000 }, throttling: { periods: 4, throttledPeriods: 1, throttledTime: 20000 } },
        cpuset: {
          cpus: [0, 1], cpu_exclusive: 0, mem_hardwall: 0, mem_exclusive: 0, memory_migrate: 0, memory_spread_page: 0,
          memory_spread_slab: 0, memory_pressure: 0, sched_load_balance: 0, sched_relax_domain_level: 0,
        },
        memory: {
          cache: 100,
          usage: { limit: 18446744073709552000, usage: 4096, max: 8192, failcnt: 2 },
          swap: { limit: 18446744073709552000, usage: 4096, failcnt: 0 },
          kernel: { limit: 0, failcnt: 0 },
          kernelTCP: { limit: 0, failcnt: 0 },
          raw: { anon: 200, file: 100 },
        },
        pids: { current: 3, limit: 20 },
        blkio: { ioServiceBytesRecursive: [{ major: 8, op: 'Read', value: 4096 }, { major: 8, op: 'Write' }], ioServicedRecursive: [{ major: 8, op: 'Read', value: 1 }, { major: 8, op: 'Write' }] },
        hugetlb: { '2MB': { failcnt: 0 } },
        intel_rdt: {},
        network_interfaces: null,
      });
      // 2^64-1 is printed exactly, not as a rounded double.
      expect(json).to.contain('"limit":18446744073709551615');
    });
  });
}

suite('a directory tree laid out like cgroup2', fakeTree, () => null);
suite('the kernel (pure cgroup v2 hosts)', kernelTree, kernelV2Unavailable);
