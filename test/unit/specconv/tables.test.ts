// Each table of the conversion on its own: the kernel numbers checked against the system's
// C headers (when present), and what each name does to the plan.
import { expect } from 'chai';
import { CAPABILITIES, CAPABILITY_SETS, capabilityMask, capabilityNumber } from '../../../src/linux/capabilities.js';
import * as mo from '../../../src/linux/mount-options.js';
import { MOUNT_OPTIONS, ROOTFS_PROPAGATION, isBindMount, parseMountOptions } from '../../../src/linux/mount-options.js';
import { JOIN_ORDER, NAMESPACES, namespaceInfo } from '../../../src/linux/namespaces.js';
import { IOPRIO_CLASSES, PERSONALITY_DOMAINS, SCHED_FLAGS, SCHED_POLICIES, ioprioValue, lookup } from '../../../src/linux/process-attrs.js';
import { RLIMITS, rlimitResource } from '../../../src/linux/rlimits.js';
import { SECCOMP_ACTIONS, SECCOMP_OPERATORS } from '../../../src/linux/seccomp.js';
import { SIGNALS, parseSignal } from '../../../src/linux/signals.js';
import { isSysctlPath, sysctlKey, sysctlNamespace } from '../../../src/linux/sysctl.js';
import { ConfigError, UsageError } from '../../../src/util/errors.js';
import { skipWith } from '../../helpers/privileges.js';
import { cConstants, header } from './c-headers.js';
import { ALL_CAPS, LAST_CAP } from './host.js';

/** Headers' values for `names` (header name -> our value), or skip. */
function againstHeaders(ctx: Mocha.Context, files: string[], pairs: [string, number | bigint][]): void {
  const found = files.map((f) => header(f));
  if (found.some((f) => !f)) skipWith(ctx, `C headers not installed: ${files.filter((_, i) => !found[i]).join(', ')}`);
  const defs = cConstants(...(found as string[]));
  const checked = pairs.filter(([name]) => defs.has(name));
  expect(checked.length, 'constants found in the headers').to.be.greaterThan(pairs.length / 2);
  for (const [name, ours] of checked) expect(BigInt(ours), name).to.equal(defs.get(name));
}

describe('specconv tables', function () {
  describe('mount options', function () {
    it('mount(2) flags and mount_setattr(2) attributes are the kernel\'s numbers', function () {
      const names = Object.keys(mo).filter((k) => /^(MS_|MOUNT_ATTR_)/.test(k));
      againstHeaders(this, ['/usr/include/linux/mount.h'], names.map((n) => [n, (mo as unknown as Record<string, number>)[n]!]));
    });

    it('every option: what it sets and clears (config.md "Linux mount options")', function () {
      // [option, flags set, flags cleared] for the mount(2) flag options.
      const flags: [string, number, number][] = [
        ['async', 0, mo.MS_SYNCHRONOUS], ['atime', 0, mo.MS_NOATIME], ['defaults', 0, 0], ['dev', 0, mo.MS_NODEV],
        ['diratime', 0, mo.MS_NODIRATIME], ['dirsync', mo.MS_DIRSYNC, 0], ['exec', 0, mo.MS_NOEXEC],
        ['iversion', mo.MS_I_VERSION, 0], ['lazytime', mo.MS_LAZYTIME, 0], ['loud', 0, mo.MS_SILENT],
        ['mand', mo.MS_MANDLOCK, 0], ['noatime', mo.MS_NOATIME, 0], ['nodev', mo.MS_NODEV, 0],
        ['nodiratime', mo.MS_NODIRATIME, 0], ['noexec', mo.MS_NOEXEC, 0], ['noiversion', 0, mo.MS_I_VERSION],
        ['nolazytime', 0, mo.MS_LAZYTIME], ['nomand', 0, mo.MS_MANDLOCK], ['norelatime', 0, mo.MS_RELATIME],
        ['nostrictatime', 0, mo.MS_STRICTATIME], ['nosuid', mo.MS_NOSUID, 0], ['nosymfollow', mo.MS_NOSYMFOLLOW, 0],
        ['relatime', mo.MS_RELATIME, 0], ['remount', mo.MS_REMOUNT, 0], ['ro', mo.MS_RDONLY, 0], ['rw', 0, mo.MS_RDONLY],
        ['silent', mo.MS_SILENT, 0], ['strictatime', mo.MS_STRICTATIME, 0], ['suid', 0, mo.MS_NOSUID],
        ['symfollow', 0, mo.MS_NOSYMFOLLOW], ['sync', mo.MS_SYNCHRONOUS, 0],
      ];
      // [option, propagation flag, recursive]
      const propagation: [string, number, boolean][] = [
        ['private', mo.MS_PRIVATE, false], ['rprivate', mo.MS_PRIVATE, true], ['shared', mo.MS_SHARED, false],
        ['rshared', mo.MS_SHARED, true], ['slave', mo.MS_SLAVE, false], ['rslave', mo.MS_SLAVE, true],
        ['unbindable', mo.MS_UNBINDABLE, false], ['runbindable', mo.MS_UNBINDABLE, true],
      ];
      // [option, recursive attributes set, cleared]
      const A = mo.MOUNT_ATTR__ATIME;
      const recursive: [string, number, number][] = [
        ['ratime', mo.MOUNT_ATTR_RELATIME, A], ['rdev', 0, mo.MOUNT_ATTR_NODEV], ['rdiratime', 0, mo.MOUNT_ATTR_NODIRATIME],
        ['rexec', 0, mo.MOUNT_ATTR_NOEXEC], ['rnoatime', mo.MOUNT_ATTR_NOATIME, A], ['rnodev', mo.MOUNT_ATTR_NODEV, 0],
        ['rnodiratime', mo.MOUNT_ATTR_NODIRATIME, 0], ['rnoexec', mo.MOUNT_ATTR_NOEXEC, 0],
        ['rnorelatime', mo.MOUNT_ATTR_STRICTATIME, A], ['rnostrictatime', mo.MOUNT_ATTR_RELATIME, A],
        ['rnosuid', mo.MOUNT_ATTR_NOSUID, 0], ['rnosymfollow', mo.MOUNT_ATTR_NOSYMFOLLOW, 0],
        ['rrelatime', mo.MOUNT_ATTR_RELATIME, A], ['rro', mo.MOUNT_ATTR_RDONLY, 0], ['rrw', 0, mo.MOUNT_ATTR_RDONLY],
        ['rstrictatime', mo.MOUNT_ATTR_STRICTATIME, A], ['rsuid', 0, mo.MOUNT_ATTR_NOSUID],
        ['rsymfollow', 0, mo.MOUNT_ATTR_NOSYMFOLLOW],
      ];
      const special = ['bind', 'rbind', 'tmpcopyup', 'idmap', 'ridmap'];
      const listed = [...flags.map((f) => f[0]), ...propagation.map((p) => p[0]), ...recursive.map((r) => r[0]), ...special];
      expect([...listed].sort()).to.deep.equal(Object.keys(MOUNT_OPTIONS).sort());

      for (const [opt, set, clear] of flags) {
        const o = parseMountOptions([opt], 'o');
        expect([o.flagsSet, o.flagsClear, o.data], opt).to.deep.equal([set, clear, []]);
      }
      for (const [opt, flag, rec] of propagation) {
        const o = parseMountOptions([opt], 'o');
        expect([o.propagation, o.propagationRecursive, o.flagsSet], opt).to.deep.equal([flag, rec, 0]);
      }
      for (const [opt, set, clr] of recursive) {
        const o = parseMountOptions([opt], 'o');
        expect([o.rattrSet, o.rattrClr, o.flagsSet], opt).to.deep.equal([set, clr, 0]);
      }
      expect(parseMountOptions(['rbind'], 'o').recursive).to.equal(true);
      expect(parseMountOptions(['bind'], 'o').recursive).to.equal(false);
      expect(parseMountOptions(['tmpcopyup'], 'o').tmpcopyup).to.equal(true);
      expect(parseMountOptions(['idmap'], 'o')).to.include({ idmap: true, idmapRecursive: false });
      expect(parseMountOptions(['ridmap'], 'o')).to.include({ idmap: true, idmapRecursive: true });
    });

    it('later options win; unknown ones are file-system data; an empty one is an error naming it', function () {
      const o = parseMountOptions(['ro', 'nosuid', 'rw', 'size=64k', 'suid', 'mode=755'], 'mounts[0].options');
      expect([o.flagsSet, o.flagsClear, o.data]).to.deep.equal([0, mo.MS_RDONLY | mo.MS_NOSUID, ['size=64k', 'mode=755']]);
      expect(parseMountOptions(['rro', 'rrw'], 'o')).to.include({ rattrSet: 0, rattrClr: mo.MOUNT_ATTR_RDONLY });
      expect(() => parseMountOptions(['ro', ''], 'mounts[2].options')).to.throw(ConfigError, 'mounts[2].options[1]: empty mount option');
    });

    it('a bind mount is type "bind" or a bind/rbind option, nothing else', function () {
      expect(isBindMount({ destination: '/a', type: 'bind' })).to.equal(true);
      expect(isBindMount({ destination: '/a', type: 'none', options: ['rbind'] })).to.equal(true);
      expect(isBindMount({ destination: '/a', options: ['ro', 'bind'] })).to.equal(true);
      expect(isBindMount({ destination: '/a', type: 'tmpfs', options: ['binder', 'rbindx'] })).to.equal(false);
    });

    it('rootfsPropagation values', function () {
      expect(ROOTFS_PROPAGATION).to.deep.equal({
        private: mo.MS_PRIVATE, rprivate: mo.MS_PRIVATE | mo.MS_REC, shared: mo.MS_SHARED, rshared: mo.MS_SHARED | mo.MS_REC,
        slave: mo.MS_SLAVE, rslave: mo.MS_SLAVE | mo.MS_REC, unbindable: mo.MS_UNBINDABLE, runbindable: mo.MS_UNBINDABLE | mo.MS_REC,
      });
    });
  });

  describe('capabilities', function () {
    it('numbers are the kernel\'s (linux/capability.h)', function () {
      againstHeaders(this, ['/usr/include/linux/capability.h'], CAPABILITIES.map((name, i) => [name, i]));
    });

    it('names with or without CAP_, any case; five sets', function () {
      expect(capabilityNumber('CAP_KILL')).to.equal(5);
      expect(capabilityNumber('kill')).to.equal(5);
      expect(capabilityNumber('Cap_Sys_Admin')).to.equal(21);
      expect(capabilityNumber('CAP_NOPE')).to.equal(undefined);
      expect(CAPABILITY_SETS).to.deep.equal(['bounding', 'effective', 'inheritable', 'permitted', 'ambient']);
    });

    it('a mask; unknown names fail naming the entry; what the host cannot grant is skipped with a warning', function () {
      const warnings: string[] = [];
      const limits = { lastCap: LAST_CAP, boundingSet: ALL_CAPS & ~(1n << 21n) };
      expect(capabilityMask(['CAP_CHOWN', 'CAP_KILL'], 'process.capabilities.bounding', limits, warnings)).to.equal(0b100001n);
      expect(capabilityMask(['CAP_SYS_ADMIN'], 'process.capabilities.effective', limits, warnings)).to.equal(0n);
      expect(capabilityMask(['CAP_CHECKPOINT_RESTORE'], 'f', { ...limits, lastCap: 39 }, warnings)).to.equal(0n);
      expect(warnings).to.deep.equal([
        "process.capabilities.effective: capability CAP_SYS_ADMIN cannot be granted: it is not in the runtime's bounding set; skipped",
        'f: capability CAP_CHECKPOINT_RESTORE is not supported by the running kernel; skipped',
      ]);
      expect(() => capabilityMask(['CAP_KILL', 'CAP_FLY'], 'process.capabilities.ambient', limits, [])).to.throw(
        ConfigError,
        'process.capabilities.ambient[1]: unknown capability "CAP_FLY"',
      );
    });
  });

  describe('namespaces', function () {
    it('clone(2) flags are the kernel\'s (linux/sched.h) and /proc/<pid>/ns names', function () {
      const names: Record<string, string> = { pid: 'CLONE_NEWPID', network: 'CLONE_NEWNET', mount: 'CLONE_NEWNS', ipc: 'CLONE_NEWIPC', uts: 'CLONE_NEWUTS', user: 'CLONE_NEWUSER', cgroup: 'CLONE_NEWCGROUP', time: 'CLONE_NEWTIME' };
      againstHeaders(this, ['/usr/include/linux/sched.h'], Object.entries(NAMESPACES).map(([t, info]) => [names[t]!, info.flag]));
      expect(Object.fromEntries(Object.entries(NAMESPACES).map(([t, i]) => [t, i.proc]))).to.deep.equal({
        pid: 'pid', network: 'net', mount: 'mnt', ipc: 'ipc', uts: 'uts', user: 'user', cgroup: 'cgroup', time: 'time',
      });
    });

    it('joins the user namespace first and the mount namespace last; unknown types fail naming the field', function () {
      expect(JOIN_ORDER[0]).to.equal('user');
      expect(JOIN_ORDER[JOIN_ORDER.length - 1]).to.equal('mount');
      expect([...JOIN_ORDER].sort()).to.deep.equal(Object.keys(NAMESPACES).sort());
      expect(() => namespaceInfo('nets', 'linux.namespaces[3].type')).to.throw(ConfigError, 'linux.namespaces[3].type: unknown namespace type "nets"');
    });
  });

  describe('rlimits', function () {
    it('resource numbers are the kernel\'s (asm-generic/resource.h); unknown names fail naming the field', function () {
      againstHeaders(this, ['/usr/include/asm-generic/resource.h'], Object.entries(RLIMITS));
      expect(Object.keys(RLIMITS)).to.have.length(16);
      expect(rlimitResource('RLIMIT_NOFILE', 'f')).to.equal(7);
      expect(() => rlimitResource('RLIMIT_FILES', 'process.rlimits[0].type')).to.throw(ConfigError, 'process.rlimits[0].type: unknown rlimit type "RLIMIT_FILES"');
    });
  });

  describe('signals', function () {
    it('numbers are the kernel\'s (bits/signum-*.h)', function () {
      againstHeaders(
        this,
        ['/usr/include/x86_64-linux-gnu/bits/signum-generic.h', '/usr/include/x86_64-linux-gnu/bits/signum-arch.h'],
        Object.entries(SIGNALS),
      );
    });

    it('names with or without SIG, any case, numbers, real-time offsets; anything else is a usage error', function () {
      expect(['KILL', 'SIGKILL', 'sigkill', 'kill', '9', ' TERM '].map(parseSignal)).to.deep.equal([9, 9, 9, 9, 9, 15]);
      expect(['RTMIN', 'SIGRTMIN+3', 'RTMAX-1', 'RTMAX', '0', '64'].map(parseSignal)).to.deep.equal([34, 37, 63, 64, 0, 64]);
      for (const bad of ['65', 'SIGNOPE', 'RTMIN-1', 'RTMAX+1', '-1', '']) expect(() => parseSignal(bad), bad).to.throw(UsageError);
    });
  });

  describe('personality, scheduler, I/O priority', function () {
    it('personality domains are the kernel\'s (linux/personality.h)', function () {
      againstHeaders(this, ['/usr/include/linux/personality.h'], [['PER_LINUX', PERSONALITY_DOMAINS.LINUX!], ['PER_LINUX32', PERSONALITY_DOMAINS.LINUX32!]]);
      expect(Object.keys(PERSONALITY_DOMAINS)).to.deep.equal(['LINUX', 'LINUX32']);
    });

    it('scheduler policies and flags are the kernel\'s (linux/sched.h)', function () {
      const policies = Object.entries(SCHED_POLICIES).map(([n, v]): [string, number] => [n === 'SCHED_OTHER' ? 'SCHED_NORMAL' : n, v]);
      againstHeaders(this, ['/usr/include/linux/sched.h'], [...policies, ...Object.entries(SCHED_FLAGS)]);
    });

    it('I/O priority classes (linux/ioprio.h) and IOPRIO_PRIO_VALUE', function () {
      againstHeaders(this, ['/usr/include/linux/ioprio.h'], Object.entries(IOPRIO_CLASSES));
      expect(ioprioValue(IOPRIO_CLASSES.IOPRIO_CLASS_BE!, 4)).to.equal((2 << 13) | 4);
      expect(() => lookup(IOPRIO_CLASSES, 'IOPRIO_CLASS_NONE', 'process.ioPriority.class', 'I/O priority class')).to.throw(
        ConfigError,
        'process.ioPriority.class: unknown I/O priority class "IOPRIO_CLASS_NONE"',
      );
    });
  });

  describe('seccomp', function () {
    it('actions and operators are libseccomp\'s (seccomp.h)', function () {
      againstHeaders(this, ['/usr/include/seccomp.h'], [
        ...Object.entries(SECCOMP_ACTIONS).filter(([, a]) => !a.takesErrno).map(([n, a]): [string, number] => [n, a.value]),
        ...Object.entries(SECCOMP_OPERATORS),
      ]);
    });
  });

  describe('sysctl keys', function () {
    it('dotted and path spellings (sysctl.d(5): "/" in a dotted key is a "." in a name)', function () {
      expect(sysctlKey('net.ipv4.ip_forward')).to.deep.equal({ dotted: 'net.ipv4.ip_forward', path: 'net/ipv4/ip_forward' });
      expect(sysctlKey('net.ipv4.conf.eth0/100.rp_filter')).to.deep.equal({ dotted: 'net.ipv4.conf.eth0/100.rp_filter', path: 'net/ipv4/conf/eth0.100/rp_filter' });
      expect(sysctlKey('net/ipv4/conf/eth0.100/rp_filter')).to.deep.equal({ dotted: 'net.ipv4.conf.eth0/100.rp_filter', path: 'net/ipv4/conf/eth0.100/rp_filter' });
      expect(['kernel/shmmax', 'a/b/c'].map(isSysctlPath)).to.deep.equal([true, true]);
      expect(['../x', 'a//b', '/a', 'a/./b', 'a/'].map(isSysctlPath)).to.deep.equal([false, false, false, false, false]);
    });

    it('which namespace each key belongs to (runc\'s list)', function () {
      const ns = (k: string) => sysctlNamespace(k);
      for (const k of ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced', 'fs.mqueue.msg_max', 'fs.mqueue.queues_max']) {
        expect(ns(k), k).to.equal('ipc');
      }
      for (const k of ['net.ipv4.ip_forward', 'net.core.somaxconn', 'net.ipv6.conf.all.disable_ipv6']) expect(ns(k), k).to.equal('network');
      expect([ns('kernel.hostname'), ns('kernel.domainname')]).to.deep.equal(['uts', 'uts']);
      for (const k of ['vm.swappiness', 'kernel.core_pattern', 'kernel.shm_next_id_x', 'kernel.msgmaxx', 'fs.mqueuex', 'netx.y', 'kernel.ns_last_pid', 'user.max_user_namespaces']) {
        expect(ns(k), k).to.equal(null);
      }
    });
  });
});
