// Operations racing each other on one container: mutating operations are serialised (one
// `start` wins), state.json is replaced atomically (readers never see half a file), and
// `state` works from a hook while create runs.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { RtResult } from '../../helpers/runtime.js';
import { makeBundle } from '../../helpers/bundle.js';
import { makeTempDir } from '../../helpers/context.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireRoot } from '../../helpers/privileges.js';
import { describeResult, rtOk, state, testRoot, uniqueId } from '../../helpers/runtime.js';
import {
  cleanUpAfterFailure,
  lines,
  processAlive,
  rtAsync,
  runtimeShellCommand,
  shHook,
  shQuote,
  skipUnderRunc,
  sleep,
  stateOrNull,
  writableBundle,
} from './support.js';

/** Start `count` invocations of `args`, `gapMs` apart, and wait for all of them. */
async function staggered(count: number, gapMs: number, args: () => string[]): Promise<RtResult[]> {
  const runs: Promise<RtResult>[] = [];
  for (let i = 0; i < count; i++) {
    runs.push(rtAsync(args()));
    await sleep(gapMs);
  }
  return Promise.all(runs);
}

/** A state call either answered with this container's state or said it does not exist. */
function expectStateOrGone(r: RtResult, id: string): void {
  if (r.status === 0) {
    let doc: { id?: string };
    try {
      doc = JSON.parse(r.stdout) as { id?: string };
    } catch (err) {
      throw new Error(`state printed something that is not JSON (${(err as Error).message})\n${describeResult(r)}`);
    }
    expect(doc.id).to.equal(id);
    return;
  }
  expect(r.stderr, describeResult(r)).to.include('container does not exist');
  expect(lines(r.stderr), describeResult(r)).to.have.length(1);
}

describe('concurrency: serialised operations and atomic state', function () {
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
  });

  // runc 1.1.5 fails this one: a start that loses the race can block until the container exits.
  it('10 concurrent starts of one created container: exactly one succeeds and the program runs once', async function () {
    const b = writableBundle({ args: ['sh', '-c', 'echo ran >> /runs; exec sleep 600'] });
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    const results = await Promise.all(Array.from({ length: 10 }, () => rtAsync(['start', id])));
    const winners = results.filter((r) => r.status === 0);
    expect(winners, results.map(describeResult).join('\n')).to.have.length(1);
    for (const r of results.filter((x) => x.status !== 0)) {
      expect(r.stderr, describeResult(r)).to.include('cannot start an already running container');
    }
    await sleep(200);
    expect(lines(readFileSync(path.join(b.rootfs, 'runs'), 'utf8'))).to.deep.equal(['ran']);
    expect(state(id).status).to.equal('running');
    rtOk(['delete', '--force', id]);
  });

  it('5 concurrent creates with one ID: exactly one succeeds, the others leave nothing and do not disturb it', async function () {
    const id = uniqueId();
    const bundles = Array.from({ length: 5 }, () => makeBundle({ args: ['sleep', '600'] }));
    const results = await Promise.all(bundles.map((b) => rtAsync(['create', '--bundle', b.dir, id])));
    const winners = results.filter((r) => r.status === 0);
    expect(winners, results.map(describeResult).join('\n')).to.have.length(1);
    for (const r of results.filter((x) => x.status !== 0)) expect(r.stderr, describeResult(r)).to.match(/exists/);
    const s = state(id);
    expect(s.status).to.equal('created');
    expect(processAlive(s.pid!)).to.equal(true);
    rtOk(['delete', '--force', id]);
  });

  it('state racing delete --force: every answer is the container\'s state or "container does not exist"', async function () {
    const b = makeBundle({ args: ['sleep', '600'] });
    const id = uniqueId();
    rtOk(['run', '--detach', '--bundle', b.dir, id]);
    const [del, states] = await Promise.all([
      sleep(150).then(() => rtAsync(['delete', '--force', id])),
      staggered(12, 30, () => ['state', id]),
    ]);
    expect(del.status, describeResult(del)).to.equal(0);
    for (const r of states) expectStateOrGone(r, id);
    expect(stateOrNull(id)).to.equal(null);
  });

  it('state racing start: every answer parses and is created or running', async function () {
    const b = makeBundle({ args: ['sleep', '600'] });
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    const [start, states] = await Promise.all([sleep(100).then(() => rtAsync(['start', id])), staggered(10, 20, () => ['state', id])]);
    expect(start.status, describeResult(start)).to.equal(0);
    for (const r of states) {
      expect(r.status, describeResult(r)).to.equal(0);
      expect(['created', 'running']).to.include((JSON.parse(r.stdout) as { status: string }).status);
    }
    rtOk(['delete', '--force', id]);
  });

  it('list racing delete --force: every answer parses', async function () {
    const b = makeBundle({ args: ['sleep', '600'] });
    const id = uniqueId();
    rtOk(['run', '--detach', '--bundle', b.dir, id]);
    const [del, lists] = await Promise.all([
      sleep(150).then(() => rtAsync(['delete', '--force', id])),
      staggered(10, 20, () => ['list', '--format', 'json']),
    ]);
    expect(del.status, describeResult(del)).to.equal(0);
    for (const r of lists) {
      expect(r.status, describeResult(r)).to.equal(0);
      const items = (JSON.parse(r.stdout) as { id: string }[] | null) ?? [];
      expect(items.map((i) => i.id)).to.satisfy((ids: string[]) => ids.length === 0 || (ids.length === 1 && ids[0] === id));
    }
  });

  it('state called from a createRuntime hook (while create holds the container) answers with this container', function () {
    skipUnderRunc(this, 'runc 1.1.5 answers "container does not exist" until create has finished');
    const dir = makeTempDir('hookout');
    const id = uniqueId();
    const script =
      `/bin/cat > ${shQuote(`${dir}/stdin.json`)}; ` +
      `${runtimeShellCommand(testRoot())} state ${id} > ${shQuote(`${dir}/state.json`)} 2> ${shQuote(`${dir}/state.err`)}; ` +
      `echo $? > ${shQuote(`${dir}/status`)}`;
    const b = makeBundle({ args: ['true'], mutate: (c) => (c.hooks = { createRuntime: [shHook(script, { timeout: 20 })] }) });
    rtOk(['create', '--bundle', b.dir, id]);
    expect(readFileSync(`${dir}/status`, 'utf8').trim(), readFileSync(`${dir}/state.err`, 'utf8')).to.equal('0');
    const fromHook = JSON.parse(readFileSync(`${dir}/state.json`, 'utf8')) as { id: string; pid: number };
    const given = JSON.parse(readFileSync(`${dir}/stdin.json`, 'utf8')) as { pid: number };
    expect(fromHook.id).to.equal(id);
    expect(fromHook.pid).to.equal(given.pid);
    rtOk(['delete', '--force', id]);
  });
});
