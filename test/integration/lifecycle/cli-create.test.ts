// `create` (and `run`, which shares them) flags: --bundle, --pid-file, --no-pivot,
// --no-new-keyring, --preserve-fds, --pidfd-socket. (--console-socket: console.test.ts.)
import { expect } from 'chai';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { native } from '../../../src/native/addon.js';
import { makeBundle } from '../../helpers/bundle.js';
import { REPO_ROOT, makeTempDir } from '../../helpers/context.js';
import { receiveFd } from '../../helpers/fd-socket.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireCommand, requireRoot, skipWith } from '../../helpers/privileges.js';
import { describeResult, rtOk, state, uniqueId } from '../../helpers/runtime.js';
import { cleanUpAfterFailure, lines, rtAsync } from './support.js';

describe('cli: create --bundle and --pid-file', function () {
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
  });

  it('--bundle DIR: state reports DIR as the bundle', function () {
    const b = makeBundle({ args: ['true'] });
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    expect(state(id).bundle).to.equal(b.dir);
    rtOk(['delete', '--force', id]);
  });

  it('-b with a relative path is resolved against the working directory (state has it absolute)', function () {
    const b = makeBundle({ args: ['true'] });
    const id = uniqueId();
    rtOk(['create', '-b', path.basename(b.dir), id], { cwd: path.dirname(b.dir) });
    expect(state(id).bundle).to.equal(b.dir);
    rtOk(['delete', '--force', id]);
  });

  it('without --bundle the working directory is the bundle', function () {
    const b = makeBundle({ args: ['true'] });
    const id = uniqueId();
    rtOk(['create', id], { cwd: b.dir });
    expect(state(id).bundle).to.equal(b.dir);
    rtOk(['delete', '--force', id]);
  });

  it('--pid-file FILE receives the container process pid', function () {
    const b = makeBundle({ args: ['true'] });
    const id = uniqueId();
    const pidFile = path.join(makeTempDir('pidfile'), 'ctr.pid');
    rtOk(['create', '--bundle', b.dir, '--pid-file', pidFile, id]);
    expect(readFileSync(pidFile, 'utf8').trim()).to.equal(String(state(id).pid));
    rtOk(['delete', '--force', id]);
  });

  it('--pid-file with a relative path is resolved against the working directory', function () {
    const b = makeBundle({ args: ['true'] });
    const id = uniqueId();
    const dir = makeTempDir('pidfile');
    rtOk(['create', '--bundle', b.dir, '--pid-file', 'rel.pid', id], { cwd: dir });
    expect(readFileSync(path.join(dir, 'rel.pid'), 'utf8').trim()).to.equal(String(state(id).pid));
    rtOk(['delete', '--force', id]);
  });
});

describe('cli: create --no-pivot and --no-new-keyring', function () {
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
  });

  it('--no-pivot: the container still sees its rootfs as / and nothing of the host', function () {
    const b = makeBundle({ args: ['sh', '-c', `cat /etc/group; if [ -e ${REPO_ROOT} ]; then echo host-visible; fi`] });
    const out = rtOk(['run', '--no-pivot', '--bundle', b.dir, uniqueId()]);
    expect(out).to.equal(readFileSync(path.join(b.rootfs, 'etc/group'), 'utf8'));
  });

  // The session keyring is visible in /proc/keys (which the default config masks) as
  // `_ses.<container id>` when the runtime made one.
  const keyringBundle = () =>
    makeBundle({
      args: ['cat', '/proc/keys'],
      mutate: (c) => (c.linux!.maskedPaths = (c.linux!.maskedPaths as string[]).filter((p) => p !== '/proc/keys')),
    });

  it('by default the container gets a new session keyring named after it', function () {
    const id = uniqueId();
    const out = rtOk(['run', '--bundle', keyringBundle().dir, id]);
    expect(out).to.match(new RegExp(`keyring\\s+_ses\\.${id.replace(/[.+]/g, '\\$&')}:`));
  });

  it('--no-new-keyring: no session keyring is made for the container', function () {
    const id = uniqueId();
    const out = rtOk(['run', '--no-new-keyring', '--bundle', keyringBundle().dir, id]);
    expect(out).to.not.include(`_ses.${id}`);
  });
});

describe('cli: create --preserve-fds', function () {
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
  });

  // `ls /proc/$$/fd` lists the shell's descriptors, not those of ls (which opens the
  // directory); the second command keeps sh from exec'ing ls in its own place.
  const LIST_FDS = 'ls /proc/$$/fd; exit 0';

  /** Run `script` in a container with `extra` open as fd 3, 4... of the runtime. */
  async function runWithFds(script: string, flags: string[], extraFiles: string[]) {
    const b = makeBundle({ args: ['sh', '-c', script] });
    const fds = extraFiles.map((f) => openSync(f, 'r'));
    try {
      return await rtAsync(['run', ...flags, '--bundle', b.dir, uniqueId()], { extraFds: fds });
    } finally {
      fds.forEach((fd) => closeSync(fd));
    }
  }

  function dataFile(text: string): string {
    const file = path.join(makeTempDir('fds'), 'data');
    writeFileSync(file, text);
    return file;
  }

  it('--preserve-fds 1: the runtime\'s fd 3 is fd 3 in the container', async function () {
    const file = dataFile('preserved-content\n');
    const r = await runWithFds('cat <&3', ['--preserve-fds', '1'], [file]);
    expect(r.status, describeResult(r)).to.equal(0);
    expect(r.stdout).to.equal('preserved-content\n');
  });

  it('--preserve-fds 1: the container has exactly fds 0, 1, 2 and 3 (not the runtime\'s fd 4)', async function () {
    const file = dataFile('x');
    const r = await runWithFds(LIST_FDS, ['--preserve-fds', '1'], [file, file]);
    expect(r.status, describeResult(r)).to.equal(0);
    expect(lines(r.stdout)).to.deep.equal(['0', '1', '2', '3']);
  });

  it('--preserve-fds 2 with both ends of one pipe as fds 3 and 4: the container talks to itself through it (as runc)', async function () {
    const b = makeBundle({ args: ['sh', '-c', 'echo through-the-pipe >&4; read line <&3; echo "got:$line"'] });
    const [readEnd, writeEnd] = native().pipe();
    try {
      const r = await rtAsync(['run', '--preserve-fds', '2', '--bundle', b.dir, uniqueId()], { extraFds: [readEnd, writeEnd] });
      expect(r.status, describeResult(r)).to.equal(0);
      expect(r.stdout).to.equal('got:through-the-pipe\n');
    } finally {
      closeSync(readEnd);
      closeSync(writeEnd);
    }
  });

  it('without --preserve-fds the container has only fds 0, 1 and 2 though the runtime had fd 3 open', async function () {
    const file = dataFile('x');
    const r = await runWithFds(LIST_FDS, [], [file]);
    expect(r.status, describeResult(r)).to.equal(0);
    expect(lines(r.stdout)).to.deep.equal(['0', '1', '2']);
  });
});

describe('cli: create --pidfd-socket', function () {
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
    requireCommand(this, 'python3');
    // runc 1.1.5 has no --pidfd-socket (runc 1.2 added it).
    if (!rtOk(['create', '--help']).includes('--pidfd-socket')) skipWith(this, 'the runtime has no --pidfd-socket');
  });

  it('the socket receives one message carrying a pidfd of the container process', async function () {
    const b = makeBundle({ args: ['sleep', '600'] });
    const id = uniqueId();
    const receiver = await receiveFd(makeTempDir('fdsock'), { kind: 'any', waitMs: 20_000, allMessages: true });
    try {
      rtOk(['create', '--pidfd-socket', receiver.path, '--bundle', b.dir, id]);
      const got = await receiver.result;
      expect(got.messages).to.have.length(1);
      expect(got.fds).to.equal(1);
      expect(got.target).to.match(/pidfd/);
      expect(got.pid).to.equal(state(id).pid);
    } finally {
      receiver.close();
    }
    rtOk(['delete', '--force', id]);
  });
});
