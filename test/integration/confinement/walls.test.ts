// File-system walls beyond the basics (masked/read-only paths, devices and the read-only
// root are covered in test/integration/linux/): id-mapped mounts, and runc's rules for
// mounts at and under /proc, on the configured path and on the resolved one.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, rmdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { OciConfig } from '../../helpers/bundle.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireRoot } from '../../helpers/privileges.js';
import { describeResult } from '../../helpers/runtime.js';
import { keyValues, oneLineError, runBundle, runSh, shBundle } from './support.js';

const HOST_ID = 100000;
const SIZE = 65536;

function useUserns(c: OciConfig): void {
  c.linux!.namespaces!.push({ type: 'user' });
  c.linux!.uidMappings = [{ containerID: 0, hostID: HOST_ID, size: SIZE }];
  c.linux!.gidMappings = [{ containerID: 0, hostID: HOST_ID, size: SIZE }];
}

/** A bundle with a `vol` directory holding a root-owned file and one owned by 5:5. */
function volumeBundle(script: string, mount: Record<string, unknown>, mutate?: (c: OciConfig) => void) {
  const b = shBundle(script, (c) => {
    c.mounts!.push({ destination: '/mnt/vol', type: 'bind', source: 'vol', ...mount } as never);
    mutate?.(c);
  });
  const vol = path.join(b.dir, 'vol');
  mkdirSync(path.join(vol, 'sub'), { recursive: true });
  writeFileSync(path.join(vol, 'root-owned'), 'r');
  writeFileSync(path.join(vol, 'five'), '5');
  chownSync(path.join(vol, 'five'), 5, 5);
  return b;
}

const OWNERS = 'for f in /mnt/vol/root-owned /mnt/vol/five; do echo $(basename $f)=$(stat -c %u:%g $f); done';

describe('walls', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  describe('id-mapped mounts', function () {
    it('uidMappings/gidMappings on a bind mount: host ids appear mapped, unmapped ones as the overflow id', function () {
      const map = [{ containerID: 0, hostID: 1000, size: 1 }];
      const b = volumeBundle(OWNERS, { options: ['bind', 'idmap'], uidMappings: map, gidMappings: map });
      const r = runBundle(b);
      expect(r.status, describeResult(r)).to.equal(0);
      expect(keyValues(r.stdout)).to.include({ 'root-owned': '1000:1000', five: '65534:65534' });
    });

    it('idmap without mappings uses the container user namespace: host root files are root inside, new files root on the host', function () {
      const b = volumeBundle(`${OWNERS}; touch /mnt/vol/new && echo new=$(stat -c %u /mnt/vol/new)`, { options: ['bind', 'idmap'] }, useUserns);
      chownSync(b.rootfs, HOST_ID, HOST_ID);
      const r = runBundle(b);
      expect(r.status, describeResult(r)).to.equal(0);
      expect(keyValues(r.stdout)).to.include({ 'root-owned': '0:0', five: '5:5', new: '0' });
      // the same file seen from the host: owned by host root, not by the mapped 100000
      expect(statSync(path.join(b.dir, 'vol/new')).uid).to.equal(0);
    });

    it('without idmap the same volume shows host root as the overflow id inside the user namespace', function () {
      const b = volumeBundle(OWNERS, { options: ['bind'] }, useUserns);
      chownSync(b.rootfs, HOST_ID, HOST_ID);
      const r = runBundle(b);
      expect(r.status, describeResult(r)).to.equal(0);
      expect(keyValues(r.stdout)['root-owned']).to.equal('65534:65534');
    });

    it('ridmap on an rbind maps the submounts too; idmap maps only the top', function () {
      const script = 'echo top=$(stat -c %u /mnt/vol/root-owned) sub=$(stat -c %u /mnt/vol/sub/inner)';
      const results: Record<string, string> = {};
      for (const opt of ['idmap', 'ridmap']) {
        const b = volumeBundle(script, { options: ['rbind', opt] }, useUserns);
        chownSync(b.rootfs, HOST_ID, HOST_ID);
        // a tmpfs under the source: a submount that only the rbind carries along
        const sub = path.join(b.dir, 'vol/sub');
        execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', sub]);
        try {
          writeFileSync(path.join(sub, 'inner'), 'x');
          const r = runBundle(b);
          expect(r.status, describeResult(r)).to.equal(0);
          results[opt] = r.stdout.trim();
        } finally {
          execFileSync('umount', ['-l', sub]);
        }
      }
      expect(results.idmap).to.equal('top=0 sub=65534');
      expect(results.ridmap).to.equal('top=0 sub=0');
    });

    it('idmap on a mount that is not a bind fails naming the mount', function () {
      const r = runSh('true', (c) => {
        c.mounts!.push({ destination: '/mnt/t', type: 'tmpfs', source: 'tmpfs', options: ['idmap'] });
      });
      expect(r.status).to.not.equal(0);
      expect(oneLineError(r)).to.match(/mounts\[\d+\]\.options: id-mapped mounts are only supported for bind mounts/);
    });

    it('idmap without mappings and without a user namespace fails (the spec requires an error)', function () {
      const b = volumeBundle('true', { options: ['bind', 'idmap'] });
      const r = runBundle(b);
      expect(r.status).to.not.equal(0);
      expect(oneLineError(r)).to.match(/mounts\[\d+\]\.options: idmap without uidMappings and gidMappings/);
    });

    it('a file system that cannot be id-mapped fails with a clear reason, nothing left behind', function () {
      const map = [{ containerID: 0, hostID: 1000, size: 1 }];
      const r = runSh('true', (c) => {
        c.mounts!.push({ destination: '/mnt/k', type: 'bind', source: '/sys/kernel', options: ['bind', 'idmap'], uidMappings: map, gidMappings: map } as never);
      });
      expect(r.status).to.not.equal(0);
      expect(oneLineError(r)).to.match(/cannot id-map \/sys\/kernel: the file system does not support id-mapped mounts/);
    });
  });

  describe('/proc (runc\'s rules)', function () {
    it('a non-procfs mount on /proc is refused', function () {
      const r = runSh('true', (c) => {
        c.mounts!.push({ destination: '/proc', type: 'tmpfs', source: 'tmpfs' });
      });
      expect(r.status).to.not.equal(0);
      expect(oneLineError(r)).to.match(/"\/proc" cannot be mounted because it is not of type proc/);
    });

    it('a bind of a real procfs on /proc is allowed', function () {
      const r = runSh('stat -f -c %T /proc', (c) => {
        c.mounts!.push({ destination: '/proc', type: 'bind', source: '/proc', options: ['rbind'] });
        c.linux!.namespaces = c.linux!.namespaces!.filter((n: { type: string }) => n.type !== 'pid');
      });
      expect(r.status, describeResult(r)).to.equal(0);
      expect(r.stdout.trim()).to.equal('proc');
    });

    it('a mount under /proc is refused unless it is one of the lxcfs-style files', function () {
      const bad = runSh('true', (c) => {
        c.mounts!.push({ destination: '/proc/sys/kernel/core_pattern', type: 'bind', source: '/etc/hostname', options: ['bind'] });
      });
      expect(bad.status).to.not.equal(0);
      expect(oneLineError(bad)).to.match(/"\/proc\/sys\/kernel\/core_pattern" cannot be mounted because it is inside \/proc/);
    });

    it('an allowed /proc file can be replaced (lxcfs-style)', function () {
      const b = shBundle('cat /proc/uptime', (c) => {
        c.mounts!.push({ destination: '/proc/uptime', type: 'bind', source: 'fake-uptime', options: ['bind'] });
      });
      writeFileSync(path.join(b.dir, 'fake-uptime'), '12345.67 890.12\n');
      const r = runBundle(b);
      expect(r.status, describeResult(r)).to.equal(0);
      expect(r.stdout).to.equal('12345.67 890.12\n');
    });

    it('a volume whose destination is a symlink into /proc is refused on the resolved target', function () {
      const b = shBundle('stat -f -c %T /proc', (c) => {
        c.mounts!.push({ destination: '/mnt/x', type: 'tmpfs', source: 'tmpfs' });
      });
      mkdirSync(path.join(b.rootfs, 'mnt'), { recursive: true });
      symlinkSync('/proc', path.join(b.rootfs, 'mnt/x'));
      const r = runBundle(b);
      expect(r.status, describeResult(r)).to.not.equal(0);
      expect(oneLineError(r)).to.match(/"\/mnt\/x" cannot be mounted because it is inside \/proc/);
    });

    // [test title, mount point in the image, fs type, the symlink planted there (absolute and relative)]
    const linkedMountPoints: [string, string, string, string][] = [
      ['procfs is not mounted through a symlink: /proc -> elsewhere in the image is refused', 'proc', 'proc', '/elsewhere'],
      ['sysfs is not mounted through a symlink either', 'sys', 'sysfs', 'elsewhere'],
    ];
    for (const [title, dir, fsType, target] of linkedMountPoints) {
      it(title, function () {
        const b = shBundle('true');
        rmdirSync(path.join(b.rootfs, dir));
        mkdirSync(path.join(b.rootfs, 'elsewhere'));
        symlinkSync(target, path.join(b.rootfs, dir));
        const r = runBundle(b);
        expect(r.status).to.not.equal(0);
        expect(oneLineError(r)).to.match(new RegExp(`filesystem "${fsType}" must be mounted on ordinary directory`));
      });
    }
  });
});
