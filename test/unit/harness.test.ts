// The test harness end to end: scripts/test.mjs + test/reporter.cjs + the leak-check hooks,
// run on the fixtures in test/fixtures/ in a child process.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/context.js';
import { requireRoot } from '../helpers/privileges.js';

function runTestCommand(fixture: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts/test.mjs'), path.join(REPO_ROOT, 'test/fixtures', fixture)], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const lines = r.stdout.trimEnd().split('\n');
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, last: lines[lines.length - 1] };
}

describe('test harness', function () {
  this.timeout(120_000);

  it('ends with the summary line and fails when a test fails', function () {
    const r = runTestCommand('mixed.fixture.ts');
    expect(r.last).to.equal('1 passed, 1 failed, 2 skipped');
    expect(r.status).to.not.equal(0);
    expect(r.stdout).to.include('deliberate failure');
  });

  it('fails a run that leaves a file in the repository, naming it', function () {
    const name = `stray-${process.pid}`;
    try {
      const r = runTestCommand('stray.fixture.ts', { STRAY_NAME: name });
      expect(existsSync(path.join(REPO_ROOT, name)), 'the fixture wrote its file').to.equal(true);
      expect(r.last, r.stdout).to.equal('1 passed, 1 failed, 0 skipped');
      expect(r.status).to.not.equal(0);
      expect(r.stdout).to.include(`the tests left files in the repository (${REPO_ROOT}): ${name}\n`);
    } finally {
      rmSync(path.join(REPO_ROOT, name), { force: true });
    }
  });

  it('fails a leaking test, cleans up its leaks, and goes on with the next test', function () {
    requireRoot(this);
    const r = runTestCommand('leaky.fixture.ts');
    expect(r.last, r.stdout).to.equal('2 passed, 2 failed, 0 skipped');
    expect(r.status).to.not.equal(0);
    expect(r.stdout).to.include('left resources behind');
    expect(r.stdout).to.match(/mounts:\n\s+\S+-leaky-\S+\/dst/);
    expect(r.stdout).to.match(/processes:\n\s+pid \d+ \(command line names a test temp dir\)/);
    expect(r.stdout).to.match(/suite "fixture: leaky a block whose before hook leaks" left resources behind[^]*-leaky-suite-/);
    // nothing of the child run survives
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).to.not.match(/tsrunc-test-\S+-leaky-/);
    const procs = spawnSync('pgrep', ['-f', 'tsrunc-test-.*-leaky-'], { encoding: 'utf8' });
    expect(procs.stdout.trim()).to.equal('');
  });
});
