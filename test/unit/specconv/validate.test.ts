// The conversion's validator list (src/linux/specconv/validate.ts): every check with a
// config it accepts and configs it refuses, with fixed host facts.
import { expect } from 'chai';
import {
  CONTAINER_CHECKS,
  PROCESS_CHECKS,
  checkUnified,
  containerProblems,
  processProblems,
  throwProblems,
} from '../../../src/linux/specconv/validate.js';
import { viewSpec } from '../../../src/linux/specconv/view.js';
import type { HostFacts } from '../../../src/linux/specconv/host-facts.js';
import { defaultSpec } from '../../../src/spec/defaults.js';
import type { Process, Spec } from '../../../src/spec/types.js';
import { ConfigError, ConfigErrors } from '../../../src/util/errors.js';
import { BUNDLE, HYBRID_LAYOUT, V2_LAYOUT, dir, file, fixedHost, missing } from './host.js';

/** runc's default config, with `terminal: false`. */
function base(): Spec {
  const s = defaultSpec({ rootless: false });
  s.process!.terminal = false;
  return s;
}

function problems(spec: Spec, host: HostFacts = fixedHost()): string[] {
  return containerProblems({ spec, view: viewSpec(spec, BUNDLE), host }).map((e) => e.message);
}

function withNs(spec: Spec, ns: NonNullable<Spec['linux']>['namespaces']): Spec {
  spec.linux!.namespaces = ns;
  return spec;
}

const ALL_NS: NonNullable<NonNullable<Spec['linux']>['namespaces']> = (['pid', 'network', 'ipc', 'uts', 'mount'] as const).map((type) => ({ type }));

describe('specconv validators', function () {
  it('lists its checks by name, as runc does', function () {
    expect(CONTAINER_CHECKS.map((c) => c.name)).to.deep.equal([
      'rootfs', 'namespaces', 'userNamespace', 'rootless', 'timeNamespace', 'uts', 'security', 'sysctl', 'cgroups', 'intelRdt', 'mounts', 'seccomp', 'memoryPolicy',
    ]);
    expect(PROCESS_CHECKS.map((c) => c.name)).to.deep.equal(['rlimits', 'lsm', 'execCPUAffinity']);
  });

  it('accepts runc\'s default config and the rootless one', function () {
    expect(problems(base())).to.deep.equal([]);
    const rootless = defaultSpec({ rootless: true, uid: 1000, gid: 1000 });
    expect(problems(rootless, fixedHost({ paths: { '/sys': dir() } }))).to.deep.equal([]);
  });

  describe('rootless (a runtime that is not root: runc\'s rootlessEUID checks)', function () {
    const authority = (own: number, subordinate: { start: number; count: number }[] | null, tool: string | null = '/usr/bin/newuidmap') => ({ own, subordinate, tool });
    const user = (over: Partial<NonNullable<HostFacts['unprivileged']>> = {}) =>
      fixedHost({ paths: { '/sys': dir() }, unprivileged: { user: 'alice', uid: authority(1000, [{ start: 100000, count: 65536 }]), gid: authority(1000, [{ start: 100000, count: 65536 }]), ...over } });
    const mapped = (extra: { containerID: number; hostID: number; size: number }[] = []) => {
      const s = defaultSpec({ rootless: true, uid: 1000, gid: 1000 });
      s.linux!.uidMappings = [...s.linux!.uidMappings!, ...extra];
      s.linux!.gidMappings = [...s.linux!.gidMappings!, ...extra];
      return s;
    };

    it('root is not checked; a user needs a user namespace', function () {
      expect(problems(base())).to.deep.equal([]);
      expect(problems(base(), user())).to.deep.equal([
        'linux.namespaces: rootless container requires user namespaces (ts-runc runs as user alice, uid 1000): add a "user" namespace with uidMappings and gidMappings, as `ts-runc spec --rootless` writes',
      ]);
      expect(problems(mapped(), user())).to.deep.equal([]);
    });

    it('maps only the user\'s own ids, or subordinate ones (in one range or adjacent ones)', function () {
      expect(problems(mapped([{ containerID: 1, hostID: 100000, size: 65536 }]), user())).to.deep.equal([]);
      const split = user({ uid: authority(1000, [{ start: 200000, count: 10 }, { start: 200010, count: 10 }]), gid: authority(1000, [{ start: 200000, count: 20 }]) });
      expect(problems(mapped([{ containerID: 1, hostID: 200005, size: 15 }]), split)).to.deep.equal([]);
      expect(problems(mapped([{ containerID: 1, hostID: 200005, size: 16 }]), split)).to.have.length(2);
    });

    it('ids that are not the user\'s: each entry, what the user has, and the usermod that fixes it', function () {
      expect(problems(mapped([{ containerID: 1, hostID: 300000, size: 10 }]), user({ gid: authority(1000, []) }))).to.deep.equal([
        'linux.uidMappings[1]: host uids 300000-300009 are not subordinate uids of user alice (uid 1000) in /etc/subuid (it has 100000-165535): map those, or give the user the range (usermod --add-subuids 300000-300009 alice)',
        'linux.gidMappings[1]: host gids 300000-300009 are not subordinate gids of user alice (uid 1000) in /etc/subgid (it has none): map those, or give the user the range (usermod --add-subgids 300000-300009 alice)',
      ]);
    });

    it('no mapping tool: says which and where it comes from; NSS subordinate ids are the tool\'s to check', function () {
      const noTool = user({ uid: authority(1000, [{ start: 100000, count: 65536 }], null) });
      expect(problems(mapped([{ containerID: 1, hostID: 100000, size: 1 }]), noTool)).to.deep.equal([
        'linux.uidMappings: mapping uids other than this user\'s own (1000) needs newuidmap, which is not in $PATH: install it (Debian and Ubuntu: apt-get install uidmap; Fedora: shadow-utils)',
      ]);
      expect(problems(mapped([{ containerID: 0, hostID: 1000, size: 1 }])), 'own id only: no tool needed').to.deep.equal([]);
      const nss = user({ uid: authority(1000, null), gid: authority(1000, null) });
      expect(problems(mapped([{ containerID: 1, hostID: 300000, size: 10 }]), nss)).to.deep.equal([]);
    });

    it('uid=/gid= mount options must name mapped ids (runc\'s rule), as in a root config\'s devpts gid=5', function () {
      const s = mapped();
      s.mounts!.push({ destination: '/mnt', type: 'tmpfs', source: 'tmpfs', options: ['uid=0', 'gid=5', 'mode=755'] });
      expect(problems(s, user())).to.deep.equal([
        'mounts[7].options: cannot specify gid=5 mount option for rootless container: gid 5 is not mapped in linux.gidMappings',
      ]);
    });
  });

  describe('rootfs', function () {
    it('root.path must resolve to a directory (a host fact)', function () {
      expect(problems(base(), fixedHost({ rootfs: { error: '/bundles/b/rootfs: no such directory' } }))).to.deep.equal([
        'root.path: /bundles/b/rootfs: no such directory',
      ]);
    });
  });

  describe('memoryPolicy', function () {
    const withPolicy = (mp: Record<string, unknown>) => {
      const spec = base();
      (spec.linux as Record<string, unknown>).memoryPolicy = mp;
      return problems(spec);
    };
    it('takes the nodes its mode takes (runc\'s rules), and nodes in range', function () {
      expect(withPolicy({ mode: 'MPOL_BIND', nodes: '0-1', flags: ['MPOL_F_STATIC_NODES'] })).to.deep.equal([]);
      expect(withPolicy({ mode: 'MPOL_PREFERRED' })).to.deep.equal([]);
      expect(withPolicy({ mode: 'MPOL_BIND' })).to.deep.equal(['linux.memoryPolicy.nodes: MPOL_BIND needs at least one node']);
      expect(withPolicy({ mode: 'MPOL_LOCAL', nodes: '0' })).to.deep.equal(['linux.memoryPolicy.nodes: MPOL_LOCAL takes no nodes']);
      expect(withPolicy({ mode: 'MPOL_INTERLEAVE', nodes: '3-1' })).to.deep.equal(['linux.memoryPolicy.nodes: invalid range 3-1: it runs backwards']);
      expect(withPolicy({ mode: 'MPOL_INTERLEAVE', nodes: '0,1024' })).to.deep.equal(['linux.memoryPolicy.nodes: 1024 is out of range (at most 1023)']);
      expect(withPolicy({ mode: 'MPOL_NOPE' })).to.deep.equal(['linux.memoryPolicy.mode: unknown memory policy mode "MPOL_NOPE"']);
    });
  });

  describe('execCPUAffinity', function () {
    it('its CPU lists are read at create already (as runc), in range', function () {
      const spec = base();
      (spec.process as unknown as Record<string, unknown>).execCPUAffinity = { initial: '0', final: '8192' };
      expect(problems(spec)).to.deep.equal(['process.execCPUAffinity.final: 8192 is out of range (at most 8191)']);
    });
  });

  describe('namespaces', function () {
    it('each type once', function () {
      expect(problems(withNs(base(), [...ALL_NS, { type: 'pid' }]))).to.deep.equal(['linux.namespaces[5].type: duplicate pid namespace']);
    });
  });

  describe('userNamespace', function () {
    const map = [{ containerID: 0, hostID: 1000, size: 65536 }];
    it('a new user namespace needs both mappings; mappings need a user namespace; they come in pairs', function () {
      const s = withNs(base(), [...ALL_NS, { type: 'user' }]);
      expect(problems(s)).to.deep.equal(['linux.uidMappings: user namespaces enabled, but no uid or gid mappings found']);
      s.linux!.uidMappings = map;
      expect(problems(s)).to.deep.equal(['linux.gidMappings: is required when uidMappings is set']);
      s.linux!.gidMappings = map;
      expect(problems(s)).to.deep.equal([]);
      const joined = withNs(base(), [...ALL_NS, { type: 'user', path: '/proc/1/ns/user' }]);
      expect(problems(joined)).to.deep.equal([]);
      const none = base();
      none.linux!.gidMappings = map;
      expect(problems(none)).to.deep.equal([
        'linux.uidMappings: is required when gidMappings is set',
        'linux.gidMappings: requires a user namespace in linux.namespaces',
      ]);
    });

    it('a mount\'s mappings come in pairs too', function () {
      const s = base();
      s.mounts!.push({ destination: '/data', type: 'bind', source: '/srv', options: ['bind'], uidMappings: map });
      expect(problems(s, fixedHost({ paths: { '/srv': dir() } }))).to.include('mounts[7].gidMappings: is required when uidMappings is set');
    });
  });

  describe('timeNamespace', function () {
    it('offsets need a new time namespace', function () {
      const s = base();
      s.linux!.timeOffsets = { boottime: { secs: 10 } };
      expect(problems(s)).to.deep.equal(['linux.timeOffsets: requires a time namespace in linux.namespaces']);
      withNs(s, [...ALL_NS, { type: 'time', path: '/proc/1/ns/time' }]);
      expect(problems(s)).to.deep.equal(['linux.timeOffsets: cannot be set for a time namespace joined by path (offsets apply to a new one only)']);
      withNs(s, [...ALL_NS, { type: 'time' }]);
      expect(problems(s)).to.deep.equal([]);
    });
  });

  describe('uts', function () {
    it('hostname and domainname need a UTS namespace that is not the runtime\'s own', function () {
      const s = withNs(base(), ALL_NS.filter((n) => n.type !== 'uts'));
      s.domainname = 'example.org';
      expect(problems(s)).to.deep.equal([
        'hostname: unable to set hostname without a private UTS namespace',
        'domainname: unable to set domainname without a private UTS namespace',
      ]);
      withNs(s, [...ALL_NS.filter((n) => n.type !== 'uts'), { type: 'uts', path: '/proc/1/ns/uts' }]);
      expect(problems(s, fixedHost({ runtimeNamespaces: new Set(['uts']) }))).to.have.length(2);
      expect(problems(s)).to.deep.equal([]);
    });
  });

  describe('security', function () {
    it('masked and read-only paths need a mount namespace', function () {
      const s = withNs(base(), ALL_NS.filter((n) => n.type !== 'mount'));
      expect(problems(s)).to.deep.equal(['linux.maskedPaths: unable to restrict sys entries without a private MNT namespace']);
      s.linux!.maskedPaths = [];
      expect(problems(s)).to.deep.equal(['linux.readonlyPaths: unable to restrict sys entries without a private MNT namespace']);
      s.linux!.readonlyPaths = [];
      expect(problems(s)).to.deep.equal([]);
    });
  });

  describe('sysctl', function () {
    const sysctls = (s: Spec, keys: string[]) => {
      s.linux!.sysctl = Object.fromEntries(keys.map((k) => [k, '1']));
      return s;
    };
    const IPC = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced', 'fs.mqueue.msg_max'];
    const NET = ['net.ipv4.ip_forward', 'net.core.somaxconn', 'net/ipv4/conf/all/rp_filter'];

    it('takes the keys of the namespaces the container has', function () {
      expect(problems(sysctls(base(), [...IPC, ...NET, 'kernel.domainname']))).to.deep.equal([]);
      const joined = withNs(sysctls(base(), [...IPC, ...NET]), [
        { type: 'mount' }, { type: 'uts' }, { type: 'ipc', path: '/run/ipcns/pod' }, { type: 'network', path: '/run/netns/pod' },
      ]);
      expect(problems(joined)).to.deep.equal([]);
    });

    it('refuses every key of a namespace the container shares with the host, in runc\'s words', function () {
      const s = withNs(sysctls(base(), [...IPC, ...NET, 'kernel.domainname']), [{ type: 'mount' }]);
      s.hostname = undefined;
      expect(problems(s)).to.deep.equal([
        ...IPC.map((k) => `linux.sysctl["${k}"]: sysctl "${k}" is not allowed in the hosts ipc namespace`),
        'linux.sysctl["net.ipv4.ip_forward"]: sysctl "net.ipv4.ip_forward" not allowed in host network namespace',
        'linux.sysctl["net.core.somaxconn"]: sysctl "net.core.somaxconn" not allowed in host network namespace',
        'linux.sysctl["net/ipv4/conf/all/rp_filter"]: sysctl "net.ipv4.conf.all.rp_filter" not allowed in host network namespace',
        'linux.sysctl["kernel.domainname"]: sysctl "kernel.domainname" is not in a separate kernel namespace',
      ]);
    });

    it('a namespace joined by path that is the runtime\'s own is the host\'s', function () {
      const s = withNs(sysctls(base(), ['net.ipv4.ip_forward', 'kernel.shmmax']), [
        { type: 'mount' }, { type: 'uts' }, { type: 'ipc', path: '/proc/1/ns/ipc' }, { type: 'network', path: '/proc/1/ns/net' },
      ]);
      expect(problems(s, fixedHost({ runtimeNamespaces: new Set(['network', 'ipc']) }))).to.deep.equal([
        'linux.sysctl["net.ipv4.ip_forward"]: sysctl "net.ipv4.ip_forward" not allowed in host network namespace',
        'linux.sysctl["kernel.shmmax"]: sysctl "kernel.shmmax" is not allowed in the hosts ipc namespace',
      ]);
      expect(problems(s)).to.deep.equal([]);
    });

    it('refuses what is in no namespace, and kernel.hostname (the OCI hostname field sets it)', function () {
      const keys = ['vm.swappiness', 'kernel.core_pattern', 'kernel.ns_last_pid', 'user.max_user_namespaces', 'kernel.hostname'];
      expect(problems(sysctls(base(), keys))).to.deep.equal([
        'linux.sysctl["vm.swappiness"]: sysctl "vm.swappiness" is not in a separate kernel namespace',
        'linux.sysctl["kernel.core_pattern"]: sysctl "kernel.core_pattern" is not in a separate kernel namespace',
        'linux.sysctl["kernel.ns_last_pid"]: sysctl "kernel.ns_last_pid" is not in a separate kernel namespace',
        'linux.sysctl["user.max_user_namespaces"]: sysctl "user.max_user_namespaces" is not in a separate kernel namespace',
        'linux.sysctl["kernel.hostname"]: sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field',
      ]);
    });

    it('refuses names that are not a path under /proc/sys', function () {
      expect(problems(sysctls(base(), ['net/../../kernel/core_pattern', 'net..ipv4', '/net/x', 'net.ipv4.']))).to.deep.equal([
        'linux.sysctl["net/../../kernel/core_pattern"]: invalid sysctl name',
        'linux.sysctl["net..ipv4"]: invalid sysctl name',
        'linux.sysctl["/net/x"]: invalid sysctl name',
        'linux.sysctl["net.ipv4."]: invalid sysctl name',
      ]);
    });
  });

  describe('cgroups (linux.resources.unified)', function () {
    const withUnified = (unified: Record<string, string>) => {
      const s = base();
      s.linux!.resources = { unified };
      return s;
    };

    it('takes limit files on a cgroup v2 host', function () {
      expect(problems(withUnified({ 'memory.high': '1G', 'cpu.weight': '50', 'cgroup.max.depth': '2', 'cgroup.max.descendants': '10', 'hugetlb.2MB.max': '0' }))).to.deep.equal([]);
    });

    it('refuses cgroup core files, paths and anything not CONTROLLER.PARAMETER', function () {
      const keys = ['cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control', 'cgroup.type', 'cgroup.kill', 'cgroup.freeze', 'cgroup.pressure', '../cgroup.procs', 'memory/../cgroup.procs', 'sub/memory.max', '..memory.max', '.memory.max', '', 'memorymax', 'memory.'];
      expect(problems(withUnified(Object.fromEntries(keys.map((k) => [k, '1']))))).to.deep.equal([
        ...['cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control', 'cgroup.type', 'cgroup.kill', 'cgroup.freeze', 'cgroup.pressure'].map(
          (k) => `linux.resources.unified["${k}"]: is a cgroup core file, not a limit: it cannot be set`,
        ),
        'linux.resources.unified["../cgroup.procs"]: must be a file name (no slashes)',
        'linux.resources.unified["memory/../cgroup.procs"]: must be a file name (no slashes)',
        'linux.resources.unified["sub/memory.max"]: must be a file name (no slashes)',
        'linux.resources.unified["..memory.max"]: must be a file name (no "..")',
        'linux.resources.unified[".memory.max"]: must be a file name (no "..")',
        'linux.resources.unified[""]: key must not be empty',
        'linux.resources.unified.memorymax: must be in the form CONTROLLER.PARAMETER',
        'linux.resources.unified["memory."]: must be in the form CONTROLLER.PARAMETER',
      ]);
    });

    it('refuses unified where the controllers are on cgroup v1 (runc: "cannot use unified on cgroup v1")', function () {
      const host = fixedHost({ cgroup: { layout: HYBRID_LAYOUT, dirs: {} } });
      expect(problems(withUnified({ 'memory.max': '1', 'hugetlb.2MB.max': '0' }), host)).to.deep.equal([
        'linux.resources.unified["memory.max"]: cannot use unified on cgroup v1: the memory controller is mounted as cgroup v1 on this host',
        'linux.resources.unified["hugetlb.2MB.max"]: cannot use unified on cgroup v1: this host\'s cgroup controllers are on cgroup v1 (hybrid)',
      ]);
      expect(problems(withUnified({}), host)).to.deep.equal([]);
    });

    it('is the same check for update (exported, with the resources document\'s own place)', function () {
      expect(checkUnified({ 'cgroup.procs': '1' }, V2_LAYOUT).map((e) => e.message)).to.deep.equal([
        'linux.resources.unified["cgroup.procs"]: is a cgroup core file, not a limit: it cannot be set',
      ]);
      expect(checkUnified({ 'io.max': '8:0 rbps=1' }, { mode: 'v1', v1: new Map([['blkio', '/x']]) }, []).map((e) => e.message)).to.deep.equal([
        'unified["io.max"]: cannot use unified on cgroup v1: this host\'s cgroup controllers are on cgroup v1 (v1)',
      ]);
      expect(checkUnified(undefined, V2_LAYOUT)).to.deep.equal([]);
    });
  });

  describe('intelRdt', function () {
    it('is refused plainly, saying whether resctrl is mounted', function () {
      const s = base();
      s.linux!.intelRdt = { closID: 'g' };
      expect(problems(s)).to.deep.equal(['linux.intelRdt: Intel RDT is requested but no resctrl file system is mounted (mount -t resctrl resctrl /sys/fs/resctrl)']);
      expect(problems(s, fixedHost({ resctrl: '/sys/fs/resctrl' }))).to.deep.equal(['linux.intelRdt: Intel RDT is not supported by ts-runc (resctrl is mounted at /sys/fs/resctrl)']);
    });
  });

  describe('mounts', function () {
    const withMounts = (...mounts: NonNullable<Spec['mounts']>) => {
      const s = base();
      s.mounts = mounts;
      return s;
    };

    it('only a procfs on /proc (runc\'s checkProcMount); under /proc only the lxcfs files', function () {
      const host = fixedHost({ paths: { '/proc': dir(true), '/etc': dir(), '/x/meminfo': file(), '/bundles/b/meminfo': file() } });
      const ok = withMounts(
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/proc/meminfo', type: 'bind', source: '/x/meminfo', options: ['bind'] },
        { destination: 'proc/uptime', type: 'bind', source: 'meminfo', options: ['bind'] },
        { destination: '/procfoo', type: 'tmpfs', source: 'tmpfs' },
        { destination: '/mnt/proc', type: 'proc', source: 'proc' },
      );
      expect(problems(ok, host)).to.deep.equal([]);
      expect(problems(withMounts({ destination: '/proc', type: 'bind', source: '/proc', options: ['rbind'] }), host)).to.deep.equal([]);
      const bad = withMounts(
        { destination: '/proc', type: 'tmpfs', source: 'tmpfs' },
        { destination: 'proc/', type: 'bind', source: '/etc', options: ['bind'] },
        { destination: '/proc/self', type: 'proc', source: 'proc' },
        { destination: '/proc/../proc/sys', type: 'tmpfs' },
      );
      expect(problems(bad, host)).to.deep.equal([
        'mounts[0].destination: "/proc" cannot be mounted because it is not of type proc',
        'mounts[1].destination: "/proc" cannot be mounted because it is not of type proc',
        'mounts[2].destination: "/proc/self" cannot be mounted because it is inside /proc',
        'mounts[3].destination: "/proc/sys" cannot be mounted because it is inside /proc',
      ]);
    });

    it('a bind mount needs a source that exists (relative to the bundle)', function () {
      const s = withMounts(
        { destination: '/a', type: 'bind', options: ['bind'] },
        { destination: '/b', type: 'bind', source: 'data', options: ['rbind'] },
        { destination: '/c', type: 'none', source: '/srv', options: ['bind'] },
      );
      expect(problems(s, fixedHost({ paths: { '/bundles/b/data': missing(), '/srv': dir() } }))).to.deep.equal([
        'mounts[0].source: a bind mount needs a source',
        'mounts[1].source: /bundles/b/data: no such file or directory',
      ]);
    });

    it('id-mapping only for bind mounts, with both mappings or the container\'s', function () {
      const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
      const host = fixedHost({ paths: { '/srv': dir() } });
      const s = withMounts(
        { destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['idmap'] },
        { destination: '/a', type: 'bind', source: '/srv', options: ['bind', 'idmap'] },
        { destination: '/b', type: 'bind', source: '/srv', options: ['bind'], uidMappings: map, gidMappings: [] },
        { destination: '/c', type: 'bind', source: '/srv', options: ['rbind', 'ridmap'], uidMappings: map, gidMappings: map },
      );
      expect(problems(s, host)).to.deep.equal([
        'mounts[0].options: id-mapped mounts are only supported for bind mounts',
        'mounts[1].options: idmap without uidMappings and gidMappings needs a container user namespace with mappings',
        'mounts[2].gidMappings: an id-mapped mount needs both uidMappings and gidMappings',
      ]);
      const userns = withNs(withMounts(s.mounts![1]!), [...ALL_NS, { type: 'user' }]);
      userns.linux!.uidMappings = map;
      userns.linux!.gidMappings = map;
      expect(problems(userns, host)).to.deep.equal([]);
    });

    it('are not checked without a new mount namespace (they are not made)', function () {
      const s = withNs(withMounts({ destination: '/proc', type: 'tmpfs' }), ALL_NS.filter((n) => n.type !== 'mount'));
      s.linux!.maskedPaths = [];
      s.linux!.readonlyPaths = [];
      expect(problems(s)).to.deep.equal([]);
    });
  });

  describe('seccomp', function () {
    it('listener metadata needs a listener path', function () {
      const s = base();
      s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerMetadata: 'x' };
      expect(problems(s)).to.deep.equal(['linux.seccomp.listenerMetadata: requires linux.seccomp.listenerPath']);
      s.linux!.seccomp.listenerPath = '/run/agent.sock';
      expect(problems(s)).to.deep.equal([]);
    });
  });

  describe('process checks (the container\'s process and an exec\'d one)', function () {
    const proc = (p: Partial<Process>): Process => ({ args: ['true'], cwd: '/', ...p });
    const lines = (p: Process, field: string, host = fixedHost()) => processProblems({ process: p, field, host }).map((e) => e.message);

    it('rlimits: each type once', function () {
      const p = proc({ rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }, { type: 'RLIMIT_CORE', soft: 0, hard: 0 }, { type: 'RLIMIT_NOFILE', soft: 2, hard: 2 }] });
      expect(lines(p, 'process')).to.deep.equal(['process.rlimits[2].type: duplicate RLIMIT_NOFILE']);
      expect(lines(p, '')).to.deep.equal(['rlimits[2].type: duplicate RLIMIT_NOFILE']);
      expect(lines(proc({ rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }] }), 'process')).to.deep.equal([]);
    });

    it('lsm: a profile or label needs the LSM enabled on the host', function () {
      const p = proc({ apparmorProfile: 'docker-default', selinuxLabel: 'system_u:system_r:container_t:s0' });
      expect(lines(p, 'process')).to.deep.equal([
        'process.apparmorProfile: AppArmor profile "docker-default" requested but AppArmor is not enabled on this host',
        'process.selinuxLabel: SELinux label requested but SELinux is not enabled on this host',
      ]);
      expect(lines(p, 'process', fixedHost({ apparmor: true, selinux: true }))).to.deep.equal([]);
    });

    it('run with the container checks on config.json\'s process', function () {
      const s = base();
      s.process!.rlimits!.push({ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 });
      expect(problems(s)).to.deep.equal(['process.rlimits[1].type: duplicate RLIMIT_NOFILE']);
    });
  });

  describe('throwProblems', function () {
    it('throws nothing, one ConfigError, or ConfigErrors listing them', function () {
      expect(() => throwProblems([])).to.not.throw();
      const one = new ConfigError('a', 'b');
      expect(() => throwProblems([one])).to.throw(ConfigError, 'a: b');
      expect(() => throwProblems([one, new ConfigError('c', 'd')])).to.throw(ConfigErrors, 'a: b\nc: d');
    });
  });
});
