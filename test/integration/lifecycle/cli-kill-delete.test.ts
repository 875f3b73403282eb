// `kill ID [SIGNAL]` (names with and without SIG, numbers, the SIGTERM default, --all, unknown
// signals) and `delete [--force]`.
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { makeBundle } from '../../helpers/bundle.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireRoot } from '../../helpers/privileges.js';
import { rt, rtOk, state, uniqueId, waitFor } from '../../helpers/runtime.js';
import {
  cleanUpAfterFailure,
  expectFailure,
  lines,
  processAlive,
  processState,
  sleep,
  stateOrNull,
  waitForCgroupPids,
  waitForStatus,
  writableBundle,
} from './support.js';

/**
 * A running container whose shell (PID 1 of its PID namespace, so it only gets signals it
 * has a handler for) appends the name of each signal it receives to /signals; TERM also ends it.
 */
async function signalRecorder() {
  const traps = ['USR1', 'USR2', 'HUP'].map((s) => `trap 'echo ${s} >> /signals' ${s}`).join('; ');
  const b = writableBundle({
    args: ['sh', '-c', `${traps}; trap 'echo TERM >> /signals; exit 0' TERM; touch /ready; while :; do sleep 0.05; done`],
  });
  const id = uniqueId();
  rtOk(['run', '--detach', '--bundle', b.dir, id]);
  await waitFor(() => existsSync(path.join(b.rootfs, 'ready')), 10_000, { what: 'the traps to be set' });
  const file = path.join(b.rootfs, 'signals');
  return {
    id,
    received: (): string[] => (existsSync(file) ? lines(readFileSync(file, 'utf8')) : []),
  };
}

describe('cli: kill', function () {
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
  });

  it('without a signal sends SIGTERM', async function () {
    const c = await signalRecorder();
    rtOk(['kill', c.id]);
    await waitForStatus(c.id, 'stopped');
    expect(c.received()).to.deep.equal(['TERM']);
    rtOk(['delete', c.id]);
  });

  it('takes signal names with and without SIG, and numbers', async function () {
    const c = await signalRecorder();
    const forms = [
      ['USR1', 'USR1'],
      ['SIGUSR2', 'USR2'],
      ['10', 'USR1'],
      ['1', 'HUP'],
    ] as const;
    for (const [i, [given, expected]] of forms.entries()) {
      rtOk(['kill', c.id, given]);
      await waitFor(() => c.received().length > i, 5_000, { what: `\`kill ${given}\` to arrive` });
      expect(c.received()[i], `kill ${given}`).to.equal(expected);
    }
    await sleep(100); // a stray extra signal would show up too
    expect(c.received()).to.have.length(forms.length);
    expect(state(c.id).status).to.equal('running');
    rtOk(['delete', '--force', c.id]);
  });

  it('a created container can be signalled: KILL stops it before it ever starts', async function () {
    const b = makeBundle({ args: ['true'] });
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    const pid = state(id).pid!;
    rtOk(['kill', id, 'KILL']);
    await waitFor(() => !processAlive(pid), 5_000, { what: 'the container process to die' });
    expect(state(id).status).to.equal('stopped');
    rtOk(['delete', id]);
  });

  it('an unknown signal fails, names it, and sends nothing', async function () {
    const c = await signalRecorder();
    const r = expectFailure(rt(['kill', c.id, 'SIGNOPE']));
    expect(r.stderr).to.include('NOPE');
    await sleep(200);
    expect(c.received()).to.deep.equal([]);
    expect(state(c.id).status).to.equal('running');
    rtOk(['delete', '--force', c.id]);
  });

  /** A running container with init (sh) and two sleeping children; returns all their pids. */
  async function family() {
    const b = makeBundle({ args: ['sh', '-c', 'sleep 600 & sleep 600 & wait'] });
    const id = uniqueId();
    rtOk(['run', '--detach', '--bundle', b.dir, id]);
    const cgroup = b.config.linux!.cgroupsPath as string;
    const pids = await waitForCgroupPids(cgroup, 3);
    return { id, init: state(id).pid!, pids };
  }

  it('--all sends the signal to every process of the container', async function () {
    const f = await family();
    rtOk(['kill', '--all', f.id, 'STOP']);
    await waitFor(() => f.pids.every((p) => processState(p) === 'T'), 5_000, { what: 'every process to be stopped' });
    rtOk(['delete', '--force', f.id]);
  });

  it('without --all only the container process gets the signal', async function () {
    const f = await family();
    rtOk(['kill', f.id, 'STOP']);
    await waitFor(() => processState(f.init) === 'T', 5_000, { what: 'init to be stopped' });
    await sleep(100);
    const others = f.pids.filter((p) => p !== f.init);
    expect(others.map((p) => processState(p))).to.deep.equal(['S', 'S']);
    rtOk(['delete', '--force', f.id]);
  });
});

describe('cli: delete', function () {
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
  });

  it('delete of a stopped container removes it', async function () {
    const b = makeBundle({ args: ['true'] });
    const id = uniqueId();
    rtOk(['run', '--detach', '--bundle', b.dir, id]);
    await waitForStatus(id, 'stopped');
    rtOk(['delete', id]);
    expect(stateOrNull(id)).to.equal(null);
  });

  it('delete --force of a running container kills its processes and removes it', async function () {
    const b = makeBundle({ args: ['sh', '-c', 'sleep 600 & wait'] });
    const id = uniqueId();
    rtOk(['run', '--detach', '--bundle', b.dir, id]);
    const cgroup = b.config.linux!.cgroupsPath as string;
    const pids = await waitForCgroupPids(cgroup, 2);
    rtOk(['delete', '--force', id]);
    expect(stateOrNull(id)).to.equal(null);
    expect(pids.filter(processAlive)).to.deep.equal([]);
  });

  it('delete --force of a created container kills its process and removes it', function () {
    const b = makeBundle({ args: ['true'] });
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    const pid = state(id).pid!;
    rtOk(['delete', '--force', id]);
    expect(stateOrNull(id)).to.equal(null);
    expect(processAlive(pid)).to.equal(false);
  });
});
