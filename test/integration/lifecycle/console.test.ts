// --console-socket: with process.terminal, create connects to the given AF_UNIX socket and
// sends the pty master in one SCM_RIGHTS message; the container's stdio is the pty slave.
// The receiving end is a small python3 program (test/helpers/fd-socket.ts: socket.recv_fds).
import { expect } from 'chai';
import path from 'node:path';
import { makeBundle } from '../../helpers/bundle.js';
import { makeTempDir } from '../../helpers/context.js';
import { type ReceivedFd, receiveFd } from '../../helpers/fd-socket.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireCommand, requireRoot } from '../../helpers/privileges.js';
import { rt, rtOk, uniqueId } from '../../helpers/runtime.js';
import { cleanUpAfterFailure, expectFailure, rootEntries, waitForStatus } from './support.js';

/**
 * Create a terminal container with --console-socket, start it, feed `input` through the
 * master and collect what comes back; the container is deleted afterwards.
 */
async function consoleSession(script: string, input: string, consoleSize?: { height: number; width: number }): Promise<ReceivedFd> {
  const b = makeBundle({
    args: ['sh', '-c', script],
    terminal: true,
    mutate: (c) => {
      if (consoleSize) c.process!.consoleSize = consoleSize;
    },
  });
  const receiver = await receiveFd(makeTempDir('fdsock'), { kind: 'pty', input, waitMs: 20_000, allMessages: true });
  const id = uniqueId();
  try {
    rtOk(['create', '--console-socket', receiver.path, '--bundle', b.dir, id]);
    rtOk(['start', id]);
    const result = await receiver.result;
    await waitForStatus(id, 'stopped');
    rtOk(['delete', id]);
    return result;
  } finally {
    receiver.close();
  }
}

describe('cli: create --console-socket', function () {
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
    requireCommand(this, 'python3');
  });

  it('the socket receives one message carrying one descriptor: the pty master', async function () {
    const r = await consoleSession('true', '');
    expect(r.messages).to.have.length(1);
    expect(r.fds).to.equal(1);
    expect(r.target).to.match(/^\/dev\/(pts\/)?ptmx$/);
  });

  it('what is written to the master is the program\'s input, its output comes back through it', async function () {
    const r = await consoleSession('read line; echo "got:$line"', 'hello\n');
    expect(r.output).to.include('got:hello\r\n');
  });

  it('process.consoleSize is applied to the terminal (stty size inside)', async function () {
    const r = await consoleSession('stty size', '', { height: 33, width: 101 });
    expect(r.output).to.include('33 101\r\n');
  });

  it('the program\'s stdin, stdout and stderr are the terminal', async function () {
    const r = await consoleSession('for fd in 0 1 2; do [ -t $fd ] && echo "fd$fd-tty"; done', '');
    expect(r.output).to.include('fd0-tty\r\nfd1-tty\r\nfd2-tty\r\n');
  });

  it('terminal: true without --console-socket fails at create and creates nothing', function () {
    const b = makeBundle({ args: ['true'], terminal: true });
    const r = expectFailure(rt(['create', '--bundle', b.dir, uniqueId()]));
    expect(r.stderr).to.include('cannot allocate tty if');
    expect(r.stderr).to.include('without setting console socket');
    expect(rootEntries()).to.deep.equal([]);
  });

  it('--console-socket without terminal: true fails and creates nothing', function () {
    const b = makeBundle({ args: ['true'] });
    const socketPath = path.join(makeTempDir('console'), 'unused.sock');
    const r = expectFailure(rt(['create', '--console-socket', socketPath, '--bundle', b.dir, uniqueId()]));
    expect(r.stderr).to.include('cannot use console socket if');
    expect(rootEntries()).to.deep.equal([]);
  });
});
