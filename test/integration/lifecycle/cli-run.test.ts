// `run`: create + start, then in the foreground wait for the container, forward signals to
// it, exit with its status (128+signal when killed) and remove it; --detach and --keep.
import { expect } from 'chai';
import { makeBundle } from '../../helpers/bundle.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireRoot } from '../../helpers/privileges.js';
import { describeResult, rt, rtOk, startBackground, state, uniqueId, waitFor } from '../../helpers/runtime.js';
import { cleanUpAfterFailure, processAlive, stateOrNull, waitForStatus } from './support.js';

/** A shell that prints "ready" once its traps are set, then idles. */
function trappingShell(traps: string): string[] {
  return ['sh', '-c', `${traps}; echo ready; while :; do sleep 0.05; done`];
}

describe('cli: run in the foreground', function () {
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
  });

  it('exits 0 when the program does, passing its stdout and stderr through', function () {
    const b = makeBundle({ args: ['sh', '-c', 'echo to-stdout; echo to-stderr >&2'] });
    const r = rt(['run', '--bundle', b.dir, uniqueId()]);
    expect(r.status, describeResult(r)).to.equal(0);
    expect(r.stdout).to.equal('to-stdout\n');
    expect(r.stderr).to.equal('to-stderr\n');
  });

  it('exits with the program\'s exit status (42)', function () {
    const b = makeBundle({ args: ['sh', '-c', 'exit 42'] });
    const r = rt(['run', '--bundle', b.dir, uniqueId()]);
    expect(r.status, describeResult(r)).to.equal(42);
  });

  it('exits 128+9 when the container process is killed by SIGKILL', async function () {
    const b = makeBundle({ args: ['sleep', '600'] });
    const id = uniqueId();
    const bg = startBackground(['run', '--bundle', b.dir, id]);
    await waitForStatus(id, 'running');
    rtOk(['kill', id, 'KILL']);
    const { status } = await bg.wait(10_000);
    expect(status, bg.stderr()).to.equal(137);
  });

  it('a container deleted from elsewhere while it runs: 137, nothing on stderr (as runc)', async function () {
    const b = makeBundle({ args: ['sleep', '600'] });
    const id = uniqueId();
    const bg = startBackground(['run', '--bundle', b.dir, id]);
    await waitForStatus(id, 'running');
    // Held stopped, the foreground runtime looks for its container only after it is gone.
    process.kill(bg.pid, 'SIGSTOP');
    try {
      rtOk(['delete', '--force', id]);
    } finally {
      process.kill(bg.pid, 'SIGCONT');
    }
    const { status } = await bg.wait(10_000);
    expect(status, bg.stderr()).to.equal(137);
    expect(bg.stderr()).to.equal('');
    expect(stateOrNull(id)).to.equal(null);
  });

  it('forwards SIGTERM to the container process (a trapping shell exits 7)', async function () {
    const b = makeBundle({ args: trappingShell('trap "exit 7" TERM') });
    const bg = startBackground(['run', '--bundle', b.dir, uniqueId()]);
    await waitFor(() => bg.stdout().includes('ready'), 10_000, { what: 'the container to start' });
    bg.kill('SIGTERM');
    const { status } = await bg.wait(10_000);
    expect(status, bg.stderr()).to.equal(7);
  });

  it('forwards SIGUSR1 to the container process, which keeps running', async function () {
    const b = makeBundle({ args: trappingShell('trap "echo got-usr1" USR1; trap "exit 3" TERM') });
    const id = uniqueId();
    const bg = startBackground(['run', '--bundle', b.dir, id]);
    await waitFor(() => bg.stdout().includes('ready'), 10_000, { what: 'the container to start' });
    bg.kill('SIGUSR1');
    await waitFor(() => bg.stdout().includes('got-usr1'), 5_000, { what: 'the trap to run' });
    expect(state(id).status).to.equal('running');
    bg.kill('SIGTERM');
    const { status } = await bg.wait(10_000);
    expect(status, bg.stderr()).to.equal(3);
  });

  it('removes the container when it exits', function () {
    const b = makeBundle({ args: ['true'] });
    const id = uniqueId();
    rtOk(['run', '--bundle', b.dir, id]);
    expect(stateOrNull(id)).to.equal(null);
  });

  it('--keep: the stopped container is kept, and delete removes it', function () {
    const b = makeBundle({ args: ['sh', '-c', 'exit 3'] });
    const id = uniqueId();
    const r = rt(['run', '--keep', '--bundle', b.dir, id]);
    expect(r.status, describeResult(r)).to.equal(3);
    expect(state(id).status).to.equal('stopped');
    rtOk(['delete', id]);
    expect(stateOrNull(id)).to.equal(null);
  });
});

describe('cli: run --detach', function () {
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
  });

  it('returns 0 at once and leaves the container running', function () {
    const b = makeBundle({ args: ['sleep', '600'] });
    const id = uniqueId();
    const started = Date.now();
    const r = rt(['run', '--detach', '--bundle', b.dir, id]);
    expect(r.status, describeResult(r)).to.equal(0);
    expect(Date.now() - started).to.be.below(10_000);
    const s = state(id);
    expect(s.status).to.equal('running');
    expect(processAlive(s.pid!)).to.equal(true);
    rtOk(['delete', '--force', id]);
  });

  it('-d keeps the container after it exits (stopped, until delete)', async function () {
    const b = makeBundle({ args: ['true'] });
    const id = uniqueId();
    rtOk(['run', '-d', '--bundle', b.dir, id]);
    await waitForStatus(id, 'stopped');
    rtOk(['delete', id]);
  });
});
