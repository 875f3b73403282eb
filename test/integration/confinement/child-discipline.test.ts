// What the child program leaves to the container's program, and what it refuses to take from
// the image: no signal ignored or blocked (Node ignores SIGPIPE and SIGXFSZ, the clone
// blocks everything), an ambient capability the kernel refuses is a warning, the default
// /dev symlinks replace what the image has there, tmpcopyup fills the tmpfs from the image,
// and a FIFO at /etc/passwd cannot hang the setup.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type OciConfig, makeBundle } from '../../helpers/bundle.js';
import { testRoot } from '../../helpers/context.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireCommand, requireRoot } from '../../helpers/privileges.js';
import { rt, rtOk, runtimeBin, uniqueId } from '../../helpers/runtime.js';
import { skipUnderRunc } from '../lifecycle/support.js';
import { oneLineError, procStatus, runBundle, shBundle } from './support.js';

const NOTHING = '0000000000000000';

function expectDefaultSignals(status: string, who: string): void {
  const s = procStatus(status);
  expect(s.SigIgn, `${who}: ignored signals`).to.equal(NOTHING);
  expect(s.SigBlk, `${who}: blocked signals`).to.equal(NOTHING);
  expect(s.SigCgt, `${who}: caught signals`).to.equal(NOTHING);
}

/** A running container (sh waiting) to exec into; deleted after the test. */
function running(mutate?: (c: OciConfig) => void): string {
  const b = makeBundle({ args: ['sleep', '1000'], mutate });
  const id = uniqueId('disc');
  rtOk(['run', '--detach', '--bundle', b.dir, id]);
  return id;
}

describe('the child program: signals, ambient capabilities, /dev symlinks, tmpcopyup, /etc/passwd', function () {
  useLeakCheck();
  const ids: string[] = [];
  beforeEach(function () {
    requireRoot(this);
  });
  afterEach(function () {
    for (const id of ids.splice(0)) rt(['delete', '--force', id]);
  });

  describe('signal dispositions', function () {
    it('the container process starts with no signal ignored, blocked or caught', function () {
      const r = runBundle(makeBundle({ args: ['cat', '/proc/self/status'] }));
      expect(r.status, r.stderr).to.equal(0);
      expectDefaultSignals(r.stdout, 'init');
    });

    it("an exec'd process too", function () {
      const id = running();
      ids.push(id);
      expectDefaultSignals(rtOk(['exec', id, 'cat', '/proc/self/status']), 'exec');
    });

    it('`yes | head -1` ends quietly: SIGPIPE kills yes, as on the host', function () {
      const r = runBundle(shBundle('yes | head -1'));
      expect(r.stdout).to.equal('y\n');
      expect(r.stderr).to.equal('');
      const id = running();
      ids.push(id);
      const e = rt(['exec', id, 'sh', '-c', 'yes | head -1']);
      expect(e.stdout).to.equal('y\n');
      expect(e.stderr).to.equal('');
    });
  });

  describe('ambient capabilities', function () {
    it('one the kernel refuses is a warning, as runc gives, and the container runs without it', function () {
      requireCommand(this, 'capsh');
      skipUnderRunc(this, 'runc 1.1 ignores a failed ambient raise without a word (the warning came with runc 1.2)');
      const b = shBundle('grep CapAmb /proc/self/status', (c) => {
        const caps = c.process!.capabilities as Record<string, string[]>;
        for (const set of ['bounding', 'effective', 'permitted', 'inheritable', 'ambient']) caps[set] = ['CAP_KILL'];
      });
      // The runtime runs with SECBIT_NO_CAP_AMBIENT_RAISE (0x40): no process it starts can
      // raise an ambient capability.
      const argv = [runtimeBin(), '--root', testRoot(), 'run', '--bundle', b.dir, uniqueId()];
      const r = spawnSync('capsh', ['--secbits=0x40', '--', '-c', 'exec "$@"', 'capsh', ...argv], { encoding: 'utf8', timeout: 30_000 });
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/CapAmb:\s*0000000000000000/);
      expect(r.stderr).to.match(/level=warning msg="can't raise ambient capability CAP_KILL: operation not permitted"/);
    });
  });

  describe('/dev symlinks the image already has (no /dev tmpfs)', function () {
    const withoutDevTmpfs = (c: OciConfig) => {
      c.mounts = c.mounts!.filter((m) => m.destination !== '/dev' && !m.destination.startsWith('/dev/'));
    };

    beforeEach(function () {
      skipUnderRunc(this, 'runc keeps whatever the image has there (it ignores EEXIST from symlink)');
    });

    it('a directory at /dev/fd and a file at /dev/stdout are replaced by the links', function () {
      const b = shBundle('readlink /dev/fd; readlink /dev/stdout', withoutDevTmpfs);
      mkdirSync(path.join(b.rootfs, 'dev/fd'));
      writeFileSync(path.join(b.rootfs, 'dev/stdout'), 'planted');
      const r = runBundle(b);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.equal('/proc/self/fd\n/proc/self/fd/1\n');
    });

    it('a directory with content at /dev/fd fails create, naming it', function () {
      const b = shBundle('true', withoutDevTmpfs);
      mkdirSync(path.join(b.rootfs, 'dev/fd/kept'), { recursive: true });
      const r = runBundle(b);
      expect(r.status).to.equal(1);
      expect(oneLineError(r)).to.match(/\/dev\/fd is a directory with content in the rootfs/);
      rmSync(path.join(b.rootfs, 'dev/fd'), { recursive: true });
    });
  });

  it('tmpcopyup: the tmpfs over a directory of the image starts with its content (files, dirs, links, modes)', function () {
    const b = shBundle(
      "grep ' /etc ' /proc/self/mounts | cut -d' ' -f3; head -1 /etc/passwd; readlink /etc/sub/link; stat -c '%a %u' /etc/sub/tool",
      (c) => c.mounts!.push({ destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'tmpcopyup'] }),
    );
    mkdirSync(path.join(b.rootfs, 'etc/sub'));
    symlinkSync('../passwd', path.join(b.rootfs, 'etc/sub/link'));
    writeFileSync(path.join(b.rootfs, 'etc/sub/tool'), '');
    chownSync(path.join(b.rootfs, 'etc/sub/tool'), 1000, 1000);
    chmodSync(path.join(b.rootfs, 'etc/sub/tool'), 0o4755); // after the chown, which clears set-id bits
    const r = runBundle(b);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('tmpfs\nroot:x:0:0:root:/root:/bin/sh\n../passwd\n4755 1000\n');
  });

  it('a FIFO at /etc/passwd does not hang exec: HOME falls back to /', function () {
    skipUnderRunc(this, 'runc opens /etc/passwd blocking: a FIFO there hangs its exec');
    const id = running((c) => {
      c.root!.readonly = false;
    });
    ids.push(id);
    rtOk(['exec', id, 'sh', '-c', 'rm /etc/passwd && mkfifo /etc/passwd']);
    const r = rt(['exec', id, 'sh', '-c', 'echo "HOME=$HOME"'], { timeoutMs: 15_000 });
    expect(r.error, 'exec hung on the FIFO').to.equal(undefined);
    expect(r.stdout).to.equal('HOME=/\n');
  });
});
