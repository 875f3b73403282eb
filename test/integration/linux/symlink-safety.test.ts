// Symlinks in an untrusted image must never send a mount, a device node, a masked or
// read-only path or the cwd onto the host: every such path is resolved inside the rootfs.
//
// The "victim" is a host directory under /tmp; the image holds symlinks to it (absolute,
// and relative with enough ".." to climb out of the bundle). Resolved inside the rootfs,
// those symlinks name `<rootfs><victim>`, so whatever the runtime creates must show up
// there, and nothing may change in the victim itself.
import { expect } from 'chai';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Bundle, type OciConfig, makeBundle } from '../../helpers/bundle.js';
import { RUN_ID, safeRemove } from '../../helpers/context.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireRoot } from '../../helpers/privileges.js';
import { hostMountsUnder, keyValues, runBundle } from './support.js';

const CLIMB = '../../../../../../../../../../../..';

interface Scene {
  bundle: Bundle;
  /** The host directory the image's symlinks point at. */
  victim: string;
  /** Where the victim's path lands inside the rootfs (host path). */
  inRoot: string;
  /** What the victim held before the container ran. */
  before: string[];
}

let victims: string[] = [];

/**
 * A bundle whose image has `/abs-link -> <victim>` and `/rel-link -> ../../..<victim>`,
 * and a victim dir holding `secret` ("host secret") and `rodir/`.
 */
function scene(args: string[], mutate: (c: OciConfig) => void): Scene {
  // Under /tmp whatever TMPDIR says: the image's /tmp is on the rootfs itself, so what
  // lands inside it is visible from here.
  const victim = mkdtempSync(`/tmp/tsrunc-test-${RUN_ID}-victim-`);
  victims.push(victim);
  writeFileSync(path.join(victim, 'secret'), 'host secret\n');
  mkdirSync(path.join(victim, 'rodir'));
  const bundle = makeBundle({ args, mutate });
  symlinkSync(victim, path.join(bundle.rootfs, 'abs-link'));
  symlinkSync(`${CLIMB}${victim}`, path.join(bundle.rootfs, 'rel-link'));
  const inRoot = path.join(bundle.rootfs, victim);
  return { bundle, victim, inRoot, before: listing(victim) };
}

/** Every path below `dir`, relative, sorted. */
function listing(dir: string, prefix = ''): string[] {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true })
    .flatMap((e) => {
      const rel = path.join(prefix, e.name);
      return e.isDirectory() && !e.isSymbolicLink() ? [rel, ...listing(dir, rel)] : [rel];
    })
    .sort();
}

/** The victim is exactly as it was: same entries, same secret, no mounts on it. */
function expectUntouched(s: Scene): void {
  expect(hostMountsUnder(s.victim), 'mounts on the host victim').to.deep.equal([]);
  expect(listing(s.victim), 'entries of the host victim').to.deep.equal(s.before);
  expect(readFileSync(path.join(s.victim, 'secret'), 'utf8')).to.equal('host secret\n');
}

const tmpfsAt = (destination: string) => (c: OciConfig) => c.mounts!.push({ destination, type: 'tmpfs', source: 'tmpfs' });

describe('linux: symlinks in the image cannot reach the host', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });
  afterEach(function () {
    for (const v of victims) safeRemove(v);
    victims = [];
  });

  for (const link of ['abs-link', 'rel-link']) {
    describe(`through /${link}`, function () {
      it('a mount destination below the symlink lands inside the rootfs', function () {
        const s = scene(['sh', '-c', `stat -f -c %T /${link}/sub`], tmpfsAt(`/${link}/sub`));
        mkdirSync(s.inRoot, { recursive: true });
        const r = runBundle(s.bundle);
        expectUntouched(s);
        expect(r.status, r.stderr).to.equal(0);
        expect(r.stdout.trim()).to.equal('tmpfs');
        expect(statSync(path.join(s.inRoot, 'sub')).isDirectory(), 'target made inside the rootfs').to.equal(true);
      });

      it('a mount destination below a dangling symlink (target missing in the image) is created inside the rootfs', function () {
        const s = scene(['sh', '-c', `stat -f -c %T /${link}/sub`], tmpfsAt(`/${link}/sub`));
        const r = runBundle(s.bundle);
        expectUntouched(s);
        expect(r.status, r.stderr).to.equal(0);
        expect(r.stdout.trim()).to.equal('tmpfs');
        expect(statSync(path.join(s.inRoot, 'sub')).isDirectory(), 'target made inside the rootfs').to.equal(true);
      });

      it('a mount onto the symlink itself covers the in-rootfs target', function () {
        const s = scene(['sh', '-c', `ls -A /${link}`], tmpfsAt(`/${link}`));
        mkdirSync(s.inRoot, { recursive: true });
        writeFileSync(path.join(s.inRoot, 'image-file'), 'x');
        const r = runBundle(s.bundle);
        expectUntouched(s);
        expect(r.status, r.stderr).to.equal(0);
        expect(r.stdout, 'the fresh tmpfs is empty').to.equal('');
      });

      it('a masked path below the symlink masks the in-rootfs file', function () {
        const s = scene(['sh', '-c', `echo content=$(cat /${link}/secret)`], (c) => {
          c.linux!.maskedPaths = [`/${link}/secret`];
        });
        mkdirSync(s.inRoot, { recursive: true });
        writeFileSync(path.join(s.inRoot, 'secret'), 'image secret\n');
        const r = runBundle(s.bundle);
        expectUntouched(s);
        expect(r.status, r.stderr).to.equal(0);
        expect(keyValues(r.stdout).content).to.equal('');
        expect(readFileSync(path.join(s.inRoot, 'secret'), 'utf8')).to.equal('image secret\n');
      });

      it('a read-only path below the symlink is the in-rootfs directory', function () {
        const s = scene(['sh', '-c', `touch /${link}/rodir/x 2>/dev/null; echo rc=$?`], (c) => {
          c.root!.readonly = false;
          c.linux!.readonlyPaths = [`/${link}/rodir`];
        });
        mkdirSync(path.join(s.inRoot, 'rodir'), { recursive: true });
        const r = runBundle(s.bundle);
        expectUntouched(s);
        expect(r.status, r.stderr).to.equal(0);
        expect(keyValues(r.stdout).rc).to.not.equal('0');
      });

      it('a cwd below the symlink is created inside the rootfs', function () {
        const s = scene(['pwd'], (c) => {
          c.process!.cwd = `/${link}/workdir`;
        });
        const r = runBundle(s.bundle);
        expectUntouched(s);
        expect(r.status, r.stderr).to.equal(0);
        expect(statSync(path.join(s.inRoot, 'workdir')).isDirectory()).to.equal(true);
      });
    });
  }

  describe('devices (with /dev from the image, not a tmpfs)', function () {
    /** No /dev tmpfs: the image's /dev, with its planted symlinks, is what the runtime sees. */
    const imageDev = (devices: object[]) => (c: OciConfig) => {
      c.mounts = c.mounts!.filter((m) => !m.destination.startsWith('/dev'));
      c.linux!.devices = devices;
    };

    for (const [name, target] of [
      ['absolute', (v: string) => v],
      ['relative', (v: string) => `${CLIMB}${v}`],
    ] as const) {
      for (const dangling of [false, true]) {
        it(`a device below ${name === 'absolute' ? 'an' : 'a'} ${name}${dangling ? ', dangling' : ''} symlink in /dev is made inside the rootfs`, function () {
          const s = scene(['true'], imageDev([{ path: '/dev/evil/mydev', type: 'c', major: 1, minor: 3, fileMode: 0o666 }]));
          symlinkSync(target(s.victim), path.join(s.bundle.rootfs, 'dev/evil'));
          if (!dangling) mkdirSync(s.inRoot, { recursive: true });
          const r = runBundle(s.bundle);
          expectUntouched(s);
          expect(r.status, r.stderr).to.equal(0);
          expect(lstatSync(path.join(s.inRoot, 'mydev')).isCharacterDevice()).to.equal(true);
        });
      }
    }

    it('a configured device whose own path is a symlink to a host file is refused, the file untouched', function () {
      // config-linux.md: a file at the path that is not the requested device is an error.
      const s = scene(['true'], imageDev([{ path: '/dev/mydev', type: 'c', major: 1, minor: 3, fileMode: 0o666 }]));
      symlinkSync(path.join(s.victim, 'secret'), path.join(s.bundle.rootfs, 'dev/mydev'));
      const r = runBundle(s.bundle);
      expectUntouched(s);
      expect(r.status).to.not.equal(0);
      expect(r.stderr).to.include('/dev/mydev already exists in the rootfs and is not that device');
      expect(lstatSync(path.join(s.victim, 'secret')).isFile()).to.equal(true);
    });
  });

  it('a /dev/null planted as a symlink to a host file does not mask with it', function () {
    const s = scene(['sh', '-c', 'echo keys=$(cat /proc/keys 2>&1 | head -c 100)'], (c) => {
      c.mounts = c.mounts!.filter((m) => !m.destination.startsWith('/dev'));
      c.linux!.maskedPaths = ['/proc/keys'];
    });
    // The runtime makes /dev/null itself (replacing the link); masking then uses the real device.
    symlinkSync(path.join(s.victim, 'secret'), path.join(s.bundle.rootfs, 'dev/null'));
    const r = runBundle(s.bundle);
    expectUntouched(s);
    expect(r.status, r.stderr).to.equal(0);
    expect(keyValues(r.stdout).keys, 'masked with the real null device').to.equal('');
  });
});
