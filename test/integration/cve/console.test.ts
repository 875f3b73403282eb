// CVE-2025-52565 class: the console. The pty must come from the container's own devpts
// instance and /dev/console must be bound over /dev/console itself: an image (or a
// process racing the setup) that makes /dev/console a symlink to a procfs file would
// otherwise get the pty bound over that file, or — with a path-based source — that file
// bound over /dev/console, before masks and read-only paths are applied. ts-runc binds the
// pty from the fd TIOCGPTPEER returned (no path), replaces whatever is not a plain file
// at /dev/console first, and checks that the pty belongs to the devpts at /dev/pts.
//
// Weakened build: TSRUNC_WEAKEN=console (see weak-build.ts).
import { expect } from 'chai';
import { statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { makeBundle } from '../../helpers/bundle.js';
import { makeTempDir } from '../../helpers/context.js';
import { receiveFd } from '../../helpers/fd-socket.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireCommand, requireRoot } from '../../helpers/privileges.js';
import { rt, rtOk, rtUnderPty, uniqueId } from '../../helpers/runtime.js';
import { keyValues } from '../confinement/support.js';
import { useWeakenedBuild } from './weak-build.js';

const SHOW =
  'echo tty=$(tty); echo console_type=$(stat -c %F /dev/console); [ -L /dev/console ] && echo console_link=yes || echo console_link=no; ' +
  'echo console_rdev=$(stat -c %t:%T /dev/console); echo tty_rdev=$(stat -c %t:%T $(tty)); ' +
  'echo core_pattern_type=$(stat -c %F /proc/sys/kernel/core_pattern)';

describe('CVE-2025-52565: the console and /dev/pts', function () {
  useLeakCheck();
  useWeakenedBuild();
  beforeEach(function () {
    requireRoot(this);
  });

  it('/dev/console planted as a symlink to a procfs file: the pty is bound over /dev/console, the procfs file is untouched', function () {
    const b = makeBundle({
      args: ['sh', '-c', SHOW],
      terminal: true,
      mutate: (c) => {
        // no tmpfs on /dev: the image's own /dev (and its planted link) is what the runtime sees
        c.mounts = c.mounts!.filter((m) => m.destination !== '/dev');
        c.root!.readonly = false;
      },
    });
    symlinkSync('/proc/sys/kernel/core_pattern', path.join(b.rootfs, 'dev/console'));
    // run relays the terminal: it needs one of its own (a pseudo-terminal from script).
    requireCommand(this, 'script');
    const r = rtUnderPty(['run', '--bundle', b.dir, uniqueId()]);
    expect(r.status, r.output).to.equal(0);
    const kv = keyValues(r.output.replace(/\r/g, ''));
    expect(kv.core_pattern_type, 'something was bound over /proc/sys/kernel/core_pattern').to.equal('regular empty file');
    expect(kv.console_link, '/dev/console is still the planted symlink').to.equal('no');
    expect(kv.console_type).to.equal('character special file');
    expect(kv.console_rdev, '/dev/console is the container pty').to.equal(kv.tty_rdev);
  });

  // A property check rather than a regression test: the kernel already ties a ptmx to the
  // devpts next to it, so this holds in the weakened build too.
  it('the master sent to the console socket is a pty of the container devpts, the one the process has', async function () {
    requireCommand(this, 'python3');
    const rx = await receiveFd(makeTempDir('console'), { kind: 'pty', waitMs: 20_000 });
    try {
      const b = makeBundle({ args: ['sh', '-c', 'tty'], terminal: true });
      const id = uniqueId();
      rtOk(['create', '--console-socket', rx.path, '--bundle', b.dir, id]);
      rtOk(['start', id]);
      const got = await rx.result;
      rt(['delete', '--force', id]);
      expect(got.payload).to.match(/ptmx/);
      expect(got.dev, "the master is from the host's devpts").to.be.a('number').and.not.equal(statSync('/dev/pts/ptmx').dev);
      expect(got.output?.trim()).to.equal(`/dev/pts/${got.ptn}`);
    } finally {
      rx.close();
    }
  });
});
