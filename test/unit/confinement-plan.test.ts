// Plan-level confinement policy without a kernel: runc's /proc mount rules and the flags
// they put on the plan, SELinux mount labels, the Intel RDT check, id-map requests.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir } from '../helpers/context.js';
import { checkIdmapMounts, idmapRequest } from '../../src/linux/idmap-mounts.js';
import { checkIntelRdt, resctrlMountPoint } from '../../src/linux/intel-rdt.js';
import { applyMountLabel, withMountLabel } from '../../src/linux/lsm.js';
import { checkProcMounts, guardProcMounts } from '../../src/linux/proc-mounts.js';
import type { MountPlan } from '../../src/native/plan-types.js';
import type { Mount, Spec } from '../../src/spec/types.js';
import { ConfigError } from '../../src/util/errors.js';

const plan = (p: Partial<MountPlan>): MountPlan => ({
  bind: false, createFile: false, source: null, dest: '/x', fstype: null, data: null, flags: 0,
  attrSet: 0, attrClr: 0, rattrSet: 0, rattrClr: 0, propagation: 0, propagationRecursive: false,
  lateReadonly: false, tmpcopyup: false, ...p,
});

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as ConfigError).field;
  }
  return '';
}

describe('confinement policy in the plan', function () {
  describe('/proc mounts (runc checkProcMount)', function () {
    const check = (mounts: Mount[]) => fieldOf(() => checkProcMounts(mounts, '/bundle'));

    it('allows proc on /proc, a procfs bind on /proc, lxcfs-style files and anything outside /proc', function () {
      expect(check([{ destination: '/proc', type: 'proc', source: 'proc' }])).to.equal('');
      expect(check([{ destination: '/proc', type: 'bind', source: '/proc', options: ['rbind'] }])).to.equal('');
      expect(check([{ destination: '/proc/meminfo', type: 'bind', source: '/x/meminfo', options: ['bind'] }])).to.equal('');
      expect(check([{ destination: '/procfoo', type: 'tmpfs', source: 'tmpfs' }])).to.equal('');
      expect(check([{ destination: '/mnt/proc', type: 'proc', source: 'proc' }])).to.equal('');
    });

    it('refuses anything else on /proc, and anything under it outside the list', function () {
      expect(check([{ destination: '/proc', type: 'tmpfs', source: 'tmpfs' }])).to.equal('mounts[0].destination');
      expect(check([{ destination: 'proc/', type: 'bind', source: '/etc', options: ['bind'] }])).to.equal('mounts[0].destination');
      expect(check([{ destination: '/proc/self', type: 'proc', source: 'proc' }, { destination: '/proc/sys', type: 'tmpfs' }])).to.equal('mounts[0].destination');
      expect(check([{ destination: '/proc/../proc/sys', type: 'tmpfs' }])).to.equal('mounts[0].destination');
    });

    it('marks procfs/sysfs targets strict and lets only proc-on-/proc and listed files cover procfs', function () {
      const plans = [
        plan({ dest: '/proc', fstype: 'proc' }),
        plan({ dest: '/sys', fstype: 'sysfs' }),
        plan({ dest: '/proc/uptime', bind: true, source: '/x' }),
        plan({ dest: '/data', fstype: 'tmpfs' }),
        plan({ dest: '/proc', bind: true, source: '/proc' }),
      ];
      guardProcMounts(plans);
      expect(plans.map((p) => [!!p.noSymlinks, !!p.mayCoverProc])).to.deep.equal([
        [true, true],
        [true, false],
        [false, true],
        [false, false],
        [false, true],
      ]);
    });
  });

  describe('SELinux mount labels', function () {
    it('adds context= to the file systems the runtime makes, never to binds, procfs, sysfs or cgroups', function () {
      const plans = [
        plan({ fstype: 'tmpfs', data: 'mode=755' }),
        plan({ fstype: 'mqueue' }),
        plan({ fstype: 'proc' }),
        plan({ fstype: 'sysfs' }),
        plan({ fstype: 'cgroup2' }),
        plan({ bind: true, source: '/x' }),
      ];
      applyMountLabel(plans, 'system_u:object_r:container_file_t:s0', true);
      expect(plans.map((p) => p.data)).to.deep.equal([
        'mode=755,context="system_u:object_r:container_file_t:s0"',
        'context="system_u:object_r:container_file_t:s0"',
        null,
        null,
        null,
        null,
      ]);
    });

    it('leaves every mount alone without SELinux or without a label', function () {
      const plans = [plan({ fstype: 'tmpfs', data: 'mode=755' })];
      applyMountLabel(plans, 'x', false);
      applyMountLabel(plans, undefined, true);
      expect(plans[0]!.data).to.equal('mode=755');
      expect(withMountLabel(null, 'l')).to.equal('context="l"');
    });
  });

  describe('Intel RDT', function () {
    const mountinfo = (lines: string[]) => {
      const f = path.join(makeTempDir('mountinfo'), 'mountinfo');
      writeFileSync(f, `${lines.join('\n')}\n`);
      return f;
    };
    const spec = { ociVersion: '1.3.0', linux: { intelRdt: { closID: 'g' } } } as Spec;

    it('finds a resctrl mount in mountinfo', function () {
      expect(resctrlMountPoint(mountinfo(['22 1 0:21 / /sys rw - sysfs sysfs rw', '40 22 0:35 / /sys/fs/resctrl rw - resctrl resctrl rw']))).to.equal('/sys/fs/resctrl');
      expect(resctrlMountPoint(mountinfo(['22 1 0:21 / /sys rw - sysfs sysfs rw']))).to.equal(null);
    });

    it('linux.intelRdt is an error naming the field, with or without resctrl; absent, nothing is checked', function () {
      const none = mountinfo(['22 1 0:21 / /sys rw - sysfs sysfs rw']);
      const some = mountinfo(['40 22 0:35 / /sys/fs/resctrl rw - resctrl resctrl rw']);
      expect(() => checkIntelRdt(spec, none)).to.throw(ConfigError, /linux\.intelRdt: .*no resctrl/);
      expect(() => checkIntelRdt(spec, some)).to.throw(ConfigError, /linux\.intelRdt: .*not supported/);
      expect(() => checkIntelRdt({ ociVersion: '1.3.0' } as Spec, none)).to.not.throw();
    });
  });

  describe('id-mapped mount requests', function () {
    const map = [{ containerID: 0, hostID: 1000, size: 1 }];
    it('idmap, ridmap (with rbind) and bare mappings', function () {
      expect(idmapRequest({ destination: '/a', type: 'bind', source: '/x', options: ['bind'] }, 'm')).to.equal(null);
      expect(idmapRequest({ destination: '/a', type: 'bind', source: '/x', options: ['rbind', 'ridmap'] }, 'm')).to.include({ rbind: true, recursive: true });
      expect(idmapRequest({ destination: '/a', type: 'bind', source: '/x', options: ['bind', 'idmap'] }, 'm')).to.include({ rbind: false, recursive: false });
      expect(idmapRequest({ destination: '/a', type: 'bind', source: '/x', uidMappings: map, gidMappings: map } as Mount, 'm')).to.include({ recursive: false });
    });

    it('only bind mounts can be id-mapped', function () {
      expect(fieldOf(() => checkIdmapMounts([{ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['idmap'] }]))).to.equal('mounts[0].options');
      expect(fieldOf(() => checkIdmapMounts([{ destination: '/t', type: 'bind', source: '/x', options: ['bind', 'idmap'] }]))).to.equal('');
    });
  });
});
