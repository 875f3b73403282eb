// CVE-2019-16884, CVE-2019-19921, CVE-2025-31133 and their siblings: /proc redirected by a
// symlink in the image or covered by a volume whose destination a symlink sends into
// /proc, and masks made with a /dev/null that is not the null device. ts-runc's walls:
// procfs and sysfs targets may not go through any symlink, no mount may land on a procfs
// unless it is a procfs at /proc (or an allowed lxcfs-style file), and masking only ever
// binds the real null device (checked on the fd that is then bound).
//
// Weakened build: TSRUNC_WEAKEN=procfs (see weak-build.ts).
import { expect } from 'chai';
import { mkdirSync, readFileSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { OciConfig } from '../../helpers/bundle.js';
import { makeBundle } from '../../helpers/bundle.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireRoot } from '../../helpers/privileges.js';
import { describeResult, rt, uniqueId } from '../../helpers/runtime.js';
import { oneLineError } from '../confinement/support.js';
import { useWeakenedBuild } from './weak-build.js';

const run = (dir: string) => rt(['run', '--bundle', dir, uniqueId()]);

/** /dev comes from a bundle directory (a volume the image author controls), not a fresh tmpfs. */
function devFromVolume(c: OciConfig): void {
  c.mounts = c.mounts!.filter((m) => !m.destination.startsWith('/dev'));
  c.mounts.push({ destination: '/dev', type: 'bind', source: 'devdir', options: ['rbind'] });
}

describe('CVE-2019-16884 / CVE-2019-19921 / CVE-2025-31133: procfs and masks', function () {
  useLeakCheck();
  useWeakenedBuild();
  beforeEach(function () {
    requireRoot(this);
  });

  it('CVE-2019-16884: an image whose /proc is a symlink does not get procfs mounted through it', function () {
    const b = makeBundle({ args: ['sh', '-c', 'stat -f -c %T /proc /elsewhere'] });
    rmdirSync(path.join(b.rootfs, 'proc'));
    mkdirSync(path.join(b.rootfs, 'elsewhere'));
    symlinkSync('/elsewhere', path.join(b.rootfs, 'proc'));
    const r = run(b.dir);
    expect(r.stdout, 'procfs was mounted where the image pointed').to.not.match(/proc/);
    expect(r.status, describeResult(r)).to.not.equal(0);
    expect(oneLineError(r)).to.match(/must be mounted on ordinary directory/);
  });

  it('CVE-2019-19921: a volume whose destination is a symlink to /proc does not cover procfs', function () {
    const b = makeBundle({
      args: ['sh', '-c', 'echo fs=$(stat -f -c %T /proc); cat /proc/fakefile 2>/dev/null'],
      mutate: (c) => {
        c.mounts!.push({ destination: '/data/volume', type: 'bind', source: 'fakeproc', options: ['rbind'] });
      },
    });
    mkdirSync(path.join(b.dir, 'fakeproc'));
    writeFileSync(path.join(b.dir, 'fakeproc/fakefile'), 'FAKE');
    mkdirSync(path.join(b.rootfs, 'data'));
    symlinkSync('/proc', path.join(b.rootfs, 'data/volume'));
    const r = run(b.dir);
    expect(r.stdout, 'the container ran with a /proc that is not procfs').to.not.match(/fs=(?!proc$)|FAKE/m);
    expect(r.status, describeResult(r)).to.not.equal(0);
    expect(oneLineError(r)).to.match(/"\/data\/volume" cannot be mounted because it is inside \/proc/);
  });

  it('CVE-2025-31133: a /dev/null that is a symlink into procfs is never used to mask', function () {
    const b = makeBundle({
      // /proc/timer_list is in the default maskedPaths (and present on every kernel)
      args: ['sh', '-c', 'echo masked=$(head -c 64 /proc/timer_list | tr -d "\\n")'],
      mutate: devFromVolume,
    });
    mkdirSync(path.join(b.dir, 'devdir'));
    symlinkSync('/proc/sys/kernel/core_pattern', path.join(b.dir, 'devdir/null'));
    const r = run(b.dir);
    const pattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8').trim().slice(0, 20);
    expect(r.stdout, 'a masked path shows the symlink target').to.not.include(`masked=${pattern}`);
    expect(r.status, describeResult(r)).to.not.equal(0);
    expect(oneLineError(r)).to.match(/\/dev\/null is a symlink, not the null device/);
  });

  it('CVE-2025-31133 sibling: a /dev/null that is a plain file is never used to mask', function () {
    const b = makeBundle({
      args: ['sh', '-c', 'echo keys=$(cat /proc/keys | head -c 64)'],
      mutate: (c) => {
        devFromVolume(c);
        c.linux!.maskedPaths = ['/proc/keys'];
      },
    });
    mkdirSync(path.join(b.dir, 'devdir'));
    writeFileSync(path.join(b.dir, 'devdir/null'), 'PLANTED');
    const r = run(b.dir);
    expect(r.stdout, 'the masked file shows the planted content').to.not.include('PLANTED');
    expect(r.status, describeResult(r)).to.not.equal(0);
    expect(oneLineError(r)).to.match(/\/dev\/null is not the null device/);
  });
});
