// The root filesystem (config.md "Root", config-linux.md "Rootfs Mount Propagation"):
// root.path relative and absolute, root.readonly, rootfsPropagation, and pivot_root
// (or chroot with --no-pivot) leaving nothing of the host reachable.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeBundle } from '../../helpers/bundle.js';
import { detachMounts, isUnder, makeTempDir } from '../../helpers/context.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireRoot } from '../../helpers/privileges.js';
import { hostMountsUnder, keyValues, mountAt, parseMountInfo, runBundle, runSh, runShOk } from './support.js';

/** The device (major:minor) of the host's root filesystem, as mountinfo writes it. */
function hostRootDev(): string {
  const st = statSync('/');
  const major = (st.dev >>> 8) & 0xfff;
  const minor = (st.dev & 0xff) | ((st.dev >>> 12) & 0xfff00);
  return `${major}:${minor}`;
}

describe('linux: root filesystem', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  describe('root.path', function () {
    it('a relative path is resolved against the bundle', function () {
      const b = makeBundle({ args: ['cat', '/marker'], mutate: (c) => (c.root!.path = 'images/my-root') });
      mkdirSync(path.join(b.dir, 'images'));
      renameSync(b.rootfs, path.join(b.dir, 'images/my-root'));
      writeFileSync(path.join(b.dir, 'images/my-root/marker'), 'relative root\n');
      const r = runBundle(b);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.equal('relative root\n');
    });

    it('an absolute path outside the bundle is used as is', function () {
      const elsewhere = path.join(makeTempDir('image'), 'root');
      const b = makeBundle({ args: ['cat', '/marker'], mutate: (c) => (c.root!.path = elsewhere) });
      cpSync(b.rootfs, elsewhere, { recursive: true, verbatimSymlinks: true });
      writeFileSync(path.join(elsewhere, 'marker'), 'absolute root\n');
      writeFileSync(path.join(b.rootfs, 'marker'), 'bundle rootfs: wrong one\n');
      const r = runBundle(b);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.equal('absolute root\n');
    });

    it('a root.path that does not exist fails naming root.path', function () {
      const r = runSh('true', (c) => (c.root!.path = 'no-such-rootfs'));
      expect(r.status).to.not.equal(0);
      expect(r.stderr).to.include('root.path');
      expect(r.stderr).to.include('no-such-rootfs');
    });
  });

  describe('root.readonly', function () {
    it('true: writing to the root fails with EROFS', function () {
      const r = runSh('touch /newfile', (c) => (c.root!.readonly = true));
      expect(r.status).to.not.equal(0);
      expect(r.stdout + r.stderr).to.match(/Read-only file system/);
    });

    it('true: /dev, /dev/shm and tmpfs mounts stay writable', function () {
      const out = runShOk(
        'touch /dev/w && echo dev=ok; touch /dev/shm/w && echo shm=ok; touch /scratch/w && echo tmpfs=ok; awk \'$5=="/" {print "rootopts=" $6}\' /proc/self/mountinfo',
        (c) => {
          c.root!.readonly = true;
          c.mounts!.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] });
        },
      );
      const kv = keyValues(out);
      expect(kv).to.include({ dev: 'ok', shm: 'ok', tmpfs: 'ok' });
      expect(kv.rootopts!.split(',')).to.include('ro');
    });

    it('false: the root is writable and writes reach the rootfs directory', function () {
      const b = makeBundle({ args: ['sh', '-c', 'echo inside > /written'], mutate: (c) => (c.root!.readonly = false) });
      const r = runBundle(b);
      expect(r.status, r.stderr).to.equal(0);
      expect(readFileSync(path.join(b.rootfs, 'written'), 'utf8')).to.equal('inside\n');
    });
  });

  describe('linux.rootfsPropagation (the bundle on a shared mount)', function () {
    // The host's mounts here are private; a shared mount under the bundle makes the
    // propagation of the container's "/" observable, and shows whether mounts leak back.
    const cases: [string, (optional: string[]) => void][] = [
      ['shared', (o) => expect(o.some((f) => f.startsWith('shared:')), o.join(' ')).to.equal(true)],
      ['rshared', (o) => expect(o.some((f) => f.startsWith('shared:')), o.join(' ')).to.equal(true)],
      ['slave', (o) => expect(o.some((f) => f.startsWith('shared:')), o.join(' ')).to.equal(false)],
      [
        'rslave',
        (o) => {
          expect(o.some((f) => f.startsWith('master:')), o.join(' ')).to.equal(true);
          expect(o.some((f) => f.startsWith('shared:')), o.join(' ')).to.equal(false);
        },
      ],
      ['private', (o) => expect(o, o.join(' ')).to.deep.equal([])],
      ['rprivate', (o) => expect(o, o.join(' ')).to.deep.equal([])],
      ['unbindable', (o) => expect(o, o.join(' ')).to.deep.equal(['unbindable'])],
      ['runbindable', (o) => expect(o, o.join(' ')).to.deep.equal(['unbindable'])],
    ];
    for (const [value, check] of cases) {
      it(`${value}: shows in the optional fields of "/" and no mount leaks to the host`, function () {
        const b = makeBundle({ args: ['cat', '/proc/self/mountinfo'], mutate: (c) => (c.linux!.rootfsPropagation = value) });
        execMount(['--bind', b.dir, b.dir]);
        try {
          execMount(['--make-shared', b.dir]);
          const r = runBundle(b);
          const leaked = hostMountsUnder(b.dir).filter((mp) => mp !== b.dir);
          expect(leaked, 'mounts propagated to the host').to.deep.equal([]);
          expect(r.status, r.stderr).to.equal(0);
          const root = mountAt(parseMountInfo(r.stdout), '/');
          expect(root, r.stdout).to.not.equal(undefined);
          check(root!.optional);
        } finally {
          detachMounts((mp) => isUnder(mp, b.dir));
        }
      });
    }
  });

  describe('pivot_root', function () {
    it('detaches the old root: the host root filesystem is not mounted inside', function () {
      const out = runShOk('cat /proc/self/mountinfo; echo hostname-file=$(cat /etc/hostname 2>&1)');
      const mounts = parseMountInfo(out.slice(0, out.indexOf('hostname-file=')));
      // Exactly one mount at "/", and it is the bundle's rootfs.
      const roots = mounts.filter((m) => m.mountPoint === '/');
      expect(roots, out).to.have.length(1);
      expect(roots[0]!.root.endsWith('/rootfs'), roots[0]!.root).to.equal(true);
      // The host's root filesystem is nowhere mounted with its own root (as the old root was).
      const dev = hostRootDev();
      expect(mounts.filter((m) => m.dev === dev && m.root === '/'), out).to.deep.equal([]);
      // The host's /etc/hostname is not what the container reads (the image has none).
      if (existsSync('/etc/hostname')) {
        expect(keyValues(out)['hostname-file']).to.not.equal(readFileSync('/etc/hostname', 'utf8').trim());
      }
    });

    it('a marker next to the rootfs in the bundle is not reachable through ".."', function () {
      const b = makeBundle({ args: ['sh', '-c', 'cat /../host-marker /../../host-marker /proc/1/root/../host-marker 2>/dev/null; ls /..'] });
      writeFileSync(path.join(b.dir, 'host-marker'), 'host secret\n');
      const r = runBundle(b);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.not.include('host secret');
      expect(r.stdout).to.not.include('host-marker');
      expect(r.stdout, 'ls /.. lists the container root').to.match(/^bin$/m);
    });

    it('--no-pivot: the container runs chrooted into the rootfs', function () {
      const b = makeBundle({
        args: ['sh', '-c', 'cat /marker; awk \'$5=="/" {print "root=" $4}\' /proc/self/mountinfo'],
      });
      writeFileSync(path.join(b.rootfs, 'marker'), 'no pivot\n');
      const r = runBundle(b, ['--no-pivot']);
      expect(r.status, r.stderr).to.equal(0);
      const out = r.stdout.split('\n');
      expect(out[0]).to.equal('no pivot');
      const roots = out.filter((l) => l.startsWith('root='));
      expect(roots.length, r.stdout).to.be.above(0);
      expect(roots[roots.length - 1]!.endsWith('/rootfs'), r.stdout).to.equal(true);
    });
  });
});

function execMount(args: string[]): void {
  execFileSync('mount', args, { stdio: 'pipe' });
}
