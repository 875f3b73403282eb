// Inputs are bounded and errors about files are exact: config.json, --process and
// `update -r` files are read only as regular files of sane size and depth, never quoted in
// an error; --preserve-fds passes only the caller's descriptors; hook output is streamed,
// not buffered; file errors name the whole path the user gave, never a temporary name.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { native } from '../../../src/native/addon.js';
import { makeBundle } from '../../helpers/bundle.js';
import { makeTempDir } from '../../helpers/context.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireRoot } from '../../helpers/privileges.js';
import { describeResult, rt, rtOk, uniqueId } from '../../helpers/runtime.js';
import { startSleeper } from '../linux/support.js';
import { cleanUpAfterFailure, expectFailure, messages, rootEntries, rtAsync, shHook, singleMessage, skipUnderRunc, underRunc } from './support.js';

const DEEP = 100_000;
const deepJson = (inner = '') => `{"ociVersion": "1.3.0", "x": ${'['.repeat(DEEP)}${inner}${']'.repeat(DEEP)}}`;
const SECRET = 'root:$6$Sup3rS3cretHash:19000:0:99999:7:::\n';

/** The failure every bad file must give: one line, not a stack overflow nor Node's codes. */
function expectCleanLine(msg: string): void {
  expect(msg).to.not.match(/Maximum call stack|ENOENT|ENXIO|EISDIR|at .*\.js:\d+/);
}

describe('bounded inputs: config.json', function () {
  this.timeout(30_000);
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
  });

  it('a config.json symlinked to /dev/zero is refused at once, naming the file', async function () {
    skipUnderRunc(this, 'runc 1.1.5 reads /dev/zero until memory runs out');
    const b = makeBundle({ args: ['true'] });
    rmSync(b.configPath);
    symlinkSync('/dev/zero', b.configPath);
    const r = expectFailure(await rtAsync(['create', '--bundle', b.dir, uniqueId()], { timeoutMs: 10_000 }));
    expect(singleMessage(r)).to.equal(`ts-runc create failed: ${b.configPath}: not a regular file`);
    expect(rootEntries()).to.deep.equal([]);
  });

  it('a config.json that is a FIFO is refused at once (no wait for a writer)', async function () {
    skipUnderRunc(this, 'runc 1.1.5 waits for a writer');
    const b = makeBundle({ args: ['true'] });
    rmSync(b.configPath);
    execFileSync('mkfifo', [b.configPath]);
    const r = expectFailure(await rtAsync(['create', '--bundle', b.dir, uniqueId()], { timeoutMs: 10_000 }));
    expect(singleMessage(r)).to.equal(`ts-runc create failed: ${b.configPath}: not a regular file`);
    expect(rootEntries()).to.deep.equal([]);
  });

  it('a config.json symlinked to a secret: the error quotes none of it', function () {
    const b = makeBundle({ args: ['true'] });
    const secret = path.join(makeTempDir('secret'), 'shadow');
    writeFileSync(secret, SECRET, { mode: 0o600 });
    rmSync(b.configPath);
    symlinkSync(secret, b.configPath);
    const r = expectFailure(rt(['create', '--bundle', b.dir, uniqueId()]));
    const msg = singleMessage(r);
    for (const piece of ['root:', 'Sup3rS3cretHash', '19000', '99999']) expect(msg).to.not.include(piece);
    if (!underRunc()) expect(msg).to.equal(`ts-runc create failed: ${b.configPath}: invalid JSON: unexpected character at line 1, column 1`);
    expect(rootEntries()).to.deep.equal([]);
  });

  it(`a config.json nested ${DEEP} deep: one clear line, nothing created`, function () {
    const b = makeBundle({ args: ['true'] });
    writeFileSync(b.configPath, deepJson());
    const r = expectFailure(rt(['create', '--bundle', b.dir, uniqueId()]));
    const msg = singleMessage(r);
    expectCleanLine(msg);
    expect(msg).to.match(/depth|deep/);
    if (!underRunc()) expect(msg).to.equal(`ts-runc create failed: ${b.configPath}: invalid JSON: nested deeper than 256 levels at line 1, column 285`);
    expect(rootEntries()).to.deep.equal([]);
  });

  it('a bundle without config.json: the error names its whole path, as given relative to the working directory', function () {
    const dir = makeTempDir('no-config');
    const r = expectFailure(rt(['create', '--bundle', path.basename(dir), uniqueId()], { cwd: path.dirname(dir) }));
    const msg = singleMessage(r);
    expectCleanLine(msg);
    expect(msg).to.include('config.json');
    if (!underRunc()) expect(msg).to.equal(`ts-runc create failed: open ${dir}/config.json: no such file or directory`);
  });
});

describe('bounded inputs: --process and update -r files', function () {
  this.timeout(30_000);
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
  });

  it('exec --process: a FIFO, /dev/zero, a missing file and deep JSON each fail with one line naming the file', async function () {
    skipUnderRunc(this, 'runc 1.1.5 waits on a FIFO and reads /dev/zero until memory runs out');
    const sleeper = startSleeper();
    try {
      const dir = makeTempDir('process');
      const fifo = path.join(dir, 'fifo.json');
      execFileSync('mkfifo', [fifo]);
      const zero = path.join(dir, 'zero.json');
      symlinkSync('/dev/zero', zero);
      const deep = path.join(dir, 'deep.json');
      writeFileSync(deep, deepJson());
      const cases: [string, string][] = [
        [fifo, `exec failed: ${fifo}: not a regular file`],
        [zero, `exec failed: ${zero}: not a regular file`],
        [path.join(dir, 'missing.json'), `exec failed: open ${path.join(dir, 'missing.json')}: no such file or directory`],
        [deep, `exec failed: ${deep}: invalid JSON: nested deeper than 256 levels at line 1, column 285`],
      ];
      for (const [file, want] of cases) {
        const r = await rtAsync(['exec', '--process', file, sleeper.id], { timeoutMs: 10_000 });
        expect(r.status, describeResult(r)).to.equal(255);
        expect(singleMessage(r)).to.equal(want);
      }
    } finally {
      sleeper.stop();
    }
  });

  it('update -r: a FIFO, /dev/zero and deep JSON are refused, the limits unchanged', async function () {
    skipUnderRunc(this, 'runc 1.1.5 waits on a FIFO and reads /dev/zero until memory runs out');
    const sleeper = startSleeper();
    try {
      const dir = makeTempDir('resources');
      const fifo = path.join(dir, 'fifo.json');
      execFileSync('mkfifo', [fifo]);
      const zero = path.join(dir, 'zero.json');
      symlinkSync('/dev/zero', zero);
      const deep = path.join(dir, 'deep.json');
      writeFileSync(deep, `{"memory": ${'['.repeat(DEEP)}${']'.repeat(DEEP)}}`);
      for (const [file, want] of [
        [fifo, `${fifo}: not a regular file`],
        [zero, `${zero}: not a regular file`],
        [deep, `${deep}: invalid JSON: nested deeper than 256 levels at line 1, column 267`],
      ] as const) {
        const r = expectFailure(await rtAsync(['update', '--resources', file, sleeper.id], { timeoutMs: 10_000 }));
        expect(singleMessage(r)).to.equal(want);
      }
      // Deep JSON on standard input too.
      const r = expectFailure(rt(['update', '--resources', '-', sleeper.id], { input: `{"memory": ${'['.repeat(DEEP)}${']'.repeat(DEEP)}}` }));
      expect(singleMessage(r)).to.equal('standard input: invalid JSON: nested deeper than 256 levels at line 1, column 267');
    } finally {
      sleeper.stop();
    }
  });
});

describe('bounded inputs: --preserve-fds passes only the caller\'s descriptors', function () {
  this.timeout(30_000);
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
    skipUnderRunc(this, 'runc 1.1.5 passes whatever descriptors it has, its own included');
  });

  for (const [n, given] of [
    [1, 0],
    [2, 1],
    [18, 0],
    [40, 3],
  ] as const) {
    it(`--preserve-fds ${n} with ${given} descriptor(s) from the caller: refused at once naming fd ${3 + given}, nothing created`, async function () {
      const b = makeBundle({ args: ['true'] });
      const file = path.join(makeTempDir('fds'), 'data');
      writeFileSync(file, 'x');
      const fds = Array.from({ length: given }, () => openSync(file, 'r'));
      try {
        const r = expectFailure(await rtAsync(['run', '--preserve-fds', String(n), '--bundle', b.dir, uniqueId()], { extraFds: fds, timeoutMs: 15_000 }));
        expect(singleMessage(r)).to.match(new RegExp(`^--preserve-fds ${n}: file descriptor ${3 + given} (is not open|is not one the caller passed) \\(descriptors 3 to ${2 + n} must be the caller's\\)$`));
      } finally {
        fds.forEach((fd) => closeSync(fd));
      }
      expect(rootEntries()).to.deep.equal([]);
    });
  }

  it('--preserve-fds 3 with both ends of one pipe as fds 3 and 4: refused at fd 5 (the runtime\'s own stay out with a caller\'s pipe too)', async function () {
    const b = makeBundle({ args: ['true'] });
    const [readEnd, writeEnd] = native().pipe();
    try {
      const r = expectFailure(await rtAsync(['run', '--preserve-fds', '3', '--bundle', b.dir, uniqueId()], { extraFds: [readEnd, writeEnd], timeoutMs: 15_000 }));
      expect(singleMessage(r)).to.match(/^--preserve-fds 3: file descriptor 5 (is not open|is not one the caller passed) \(descriptors 3 to 5 must be the caller's\)$/);
    } finally {
      closeSync(readEnd);
      closeSync(writeEnd);
    }
    expect(rootEntries()).to.deep.equal([]);
  });

  it('exec --preserve-fds beyond the caller\'s descriptors is refused too, with exec\'s failure status (255)', async function () {
    const sleeper = startSleeper();
    try {
      const r = expectFailure(await rtAsync(['exec', '--preserve-fds', '5', sleeper.id, 'true'], { timeoutMs: 15_000 }));
      expect(singleMessage(r)).to.match(/^exec failed: --preserve-fds 5: file descriptor 3 /);
      expect(r.status, describeResult(r)).to.equal(255);
    } finally {
      sleeper.stop();
    }
  });
});

describe('bounded inputs: hook output', function () {
  this.timeout(60_000);
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
  });

  const output = (mib: number, stream = '') => `/bin/busybox head -c ${mib * 1048576} /dev/zero | /bin/busybox tr '\\0' x ${stream}`;
  const twoMiB = (stream: string) => output(2, stream);

  it('2 MiB on stdout and on stderr of each hook, and 20 MiB from one, do not fail create', function () {
    const b = makeBundle({
      args: ['true'],
      mutate: (c) => {
        const hook = shHook(`${twoMiB('')}; ${twoMiB('>&2')}`);
        c.hooks = { prestart: [hook, shHook(output(20))], createRuntime: [hook], poststart: [hook], poststop: [hook] };
      },
    });
    const id = uniqueId();
    const r = rt(['run', '--bundle', b.dir, id]);
    expect(r.status, describeResult({ ...r, stderr: r.stderr.slice(0, 2000) })).to.equal(0);
    expect(rootEntries()).to.deep.equal([]);
  });

  it('a failing hook with 2 MiB of output: one line with the end of its output, bounded', function () {
    const b = makeBundle({ args: ['true'], mutate: (c) => (c.hooks = { prestart: [shHook(`${twoMiB('>&2')}; echo >&2; echo the-real-reason >&2; exit 3`)] }) });
    const r = expectFailure(rt(['create', '--bundle', b.dir, uniqueId()]));
    const msg = singleMessage(r);
    expect(msg).to.include('exit status 3');
    expect(msg).to.include('the-real-reason');
    // The end of the output (where the reason is), not all of it (runc quotes all 2 MiB).
    if (!underRunc()) {
      expect(msg).to.match(/, stderr: x+ the-real-reason$/);
      expect(msg.length).to.be.below(8192);
    }
    expect(rootEntries()).to.deep.equal([]);
  });

  it('a hook that keeps writing past its timeout is killed at the timeout all the same', async function () {
    skipUnderRunc(this, 'runc 1.1.5 buffers such a hook\'s output and does not return');
    const b = makeBundle({ args: ['true'], mutate: (c) => (c.hooks = { prestart: [shHook('/bin/busybox yes', { timeout: 1 })] }) });
    const r = expectFailure(await rtAsync(['create', '--bundle', b.dir, uniqueId()], { timeoutMs: 20_000 }));
    const msg = singleMessage(r);
    expect(msg).to.include('timeout after 1 seconds');
    if (!underRunc()) expect(msg.length).to.be.below(8192);
    expect(rootEntries()).to.deep.equal([]);
  });

  it('with --debug the hook\'s output lines are in the log', function () {
    skipUnderRunc(this, "runc's log has no hook output");
    const log = path.join(makeTempDir('log'), 'runtime.log');
    const b = makeBundle({ args: ['true'], mutate: (c) => (c.hooks = { prestart: [shHook('echo out-line; echo err-line >&2')] }) });
    rtOk(['--debug', '--log', log, 'run', '--bundle', b.dir, uniqueId()]);
    const text = messages(readFileSync(log, 'utf8'));
    expect(text).to.include('hook prestart #0 stdout: out-line');
    expect(text).to.include('hook prestart #0 stderr: err-line');
  });
});

describe('file errors name the whole path', function () {
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
  });

  it('--pid-file in a directory that does not exist: the path given, no temporary name, nothing left', function () {
    skipUnderRunc(this, 'runc 1.1.5 names its temporary file (open /dir/.pid)');
    const b = makeBundle({ args: ['true'] });
    const pidFile = path.join(makeTempDir('pid'), 'missing-dir', 'ctr.pid');
    const r = expectFailure(rt(['create', '--pid-file', pidFile, '--bundle', b.dir, uniqueId()]));
    expect(singleMessage(r)).to.equal(`ts-runc create failed: open ${pidFile}: no such file or directory`);
    expect(rootEntries()).to.deep.equal([]);
    expect(existsSync(path.dirname(pidFile))).to.equal(false);
  });

  it('exec --pid-file likewise; the process it started does not stay', function () {
    skipUnderRunc(this, 'runc 1.1.5 names its temporary file (open /dir/.pid)');
    const sleeper = startSleeper();
    try {
      const pidFile = path.join(makeTempDir('pid'), 'missing-dir', 'exec.pid');
      const r = rt(['exec', '--detach', '--pid-file', pidFile, sleeper.id, 'sleep', '100']);
      expect(r.status, describeResult(r)).to.equal(255);
      expect(singleMessage(r)).to.equal(`exec failed: open ${pidFile}: no such file or directory`);
    } finally {
      sleeper.stop();
    }
  });
});
