// Privileges of the container process, read back from inside: the five capability sets
// (applied around the uid change with keep-caps), no_new_privs, the LSM fields on a host
// without those modules, personality, scheduler, I/O priority, intelRdt.
//
// The expected capability sets follow the kernel's execve rules (capabilities(7)); each
// case was checked against `runc run` of the same bundle.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { OciConfig } from '../../helpers/bundle.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireRoot } from '../../helpers/privileges.js';
import { capMask, hexMask, keyValues, oneLineError, procStatus, runSh, runShOk } from './support.js';

// capability numbers (linux/capability.h)
const CHOWN = 0;
const KILL = 5;
const NET_RAW = 13;
const SYS_NICE = 23;

const SETS = {
  bounding: ['CAP_KILL', 'CAP_NET_RAW', 'CAP_CHOWN', 'CAP_SYS_NICE'],
  effective: ['CAP_KILL', 'CAP_NET_RAW'],
  permitted: ['CAP_KILL', 'CAP_NET_RAW', 'CAP_CHOWN'],
  inheritable: ['CAP_KILL', 'CAP_CHOWN'],
  ambient: ['CAP_KILL', 'CAP_CHOWN'],
};

interface CapCase {
  title: string;
  uid: number;
  nnp: boolean;
  ambient: boolean;
  userns?: boolean;
  expect: { CapInh: number[]; CapPrm: number[]; CapEff: number[]; CapBnd: number[]; CapAmb: number[] };
}

const BND = [KILL, NET_RAW, CHOWN, SYS_NICE];
const CASES: CapCase[] = [
  {
    // root gains the bounding set at execve, but no_new_privs caps it at the permitted set
    title: 'root with no_new_privs: permitted and effective are the permitted set, ambient kept',
    uid: 0,
    nnp: true,
    ambient: true,
    expect: { CapInh: [KILL, CHOWN], CapPrm: [KILL, NET_RAW, CHOWN], CapEff: [KILL, NET_RAW, CHOWN], CapBnd: BND, CapAmb: [KILL, CHOWN] },
  },
  {
    title: 'root without no_new_privs: execve as root grants the whole bounding set',
    uid: 0,
    nnp: false,
    ambient: true,
    expect: { CapInh: [KILL, CHOWN], CapPrm: BND, CapEff: BND, CapBnd: BND, CapAmb: [KILL, CHOWN] },
  },
  {
    title: 'a non-root user keeps exactly the ambient capabilities across execve',
    uid: 1000,
    nnp: true,
    ambient: true,
    expect: { CapInh: [KILL, CHOWN], CapPrm: [KILL, CHOWN], CapEff: [KILL, CHOWN], CapBnd: BND, CapAmb: [KILL, CHOWN] },
  },
  {
    title: 'a non-root user without ambient capabilities ends with none (inheritable and bounding stay)',
    uid: 1000,
    nnp: true,
    ambient: false,
    expect: { CapInh: [KILL, CHOWN], CapPrm: [], CapEff: [], CapBnd: BND, CapAmb: [] },
  },
  {
    title: 'the same sets apply inside a user namespace',
    uid: 1000,
    nnp: true,
    ambient: true,
    userns: true,
    expect: { CapInh: [KILL, CHOWN], CapPrm: [KILL, CHOWN], CapEff: [KILL, CHOWN], CapBnd: BND, CapAmb: [KILL, CHOWN] },
  },
];

function useUserns(c: OciConfig): void {
  c.linux!.namespaces!.push({ type: 'user' });
  c.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  c.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
}

describe('privileges', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  describe('process.capabilities', function () {
    for (const c of CASES) {
      it(c.title, function () {
        const out = runShOk('grep -E "^(Cap|NoNewPrivs)" /proc/self/status; echo uid=$(id -u)', (cfg) => {
          cfg.process!.user = { uid: c.uid, gid: c.uid };
          cfg.process!.noNewPrivileges = c.nnp;
          cfg.process!.capabilities = { ...SETS, ambient: c.ambient ? SETS.ambient : [] };
          if (c.userns) useUserns(cfg);
        });
        const status = procStatus(out);
        expect(keyValues(out).uid).to.equal(String(c.uid));
        expect(status.NoNewPrivs).to.equal(c.nnp ? '1' : '0');
        for (const [field, caps] of Object.entries(c.expect)) {
          expect(hexMask(status[field]).toString(16), field).to.equal(capMask(caps).toString(16));
        }
      });
    }

    it('an unknown capability name fails naming it; nothing is left behind', function () {
      const r = runSh('true', (c) => {
        c.process!.capabilities!.effective = ['CAP_KILL', 'CAP_TELEPORT'];
      });
      expect(r.status).to.not.equal(0);
      expect(oneLineError(r)).to.match(/process\.capabilities\.effective\[1\].*CAP_TELEPORT/);
    });

    it('without process.capabilities the sets are left as the runtime has them (root: all)', function () {
      const out = runShOk('grep -E "^CapBnd" /proc/self/status', (c) => {
        delete c.process!.capabilities;
      });
      const host = procStatus(readFileSync('/proc/self/status', 'utf8'));
      expect(procStatus(out).CapBnd).to.equal(host.CapBnd);
    });
  });

  describe('security modules (neither AppArmor nor SELinux is enabled on this host)', function () {
    it('apparmorProfile: a clear error naming the field, nothing left behind', function () {
      const r = runSh('true', (c) => {
        c.process!.apparmorProfile = 'docker-default';
      });
      expect(r.status).to.not.equal(0);
      expect(oneLineError(r)).to.match(/process\.apparmorProfile: .*AppArmor is not enabled/);
    });

    it('selinuxLabel: a clear error naming the field, nothing left behind', function () {
      const r = runSh('true', (c) => {
        c.process!.selinuxLabel = 'system_u:system_r:container_t:s0:c1,c2';
      });
      expect(r.status).to.not.equal(0);
      expect(oneLineError(r)).to.match(/process\.selinuxLabel: .*SELinux is not enabled/);
    });

    it('linux.mountLabel without SELinux is ignored, as runc does: the mounts carry no context', function () {
      const out = runShOk('grep -c context= /proc/self/mountinfo; true', (c) => {
        c.linux!.mountLabel = 'system_u:object_r:container_file_t:s0:c1,c2';
      });
      expect(out.trim()).to.equal('0');
    });
  });

  describe('process attributes', function () {
    it('linux.personality LINUX32: uname -m says i686', function () {
      const out = runShOk('uname -m', (c) => {
        c.linux!.personality = { domain: 'LINUX32' };
      });
      expect(out.trim()).to.equal('i686');
    });

    it('linux.personality LINUX: uname -m says x86_64', function () {
      const out = runShOk('uname -m', (c) => {
        c.linux!.personality = { domain: 'LINUX' };
      });
      expect(out.trim()).to.equal(os.machine());
    });

    it('process.scheduler SCHED_BATCH with nice 5: policy and niceness in /proc/self/stat', function () {
      // fields 19 (nice) and 41 (policy) of /proc/<pid>/stat
      const out = runShOk('cut -d" " -f19,41 /proc/self/stat', (c) => {
        c.process!.scheduler = { policy: 'SCHED_BATCH', nice: 5 };
      });
      expect(out.trim()).to.equal('5 3');
    });

    it('process.scheduler SCHED_IDLE: the policy in /proc/self/stat (nice does not apply to it)', function () {
      const out = runShOk('cut -d" " -f41 /proc/self/stat', (c) => {
        c.process!.scheduler = { policy: 'SCHED_IDLE' };
      });
      expect(out.trim()).to.equal('5');
    });

    it('process.scheduler with a real-time policy the cgroup has no budget for fails naming the field', function () {
      const r = runSh('true', (c) => {
        c.process!.scheduler = { policy: 'SCHED_FIFO', priority: 10 };
      });
      if (r.status === 0) this.skip(); // this host gives child cgroups real-time runtime
      expect(oneLineError(r)).to.match(/process\.scheduler/);
    });

    it('process.ioPriority: class and level as ionice reports them', function () {
      const out = runShOk('ionice -p $$', (c) => {
        c.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 6 };
      });
      expect(out.trim()).to.equal('best-effort: prio 6');
    });

    it('process.ioPriority IOPRIO_CLASS_IDLE', function () {
      const out = runShOk('ionice -p $$', (c) => {
        c.process!.ioPriority = { class: 'IOPRIO_CLASS_IDLE', priority: 0 };
      });
      expect(out.trim()).to.match(/^idle/);
    });

    it('linux.intelRdt without a mounted resctrl fails naming the field, nothing left behind', function () {
      const r = runSh('true', (c) => {
        c.linux!.intelRdt = { closID: 'guaranteed_group', l3CacheSchema: 'L3:0=7f0' };
      });
      expect(r.status).to.not.equal(0);
      expect(oneLineError(r)).to.match(/linux\.intelRdt: .*resctrl/);
    });
  });
});
