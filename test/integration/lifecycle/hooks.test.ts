// Lifecycle hooks (config.md "POSIX-platform Hooks", runtime.md "Lifecycle" steps 3-13):
// when and where each kind runs, what it gets (state on stdin, args, env), timeouts, and
// what a failing hook does to the operation.
//
// runc 1.1.5 is NOT a reference here: it runs poststart hooks before startContainer, gives
// poststart the status "created", passes its own environment to a hook without `env`,
// ignores a failing startContainer hook (start exits 0), and stops at the first failing
// poststop hook.
import { expect } from 'chai';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { validateState } from '../../../src/spec/validate.js';
import { type OciConfig, makeBundle } from '../../helpers/bundle.js';
import { makeTempDir } from '../../helpers/context.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireRoot } from '../../helpers/privileges.js';
import { describeResult, rt, rtOk, state, uniqueId, waitFor } from '../../helpers/runtime.js';
import {
  cleanUpAfterFailure,
  expectFailure,
  lines,
  messages,
  nsLink,
  processAlive,
  rootEntries,
  shHook,
  shQuote,
  singleMessage,
  stateOrNull,
  writableBundle,
} from './support.js';

type HookKind = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';
type Hook = NonNullable<OciConfig['hooks']>[string][number];

/** Namespaces compared between hooks, the host and the container. */
const NS = ['uts', 'mnt', 'pid', 'net', 'ipc'];

/** Where the container sees the hook log directory (bind-mounted). */
const IN_CONTAINER = '/hooklog';

/**
 * A hook that appends its kind to `<dir>/log`, saves its stdin to `<dir>/<kind>.json` and its
 * namespaces to `<dir>/<kind>.ns`. `dir` is the host path, or IN_CONTAINER for startContainer
 * (whose path resolves in the container: the rootfs's busybox /bin/sh).
 */
function recordingHook(kind: HookKind, dir: string): Hook {
  const d = shQuote(dir);
  // busybox readlink takes one path; /proc/self is each readlink, in the hook's namespaces
  const ns = `for n in ${NS.join(' ')}; do /bin/readlink /proc/self/ns/$n; done`;
  let script = `echo ${kind} >> ${d}/log; /bin/cat > ${d}/${kind}.json; ${ns} > ${d}/${kind}.ns`;
  // poststart also records what the container process is running at that moment.
  if (kind === 'poststart') script += `; pid=$(/usr/bin/jq .pid ${d}/poststart.json); /bin/cat /proc/$pid/cmdline > ${d}/poststart.cmdline`;
  return shHook(script);
}

/** A hook that reads its stdin (so it cannot race the runtime writing it) and exits 3. */
const failingHook = (): Hook => shHook('/bin/cat > /dev/null; echo hook-says-no; exit 3');

function readLog(dir: string): string[] {
  const file = path.join(dir, 'log');
  return existsSync(file) ? lines(readFileSync(file, 'utf8')) : [];
}

describe('hooks: a full lifecycle with every kind', function () {
  useLeakCheck();

  let dir = '';
  let root = '';
  let id = '';
  const PROGRAM = ['sh', '-c', `echo program >> ${IN_CONTAINER}/log; while [ ! -e ${IN_CONTAINER}/go ]; do sleep 0.05; done`];
  let bundleDir = '';
  let containerPid = 0;
  let containerNs: string[] = [];
  const logAfter: Record<'create' | 'start' | 'delete', string[]> = { create: [], start: [], delete: [] };
  const hookState = (kind: HookKind) => JSON.parse(readFileSync(path.join(dir, `${kind}.json`), 'utf8')) as Record<string, unknown>;
  const hookNs = (kind: HookKind) => lines(readFileSync(path.join(dir, `${kind}.ns`), 'utf8'));

  before(async function () {
    requireRoot(this);
    dir = makeTempDir('hooklog', { runScoped: true });
    root = makeTempDir('root', { runScoped: true });
    id = uniqueId('hk');
    const hostKinds: HookKind[] = ['prestart', 'createRuntime', 'createContainer', 'poststart', 'poststop'];
    const b = makeBundle({
      args: PROGRAM,
      mutate: (c) => {
        c.mounts!.push({ destination: IN_CONTAINER, type: 'bind', source: dir, options: ['rbind', 'rw'] });
        c.hooks = Object.fromEntries(hostKinds.map((k) => [k, [recordingHook(k, dir)]]));
        c.hooks.startContainer = [recordingHook('startContainer', IN_CONTAINER)];
      },
    });
    bundleDir = b.dir;
    try {
      rtOk(['create', '--bundle', b.dir, id], { root });
      logAfter.create = readLog(dir);
      containerPid = state(id, { root }).pid!;
      containerNs = NS.map((n) => nsLink(containerPid, n));
      rtOk(['start', id], { root });
      logAfter.start = readLog(dir);
      await waitFor(() => readLog(dir).includes('program'), 5_000, { what: 'the program to run' });
      rtOk(['kill', id, 'KILL'], { root });
      await waitFor(() => !processAlive(containerPid), 5_000, { what: 'the container to stop' });
      rtOk(['delete', id], { root });
      logAfter.delete = readLog(dir);
    } catch (err) {
      rt(['delete', '--force', id], { root }); // the failure is reported once, not again as a leak
      throw err;
    }
  });

  it('create runs prestart, createRuntime, createContainer, in that order, and no other hook', function () {
    expect(logAfter.create).to.deep.equal(['prestart', 'createRuntime', 'createContainer']);
  });

  it('start runs startContainer before the program, and poststart before it returns', function () {
    expect(logAfter.start.slice(0, 4)).to.deep.equal(['prestart', 'createRuntime', 'createContainer', 'startContainer']);
    expect(logAfter.start).to.include('poststart');
    const all = logAfter.delete;
    expect(all.indexOf('startContainer')).to.be.below(all.indexOf('program'));
  });

  it('poststart runs when the program has been executed (the container process runs it)', function () {
    const cmdline = readFileSync(path.join(dir, 'poststart.cmdline'), 'utf8').split('\0').filter(Boolean);
    expect(cmdline).to.deep.equal(PROGRAM);
  });

  it('delete runs poststop, last and once', function () {
    expect(logAfter.delete.at(-1)).to.equal('poststop');
    expect(logAfter.delete.filter((k) => k === 'poststop')).to.have.length(1);
    expect(logAfter.start).to.not.include('poststop');
  });

  it('every hook gets a valid state document (state-schema.json) with the container\'s id and bundle on stdin', function () {
    for (const kind of ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const) {
      expect(hookState(kind), kind).to.include({ id, bundle: bundleDir });
      expect(validateState(hookState(kind)).map((p) => p.message), kind).to.deep.equal([]);
    }
  });

  // runtime.md's lifecycle: "creating" is step 2; these hooks are steps 3-5, after the
  // environment was created.
  it('prestart and createRuntime get status "created" and the container pid as the host sees it', function () {
    expect(hookState('prestart')).to.include({ status: 'created', pid: containerPid });
    expect(hookState('createRuntime')).to.include({ status: 'created', pid: containerPid });
  });

  it('createContainer gets status "created" and the pid as the container sees it (1)', function () {
    expect(hookState('createContainer')).to.include({ status: 'created', pid: 1 });
  });

  it('startContainer gets status "created" and the pid as the container sees it (1)', function () {
    expect(hookState('startContainer')).to.include({ status: 'created', pid: 1 });
  });

  it('poststart gets status "running" and the host pid', function () {
    expect(hookState('poststart')).to.include({ status: 'running', pid: containerPid });
  });

  it('poststop gets status "stopped"', function () {
    expect(hookState('poststop').status).to.equal('stopped');
  });

  it('prestart, createRuntime, poststart and poststop run in the runtime\'s namespaces', function () {
    const host = NS.map((n) => nsLink('self', n));
    for (const kind of ['prestart', 'createRuntime', 'poststart', 'poststop'] as const) expect(hookNs(kind), kind).to.deep.equal(host);
  });

  it('createContainer and startContainer run in the container\'s namespaces', function () {
    for (const kind of ['createContainer', 'startContainer'] as const) expect(hookNs(kind), kind).to.deep.equal(containerNs);
  });
});

describe('hooks: arguments, environment, stdin, timeout', function () {
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
  });

  /** Create (and delete) a container whose createRuntime hooks are `hooks`. */
  function createWithHooks(hooks: Hook[], env?: NodeJS.ProcessEnv) {
    const b = makeBundle({ args: ['true'], mutate: (c) => (c.hooks = { createRuntime: hooks }) });
    const id = uniqueId();
    const r = rt(['create', '--bundle', b.dir, id], env ? { env } : {});
    if (r.status === 0) rtOk(['delete', '--force', id]);
    return r;
  }

  it('a hook\'s environment is exactly its `env`', function () {
    const out = path.join(makeTempDir('hookout'), 'environ');
    const r = createWithHooks([shHook(`/bin/cat /proc/$$/environ > ${shQuote(out)}`, { env: ['ALPHA=1', 'BETA=two words'] })]);
    expect(r.status, describeResult(r)).to.equal(0);
    expect(readFileSync(out, 'utf8').split('\0').filter(Boolean)).to.deep.equal(['ALPHA=1', 'BETA=two words']);
  });

  it('a hook without `env` inherits the runtime\'s environment (as runc and crun: crun\'s test-hook-env-inherit)', function () {
    const out = path.join(makeTempDir('hookout'), 'environ');
    const r = createWithHooks([shHook(`/bin/cat /proc/$$/environ > ${shQuote(out)}`)], { ...process.env, TSR_HOOK_PROBE: 'from the runtime' });
    expect(r.status, describeResult(r)).to.equal(0);
    const env = readFileSync(out, 'utf8').split('\0');
    expect(env).to.include('TSR_HOOK_PROBE=from the runtime');
    expect(env).to.include(`PATH=${process.env.PATH}`);
  });

  it('a hook with `env` sees nothing of the runtime\'s, and no descriptor beyond its stdio', function () {
    const out = makeTempDir('hookout');
    // exec: no redirection the shell saves a descriptor for; ls's own listing is fd 3.
    const script = `/bin/cat /proc/$$/environ > ${shQuote(`${out}/environ`)}; exec > ${shQuote(`${out}/fds`)}; exec /bin/ls /proc/self/fd`;
    const r = createWithHooks([shHook(script, { env: ['ONLY=1'] })], { ...process.env, TSR_HOOK_PROBE: 'must not be seen' });
    expect(r.status, describeResult(r)).to.equal(0);
    expect(readFileSync(`${out}/environ`, 'utf8').split('\0').filter(Boolean)).to.deep.equal(['ONLY=1']);
    expect(readFileSync(`${out}/fds`, 'utf8').split('\n').filter(Boolean)).to.deep.equal(['0', '1', '2', '3']);
  });

  it('a hook runs in the bundle directory (as runc\'s), not the caller\'s, with no signal blocked or ignored', function () {
    const out = makeTempDir('hookout');
    const caller = makeTempDir('caller');
    const b = makeBundle({
      args: ['true'],
      mutate: (c) => (c.hooks = { createRuntime: [shHook(`pwd -P > ${shQuote(`${out}/cwd`)}; exec /bin/grep -E "^Sig(Blk|Ign)" /proc/self/status > ${shQuote(`${out}/signals`)}`)] }),
    });
    const id = uniqueId();
    const r = rt(['create', '--bundle', b.dir, id], { cwd: caller });
    if (r.status === 0) rtOk(['delete', '--force', id]);
    expect(r.status, describeResult(r)).to.equal(0);
    expect(readFileSync(`${out}/cwd`, 'utf8').trim()).to.equal(realpathSync(b.dir));
    expect(readFileSync(`${out}/signals`, 'utf8')).to.match(/^SigBlk:\s+0+\nSigIgn:\s+0+\n$/);
  });

  it('a startContainer hook without `env` gets the container process\'s environment (as runc)', function () {
    const dir = makeTempDir('hookout');
    const b = makeBundle({
      args: ['true'],
      mutate: (c) => {
        c.process!.env = ['PATH=/bin', 'FROM_PROCESS=1'];
        c.mounts!.push({ destination: '/hookout', type: 'bind', source: dir, options: ['rbind', 'rw'] });
        c.hooks = { startContainer: [shHook('/bin/cat /proc/$$/environ > /hookout/environ')] };
      },
    });
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    try {
      rtOk(['start', id]);
      // (busybox's sh adds SHLVL and PWD to its own environ)
      expect(readFileSync(path.join(dir, 'environ'), 'utf8').split('\0')).to.include.members(['PATH=/bin', 'FROM_PROCESS=1']);
    } finally {
      rtOk(['delete', '--force', id]);
    }
  });

  it('a hook\'s `args` are its argv, argv[0] included', function () {
    const out = path.join(makeTempDir('hookout'), 'cmdline');
    const script = `/bin/cat /proc/$$/cmdline > ${shQuote(out)}`;
    const r = createWithHooks([shHook(script, { argv0: 'my-hook-argv0' })]);
    expect(r.status, describeResult(r)).to.equal(0);
    expect(readFileSync(out, 'utf8').split('\0').filter(Boolean)).to.deep.equal(['my-hook-argv0', '-c', script]);
  });

  it('hooks that exit without reading their stdin do not fail', function () {
    // Writing the state to a hook that already exited gets EPIPE; that is not the hook's failure.
    const hooks = Array.from({ length: 30 }, () => ({ path: '/bin/true' }));
    const r = createWithHooks(hooks);
    expect(r.status, describeResult(r)).to.equal(0);
  });

  it('a hook running past its timeout is killed and the operation fails, leaving nothing', function () {
    const pidFile = path.join(makeTempDir('hookout'), 'hook.pid');
    const started = Date.now();
    const r = expectFailure(createWithHooks([shHook(`echo $$ > ${shQuote(pidFile)}; exec /bin/sleep 60`, { timeout: 1 })]));
    expect(Date.now() - started).to.be.below(10_000);
    expect(singleMessage(r)).to.match(/timeout/);
    const hookPid = Number(readFileSync(pidFile, 'utf8'));
    expect(processAlive(hookPid), `hook pid ${hookPid} still alive`).to.equal(false);
    expect(rootEntries()).to.deep.equal([]);
  });
});

describe('hooks: failures', function () {
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
  });

  /** A bundle whose program leaves /started in the (writable) rootfs, with `hooks`. */
  function bundleWithHooks(hooks: Partial<Record<HookKind, Hook[]>>) {
    return writableBundle({ args: ['sh', '-c', 'touch /started; exec sleep 600'], mutate: (c) => (c.hooks = hooks) });
  }

  for (const kind of ['prestart', 'createRuntime', 'createContainer'] as const) {
    it(`a failing ${kind} hook fails create with one line giving its exit status, and leaves nothing`, function () {
      const b = bundleWithHooks({ [kind]: [failingHook()] });
      const id = uniqueId();
      const r = expectFailure(rt(['create', '--bundle', b.dir, id]));
      expect(singleMessage(r)).to.include('exit status 3');
      expect(stateOrNull(id)).to.equal(null);
      expect(existsSync(path.join(b.rootfs, 'started')), 'the program ran').to.equal(false);
    });
  }

  it('a failing createRuntime hook still runs the poststop hooks (lifecycle steps 4, 12, 13)', function () {
    const out = path.join(makeTempDir('hookout'), 'poststop');
    const b = bundleWithHooks({ createRuntime: [failingHook()], poststop: [shHook(`/bin/cat > ${shQuote(out)}`)] });
    expectFailure(rt(['create', '--bundle', b.dir, uniqueId()]));
    expect(existsSync(out), 'poststop ran').to.equal(true);
  });

  // Lifecycle steps 7 and 9: "stop the container, and continue the lifecycle at step 12",
  // i.e. the container is destroyed (12) and the poststop hooks run (13) before start returns.
  it('a failing startContainer hook fails start; the program never runs; the container is destroyed and poststop runs', function () {
    const out = path.join(makeTempDir('hookout'), 'poststop');
    const b = bundleWithHooks({
      startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > /dev/null; exit 3'] }],
      poststop: [shHook(`/bin/cat > ${shQuote(out)}`)],
    });
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    const r = expectFailure(rt(['start', id]));
    expect(singleMessage(r)).to.include('exit status 3');
    expect(existsSync(path.join(b.rootfs, 'started')), 'the program ran').to.equal(false);
    expect(stateOrNull(id)).to.equal(null);
    expect(existsSync(out), 'poststop ran').to.equal(true);
  });

  it('a failing poststart hook fails start; the container is destroyed and poststop runs (lifecycle step 9)', function () {
    const out = path.join(makeTempDir('hookout'), 'poststop');
    const b = bundleWithHooks({ poststart: [failingHook()], poststop: [shHook(`/bin/cat > ${shQuote(out)}`)] });
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    const r = expectFailure(rt(['start', id]));
    expect(singleMessage(r)).to.include('exit status 3');
    expect(stateOrNull(id)).to.equal(null);
    expect(existsSync(out), 'poststop ran').to.equal(true);
  });

  it('a failing poststop hook is only a warning: delete succeeds and the container is gone', function () {
    const b = bundleWithHooks({ poststop: [failingHook()] });
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    const r = rt(['delete', '--force', id]);
    expect(r.status, describeResult(r)).to.equal(0);
    expect(r.stderr).to.match(/level=warn/);
    expect(messages(r.stderr).join('\n')).to.include('exit status 3');
    expect(stateOrNull(id)).to.equal(null);
  });

  it('after a failing poststop hook the remaining poststop hooks still run (lifecycle step 13)', function () {
    const out = path.join(makeTempDir('hookout'), 'second');
    const b = bundleWithHooks({ poststop: [failingHook(), shHook(`/bin/cat > ${shQuote(out)}`)] });
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    rtOk(['delete', '--force', id]);
    expect(existsSync(out), 'the second poststop hook ran').to.equal(true);
  });
});
