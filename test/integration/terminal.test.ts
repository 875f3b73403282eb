// Terminals and descriptor sockets: --console-socket (the pty master arrives as runc sends
// it: one message, "/dev/ptmx", SCM_RIGHTS), process.consoleSize, the relay of `run -t` /
// `exec -t` through a real pseudo-terminal, and --pidfd-socket for create, run and exec.
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeBundle } from '../helpers/bundle.js';
import { makeTempDir } from '../helpers/context.js';
import { receiveFd } from '../helpers/fd-socket.js';
import { useLeakCheck } from '../helpers/leaks.js';
import { requireCommand, requireRoot } from '../helpers/privileges.js';
import { describeResult, rt, rtOk, rtUnderPty, state, uniqueId, waitFor } from '../helpers/runtime.js';
import { useSleepers } from './linux/support.js';

describe('terminals and descriptor sockets', function () {
  this.timeout(30_000);
  useLeakCheck();
  const startSleeper = useSleepers();
  beforeEach(function () {
    requireRoot(this);
  });

  describe('--console-socket', function () {
    it('exec -t: the pty master arrives with "/dev/ptmx"; the process has it as its controlling terminal', async function () {
      const sleeper = startSleeper();
      const rx = await receiveFd(makeTempDir('sock'), { kind: 'pty' });
      try {
        rtOk(['exec', '--tty', '--detach', '--console-socket', rx.path, sleeper.id, 'sh', '-c', 'tty; [ -t 0 ] && echo stdin-is-tty']);
        const got = await rx.result;
        expect(got.payload).to.equal('/dev/ptmx');
        expect(got.fds).to.equal(1);
        expect(got.output).to.match(/^\/dev\/pts\/\d+\r\nstdin-is-tty\r\n/);
      } finally {
        rx.close();
      }
    });

    it('exec --process with consoleSize: the terminal has that size', async function () {
      const sleeper = startSleeper();
      const file = path.join(makeTempDir('process'), 'process.json');
      writeFileSync(file, JSON.stringify({ terminal: true, consoleSize: { height: 33, width: 111 }, args: ['stty', 'size'], cwd: '/', env: ['PATH=/bin'] }));
      const rx = await receiveFd(makeTempDir('sock'), { kind: 'pty' });
      try {
        rtOk(['exec', '--detach', '--console-socket', rx.path, '--process', file, sleeper.id]);
        expect((await rx.result).output).to.equal('33 111\r\n');
      } finally {
        rx.close();
      }
    });

    it('create: the container\'s terminal comes over the socket and takes input', async function () {
      const b = makeBundle({ args: ['sh', '-c', 'read line; echo "got $line"'], terminal: true });
      const id = uniqueId();
      const rx = await receiveFd(makeTempDir('sock'), { kind: 'pty', input: 'hello\n' });
      try {
        rtOk(['create', '--console-socket', rx.path, '--bundle', b.dir, id]);
        rtOk(['start', id]);
        const got = await rx.result;
        expect(got.payload).to.equal('/dev/ptmx');
        expect(got.output).to.include('got hello');
      } finally {
        rx.close();
        rtOk(['delete', '--force', id]);
      }
    });
  });

  describe('relay (no console socket)', function () {
    before(function () {
      requireCommand(this, 'script');
    });

    it('exec -t relays the pty: output without doubled carriage returns, the exit status', function () {
      const sleeper = startSleeper();
      const r = rtUnderPty(['exec', '-t', sleeper.id, 'sh', '-c', 'tty; exit 3']);
      expect(r.status).to.equal(3);
      expect(r.output).to.match(/\/dev\/pts\/\d+\r\n/);
      expect(r.output).to.not.include('\r\r\n');
    });

    it('exec -t --user 1: the pty is the user\'s, and exec returns (crun\'s exec-test-uid-tty)', function () {
      const sleeper = startSleeper();
      const r = rtUnderPty(['exec', '-t', '--user', '1', sleeper.id, 'sh', '-c', 'stat -c owner=%u /proc/self/fd/0']);
      expect(r.status, r.output).to.equal(0);
      expect(r.output).to.include('owner=1');
    });

    it('exec -t relays input to the process', function () {
      const sleeper = startSleeper();
      const r = rtUnderPty(['exec', '-t', sleeper.id, 'sh', '-c', 'read x; echo "read:$x"'], 'abc\n');
      expect(r.status).to.equal(0);
      expect(r.output).to.include('read:abc');
    });

    it('run -t: the container\'s pty leaves "\\n" alone (ONLCR off, as runc), so our terminal shows "\\r\\n" once and a file gets the bytes', function () {
      const b = makeBundle({ args: ['sh', '-c', 'stty -a; printf "a\\nb\\n"'], terminal: true });
      const onTerminal = rtUnderPty(['run', '--bundle', b.dir, uniqueId()]);
      expect(onTerminal.status, onTerminal.output).to.equal(0);
      expect(onTerminal.output).to.match(/(^|\s)-onlcr(\s|$)/);
      expect(onTerminal.output).to.include('a\r\nb\r\n');
      expect(onTerminal.output).to.not.include('\r\r\n');
      const file = path.join(makeTempDir('out'), 'out');
      const toFile = rtUnderPty(['run', '--bundle', b.dir, uniqueId()], '', (cmd) => `${cmd} > ${file}`);
      expect(toFile.status, toFile.output).to.equal(0);
      // script(1) turns the end of its input into a NUL that the pty may echo as "^@".
      const written = readFileSync(file, 'utf8').replace(/\^@/g, '');
      expect(written).to.include('a\nb\n');
      expect(written).to.not.include('\r');
    });

    it('exec -t: the same, the process\'s pty without ONLCR', function () {
      const sleeper = startSleeper();
      const file = path.join(makeTempDir('out'), 'out');
      const r = rtUnderPty(['exec', '-t', sleeper.id, 'sh', '-c', 'stty -a; printf "a\\nb\\n"'], '', (cmd) => `${cmd} > ${file}`);
      expect(r.status, r.output).to.equal(0);
      // script(1) turns the end of its input into a NUL that the pty may echo as "^@".
      const written = readFileSync(file, 'utf8').replace(/\^@/g, '');
      expect(written).to.match(/(^|\s)-onlcr(\s|$)/);
      expect(written).to.include('a\nb\n');
      expect(written).to.not.include('\r');
    });

    // An interactive shell keeps the settings its terminal had when it started and puts them
    // back after each line it reads: ONLCR must be off before the program runs.
    for (const command of ['run', 'exec'] as const) {
      it(`${command} -t of an interactive shell: each line ends in "\\r\\n" once, as with runc`, function () {
        const typed = 'printf "x\\ny\\n"\nexit 3\n';
        let r;
        if (command === 'run') {
          const b = makeBundle({ args: ['sh'], terminal: true, mutate: (c) => c.process!.env!.push('PS1=$ ') });
          r = rtUnderPty(['run', '--bundle', b.dir, uniqueId()], typed);
        } else {
          const sleeper = startSleeper();
          r = rtUnderPty(['exec', '-t', '--env', 'PS1=$ ', sleeper.id, 'sh'], typed);
        }
        expect(r.status, r.output).to.equal(3);
        expect(r.output).to.include('x\r\ny\r\n');
        expect(r.output).to.not.include('\r\r\n');
      });
    }

    it('run -t relays the container\'s terminal and restores ours', function () {
      const b = makeBundle({ args: ['sh', '-c', 'tty; exit 4'], terminal: true });
      const r = rtUnderPty(['run', '--bundle', b.dir, uniqueId()], '', (cmd) => `stty -g; ${cmd}; echo status=$?; stty -g`);
      expect(r.output).to.match(/\/dev\/pts\/\d+\r\n/);
      expect(r.output).to.match(/status=4\r?\n/);
      const settings = r.output.split(/\r?\n/).filter((l) => /^[0-9a-f]+(:[0-9a-f]+){10,}$/.test(l.trim()));
      expect(settings, r.output).to.have.length(2);
      expect(settings[1], 'terminal settings after the run').to.equal(settings[0]);
    });
  });

  describe('--pidfd-socket', function () {
    it('exec: sends a pidfd of the exec\'d process (payload "pidfd")', async function () {
      const sleeper = startSleeper();
      const rx = await receiveFd(makeTempDir('sock'), { kind: 'pidfd' });
      const pidFile = path.join(makeTempDir('pid'), 'pid');
      try {
        rtOk(['exec', '--detach', '--pid-file', pidFile, '--pidfd-socket', rx.path, sleeper.id, 'sh', '-c', 'sleep 0.2']);
        const got = await rx.result;
        expect(got.payload).to.equal('pidfd');
        expect(got.pid).to.equal(Number(readFileSync(pidFile, 'utf8')));
        expect(got.exited, 'the pidfd becomes readable when the process exits').to.equal(true);
      } finally {
        rx.close();
      }
    });

    it('create: sends a pidfd of the container process', async function () {
      const b = makeBundle({ args: ['sleep', '600'] });
      const id = uniqueId();
      const rx = await receiveFd(makeTempDir('sock'), { kind: 'any' });
      try {
        rtOk(['create', '--pidfd-socket', rx.path, '--bundle', b.dir, id]);
        const got = await rx.result;
        expect(got.payload).to.equal('pidfd');
        expect(got.pid).to.equal(state(id).pid);
      } finally {
        rx.close();
        rtOk(['delete', '--force', id]);
      }
    });

    it('run --detach: sends a pidfd of the container process', async function () {
      const b = makeBundle({ args: ['sleep', '600'] });
      const id = uniqueId();
      const rx = await receiveFd(makeTempDir('sock'), { kind: 'any' });
      try {
        rtOk(['run', '--detach', '--pidfd-socket', rx.path, '--bundle', b.dir, id]);
        expect((await rx.result).pid).to.equal(state(id).pid);
      } finally {
        rx.close();
        rtOk(['delete', '--force', id]);
      }
    });

    it('a socket nobody listens on fails the command and leaves nothing behind', async function () {
      const b = makeBundle({ args: ['sleep', '600'] });
      const id = uniqueId();
      const r = rt(['create', '--pidfd-socket', path.join(makeTempDir('sock'), 'none.sock'), '--bundle', b.dir, id]);
      expect(r.status, describeResult(r)).to.not.equal(0);
      expect(r.stderr).to.include('none.sock');
      await waitFor(() => rt(['state', id]).status !== 0, 2_000, { what: 'no container' });
    });
  });
});
