// ts-runc on Node: the installed executable is Bun's, but the same bundle runs under
// Node (`node dist/ts-runc-main.cjs`), so the project is never tied to one JavaScript
// engine. A lifecycle through Node, including what waits for a process on the event loop
// (run and exec in the foreground) and the addon loaded by Node.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeBundle } from '../helpers/bundle.js';
import { makeTempDir } from '../helpers/context.js';
import { useLeakCheck } from '../helpers/leaks.js';
import { requireRoot } from '../helpers/privileges.js';
import { installedBin, rt, rtOk, state, uniqueId, waitFor } from '../helpers/runtime.js';

describe('ts-runc under Node (node dist/ts-runc-main.cjs)', function () {
  useLeakCheck();
  let saved: string | undefined;

  before(function () {
    // A wrapper the helpers can run like any runtime binary.
    const bundle = path.join(path.dirname(installedBin()), 'ts-runc-main.cjs');
    const wrapper = path.join(makeTempDir('node-runtime', { runScoped: true }), 'ts-runc-node');
    writeFileSync(wrapper, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(bundle)} "$@"\n`, { mode: 0o755 });
    saved = process.env.TSRUNC_BIN;
    process.env.TSRUNC_BIN = wrapper;
  });
  after(function () {
    if (saved === undefined) delete process.env.TSRUNC_BIN;
    else process.env.TSRUNC_BIN = saved;
  });

  it('says it runs on Node', function () {
    expect(rtOk(['--version'])).to.include(`\nnode: ${process.version}\n`);
  });

  it('runs a container in the foreground and returns its exit status', function () {
    requireRoot(this);
    const b = makeBundle({ args: ['sh', '-c', 'echo hi; exit 3'] });
    const r = rt(['run', '--bundle', b.dir, uniqueId()]);
    expect(r.stdout).to.equal('hi\n');
    expect(r.status, r.stderr).to.equal(3);
  });

  it('creates, starts, execs into, kills and deletes a container', async function () {
    requireRoot(this);
    const b = makeBundle({ args: ['sleep', '600'] });
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    expect(state(id).status).to.equal('created');
    rtOk(['start', id]);
    expect(state(id).status).to.equal('running');
    const exec = rt(['exec', id, 'sh', '-c', 'echo in; exit 5']);
    expect(exec.stdout).to.equal('in\n');
    expect(exec.status, exec.stderr).to.equal(5);
    rtOk(['kill', id, 'KILL']);
    await waitFor(() => state(id).status === 'stopped', 5_000, { what: `${id} to stop` });
    rtOk(['delete', id]);
    expect(rt(['state', id]).status).to.not.equal(0);
  });
});
