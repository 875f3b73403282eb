// The container lifecycle (runtime.md "Lifecycle" and "Operations"): the states a container
// goes through, what exists after `create`, how status is computed, and the errors of
// operations attempted in the wrong state. Runs against runtimeBin() (TSRUNC_BIN=$(which runc)
// for the reference); deliberate differences from runc are noted where they are tested.
import { expect } from 'chai';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeBundle } from '../../helpers/bundle.js';
import { makeTempDir } from '../../helpers/context.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireCommand, requireRoot } from '../../helpers/privileges.js';
import { describeResult, rt, rtOk, state, testRoot, uniqueId, waitFor } from '../../helpers/runtime.js';
import {
  cleanUpAfterFailure,
  expectFailure,
  nsLink,
  probeZombieState,
  processAlive,
  rootEntries,
  runtimeShellCommand,
  shHook,
  shQuote,
  skipUnderRunc,
  sleep,
  stateOrNull,
  waitForStatus,
  writableBundle,
} from './support.js';

/** config.json namespace type -> the file under /proc/<pid>/ns/. */
const NS_FILE: Record<string, string> = { pid: 'pid', network: 'net', ipc: 'ipc', uts: 'uts', mount: 'mnt', user: 'user', cgroup: 'cgroup' };

/** A program that runs until the file /go appears in its (writable) root. */
const UNTIL_GO = ['sh', '-c', 'while [ ! -e /go ]; do sleep 0.05; done'];

describe('lifecycle: states and transitions', function () {
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
  });

  it('after create, state says created with the pid of a live process', function () {
    const b = makeBundle({ args: ['sleep', '600'] });
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    const s = state(id);
    expect(s.status).to.equal('created');
    expect(s.pid).to.be.a('number').above(0);
    expect(processAlive(s.pid!), `pid ${s.pid} is alive`).to.equal(true);
    rtOk(['delete', '--force', id]);
  });

  it('after create, the container process is in new namespaces for the configured types and shares the others', function () {
    const b = makeBundle({ args: ['sleep', '600'] });
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    const pid = state(id).pid!;
    const configured = (b.config.linux!.namespaces as { type: string }[]).map((n) => n.type);
    expect(configured).to.include.members(['pid', 'network', 'ipc', 'uts', 'mount']);
    for (const [type, file] of Object.entries(NS_FILE)) {
      const inContainer = nsLink(pid, file);
      const onHost = nsLink('self', file);
      if (configured.includes(type)) expect(inContainer, `${type} namespace`).to.not.equal(onHost);
      else expect(inContainer, `${type} namespace (not configured)`).to.equal(onHost);
    }
    rtOk(['delete', '--force', id]);
  });

  it('after create, the user program has not run; start runs it', async function () {
    const b = writableBundle({ args: ['sh', '-c', 'touch /started; exec sleep 600'] });
    const id = uniqueId();
    const marker = path.join(b.rootfs, 'started');
    rtOk(['create', '--bundle', b.dir, id]);
    await sleep(300); // time enough for a program started too early to leave its mark
    expect(existsSync(marker), 'the program ran before start').to.equal(false);
    rtOk(['start', id]);
    await waitFor(() => existsSync(marker), 5_000, { what: 'the program to run after start' });
    rtOk(['delete', '--force', id]);
  });

  it('goes created -> running -> stopped, and delete removes it', async function () {
    const b = writableBundle({ args: UNTIL_GO });
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    expect(state(id).status).to.equal('created');
    rtOk(['start', id]);
    expect(state(id).status).to.equal('running');
    writeFileSync(path.join(b.rootfs, 'go'), '');
    await waitForStatus(id, 'stopped');
    rtOk(['delete', id]);
    expect(stateOrNull(id)).to.equal(null);
  });

  it('is creating while create runs (state asked from a createRuntime hook)', function () {
    skipUnderRunc(this, 'runc 1.1.5 writes its state only when create has finished');
    const dir = makeTempDir('hookout');
    const id = uniqueId();
    const cmd = `${runtimeShellCommand(testRoot())} state ${id} > ${shQuote(`${dir}/out`)} 2> ${shQuote(`${dir}/err`)}; exit 0`;
    const b = makeBundle({ args: ['true'], mutate: (c) => (c.hooks = { createRuntime: [shHook(cmd)] }) });
    rtOk(['create', '--bundle', b.dir, id]);
    const out = readText(`${dir}/out`);
    expect(out, `state from the hook failed: ${readText(`${dir}/err`)}`).to.not.equal('');
    expect((JSON.parse(out) as { status: string }).status).to.equal('creating');
    rtOk(['delete', '--force', id]);
  });

  it('state says stopped once the container process is killed out of band (created container)', async function () {
    const b = makeBundle({ args: ['sleep', '600'] });
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    const pid = state(id).pid!;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !processAlive(pid), 5_000, { what: `pid ${pid} to die` });
    const s = state(id);
    expect(s.status).to.equal('stopped');
    rtOk(['delete', id]);
  });

  it('state says stopped once the container process is killed out of band (running container)', async function () {
    const b = makeBundle({ args: ['sleep', '600'] });
    const id = uniqueId();
    rtOk(['run', '--detach', '--bundle', b.dir, id]);
    const pid = state(id).pid!;
    expect(state(id).status).to.equal('running');
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !processAlive(pid), 5_000, { what: `pid ${pid} to die` });
    expect(state(id).status).to.equal('stopped');
    rtOk(['delete', id]);
  });

  it('a container process that is an unreaped zombie counts as stopped (liveness is not kill(pid, 0))', async function () {
    requireCommand(this, 'python3');
    const b = makeBundle({ args: ['sleep', '600'] });
    const id = uniqueId();
    const probe = await probeZombieState(b.dir, id);
    expect(probe.zombie, `pid ${probe.pid} was a zombie while state ran`).to.equal(true);
    expect(probe.status, probe.stderr).to.equal(0);
    expect((JSON.parse(probe.stdout) as { status: string }).status).to.equal('stopped');
    rtOk(['delete', id]);
  });
});

describe('lifecycle: operations in the wrong state', function () {
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
  });

  it('start of a running container fails and leaves it running', function () {
    const b = makeBundle({ args: ['sleep', '600'] });
    const id = uniqueId();
    rtOk(['run', '--detach', '--bundle', b.dir, id]);
    const before = state(id);
    const r = expectFailure(rt(['start', id]));
    expect(r.stderr).to.include('cannot start an already running container');
    const after = state(id);
    expect(after.status).to.equal('running');
    expect(after.pid).to.equal(before.pid);
    expect(processAlive(after.pid!)).to.equal(true);
    rtOk(['delete', '--force', id]);
  });

  it('start of a stopped container fails and leaves it stopped', async function () {
    const b = makeBundle({ args: ['true'] });
    const id = uniqueId();
    rtOk(['run', '--detach', '--bundle', b.dir, id]);
    await waitForStatus(id, 'stopped');
    const r = expectFailure(rt(['start', id]));
    expect(r.stderr).to.include('cannot start a container that has stopped');
    expect(state(id).status).to.equal('stopped');
    rtOk(['delete', id]);
  });

  it('start while the container is being created fails instead of waiting (asked from a createRuntime hook)', function () {
    const dir = makeTempDir('hookout');
    const id = uniqueId();
    // `timeout` bounds the wait: a start that blocks on create's lock is killed (status 124).
    const cmd =
      `/usr/bin/timeout 3 ${runtimeShellCommand(testRoot())} start ${id}` +
      ` 2> ${shQuote(`${dir}/err`)}; echo $? > ${shQuote(`${dir}/status`)}`;
    const b = writableBundle({ args: ['sh', '-c', 'touch /started; exec sleep 600'], mutate: (c) => (c.hooks = { createRuntime: [shHook(cmd)] }) });
    rtOk(['create', '--bundle', b.dir, id]);
    const status = Number(readText(`${dir}/status`).trim());
    expect(status, `start from the hook: ${readText(`${dir}/err`)}`).to.equal(1);
    expect(state(id).status).to.equal('created');
    expect(existsSync(path.join(b.rootfs, 'started')), 'the program ran').to.equal(false);
    rtOk(['delete', '--force', id]);
  });

  it('delete of a created container fails without --force and leaves it startable', function () {
    // runtime.md: delete of a container that is not stopped MUST fail and have no effect.
    skipUnderRunc(this, 'runc 1.1.5 deletes a created container without --force');
    const b = writableBundle({ args: ['sh', '-c', 'touch /started; exec sleep 600'] });
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    const pid = state(id).pid!;
    const r = expectFailure(rt(['delete', id]));
    expect(r.stderr).to.match(/not stopped/);
    expect(state(id)).to.include({ status: 'created', pid });
    rtOk(['start', id]);
    expect(state(id).status).to.equal('running');
    rtOk(['delete', '--force', id]);
  });

  it('delete of a running container fails without --force and leaves it running', function () {
    const b = makeBundle({ args: ['sleep', '600'] });
    const id = uniqueId();
    rtOk(['run', '--detach', '--bundle', b.dir, id]);
    const pid = state(id).pid!;
    const r = expectFailure(rt(['delete', id]));
    expect(r.stderr).to.include(`cannot delete container ${id} that is not stopped: running`);
    expect(state(id)).to.include({ status: 'running', pid });
    expect(processAlive(pid)).to.equal(true);
    rtOk(['delete', '--force', id]);
  });

  it('kill of a stopped container fails and leaves it deletable', async function () {
    const b = makeBundle({ args: ['true'] });
    const id = uniqueId();
    rtOk(['run', '--detach', '--bundle', b.dir, id]);
    await waitForStatus(id, 'stopped');
    const r = expectFailure(rt(['kill', id, 'KILL']));
    expect(r.stderr).to.include('container not running');
    expect(state(id).status).to.equal('stopped');
    rtOk(['delete', id]);
  });

  const UNKNOWN = 'no-such-ctr';
  for (const args of [['state', UNKNOWN], ['start', UNKNOWN], ['kill', UNKNOWN], ['kill', UNKNOWN, 'KILL'], ['delete', UNKNOWN]]) {
    it(`\`${args.join(' ')}\` fails with "container does not exist"`, function () {
      const r = expectFailure(rt(args));
      expect(r.stderr).to.include('container does not exist');
    });
  }

  it('`delete --force` of an unknown ID succeeds and says nothing, as in runc and crun', function () {
    // Engines call it to clean up; podman relies on it after `checkpoint` (which removes the
    // container).
    const r = rt(['delete', '--force', UNKNOWN]);
    expect(r.status, describeResult(r)).to.equal(0);
    expect(r.stderr).to.equal('');
    expect(rootEntries()).to.deep.equal([]);
  });
});

describe('lifecycle: container IDs', function () {
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
  });

  let shared = '';
  before(function () {
    shared = makeBundle({ args: ['true'] }).dir; // refused IDs never get to use it
  });

  for (const bad of ['a/b', '../escape', '..', '.', 'sp ace', 'semi;colon', 'star*', 'new\nline']) {
    it(`create refuses the ID ${JSON.stringify(bad)} and creates nothing`, function () {
      const r = expectFailure(rt(['create', '--bundle', shared, bad]));
      expect(r.stderr).to.match(/invalid container id format/i);
      expect(rootEntries()).to.deep.equal([]);
    });
  }

  it('create refuses an empty ID', function () {
    const r = expectFailure(rt(['create', '--bundle', shared, '']));
    expect(r.stderr).to.include('container id cannot be empty');
    expect(rootEntries()).to.deep.equal([]);
  });

  it('accepts an ID made of letters, digits and _ + - .', function () {
    const b = makeBundle({ args: ['true'] });
    const id = `Ab_9+x-y.z-${uniqueId()}`;
    rtOk(['create', '--bundle', b.dir, id]);
    expect(state(id).id).to.equal(id);
    rtOk(['delete', '--force', id]);
  });

  it('create refuses an ID already in use and leaves the existing container alone', function () {
    const b = makeBundle({ args: ['sleep', '600'] });
    const other = makeBundle({ args: ['true'] });
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    const before = state(id);
    const r = expectFailure(rt(['create', '--bundle', other.dir, id]));
    expect(r.stderr, describeResult(r)).to.match(/exists/);
    expect(state(id)).to.deep.equal(before);
    expect(processAlive(before.pid!)).to.equal(true);
    rtOk(['delete', '--force', id]);
  });
});

function readText(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}
