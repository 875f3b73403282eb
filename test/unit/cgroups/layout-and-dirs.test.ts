// Where a container's cgroup is: the host's layout read from mountinfo text, the runtime's
// own cgroups from /proc/self/cgroup text, linux.cgroupsPath, the directories per
// hierarchy, `exec --cgroup` placement, and the core files read without a kernel
// (cgroup.events, cgroup.freeze, cgroup.kill) on a plain directory tree.
import { expect } from 'chai';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CgroupDirs, UNIFIED } from '../../../src/linux/cgroups/dirs.js';
import { freezerState } from '../../../src/linux/cgroups/freezer.js';
import { type CgroupLayout, ownCgroups, parseLayout } from '../../../src/linux/cgroups/mode.js';
import { cgroupPathSpec, pathInHierarchy } from '../../../src/linux/cgroups/path.js';
import { ConfigError } from '../../../src/util/errors.js';
import { makeTempDir } from '../../helpers/context.js';

/** This VM's cgroup mounts: v1 controllers (cpu and cpuacct apart) plus cgroup2 at unified. */
const HYBRID = `\
25 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

/** Debian 12 with systemd: pure cgroup v2 (and a second cgroup2 mount a container made). */
const PURE_V2 = `\
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
26 21 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
90 88 0:23 / /run/ctr/sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw
`;

/** A classic v1 host with comounted controllers, a release agent and a path with a space. */
const V1_ONLY = `\
30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct
31 25 0:27 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid - cgroup cgroup rw,net_cls,net_prio
32 25 0:28 / /sys/fs/cgroup/my\\040memory rw,nosuid - cgroup cgroup rw,memory,release_agent=/sbin/agent
33 25 0:29 / /sys/fs/cgroup/perf_event rw,nosuid - cgroup cgroup rw,perf_event,clone_children
34 25 0:30 / /mnt/memory-again rw - cgroup cgroup rw,memory
`;

describe('cgroups: layout and directories', function () {
  describe('parseLayout (mountinfo)', function () {
    it('a hybrid host: each v1 controller where it is mounted, named hierarchies too, and the unified mount', function () {
      const l = parseLayout(HYBRID);
      expect(l.mode).to.equal('hybrid');
      expect(l.unified).to.equal('/sys/fs/cgroup/unified');
      expect([...l.v1.entries()]).to.deep.equal([
        ['cpu', '/sys/fs/cgroup/cpu'],
        ['cpuacct', '/sys/fs/cgroup/cpuacct'],
        ['cpuset', '/sys/fs/cgroup/cpuset'],
        ['memory', '/sys/fs/cgroup/memory'],
        ['devices', '/sys/fs/cgroup/devices'],
        ['name=systemd', '/sys/fs/cgroup/systemd'],
      ]);
    });

    it('pure v2: no v1 hierarchy; /sys/fs/cgroup wins over another cgroup2 mount', function () {
      expect(parseLayout(PURE_V2)).to.deep.equal({ mode: 'v2', unified: '/sys/fs/cgroup', v1: new Map() });
      const reversed = PURE_V2.split('\n').reverse().join('\n');
      expect(parseLayout(reversed).unified).to.equal('/sys/fs/cgroup');
    });

    it('v1 only: comounted controllers share a mount, options that are not controllers are skipped, octal escapes are undone, the first mount wins', function () {
      const l = parseLayout(V1_ONLY);
      expect(l.mode).to.equal('v1');
      expect(l.unified).to.equal(null);
      expect(Object.fromEntries(l.v1)).to.deep.equal({
        cpu: '/sys/fs/cgroup/cpu,cpuacct',
        cpuacct: '/sys/fs/cgroup/cpu,cpuacct',
        net_cls: '/sys/fs/cgroup/net_cls,net_prio',
        net_prio: '/sys/fs/cgroup/net_cls,net_prio',
        memory: '/sys/fs/cgroup/my memory',
        perf_event: '/sys/fs/cgroup/perf_event',
      });
    });

    it('no cgroup mount at all reads as v2 without a hierarchy; garbage lines are skipped', function () {
      expect(parseLayout('not a mountinfo line\n\n25 1 254:0 / / rw - ext4 /dev/vda rw\n')).to.deep.equal({ mode: 'v2', unified: null, v1: new Map() });
    });
  });

  describe('ownCgroups (/proc/self/cgroup)', function () {
    it('one entry per controller of each v1 line, "" for the v2 line', function () {
      const own = ownCgroups('12:cpu,cpuacct:/user.slice\n4:memory:/process_api/42e8\n1:name=systemd:/init.scope\n0::/user.slice/session-1.scope\n');
      expect(Object.fromEntries(own)).to.deep.equal({
        cpu: '/user.slice',
        cpuacct: '/user.slice',
        memory: '/process_api/42e8',
        'name=systemd': '/init.scope',
        [UNIFIED]: '/user.slice/session-1.scope',
      });
      expect(Object.fromEntries(ownCgroups('0::/\n'))).to.deep.equal({ [UNIFIED]: '/' });
    });
  });

  describe('linux.cgroupsPath (cgroupfs)', function () {
    it('absolute from each root, relative under the runtime\'s own cgroup, the id when absent; ".." cannot climb out', function () {
      expect(cgroupPathSpec('/a/b', 'id')).to.deep.equal({ inner: '/a/b', absolute: true });
      expect(cgroupPathSpec('a/b', 'id')).to.deep.equal({ inner: '/a/b', absolute: false });
      expect(cgroupPathSpec(undefined, 'id')).to.deep.equal({ inner: '/id', absolute: false });
      expect(cgroupPathSpec('', 'id')).to.deep.equal({ inner: '/id', absolute: false });
      expect(cgroupPathSpec('/../../etc', 'id').inner).to.equal('/etc');
      expect(pathInHierarchy(cgroupPathSpec('a', 'id'), '/own')).to.equal('/own/a');
      expect(pathInHierarchy(cgroupPathSpec('/a', 'id'), '/own')).to.equal('/a');
    });

    it('refuses the systemd form, naming the field and the flag', function () {
      expect(() => cgroupPathSpec('system.slice:docker:abc', 'id')).to.throw(ConfigError, /linux\.cgroupsPath: .*--systemd-cgroup/);
    });
  });

  describe('CgroupDirs', function () {
    const layout: CgroupLayout = { mode: 'hybrid', unified: '/u', v1: new Map([['cpu', '/c'], ['memory', '/m']]) };

    it('plans one directory per hierarchy, each relative to the runtime\'s own cgroup there', function () {
      const own = new Map([['cpu', '/'], ['memory', '/sandbox'], [UNIFIED, '/x.scope']]);
      const cg = CgroupDirs.plan(cgroupPathSpec('ctr', 'id'), layout, own);
      expect(cg.dirs).to.deep.equal({ cpu: '/c/ctr', memory: '/m/sandbox/ctr', [UNIFIED]: '/u/x.scope/ctr' });
      expect(cg.mode).to.equal('hybrid');
      expect(cg.dirFor('memory')).to.equal('/m/sandbox/ctr');
      expect(cg.dirFor('io')).to.equal('/u/x.scope/ctr');
      expect(cg.hasV1('cpu')).to.equal(true);
      expect(cg.hasV1('io')).to.equal(false);
      expect(CgroupDirs.fromState(cg.toState()).dirs).to.deep.equal(cg.dirs);
    });

    describe('exec --cgroup placement', function () {
      function hybrid(): CgroupDirs {
        const root = makeTempDir('cgroups');
        const dirs = { cpu: path.join(root, 'cpu/ctr'), memory: path.join(root, 'memory/ctr'), [UNIFIED]: path.join(root, 'unified/ctr') };
        for (const d of Object.values(dirs)) mkdirSync(path.join(d, 'sub'), { recursive: true });
        return CgroupDirs.fromState({ mode: 'hybrid', path: '/ctr', dirs });
      }

      it('no --cgroup: the container\'s own cgroups', function () {
        const cg = hybrid();
        expect(cg.subCgroupDirs([]).sort()).to.deep.equal(Object.values(cg.dirs).sort());
      });

      it('a path for every hierarchy; controller:path for some', function () {
        const cg = hybrid();
        const { cpu, memory, [UNIFIED]: unified } = cg.dirs as Record<string, string>;
        expect(cg.subCgroupDirs(['sub']).sort()).to.deep.equal(Object.values(cg.dirs).map((d) => path.join(d, 'sub')).sort());
        expect(cg.subCgroupDirs(['memory:sub']).sort()).to.deep.equal([cpu, path.join(memory as string, 'sub'), unified].sort());
      });

      it('a sub-cgroup cannot climb out of the container\'s, and must exist', function () {
        const cg = hybrid();
        const own = Object.values(cg.dirs);
        expect(cg.subCgroupDirs(['../../sub']).every((d) => own.some((o) => d.startsWith(`${o}/`)))).to.equal(true);
        expect(() => cg.subCgroupDirs(['nosuch'])).to.throw(/does not exist/);
        expect(() => cg.subCgroupDirs(['pids:sub'])).to.throw(/no cgroup v1 controller "pids"/);
        expect(() => cg.subCgroupDirs([':sub'])).to.throw(/no controller before ":"/);
        expect(() => CgroupDirs.fromState({ ...cg.toState(), mode: 'v2' }).subCgroupDirs(['memory:sub'])).to.throw(/only accepted on cgroup v1/);
      });

      it('adds the pid to each directory, or says which one refused', function () {
        const cg = hybrid();
        cg.addProcess(4242, cg.subCgroupDirs(['memory:sub']));
        expect(readFileSync(path.join(cg.dirs.memory as string, 'sub/cgroup.procs'), 'utf8')).to.equal('4242');
        expect(readFileSync(path.join(cg.dirs.cpu as string, 'cgroup.procs'), 'utf8')).to.equal('4242');
        const missing = path.join(cg.dirs.cpu as string, 'gone');
        expect(() => cg.addProcess(1, [missing])).to.throw(`add pid 1 to cgroup ${missing}`);
        expect(() => cg.addProcess(1, [missing], true)).not.to.throw();
      });
    });

    describe('core files of a v2 cgroup', function () {
      function v2(files: Record<string, string>): CgroupDirs {
        const dir = path.join(makeTempDir('cgroup2'), 'ctr');
        mkdirSync(path.join(dir, 'child'), { recursive: true });
        for (const [f, v] of Object.entries(files)) writeFileSync(path.join(dir, f), v);
        return CgroupDirs.fromState({ mode: 'v2', path: '/ctr', dirs: { [UNIFIED]: dir } });
      }

      it('is populated as cgroup.events says, nested cgroups included', function () {
        expect(v2({ 'cgroup.events': 'populated 1\nfrozen 0\n' }).isPopulated()).to.equal(true);
        expect(v2({ 'cgroup.events': 'populated 0\nfrozen 0\n', 'cgroup.procs': '' }).isPopulated()).to.equal(false);
      });

      it('without cgroup.events, is populated when a cgroup.procs lists a pid', function () {
        const cg = v2({ 'cgroup.procs': '' });
        expect(cg.isPopulated()).to.equal(false);
        writeFileSync(path.join(cg.dirs[UNIFIED] as string, 'child/cgroup.procs'), '77\n');
        expect(cg.isPopulated()).to.equal(true);
        expect(cg.pids()).to.deep.equal([77]);
      });

      it('kills through cgroup.kill where the kernel has it, and says when it has not', function () {
        expect(v2({}).killAll()).to.equal(false);
        const cg = v2({ 'cgroup.kill': '' });
        expect(cg.killAll()).to.equal(true);
        expect(readFileSync(path.join(cg.dirs[UNIFIED] as string, 'cgroup.kill'), 'utf8')).to.equal('1');
      });

      it('freezer state: thawed, freezing until cgroup.events says frozen, frozen', function () {
        expect(freezerState(v2({ 'cgroup.freeze': '0\n', 'cgroup.events': 'frozen 0\n' }))).to.equal('THAWED');
        expect(freezerState(v2({ 'cgroup.freeze': '1\n', 'cgroup.events': 'populated 1\nfrozen 0\n' }))).to.equal('FREEZING');
        expect(freezerState(v2({ 'cgroup.freeze': '1\n', 'cgroup.events': 'populated 1\nfrozen 1\n' }))).to.equal('FROZEN');
      });
    });
  });
});
