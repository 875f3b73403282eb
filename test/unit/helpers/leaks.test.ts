// leaks.ts against real kernel objects it makes itself: a bind mount, cgroups (one frozen),
// processes, a state directory. Each is found as a leak, then cleaned up.
import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CGROUP_PREFIX, makeTempDir, mountsUnder, testRoot, uniqueName } from '../../helpers/context.js';
import { cleanupLeaks, findLeaks, formatLeaks, hasLeaks, takeSnapshot } from '../../helpers/leaks.js';
import { requireCgroupV1Controller, requireRoot } from '../../helpers/privileges.js';

/** A long sleeper; detached so that only the leak checker can end it. */
function sleeper(extraArg?: string) {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)', ...(extraArg ? [extraArg] : [])], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  return child.pid!;
}

/** Is `pid` a live (not zombie) process? */
function alive(pid: number): boolean {
  try {
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('helpers/leaks', function () {
  beforeEach(function () {
    requireRoot(this);
  });

  it('finds and detaches a bind mount under a test temp dir', function () {
    const base = takeSnapshot();
    const dir = makeTempDir('mnt');
    const src = path.join(dir, 'src');
    const dst = path.join(dir, 'dst');
    mkdirSync(src);
    mkdirSync(dst);
    writeFileSync(path.join(src, 'keep'), 'host data');
    execFileSync('mount', ['--bind', src, dst]);
    try {
      const leaks = findLeaks(base);
      expect(leaks.mounts).to.deep.equal([dst]);
      expect(formatLeaks(leaks)).to.include(dst);
      const left = cleanupLeaks(leaks, base);
      expect(hasLeaks(left), formatLeaks(left)).to.equal(false);
      expect(mountsUnder(dir)).to.deep.equal([]);
      expect(existsSync(path.join(src, 'keep'))).to.equal(true);
    } finally {
      if (mountsUnder(dst).length) execFileSync('umount', ['-l', dst]);
    }
  });

  it('sees stacked mounts on one mount point separately', function () {
    const dir = makeTempDir('mnt');
    const base = takeSnapshot();
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', dir]);
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', dir]);
    const leaks = findLeaks(base);
    expect(leaks.mounts).to.deep.equal([dir, `${dir}#2`]);
    expect(hasLeaks(cleanupLeaks(leaks, base))).to.equal(false);
    expect(mountsUnder(dir)).to.deep.equal([]);
  });

  it('finds cgroups under the run prefix and the processes in them, even frozen', function () {
    requireCgroupV1Controller(this, 'freezer');
    const base = takeSnapshot();
    const name = uniqueName('leak');
    const freezer = path.join('/sys/fs/cgroup/freezer', CGROUP_PREFIX, name);
    const pids = path.join('/sys/fs/cgroup/pids', CGROUP_PREFIX, name, 'nested');
    mkdirSync(freezer, { recursive: true });
    mkdirSync(pids, { recursive: true });
    const pid = sleeper();
    writeFileSync(path.join(freezer, 'cgroup.procs'), String(pid));
    writeFileSync(path.join(freezer, 'freezer.state'), 'FROZEN');

    const leaks = findLeaks(base);
    expect(leaks.cgroups).to.include.members([freezer, path.dirname(pids), pids]);
    expect(leaks.processes.map((p) => p.pid)).to.deep.equal([pid]);
    expect(leaks.processes[0]!.why).to.match(/^in cgroup .*freezer:\/tsrunc-test-/);

    const left = cleanupLeaks(leaks, base);
    expect(hasLeaks(left), formatLeaks(left)).to.equal(false);
    expect(alive(pid)).to.equal(false);
    expect(existsSync(freezer)).to.equal(false);
    expect(existsSync(path.dirname(pids))).to.equal(false);
  });

  it('finds processes whose command line names a test temp dir', function () {
    const base = takeSnapshot();
    const dir = makeTempDir('proc');
    const pid = sleeper(dir);
    const leaks = findLeaks(base);
    expect(leaks.processes.map((p) => p.pid)).to.deep.equal([pid]);
    expect(hasLeaks(cleanupLeaks(leaks, base))).to.equal(false);
    expect(alive(pid)).to.equal(false);
  });

  it('finds state directories in the test --root', function () {
    const base = takeSnapshot();
    const stateDir = path.join(testRoot(), 'leaked-container');
    mkdirSync(stateDir);
    writeFileSync(path.join(stateDir, 'state.json'), '{}');
    const leaks = findLeaks(base);
    expect(leaks.stateDirs).to.deep.equal([stateDir]);
    expect(hasLeaks(cleanupLeaks(leaks, base))).to.equal(false);
    expect(existsSync(stateDir)).to.equal(false);
  });

  it('does not count what existed at the baseline', function () {
    const dir = makeTempDir('proc');
    const pid = sleeper(dir);
    try {
      const base = takeSnapshot();
      expect(hasLeaks(findLeaks(base))).to.equal(false);
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });
});
