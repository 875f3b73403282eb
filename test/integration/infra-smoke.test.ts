// Smoke test of the test infrastructure against the runtime under test (TSRUNC_BIN or
// dist/ts-runc): bundles, rt()/rtOk()/state(), background runs, and the leak checker on a
// real leaked container.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { makeBundle } from '../helpers/bundle.js';
import { CGROUP_PREFIX, makeTempDir } from '../helpers/context.js';
import { cleanupLeaks, findLeaks, formatLeaks, hasLeaks, takeSnapshot, useLeakCheck } from '../helpers/leaks.js';
import { requireRoot } from '../helpers/privileges.js';
import { readLogJson, rt, rtOk, startBackground, state, uniqueId, waitFor } from '../helpers/runtime.js';

describe('infra smoke: the runtime under test', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  it('runs `echo hi` in the foreground', function () {
    const b = makeBundle({ args: ['echo', 'hi'] });
    expect(rtOk(['run', '--bundle', b.dir, uniqueId()])).to.equal('hi\n');
  });

  it('creates, reports state of, starts, kills and deletes a container', async function () {
    const b = makeBundle({ args: ['sleep', '600'] });
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    const created = state(id);
    expect(created.id).to.equal(id);
    expect(created.status).to.equal('created');
    expect(created.bundle).to.equal(b.dir);
    expect(created.pid).to.be.a('number').above(0);
    // the container lives in the test cgroup, where the leak checker can see it
    expect(existsSync(path.join('/sys/fs/cgroup/pids', b.config.linux!.cgroupsPath))).to.equal(true);
    expect(b.config.linux!.cgroupsPath.startsWith(`${CGROUP_PREFIX}/`)).to.equal(true);

    rtOk(['start', id]);
    expect(state(id).status).to.equal('running');
    rtOk(['kill', id, 'KILL']);
    await waitFor(() => state(id).status === 'stopped', 5_000, { what: `${id} to stop` });
    rtOk(['delete', id]);
    const gone = rt(['state', id]);
    expect(gone.status).to.not.equal(0);
  });

  it('forwards a signal to a container run in the foreground', async function () {
    const b = makeBundle({ args: ['sh', '-c', 'trap "exit 7" TERM; echo ready; while :; do sleep 0.1; done'] });
    const bg = startBackground(['run', '--bundle', b.dir, uniqueId()]);
    await waitFor(() => bg.stdout().includes('ready'), 10_000, { what: 'the container to start' });
    bg.kill('SIGTERM');
    const { status } = await bg.wait(10_000);
    expect(status, bg.stderr()).to.equal(7);
  });

  it('writes a JSON log with --log-format json', function () {
    const log = path.join(makeTempDir('log'), 'runtime.log');
    const r = rt(['--log', log, '--log-format', 'json', 'state', 'no-such-container']);
    expect(r.status).to.not.equal(0);
    const entries = readLogJson(log);
    expect(entries.length).to.be.above(0);
    expect(entries[entries.length - 1]).to.include.keys('level', 'msg');
  });

  it('the leak checker finds and removes a container that was never deleted', function () {
    const base = takeSnapshot();
    const b = makeBundle({ args: ['sleep', '600'] });
    const id = uniqueId();
    rtOk(['run', '--detach', '--bundle', b.dir, id]);
    const leaks = findLeaks(base);
    expect(leaks.stateDirs.map((d) => path.basename(d))).to.deep.equal([id]);
    expect(leaks.cgroups.some((c) => c.endsWith(b.config.linux!.cgroupsPath)), formatLeaks(leaks)).to.equal(true);
    expect(leaks.processes.map((p) => p.pid)).to.include(state(id).pid);
    const left = cleanupLeaks(leaks, base);
    expect(hasLeaks(left), formatLeaks(left)).to.equal(false);
  });
});
