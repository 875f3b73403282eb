// Stdio the runtime had on the host's /dev/null reaches the container as its own /dev/null
// (runc's reOpenDevNull): the container then holds no file of the host's mounts, which
// CRIU could not checkpoint. No CRIU needed to see it.
import { expect } from 'chai';
import { readFileSync, readlinkSync } from 'node:fs';
import { makeBundle } from '../../helpers/bundle.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireRoot } from '../../helpers/privileges.js';
import { rtOk, state, uniqueId } from '../../helpers/runtime.js';

/** The mount an fd of `pid` is on (fdinfo's mnt_id). */
function mountOfFd(pid: number, fd: number): number {
  return Number(/^mnt_id:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))?.[1]);
}

/** Mount IDs of the mount namespace `pid` is in. */
function mountIds(pid: number): Set<number> {
  return new Set(readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').filter(Boolean).map((l) => Number(l.split(' ')[0])));
}

describe("the container's stdio on /dev/null", function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  it("the runtime's /dev/null stdin becomes the container's own /dev/null (a mount of its namespace)", function () {
    const b = makeBundle({ args: ['sleep', '600'] });
    const id = uniqueId('dn');
    // rt() runs the runtime with stdin on the host's /dev/null.
    rtOk(['run', '-d', '--bundle', b.dir, id]);
    const pid = state(id).pid as number;
    try {
      expect(readlinkSync(`/proc/${pid}/fd/0`)).to.equal('/dev/null');
      expect(mountIds(pid).has(mountOfFd(pid, 0)), 'fd 0 is on a mount of the container').to.equal(true);
      expect(mountIds(process.pid).has(mountOfFd(pid, 0)), 'fd 0 is not on a mount of the host').to.equal(false);
      // stdout is a file of the host (rt() gives the runtime files): left alone.
      expect(mountIds(pid).has(mountOfFd(pid, 1))).to.equal(false);
    } finally {
      rtOk(['delete', '--force', id]);
    }
  });
});
