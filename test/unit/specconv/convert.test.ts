// The conversion without a kernel, in the style of runc's spec_linux_test.go: fixture
// configs (runc's default and rootless specs, a Docker-shaped and a podman-shaped config,
// every mount option, devices, capabilities, seccomp) converted with fixed host facts. Each
// whole plan is compared with the one checked in under test/fixtures/specconv/ (see the
// README there to regenerate them after an intended change), and the fields that matter
// are asserted one by one as well.
import { expect } from 'chai';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUSER, CLONE_NEWUTS } from '../../../src/linux/namespaces.js';
import * as mo from '../../../src/linux/mount-options.js';
import { compileSeccomp, translateSeccomp } from '../../../src/linux/seccomp.js';
import { type ContainerConversion, type ContainerOptions, convertContainer, convertExec, convertHook } from '../../../src/linux/specconv/index.js';
import type { MountDraft, PlanDraft } from '../../../src/linux/specconv/draft.js';
import type { Process, Spec } from '../../../src/spec/types.js';
import { ConfigError, ConfigErrors } from '../../../src/util/errors.js';
import { REPO_ROOT } from '../../helpers/context.js';
import { BUNDLE, HYBRID_LAYOUT, ROOTFS, V2_LAYOUT, dir, file, fixedHost } from './host.js';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/specconv');
const RUNC_SPECS = path.join(REPO_ROOT, 'test/fixtures/runc-spec');
const UPDATE = process.env.TSRUNC_UPDATE_GOLDEN === '1';

const OPTIONS: ContainerOptions = { id: 'ctr', bundle: BUNDLE, noPivot: false, noNewKeyring: false, preserveFds: 0 };

const readJson = (file: string): Spec => JSON.parse(readFileSync(file, 'utf8')) as Spec;

/** The plan as JSON: 64-bit numbers as "<n>n", libseccomp's program as a marker. */
function serialize(conv: ContainerConversion): string {
  const seccomp = conv.draft.process.seccomp;
  const shown = {
    ...conv,
    draft: { ...conv.draft, process: { ...conv.draft.process, seccomp: seccomp && { ...seccomp, bpf: '<compiled by libseccomp>' } } },
  };
  return `${JSON.stringify(shown, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v), 2)}\n`;
}

/** Compare with test/fixtures/specconv/<name>.plan.json (or write it with TSRUNC_UPDATE_GOLDEN=1). */
function matchesGolden(name: string, conv: ContainerConversion): void {
  const file = path.join(FIXTURES, `${name}.plan.json`);
  const text = serialize(conv);
  if (UPDATE) writeFileSync(file, text);
  expect(existsSync(file), `${file} (regenerate: see test/fixtures/specconv/README.md)`).to.equal(true);
  expect(JSON.parse(text)).to.deep.equal(JSON.parse(readFileSync(file, 'utf8')));
}

const mountAt = (d: PlanDraft, dest: string): MountDraft => {
  const m = d.mounts.find((x) => x.dest === dest);
  if (!m) throw new Error(`no mount at ${dest}`);
  return m;
};
const capBits = (...n: number[]) => n.reduce((a, b) => a | (1n << BigInt(b)), 0n);

/** Compiled for real by libseccomp (no root needed): the plan carries it as the host fact it is. */
function compiled(spec: Spec) {
  return compileSeccomp(spec.linux?.seccomp);
}

describe('specconv: config.json -> plan', function () {
  describe('runc spec (runc 1.1.5 default config)', function () {
    const spec = readJson(path.join(RUNC_SPECS, 'runc-1.1.5-spec.json'));
    const conv = convertContainer(spec, OPTIONS, fixedHost());
    const d = conv.draft;

    it('matches the checked-in plan', function () {
      matchesGolden('runc-default', conv);
    });

    it('new namespaces are unshared; nothing is joined', function () {
      expect(d.unshareFlags).to.equal(CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS);
      expect(conv.nsFlags).to.equal(d.unshareFlags);
      expect([d.joins, d.joinInit, d.newUserns]).to.deep.equal([[], false, false]);
      expect(conv.namespaces.map((n) => n.type)).to.deep.equal(['pid', 'network', 'ipc', 'uts', 'mount']);
    });

    it('the container\'s root, read-only, with its hostname, keyring, masks', function () {
      expect(d).to.include({ isInit: true, stage1Sync: true, rootfs: ROOTFS, setupMounts: true, rootReadonly: true, hostname: 'runc', keyringName: '_ses.ctr', newSessionKeyring: true, hooksSync: false });
      expect(d.maskedPaths).to.include('/proc/kcore');
      expect(d.readonlyPaths).to.include('/proc/sys');
    });

    it('the process: capabilities as masks, rlimits, no_new_privs, HOME from /etc/passwd', function () {
      const caps = capBits(29, 5, 10); // AUDIT_WRITE, KILL, NET_BIND_SERVICE
      expect(d.process.capabilities).to.deep.equal({ bounding: caps, effective: caps, inheritable: 0n, permitted: caps, ambient: caps });
      expect(d.process.rlimits).to.deep.equal([{ resource: 7, soft: 1024n, hard: 1024n }]);
      expect(d.process).to.include({ noNewPrivileges: true, terminal: true, resolveHome: true, uid: 0, gid: 0, umask: -1, cwd: '/', pathEnv: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' });
      expect(d.process.envp[d.process.envp.length - 1]).to.equal('HOME=/');
    });

    it('/proc and /sys are guarded; the cgroup mount binds the container\'s own cgroup read-only', function () {
      expect(mountAt(d, '/proc')).to.include({ noSymlinks: true, mayCoverProc: true, fstype: 'proc' });
      // Read-only only once /sys/fs/cgroup is mounted in it.
      expect(mountAt(d, '/sys')).to.include({ noSymlinks: true, flags: mo.MS_NOSUID | mo.MS_NOEXEC | mo.MS_NODEV, lateReadonly: true });
      const cg = mountAt(d, '/sys/fs/cgroup');
      expect(cg).to.include({ bind: true, source: '/sys/fs/cgroup/ctr', flags: mo.MS_BIND | mo.MS_REC });
      expect(cg.attrSet & mo.MOUNT_ATTR_RDONLY).to.equal(mo.MOUNT_ATTR_RDONLY);
    });

    it('the default devices and /dev symlinks (/dev/core where the host has /proc/kcore)', function () {
      expect(d.devices.map((x) => x.path)).to.deep.equal(['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty']);
      expect(d.symlinks.map((s) => s.path)).to.include('/dev/core');
      const noKcore = convertContainer(spec, OPTIONS, fixedHost({ kcore: false })).draft;
      expect(noKcore.symlinks.map((s) => s.path)).to.not.include('/dev/core');
    });
  });

  describe('runc spec --rootless', function () {
    const spec = readJson(path.join(RUNC_SPECS, 'runc-1.1.5-spec-rootless-uid0.json'));
    // Converted by a runtime running as the user the fixture maps (uid and gid 0 here).
    const own = (id: number) => ({ own: id, subordinate: [], tool: '/usr/bin/newuidmap' });
    const host = fixedHost({ paths: { '/sys': dir() }, unprivileged: { user: 'u', uid: own(0), gid: own(0) } });
    const conv = convertContainer(spec, OPTIONS, host);

    it('matches the checked-in plan', function () {
      matchesGolden('runc-rootless', conv);
    });

    it('a new user namespace (made first, not unshared with the rest); setgroups denied', function () {
      expect(conv.newUserns).to.equal(true);
      expect(conv.draft.unshareFlags & CLONE_NEWUSER).to.equal(0);
      expect(conv.nsFlags & CLONE_NEWUSER).to.equal(CLONE_NEWUSER);
      expect(conv.idMaps).to.deep.equal({ uidTool: null, gidTool: null, denySetgroups: true });
      expect(conv.draft.process.setGroups).to.equal(false);
      // Root writes any map itself and leaves setgroups alone.
      const asRoot = convertContainer(spec, OPTIONS, fixedHost({ paths: { '/sys': dir() } }));
      expect(asRoot.idMaps).to.deep.equal({ uidTool: null, gidTool: null, denySetgroups: false });
      expect(asRoot.draft.process.setGroups).to.equal(true);
    });

    it('/sys is the host\'s, bound recursively and read-only (after /sys/fs/cgroup); devices are bound from the host', function () {
      const sys = mountAt(conv.draft, '/sys');
      expect(sys).to.include({ bind: true, source: '/sys', createFile: false, flags: mo.MS_BIND | mo.MS_REC, lateReadonly: true });
      expect(sys.attrSet).to.equal(mo.MOUNT_ATTR_NOSUID | mo.MOUNT_ATTR_NODEV | mo.MOUNT_ATTR_NOEXEC);
      expect(conv.draft.devices.every((x) => x.bindFromHost && x.hostPath === x.path)).to.equal(true);
    });
  });

  it('a runtime in a user namespace (rootless podman\'s) binds device nodes from the host, without one of the container\'s', function () {
    const spec = readJson(path.join(RUNC_SPECS, 'runc-1.1.5-spec.json'));
    const devices = (runtimeInUserns: boolean) => convertContainer(spec, OPTIONS, fixedHost({ runtimeInUserns })).draft.devices;
    expect(devices(false).some((d) => d.bindFromHost)).to.equal(false);
    expect(devices(true).map((d) => [d.path, d.bindFromHost])).to.deep.equal(devices(false).map((d) => [d.path, true]));
  });

  it('a new user namespace: only a runtime that is root on the host makes device nodes and opens bind sources for it', function () {
    const spec = readJson(path.join(RUNC_SPECS, 'runc-1.1.5-spec-rootless-uid0.json'));
    spec.linux!.devices = [{ path: '/dev/my-null', type: 'c', major: 1, minor: 3 }];
    spec.mounts!.push({ destination: '/data', type: 'bind', source: '/srv', options: ['rbind'] });
    const host = { paths: { '/sys': dir() } };
    const planned = (facts: { runtimeInUserns?: boolean }) => {
      const draft = convertContainer(spec, OPTIONS, fixedHost({ ...host, ...facts })).draft;
      return { made: draft.devices.find((d) => d.path === '/dev/my-null')!.node !== null, detached: mountAt(draft, '/data').detach };
    };
    expect(planned({})).to.deep.equal({ made: true, detached: true });
    expect(planned({ runtimeInUserns: true })).to.deep.equal({ made: false, detached: false });
  });

  describe('a Docker-shaped config (hybrid host, AppArmor, seccomp, prestart hook)', function () {
    const spec = readJson(path.join(FIXTURES, 'docker.config.json'));
    const cdir = '/var/lib/docker/containers/4f1c2a9d8e7b';
    const host = fixedHost({
      apparmor: true,
      seccomp: compiled(spec),
      rootfs: { path: '/var/lib/docker/overlay2/0a1b2c/merged' },
      cgroup: {
        layout: HYBRID_LAYOUT,
        dirs: {
          cpu: '/sys/fs/cgroup/cpu,cpuacct/docker/4f1c2a9d8e7b',
          cpuacct: '/sys/fs/cgroup/cpu,cpuacct/docker/4f1c2a9d8e7b',
          memory: '/sys/fs/cgroup/memory/docker/4f1c2a9d8e7b',
          pids: '/sys/fs/cgroup/pids/docker/4f1c2a9d8e7b',
          'name=systemd': '/sys/fs/cgroup/systemd/docker/4f1c2a9d8e7b',
          '': '/sys/fs/cgroup/unified/docker/4f1c2a9d8e7b',
        },
      },
      paths: { [`${cdir}/mounts/shm`]: dir(), [`${cdir}/resolv.conf`]: file(), [`${cdir}/hostname`]: file(), [`${cdir}/hosts`]: file() },
    });
    const conv = convertContainer(spec, OPTIONS, host);
    const d = conv.draft;

    it('matches the checked-in plan', function () {
      matchesGolden('docker', conv);
    });

    it('the cgroup mount is a read-only tmpfs with one bind per hierarchy (no cgroup namespace)', function () {
      const under = d.mounts.filter((m) => m.dest.startsWith('/sys/fs/cgroup'));
      expect(under.map((m) => [m.dest, m.source])).to.deep.equal([
        ['/sys/fs/cgroup', 'tmpfs'],
        ['/sys/fs/cgroup/cpu,cpuacct', '/sys/fs/cgroup/cpu,cpuacct/docker/4f1c2a9d8e7b'],
        ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/memory/docker/4f1c2a9d8e7b'],
        ['/sys/fs/cgroup/pids', '/sys/fs/cgroup/pids/docker/4f1c2a9d8e7b'],
        ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/systemd/docker/4f1c2a9d8e7b'],
        ['/sys/fs/cgroup/unified', '/sys/fs/cgroup/unified/docker/4f1c2a9d8e7b'],
      ]);
      expect(under[0]).to.include({ lateReadonly: true, data: 'mode=755' });
    });

    it('files are bound onto files, directories onto directories; rprivate propagation', function () {
      expect(mountAt(d, '/etc/hosts')).to.include({ createFile: true, propagation: mo.MS_PRIVATE, propagationRecursive: true });
      expect(mountAt(d, '/dev/shm')).to.include({ createFile: false });
    });

    it('the seccomp filter, AppArmor profile, hooks pause and additional groups reach the process', function () {
      expect(d.process.seccomp).to.equal(host.seccomp!.plan);
      expect(d.process).to.include({ apparmorProfile: 'docker-default', oomScoreAdj: 0 });
      expect(d.process.additionalGids).to.deep.equal([0, 1, 2, 3, 4, 6, 10, 11, 20, 26, 27]);
      expect(d.hooksSync).to.equal(true);
    });
  });

  describe('a podman-shaped config (user namespace, joined netns, cgroupns, id-mapped volume)', function () {
    const spec = readJson(path.join(FIXTURES, 'podman.config.json'));
    const ud = '/run/containers/storage/overlay-containers/b7e3c1d2a9f0/userdata';
    const host = fixedHost({
      seccomp: compiled(spec),
      rootfs: { path: '/var/lib/containers/storage/overlay/5c6d7e/merged' },
      cgroup: { layout: V2_LAYOUT, dirs: { '': '/sys/fs/cgroup/libpod_parent/libpod-b7e3c1d2a9f0' } },
      paths: { [`${ud}/resolv.conf`]: file(), [`${ud}/hosts`]: file(), [`${ud}/shm`]: dir(), [`${ud}/hostname`]: file(), [`${ud}/.containerenv`]: file(), '/srv/data': dir() },
    });
    const conv = convertContainer(spec, OPTIONS, host);
    const d = conv.draft;

    it('matches the checked-in plan', function () {
      matchesGolden('podman', conv);
    });

    it('the network namespace is joined by path, the others made', function () {
      expect(d.joins).to.deep.equal([{ nstype: CLONE_NEWNET, path: '/run/netns/netns-3f2e1d0c', field: 'linux.namespaces[1].path' }]);
      expect(d.unshareFlags).to.equal(CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWCGROUP);
      expect(conv.newUserns).to.equal(true);
    });

    it('with a cgroup namespace, the container\'s cgroup2 directory is bound (what a fresh mount in the namespace shows; no EBUSY over a bound host /sys)', function () {
      expect(mountAt(d, '/sys/fs/cgroup')).to.include({ bind: true, fstype: null, source: '/sys/fs/cgroup/libpod_parent/libpod-b7e3c1d2a9f0' });
    });

    it('the idmap volume is id-mapped with the container\'s mappings, read-only recursively', function () {
      const data = mountAt(d, '/data');
      expect(data.idmap).to.deep.equal({ source: '/srv/data', uidMap: '0 100000 65536\n', gidMap: '0 100000 65536\n', rbind: true, recursive: false, field: 'mounts[10]' });
      expect(data).to.include({ rattrSet: mo.MOUNT_ATTR_RDONLY, flags: mo.MS_BIND | mo.MS_REC });
    });

    it('the user, umask, empty capability sets, sysctl (as a path) and HOME from the env', function () {
      expect(d.process).to.include({ uid: 1000, gid: 1000, umask: 18, resolveHome: false, terminal: true });
      expect(d.process.capabilities!.effective).to.equal(0n);
      expect(d.sysctls).to.deep.equal([{ key: 'net/ipv4/ping_group_range', value: '0 0' }]);
      expect(d.process.envp).to.not.include('HOME=/');
    });
  });

  describe('every mount option', function () {
    const spec = readJson(path.join(FIXTURES, 'mount-options.config.json'));
    const conv = convertContainer(spec, OPTIONS, fixedHost({ paths: { '/srv': dir(), '/srv/file': file() } }));
    const d = conv.draft;

    it('matches the checked-in plan', function () {
      matchesGolden('mount-options', conv);
    });

    it('bind mounts carry their flags as per-mount attributes; one atime mode, the kernel\'s precedence', function () {
      expect(mountAt(d, '/b/rbind-ro')).to.include({
        flags: mo.MS_BIND | mo.MS_REC,
        attrSet: mo.MOUNT_ATTR_RDONLY | mo.MOUNT_ATTR_NOSUID | mo.MOUNT_ATTR_NODEV | mo.MOUNT_ATTR_NOEXEC | mo.MOUNT_ATTR_NODIRATIME | mo.MOUNT_ATTR_NOSYMFOLLOW,
      });
      expect(mountAt(d, '/b/atime-precedence')).to.include({ attrSet: mo.MOUNT_ATTR_NOATIME, attrClr: mo.MOUNT_ATTR__ATIME });
      expect(mountAt(d, '/b/rw')).to.include({ attrSet: 0, attrClr: mo.MOUNT_ATTR_RDONLY });
      expect(mountAt(d, '/b/private')).to.include({ propagation: mo.MS_PRIVATE, propagationRecursive: false });
    });

    it('other mounts carry mount(2) flags and their unknown options as data', function () {
      expect(mountAt(d, '/o/data')).to.include({ source: 'shm', fstype: 'tmpfs', data: 'mode=1777,size=64k' });
      expect(mountAt(d, '/o/noexec').flags).to.equal(mo.MS_NOEXEC);
      expect(mountAt(d, '/o/rro')).to.include({ flags: 0, rattrSet: mo.MOUNT_ATTR_RDONLY });
    });

    it('a read-only mount that later mounts go under is made read-only at the end', function () {
      expect(mountAt(d, '/o/data')).to.include({ lateReadonly: true, flags: mo.MS_NOSUID });
      expect(mountAt(d, '/b/file')).to.include({ lateReadonly: true, attrSet: 0, createFile: true });
      expect(mountAt(d, '/o/ro')).to.include({ lateReadonly: false, flags: mo.MS_RDONLY });
    });

    it('idmap and ridmap without mappings of their own take the container\'s', function () {
      expect(mountAt(d, '/b/idmap').idmap).to.include({ rbind: false, recursive: false, uidMap: '0 100000 65536\n' });
      expect(mountAt(d, '/b/ridmap').idmap).to.include({ recursive: true });
      expect(mountAt(d, '/b/ro').idmap).to.equal(null);
      expect(d.rootfsPropagation).to.equal(mo.MS_SLAVE | mo.MS_REC);
    });
  });

  describe('devices', function () {
    const spec = readJson(path.join(FIXTURES, 'devices.config.json'));
    const conv = convertContainer(spec, OPTIONS, fixedHost());

    it('matches the checked-in plan', function () {
      matchesGolden('devices', conv);
    });

    it('defaults first (a configured path replaces its default), /dev/ptmx left to the symlink', function () {
      const d = conv.draft.devices;
      expect(d.map((x) => x.path)).to.deep.equal([
        '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty',
        '/dev/null', '/dev/fuse', '/dev/sda', '/dev/ttyU', '/run/app/fifo', '/dev/kvm',
      ]);
      expect(d.find((x) => x.path === '/dev/null')).to.include({ mode: 0o020600, major: 1, minor: 3 });
      expect(d.find((x) => x.path === '/dev/sda')).to.include({ mode: 0o060660, gid: 6 });
      expect(d.find((x) => x.path === '/run/app/fifo')).to.include({ mode: 0o010620, uid: 1000 });
      expect(d.find((x) => x.path === '/dev/kvm')!.mode).to.equal(0o024777);
      expect(d.filter((x) => x.replaceExisting).map((x) => x.path)).to.have.length(5);
    });

    it('no devices made when /dev is bound from the host', function () {
      const s = readJson(path.join(FIXTURES, 'devices.config.json'));
      s.mounts = [...s.mounts!.filter((m) => !m.destination.startsWith('/dev')), { destination: '/dev', type: 'bind', source: '/dev', options: ['rbind'] }];
      const d = convertContainer(s, OPTIONS, fixedHost({ paths: { '/dev': dir() } })).draft;
      expect([d.devices, d.symlinks]).to.deep.equal([[], []]);
    });
  });

  describe('capabilities', function () {
    const spec = readJson(path.join(FIXTURES, 'capabilities.config.json'));
    // A 5.8 kernel (no CAP_CHECKPOINT_RESTORE) and a runtime without CAP_SYS_ADMIN.
    const conv = convertContainer(spec, OPTIONS, fixedHost({ lastCap: 39, boundingSet: ((1n << 40n) - 1n) & ~(1n << 21n) }));

    it('matches the checked-in plan', function () {
      matchesGolden('capabilities', conv);
    });

    it('five masks; what cannot be granted is left out with a warning each', function () {
      expect(conv.draft.process.capabilities).to.deep.equal({
        bounding: capBits(0, 12, 39, 5),
        effective: capBits(0, 12),
        inheritable: capBits(10),
        permitted: capBits(0, 12, 10),
        ambient: capBits(10),
      });
      expect(conv.warnings).to.deep.equal([
        "process.capabilities.bounding: capability CAP_SYS_ADMIN cannot be granted: it is not in the runtime's bounding set; skipped",
        'process.capabilities.bounding: capability CAP_CHECKPOINT_RESTORE is not supported by the running kernel; skipped',
        'process.capabilities.effective: capability CAP_CHECKPOINT_RESTORE is not supported by the running kernel; skipped',
        "process.capabilities.permitted: capability CAP_SYS_ADMIN cannot be granted: it is not in the runtime's bounding set; skipped",
      ]);
    });

    it('an unknown name fails, naming the entry', function () {
      const s = readJson(path.join(FIXTURES, 'capabilities.config.json'));
      s.process!.capabilities!.ambient = ['CAP_NET_BIND_SERVICE', 'CAP_TELEPORT'];
      expect(() => convertContainer(s, OPTIONS, fixedHost())).to.throw(ConfigError, 'process.capabilities.ambient[1]: unknown capability "CAP_TELEPORT"');
    });
  });

  describe('seccomp', function () {
    const spec = readJson(path.join(FIXTURES, 'seccomp.config.json'));

    it('translates the profile into numbers for libseccomp (checked-in)', function () {
      const t = translateSeccomp(spec.linux!.seccomp!);
      const file = path.join(FIXTURES, 'seccomp.translation.json');
      const text = `${JSON.stringify(t, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v), 2)}\n`;
      if (UPDATE) writeFileSync(file, text);
      expect(JSON.parse(text)).to.deep.equal(JSON.parse(readFileSync(file, 'utf8')));
      expect(t).to.include({ notify: true, flags: 2 | 4 | 32 });
      expect(t.rules.filter((r) => r.syscall === 'personality')).to.have.length(2); // same argument twice: OR
      expect(t.rules.find((r) => r.syscall === 'socket')!.args).to.have.length(2); // different arguments: AND
      expect(t.rules.some((r) => r.syscall === 'kill')).to.equal(false); // same as the default
    });

    it('the plan carries libseccomp\'s program and the filter flags', function () {
      const host = fixedHost({ seccomp: compiled(spec) });
      const p = convertContainer(spec, OPTIONS, host).draft.process.seccomp!;
      expect(p.bpf.length % 8).to.equal(0);
      expect(p.bpf.length).to.be.greaterThan(8 * 10);
      expect([p.flags, p.notify]).to.deep.equal([2 | 4 | 32, true]);
    });
  });

  describe('confinement marks', function () {
    const spec = readJson(path.join(RUNC_SPECS, 'runc-1.1.5-spec.json'));
    spec.mounts = [
      { destination: '/proc', type: 'bind', source: '/proc', options: ['rbind'] },
      { destination: '/proc/meminfo', type: 'bind', source: '/var/lib/lxcfs/proc/meminfo', options: ['bind'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['mode=755'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue' },
      { destination: '/data', type: 'bind', source: '/srv', options: ['bind'] },
    ];
    spec.linux!.mountLabel = 'system_u:object_r:container_file_t:s0:c1,c2';
    const paths = { '/proc': dir(true), '/var/lib/lxcfs/proc/meminfo': file(), '/srv': dir() };
    const host = fixedHost({ paths });

    it('procfs and sysfs targets without symlinks; only proc on /proc and the lxcfs files may cover procfs', function () {
      const d = convertContainer(spec, OPTIONS, host).draft;
      expect(d.mounts.map((m) => [m.dest, !!m.noSymlinks, !!m.mayCoverProc])).to.deep.equal([
        ['/proc', false, true],
        ['/proc/meminfo', false, true],
        ['/sys', true, false],
        ['/dev', false, false],
        ['/dev/mqueue', false, false],
        ['/data', false, false],
      ]);
    });

    it('SELinux mount labels on the file systems the runtime makes, never on binds, procfs or sysfs', function () {
      const label = 'context="system_u:object_r:container_file_t:s0:c1,c2"';
      const d = convertContainer(spec, OPTIONS, fixedHost({ paths, selinux: true })).draft;
      expect(d.mounts.map((m) => m.data)).to.deep.equal([null, null, null, `mode=755,${label}`, label, null]);
      const off = convertContainer(spec, OPTIONS, host).draft;
      expect(off.mounts.map((m) => m.data)).to.deep.equal([null, null, null, 'mode=755', null, null]);
    });
  });

  describe('refusals', function () {
    it('every problem of the config at once, before anything is planned', function () {
      const s = readJson(path.join(RUNC_SPECS, 'runc-1.1.5-spec.json'));
      s.linux!.sysctl = { 'vm.swappiness': '10' };
      s.linux!.resources = { unified: { 'cgroup.procs': '1' } };
      let caught: unknown;
      try {
        convertContainer(s, OPTIONS, fixedHost({ rootfs: { error: '/bundles/b/rootfs: no such directory' } }));
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(ConfigErrors);
      expect((caught as ConfigErrors).problems.map((p) => p.field)).to.deep.equal(['root.path', 'linux.sysctl["vm.swappiness"]', 'linux.resources.unified["cgroup.procs"]']);
    });
  });
});

describe('specconv: exec and hook plans share the process part', function () {
  const spec = readJson(path.join(RUNC_SPECS, 'runc-1.1.5-spec.json'));
  const init = convertContainer(spec, OPTIONS, fixedHost()).draft;
  const execOpts = { field: 'process', nsFlags: init.unshareFlags, preserveFds: 2, setgroupsDenied: false, keyringName: '_ses.ctr' };

  it('exec: the config\'s process converts to the init\'s process (preserveFds aside); it joins the init', function () {
    const { draft } = convertExec(spec, spec.process!, execOpts, fixedHost());
    expect({ ...draft.process, preserveFds: 0 }).to.deep.equal(init.process);
    expect(draft).to.include({ joinInit: true, joinPidfdFlags: init.unshareFlags, stage1Sync: true, isInit: false, setupMounts: false, rootfs: null, keyringName: '_ses.ctr', newSessionKeyring: true });
    expect([draft.mounts, draft.devices, draft.joins, draft.sysctls]).to.deep.equal([[], [], [], []]);
  });

  it('exec: takes capabilities and rlimits from the config when the process has none; refuses duplicates', function () {
    const own = { args: ['ps'], cwd: '/tmp', env: ['HOME=/root'] };
    const { draft } = convertExec(spec, own, { ...execOpts, field: '' }, fixedHost());
    expect(draft.process.capabilities).to.deep.equal(init.process.capabilities);
    expect(draft.process.rlimits).to.deep.equal(init.process.rlimits);
    expect(draft.process).to.include({ cwd: '/tmp', resolveHome: false });
    const dup: Process = { ...own, rlimits: [{ type: 'RLIMIT_CORE', soft: 0, hard: 0 }, { type: 'RLIMIT_CORE', soft: 1, hard: 1 }] };
    expect(() => convertExec(spec, dup, { ...execOpts, field: '' }, fixedHost())).to.throw(ConfigError, 'rlimits[1].type: duplicate RLIMIT_CORE');
    expect(() => convertExec(spec, own, { ...execOpts, nsFlags: CLONE_NEWPID }, fixedHost())).to.throw(/without its own mount namespace/);
  });

  it('hook: the hook\'s path, args and exact env, as root from /, nothing else set', function () {
    const d = convertHook({ path: '/usr/bin/hook', args: ['hook', '--x'], env: ['A=1'] }, CLONE_NEWNS | CLONE_NEWPID);
    expect(d.process).to.deep.equal({
      ...init.process,
      argv: ['hook', '--x'], execPath: '/usr/bin/hook', envp: ['A=1'], pathEnv: null, resolveHome: false, cwd: '/',
      capabilities: null, rlimits: [], noNewPrivileges: false, terminal: false, oomScoreAdj: null, setGroups: false,
    });
    expect(d).to.include({ joinInit: true, joinPidfdFlags: CLONE_NEWNS | CLONE_NEWPID, stage1Sync: false, newSessionKeyring: false });
    expect(convertHook({ path: '/h' }, 0).process.argv).to.deep.equal(['/h']);
  });

  it('the three plans have the same members (one builder)', function () {
    const keys = (d: PlanDraft) => Object.keys(d).sort();
    const exec = convertExec(spec, spec.process!, execOpts, fixedHost()).draft;
    expect(keys(exec)).to.deep.equal(keys(init));
    expect(keys(convertHook({ path: '/h' }, 0))).to.deep.equal(keys(init));
    expect(Object.keys(exec.process).sort()).to.deep.equal(Object.keys(init.process).sort());
  });
});
