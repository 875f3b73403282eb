// The decisions of a rootless runtime, without root: runc's `--rootless auto`, the default
// state root, how id maps are written, which cgroup driver (or none), and the words for a
// user namespace the kernel refuses. The integration tests (test/integration/rootless/)
// run them as a created user.
import { expect } from 'chai';
import os from 'node:os';
import { chooseDriver, limitsAsked } from '../../src/linux/cgroups/factory.js';
import { cgroupPathSpec, pathInHierarchy } from '../../src/linux/cgroups/path.js';
import { isOwnIdOnly, parseSubordinateIds, planIdMapWriting, rangeCovered } from '../../src/linux/idmap.js';
import {
  type RootlessFacts,
  cgroupOwnerUid,
  hostIdOf,
  hostUid,
  parseRootlessFlag,
  rootlessCgroups,
  runningInUserNamespace,
  stateRoot,
  userNamespaceRefusal,
} from '../../src/linux/rootless.js';
import { convertProcess } from '../../src/linux/specconv/process.js';
import { userName } from '../../src/state/store.js';
import { ConfigError, SystemError, UsageError } from '../../src/util/errors.js';

const facts = (euid: number, inUserns = false, owner = 0): RootlessFacts => ({ euid, inUserNamespace: () => inUserns, systemdOwnerUid: () => owner });

describe('rootless', function () {
  describe('who the runtime is', function () {
    it('a user namespace is any uid_map but the host\'s identity map', function () {
      expect(runningInUserNamespace('         0          0 4294967295\n')).to.equal(false);
      expect(runningInUserNamespace('         0       1000          1\n')).to.equal(true);
      expect(runningInUserNamespace('0 1000 1\n1 100000 65536\n')).to.equal(true);
    });

    it('maps an id out of a namespace: the host uid a user bus knows us by', function () {
      const map = '0 1000 1\n1 100000 65536\n';
      expect(hostIdOf(0, map)).to.equal(1000);
      expect(hostIdOf(7, map)).to.equal(100006);
      expect(hostIdOf(70000, map)).to.equal(null);
      expect(hostUid(0, map)).to.equal(1000);
      expect(hostUid(1001, '0 0 4294967295\n')).to.equal(1001);
    });

    it('the user whose systemd serves it, from its cgroup (sd_bus_creds_get_owner_uid)', function () {
      expect(cgroupOwnerUid('0::/user.slice/user-1000.slice/user@1000.service/app.slice/podman.scope\n')).to.equal(1000);
      expect(cgroupOwnerUid('0::/user.slice/user-1001.slice/session-3.scope\n')).to.equal(1001);
      expect(cgroupOwnerUid('0::/system.slice/containerd.service\n')).to.equal(0);
      expect(cgroupOwnerUid('0::/\n')).to.equal(0);
    });
  });

  describe('--rootless true|false|auto (runc\'s shouldUseRootlessCgroupManager)', function () {
    it('parses Go booleans and auto', function () {
      expect([undefined, '', 'auto', 'true', '1', 'T', 'false', '0', 'F'].map(parseRootlessFlag)).to.deep.equal(['auto', 'auto', 'auto', true, true, true, false, false, false]);
      expect(() => parseRootlessFlag('yes')).to.throw(UsageError, 'invalid --rootless value "yes"');
    });

    it('auto: a user is rootless; root on the host is not; root in a user namespace is, unless a system-wide systemd serves --systemd-cgroup', function () {
      const rows: [RootlessFacts, boolean, boolean][] = [
        [facts(1000), false, true],
        [facts(1000), true, true],
        [facts(0), false, false],
        [facts(0), true, false],
        [facts(0, true), false, true],
        [facts(0, true, 1000), true, true],
        [facts(0, true, 0), true, false],
      ];
      for (const [f, systemd, want] of rows) expect(rootlessCgroups('auto', systemd, f), JSON.stringify({ euid: f.euid, systemd })).to.equal(want);
      expect(rootlessCgroups(true, false, facts(0))).to.equal(true);
      expect(rootlessCgroups(false, false, facts(1000))).to.equal(false);
    });

    it('a user is rootless without reading /proc/self/uid_map', function () {
      let asked = false;
      rootlessCgroups('auto', false, { euid: 1000, inUserNamespace: () => (asked = true), systemdOwnerUid: () => 0 });
      expect(asked).to.equal(false);
    });
  });

  describe('the default --root (runc: /run/runc, or $XDG_RUNTIME_DIR/runc)', function () {
    it('root keeps /run/ts-runc, even with XDG_RUNTIME_DIR=/run/user/0', function () {
      expect(stateRoot({}, facts(0))).to.deep.equal({ root: '/run/ts-runc', private: false });
      expect(stateRoot({ XDG_RUNTIME_DIR: '/run/user/0' }, facts(0))).to.deep.equal({ root: '/run/ts-runc', private: false });
    });

    it('a user: $XDG_RUNTIME_DIR/ts-runc, made private', function () {
      expect(stateRoot({ XDG_RUNTIME_DIR: '/run/user/1000/' }, facts(1000))).to.deep.equal({ root: '/run/user/1000/ts-runc', private: true });
    });

    it('root in a user namespace: as a user, unless $USER is root', function () {
      expect(stateRoot({ XDG_RUNTIME_DIR: '/run/user/1000', USER: 'alice' }, facts(0, true))).to.deep.equal({ root: '/run/user/1000/ts-runc', private: true });
      expect(stateRoot({ XDG_RUNTIME_DIR: '/run/user/1000', USER: 'root' }, facts(0, true))).to.deep.equal({ root: '/run/ts-runc', private: false });
    });

    it('a user without XDG_RUNTIME_DIR, or with a relative one: an error naming the fix', function () {
      const none = stateRoot({}, facts(1000));
      expect(none).to.have.property('error').that.match(/XDG_RUNTIME_DIR is not set.*uid 1000.*--root DIR/);
      expect(stateRoot({ XDG_RUNTIME_DIR: 'run/u' }, facts(1000))).to.have.property('error').that.match(/must be an absolute path/);
    });
  });

  describe('id maps: written by the runtime, or by newuidmap/newgidmap', function () {
    const auth = (own: number) => ({ own, subordinate: [{ start: 100000, count: 65536 }], tool: `/usr/bin/new${own}map` });
    const user = { user: 'alice', uid: auth(1000), gid: auth(1000) };
    const one = [{ containerID: 0, hostID: 1000, size: 1 }];
    const sub = [...one, { containerID: 1, hostID: 100000, size: 65536 }];

    it('root writes every map itself and leaves setgroups alone', function () {
      expect(planIdMapWriting({ uidMappings: sub, gidMappings: sub }, null)).to.deep.equal({ uidTool: null, gidTool: null, denySetgroups: false });
    });

    it('a user writes only its own id, one long (setgroups denied first for gid_map); anything else goes through the tools', function () {
      expect(planIdMapWriting({ uidMappings: one, gidMappings: one }, user)).to.deep.equal({ uidTool: null, gidTool: null, denySetgroups: true });
      expect(planIdMapWriting({ uidMappings: sub, gidMappings: sub }, user)).to.deep.equal({ uidTool: '/usr/bin/new1000map', gidTool: '/usr/bin/new1000map', denySetgroups: false });
      expect(planIdMapWriting({ uidMappings: sub, gidMappings: one }, user)).to.deep.equal({ uidTool: '/usr/bin/new1000map', gidTool: null, denySetgroups: true });
      expect(isOwnIdOnly([{ containerID: 0, hostID: 1000, size: 2 }], 1000)).to.equal(false);
      expect(isOwnIdOnly([{ containerID: 5, hostID: 1000, size: 1 }], 1000)).to.equal(true);
    });

    it('reads /etc/subuid entries by name or uid; a range may span adjacent entries', function () {
      const text = '# comment\nalice:100000:65536\nbob:165536:65536\n1000:300000:10\nalice:x:y\n';
      expect(parseSubordinateIds(text, 'alice', 1000)).to.deep.equal([{ start: 100000, count: 65536 }, { start: 300000, count: 10 }]);
      expect(parseSubordinateIds(text, null, 1001)).to.deep.equal([]);
      const ranges = [{ start: 10, count: 5 }, { start: 15, count: 5 }, { start: 30, count: 5 }];
      expect(rangeCovered(12, 8, ranges)).to.equal(true);
      expect(rangeCovered(12, 9, ranges)).to.equal(false);
      expect(rangeCovered(30, 5, ranges)).to.equal(true);
      expect(rangeCovered(9, 2, ranges)).to.equal(false);
    });

    it('additional gids need setgroups: refused where the user namespace denies it', function () {
      const ctx = { field: 'process', limits: null, setGroups: false, oomScoreAdj: null, personality: -1, memoryPolicy: null, cpuAffinity: null, seccomp: null, preserveFds: 0, resolveHome: false, warnings: [] };
      const proc = { args: ['id'], cwd: '/', user: { uid: 0, gid: 0, additionalGids: [5] } };
      expect(() => convertProcess(proc, ctx)).to.throw(ConfigError, /^process\.user\.additionalGids: cannot set any additional groups in a rootless container/);
      expect(convertProcess(proc, { ...ctx, setGroups: true }).additionalGids).to.deep.equal([5]);
      expect(convertProcess({ ...proc, user: { uid: 0, gid: 0 } }, ctx).setGroups).to.equal(false);
    });
  });

  describe('which cgroup driver', function () {
    const delegated = () => ({ undelegated: [], explicitPath: false });
    const none = (explicitPath: boolean) => () => ({ undelegated: ['/sys/fs/cgroup/x (/sys/fs/cgroup is not writable)'], explicitPath });

    it('root: cgroupfs, or systemd with --systemd-cgroup, without probing anything', function () {
      const probe = () => {
        throw new Error('probed');
      };
      expect(chooseDriver({ systemd: false, rootless: false }, probe)).to.equal('cgroupfs');
      expect(chooseDriver({ systemd: true, rootless: false }, probe)).to.equal('systemd');
      expect(chooseDriver({ systemd: true, rootless: true }, probe)).to.equal('systemd');
    });

    it('rootless: cgroupfs where delegated; none without, unless a cgroupsPath was given (an error, as runc\'s)', function () {
      expect(chooseDriver({ systemd: false, rootless: true }, delegated)).to.equal('cgroupfs');
      expect(chooseDriver({ systemd: false, rootless: true }, none(false))).to.equal(null);
      expect(() => chooseDriver({ systemd: false, rootless: true }, none(true))).to.throw(SystemError, /^linux\.cgroupsPath: rootless: cannot use cgroup \/sys\/fs\/cgroup\/x .*leave linux\.cgroupsPath out/);
    });

    it('names the limits a container without cgroups goes without (device rules are not limits)', function () {
      expect(limitsAsked(undefined)).to.deep.equal([]);
      expect(limitsAsked({ devices: [{ allow: false, access: 'rwm' }] })).to.deep.equal([]);
      expect(limitsAsked({ memory: { limit: 1 }, pids: { limit: 5 }, cpu: {}, unified: {} })).to.deep.equal(['memory', 'pids']);
    });

    it('a relative cgroupsPath goes under the parent of the runtime\'s cgroup on v2 (runc\'s fs2), under it on v1', function () {
      expect(pathInHierarchy(cgroupPathSpec('ctr', 'id'), '/user.slice/user@1000.service/app.slice/run-1.service', true)).to.equal('/user.slice/user@1000.service/app.slice/ctr');
      expect(pathInHierarchy(cgroupPathSpec('ctr', 'id'), '/sandbox', false)).to.equal('/sandbox/ctr');
      expect(pathInHierarchy(cgroupPathSpec('/ctr', 'id'), '/sandbox', true)).to.equal('/ctr');
      expect(pathInHierarchy(cgroupPathSpec('ctr', 'id'), '/', true)).to.equal('/ctr');
    });
  });

  describe('a user namespace the kernel refuses', function () {
    const { ENOSPC, EPERM, EINVAL } = os.constants.errno;
    const sysctls = (values: Record<string, string>) => (file: string) => values[file] ?? null;

    it('names the sysctl that allows it', function () {
      expect(userNamespaceRefusal(ENOSPC, sysctls({ '/proc/sys/user/max_user_namespaces': '0\n' }))).to.match(/user\.max_user_namespaces = 0.*sysctl -w user\.max_user_namespaces=15000/);
      expect(userNamespaceRefusal(ENOSPC, sysctls({ '/proc/sys/user/max_user_namespaces': '5\n' }))).to.match(/limit on user namespaces is reached \(user\.max_user_namespaces = 5\)/);
      expect(userNamespaceRefusal(EPERM, sysctls({ '/proc/sys/kernel/unprivileged_userns_clone': '0' }))).to.match(/sysctl -w kernel\.unprivileged_userns_clone=1/);
      expect(userNamespaceRefusal(EPERM, sysctls({ '/proc/sys/kernel/apparmor_restrict_unprivileged_userns': '1' }))).to.match(/sysctl -w kernel\.apparmor_restrict_unprivileged_userns=0/);
      expect(userNamespaceRefusal(EPERM, sysctls({}))).to.equal(null);
      expect(userNamespaceRefusal(EINVAL, sysctls({ '/proc/sys/user/max_user_namespaces': '0' }))).to.equal(null);
    });
  });

  it('list\'s OWNER: the login name from /etc/passwd', function () {
    const passwd = 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\nbroken\n';
    expect(userName(1000, passwd)).to.equal('alice');
    expect(userName(0, passwd)).to.equal('root');
    expect(userName(1001, passwd)).to.equal(null);
  });
});
