// Rootless on a systemd + cgroup v2 host, as the guest's lingering user (tester, whose
// systemd --user is delegated cpu cpuset io memory pids): the cgroupfs driver in the
// delegated subtree, the systemd driver on the user's bus, and a user process outside its
// systemd (no delegated cgroup: none, with a warning). Bundles are `spec --rootless`
// configs (a 1-id map); test/integration/rootless covers the maps and the errors.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { makeRootlessBundle } from '../helpers/bundle.js';
import { makeTempDir } from '../helpers/context.js';
import { useLeakCheck } from '../helpers/leaks.js';
import { runtimeBin, uniqueId } from '../helpers/runtime.js';
import { skipUnderRunc } from '../integration/lifecycle/support.js';
import { CGROUP2, type Tester, asTester, describeRun, readCgroup, requireLingeringUser, userUnitProperties } from './support.js';

const LIMITS = { memory: { limit: 67108864 }, pids: { limit: 32 } };

describe('hosts: rootless, with the cgroups a user\'s systemd delegates', function () {
  useLeakCheck();
  let t: Tester;
  let root: string;
  const ids: string[] = [];

  before(function () {
    t = requireLingeringUser(this);
  });

  beforeEach(function () {
    if (!t) return;
    // A state root of the user's own per test (the default, $XDG_RUNTIME_DIR/ts-runc, is
    // tested in test/integration/rootless).
    root = makeTempDir('root');
    fs.chownSync(root, t.uid, t.gid);
  });

  afterEach(function () {
    for (const id of ids.splice(0)) rtAs(['delete', '--force', id]);
  });

  /** The runtime under test as the user, with this test's --root. */
  function rtAs(args: string[], opts: { inManager?: boolean } = {}) {
    return asTester(t, [runtimeBin(), '--root', root, ...args], opts);
  }
  function rtAsOk(args: string[], opts: { inManager?: boolean } = {}): string {
    const r = rtAs(args, opts);
    expect(r.status, describeRun(r)).to.equal(0);
    return r.stdout;
  }

  it('cgroupfs in the delegated subtree: started from a user service, the container gets a cgroup beside it with its limits; pause, resume; removed at delete', function () {
    // A service of the user's systemd runs in app.slice/<service>: the container's cgroup is
    // made beside it (runc's fs2: the parent of the runtime's own cgroup). Enforcement on v2
    // is cgroupfs-v2.test.ts's.
    const id = uniqueId('rl');
    ids.push(id);
    const b = makeRootlessBundle(t, ['sleep', '600'], (c) => {
      c.linux!.resources = LIMITS;
    });
    rtAsOk(['run', '--detach', '--bundle', b.dir, id], { inManager: true });
    const cgroup = `${t.managerCgroup}/app.slice/${id}`;
    const dir = path.join(CGROUP2, cgroup);
    const pid = JSON.parse(rtAsOk(['state', id])).pid;
    expect(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim()).to.equal(`0::${cgroup}`);
    expect([readCgroup(dir, 'memory.max'), readCgroup(dir, 'pids.max')]).to.deep.equal(['67108864', '32']);
    rtAsOk(['pause', id]);
    expect(JSON.parse(rtAsOk(['state', id])).status).to.equal('paused');
    expect(readCgroup(dir, 'cgroup.freeze')).to.equal('1');
    rtAsOk(['resume', id]);
    expect(JSON.parse(rtAsOk(['state', id])).status).to.equal('running');
    rtAsOk(['delete', '--force', id]);
    expect(fs.existsSync(dir)).to.equal(false);
  });

  it('the systemd driver on the user\'s bus: a scope of the user\'s systemd with the limits as properties and in the files; delete stops it', function () {
    const id = uniqueId('rl');
    ids.push(id);
    const b = makeRootlessBundle(t, ['sleep', '600'], (c) => {
      c.linux!.resources = LIMITS;
    });
    rtAsOk(['--systemd-cgroup', 'run', '--detach', '--bundle', b.dir, id]);
    // runc names the scope runc-<id>; ts-runc, ts-runc-<id>. A rootless one goes in user.slice.
    const unit = `${path.basename(runtimeBin())}-${id}.scope`;
    const cgroup = `${t.managerCgroup}/user.slice/${unit}`;
    const p = userUnitProperties(t, unit, 'ActiveState', 'Slice', 'Delegate', 'MemoryMax', 'TasksMax', 'ControlGroup');
    expect(p).to.deep.equal({ ActiveState: 'active', Slice: 'user.slice', Delegate: 'yes', MemoryMax: '67108864', TasksMax: '32', ControlGroup: cgroup });
    const dir = path.join(CGROUP2, cgroup);
    expect(readCgroup(dir, 'memory.max')).to.equal('67108864');
    expect(readCgroup(dir, 'pids.max')).to.equal('32');
    const pid = JSON.parse(rtAsOk(['state', id])).pid;
    expect(readCgroup(dir, 'cgroup.procs').split('\n')).to.include(String(pid));
    rtAsOk(['--systemd-cgroup', 'delete', '--force', id]);
    expect(userUnitProperties(t, unit, 'LoadState').LoadState).to.equal('not-found');
    expect(fs.existsSync(dir)).to.equal(false);
  });

  it('a user process outside its systemd has no delegated cgroup: the container runs in the runtime\'s, limits not applied, with a warning', function () {
    skipUnderRunc(this, 'runc 1.1.5 refuses limits it cannot apply ("rootless needs no limits + no cgrouppath when no permission is granted for cgroups")');
    const id = uniqueId('rl');
    const b = makeRootlessBundle(t, ['cat', '/proc/self/cgroup'], (c) => {
      c.linux!.resources = LIMITS;
    });
    const r = rtAs(['run', '--bundle', b.dir, id]);
    expect(r.status, describeRun(r)).to.equal(0);
    expect(r.stderr).to.match(/rootless: no cgroup is delegated to this user, so linux\.resources \(memory, pids\) are not applied/);
    const [cgroup] = r.stdout.trim().split('\n');
    expect(cgroup, 'in the cgroup runuser left it in: this test\'s').to.equal(fs.readFileSync('/proc/self/cgroup', 'utf8').trim());
  });
});
