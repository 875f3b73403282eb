// A cgroupsPath that names an existing cgroup with processes in it: create warns (as runc
// 1.1 does), and delete --force kills only the container's processes, never the others,
// leaving that cgroup in place for them.
import { expect } from 'chai';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeBundle } from '../../helpers/bundle.js';
import { testCgroupPath } from '../../helpers/context.js';
import { cgroupMounts, useLeakCheck } from '../../helpers/leaks.js';
import { requireRoot } from '../../helpers/privileges.js';
import { describeResult, rt, rtOk, state, uniqueId } from '../../helpers/runtime.js';
import { cgroupPids, cleanUpAfterFailure, messages, processAlive, skipUnderRunc, sleep, underRunc, waitForCgroupPids } from './support.js';

/** A process of someone else's, in `cgroupsPath` in every hierarchy. */
function foreignProcess(cgroupsPath: string): ChildProcess {
  const child = spawn('sleep', ['120'], { stdio: 'ignore' });
  for (const mount of cgroupMounts()) {
    let dir = mount;
    for (const part of cgroupsPath.split('/').filter(Boolean)) {
      const parent = dir;
      dir = path.join(dir, part);
      mkdirSync(dir, { recursive: true });
      // A new v1 cpuset takes no process until it has cpus and mems.
      for (const file of ['cpuset.cpus', 'cpuset.mems']) {
        if (existsSync(path.join(dir, file)) && readFileSync(path.join(dir, file), 'utf8').trim() === '') {
          writeFileSync(path.join(dir, file), readFileSync(path.join(parent, file), 'utf8').trim());
        }
      }
    }
    writeFileSync(path.join(dir, 'cgroup.procs'), String(child.pid));
  }
  return child;
}

async function removeForeign(child: ChildProcess, cgroupsPath: string): Promise<void> {
  child.kill('SIGKILL');
  for (let i = 0; i < 250 && processAlive(child.pid!); i++) await sleep(20);
  for (const mount of cgroupMounts()) {
    const dir = path.join(mount, cgroupsPath);
    for (let i = 0; i < 50 && existsSync(dir); i++) {
      try {
        rmdirSync(dir);
      } catch {
        await sleep(20);
      }
    }
  }
}

describe('delete --force with a cgroupsPath shared with processes that are not the container\'s', function () {
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
  });

  it('create warns that the cgroup is not empty; delete --force kills the container (own PID namespace) and leaves the others', async function () {
    const cgroupsPath = testCgroupPath();
    const foreign = foreignProcess(cgroupsPath);
    try {
      const b = makeBundle({ args: ['sh', '-c', 'sleep 60 & sleep 60; exit 0'], cgroupsPath });
      const id = uniqueId();
      const created = rt(['create', '--bundle', b.dir, id]);
      expect(created.status, describeResult(created)).to.equal(0);
      if (!underRunc()) expect(messages(created.stderr)).to.deep.equal(["container's cgroup is not empty: 1 process(es) found"]);
      rtOk(['start', id]);
      const pid = state(id).pid as number;
      const ours = (await waitForCgroupPids(cgroupsPath, 4)).filter((p) => p !== foreign.pid);
      const r = rt(['delete', '--force', id]);
      expect(r.status, describeResult(r)).to.equal(0);
      expect(processAlive(foreign.pid!), 'the foreign process').to.equal(true);
      for (const p of [pid, ...ours]) expect(processAlive(p), `container process ${p}`).to.equal(false);
      expect(cgroupPids(cgroupsPath)).to.deep.equal([foreign.pid]);
      if (!underRunc()) expect(r.stderr).to.include(`cgroup ${cgroupsPath} left in place: 1 process(es) in it are not the container's`);
    } finally {
      await removeForeign(foreign, cgroupsPath);
    }
  });

  it('without a PID namespace of its own: every process the container started dies, the others live', async function () {
    skipUnderRunc(this, 'runc 1.1.5 kills every process of the cgroup when the container shares the host PID namespace');
    const cgroupsPath = testCgroupPath();
    const foreign = foreignProcess(cgroupsPath);
    try {
      const b = makeBundle({
        args: ['sh', '-c', 'sleep 60 & sleep 60; exit 0'],
        cgroupsPath,
        mutate: (c) => (c.linux!.namespaces = c.linux!.namespaces.filter((n: { type: string }) => n.type !== 'pid')),
      });
      const id = uniqueId();
      rtOk(['create', '--bundle', b.dir, id]);
      rtOk(['start', id]);
      const ours = (await waitForCgroupPids(cgroupsPath, 4)).filter((p) => p !== foreign.pid);
      expect(ours).to.have.length(3);
      const r = rt(['delete', '--force', id]);
      expect(r.status, describeResult(r)).to.equal(0);
      expect(processAlive(foreign.pid!), 'the foreign process').to.equal(true);
      for (const p of ours) expect(processAlive(p), `container process ${p}`).to.equal(false);
    } finally {
      await removeForeign(foreign, cgroupsPath);
    }
  });

  it('kill --all still signals the whole cgroup, as runc does', async function () {
    const cgroupsPath = testCgroupPath();
    const foreign = foreignProcess(cgroupsPath);
    try {
      const b = makeBundle({ args: ['sleep', '60'], cgroupsPath });
      const id = uniqueId();
      rtOk(['create', '--bundle', b.dir, id]);
      rtOk(['start', id]);
      rtOk(['kill', '--all', id, 'KILL']);
      for (let i = 0; i < 250 && processAlive(foreign.pid!); i++) await sleep(20);
      expect(processAlive(foreign.pid!)).to.equal(false);
      rtOk(['delete', '--force', id]);
    } finally {
      await removeForeign(foreign, cgroupsPath);
    }
  });
});
