// Rootless on this machine, as users the tests create: `spec --rootless` bundles with a
// 1-id map and with a subordinate-id map (newuidmap/newgidmap), the lifecycle, the state
// under $XDG_RUNTIME_DIR, no cgroups (none is delegated here), and the errors that name the
// fix where rootless cannot work. `TSRUNC_BIN=$(which runc)` runs the same tests against
// runc 1.1.5: where ts-runc deliberately says more (or runs with a warning where runc
// refuses), the test says so.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type OciConfig, makeRootlessBundle } from '../../helpers/bundle.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { hasCommand, skipWith } from '../../helpers/privileges.js';
import { skipUnderRunc, underRunc } from '../lifecycle/support.js';
import { describeResult, runtimeBin, uniqueId, waitFor } from '../../helpers/runtime.js';
import {
  type TestUser,
  asUser,
  checkNothingLeft,
  createUser,
  removeUser,
  requireRootless,
  runtimeDirOf,
  stateDirName,
  subordinateMaps,
} from './support.js';

const ok = (r: ReturnType<typeof asUser>) => {
  expect(r.status, describeResult(r)).to.equal(0);
  return r.stdout;
};
const fails = (r: ReturnType<typeof asUser>) => {
  expect(r.status, describeResult(r)).to.not.equal(0);
  return r.stderr;
};
const SHOW_MAPS = 'cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; id -u; id -g';
const fields = (text: string) => text.trim().split(/\s+/);

describe('rootless: a user without delegated cgroups runs containers', function () {
  useLeakCheck();
  let user: TestUser;
  let bare: TestUser;
  /** Where this test's containers live, for the after-each sweep. */
  let places: { xdg: string | null; root?: string }[] = [];
  let xdg: string;

  before(function () {
    requireRootless(this);
    user = createUser({ subordinateIds: true });
    bare = createUser({ subordinateIds: false });
    if (!user.subuid || !user.subgid) skipWith(this, `useradd gave ${user.name} no subordinate ids (SUB_UID_COUNT in /etc/login.defs)`);
  });

  after(function () {
    if (user) removeUser(user);
    if (bare) removeUser(bare);
  });

  beforeEach(function () {
    if (!user) return;
    xdg = runtimeDirOf(user);
    places = [{ xdg }];
  });

  afterEach(function () {
    if (!user) return;
    for (const u of [user, bare]) {
      const left = checkNothingLeft(u, () => places);
      if (left) throw new Error(left);
    }
  });

  const stateRoot = () => path.join(xdg, stateDirName());
  /** What the state root holds; a refusal before anything was claimed may not even make it. */
  const stateEntries = (): string[] => (existsSync(stateRoot()) ? readdirSync(stateRoot()) : []);

  it('`spec --rootless` maps root to the user; the container runs with that 1-id map, setgroups denied', function () {
    const own = runtimeDirOf(user); // a directory of the user's to write config.json into
    ok(asUser(user, ['spec', '--rootless', '--bundle', own], { xdg }));
    const written = JSON.parse(readFileSync(path.join(own, 'config.json'), 'utf8'));
    expect(written.linux.uidMappings).to.deep.equal([{ containerID: 0, hostID: user.uid, size: 1 }]);
    expect(written.linux.gidMappings).to.deep.equal([{ containerID: 0, hostID: user.gid, size: 1 }]);
    const b = makeRootlessBundle(user, ['sh', '-c', SHOW_MAPS], (c) => {
      c.linux = written.linux;
      c.mounts = written.mounts;
    });
    const out = fields(ok(asUser(user, ['run', '--bundle', b.dir, uniqueId('rl')], { xdg })));
    expect(out).to.deep.equal(['0', String(user.uid), '1', '0', String(user.gid), '1', 'deny', '0', '0']);
  });

  it('keeps its state in $XDG_RUNTIME_DIR/<runtime>, made private (0700, sticky) and the user\'s; `list` names the owner', function () {
    const b = makeRootlessBundle(user, ['sleep', '60']);
    const id = uniqueId('rl');
    ok(asUser(user, ['create', '--bundle', b.dir, id], { xdg }));
    const root = statSync(stateRoot());
    expect(root.uid).to.equal(user.uid);
    expect(root.mode & 0o7777).to.equal(0o1700);
    expect(existsSync(path.join(stateRoot(), id, 'state.json'))).to.equal(true);
    const listed = JSON.parse(ok(asUser(user, ['list', '--format', 'json'], { xdg })));
    expect(listed.map((c: { id: string; owner: string }) => [c.id, c.owner])).to.deep.equal([[id, user.name]]);
    ok(asUser(user, ['delete', '--force', id], { xdg }));
    expect(stateEntries(), 'left in the state root').to.deep.equal([]);
  });

  it('create, start, exec, kill, delete', async function () {
    const b = makeRootlessBundle(user, ['sleep', '60']);
    const id = uniqueId('rl');
    ok(asUser(user, ['create', '--bundle', b.dir, id], { xdg }));
    const created = JSON.parse(ok(asUser(user, ['state', id], { xdg })));
    expect(created.status).to.equal('created');
    const status = readFileSync(`/proc/${created.pid}/status`, 'utf8');
    expect(/^Uid:\s+(\d+)/m.exec(status)?.[1], 'the container\'s root is the user on the host').to.equal(String(user.uid));
    ok(asUser(user, ['start', id], { xdg }));
    expect(JSON.parse(ok(asUser(user, ['state', id], { xdg }))).status).to.equal('running');
    expect(fields(ok(asUser(user, ['exec', id, 'sh', '-c', 'id -u; cat /proc/self/uid_map'], { xdg })))).to.deep.equal(['0', '0', String(user.uid), '1']);
    ok(asUser(user, ['kill', id, 'KILL'], { xdg }));
    await waitFor(() => JSON.parse(ok(asUser(user, ['state', id], { xdg }))).status === 'stopped', 5000, { what: 'the container to stop' });
    ok(asUser(user, ['delete', id], { xdg }));
    expect(asUser(user, ['state', id], { xdg }).status).to.not.equal(0);
  });

  it('a subordinate-id map goes through newuidmap/newgidmap: 65537 ids, setgroups allowed, a container user runs as its subordinate host uid', function () {
    const b = makeRootlessBundle(user, ['sh', '-c', SHOW_MAPS], subordinateMaps(user));
    const out = fields(ok(asUser(user, ['run', '--bundle', b.dir, uniqueId('rl')], { xdg })));
    const [su, sg] = [user.subuid!.start, user.subgid!.start];
    expect(out).to.deep.equal(['0', String(user.uid), '1', '1', String(su), '65536', '0', String(user.gid), '1', '1', String(sg), '65536', 'allow', '0', '0']);

    const sleeper = makeRootlessBundle(user, ['sleep', '60'], (c) => {
      subordinateMaps(user)(c);
      c.process!.user = { uid: 1000, gid: 1000 };
    });
    const id = uniqueId('rl');
    ok(asUser(user, ['create', '--bundle', sleeper.dir, id], { xdg }));
    const pid = JSON.parse(ok(asUser(user, ['state', id], { xdg }))).pid;
    ok(asUser(user, ['start', id], { xdg }));
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).to.equal(String(su + 999));
    expect(/^Gid:\s+(\d+)/m.exec(status)?.[1]).to.equal(String(sg + 999));
  });

  it('additional gids: set through a subordinate gid map; refused with a 1-id map, whose user namespace denies setgroups', function () {
    skipUnderRunc(this, 'runc 1.1.5 refuses additional gids to every rootless container');
    const withGroups = (c: OciConfig) => {
      c.process!.user = { uid: 0, gid: 0, additionalGids: [5, 6] };
    };
    const mapped = makeRootlessBundle(user, ['id', '-G'], (c) => {
      subordinateMaps(user)(c);
      withGroups(c);
    });
    expect(fields(ok(asUser(user, ['run', '--bundle', mapped.dir, uniqueId('rl')], { xdg })))).to.deep.equal(['0', '5', '6']);
    const one = makeRootlessBundle(user, ['id', '-G'], withGroups);
    const err = fails(asUser(user, ['run', '--bundle', one.dir, uniqueId('rl')], { xdg }));
    expect(err).to.match(/cannot set any additional groups in a rootless container/);
    expect(stateEntries(), 'left in the state root').to.deep.equal([]);
  });

  it('no cgroup is delegated here: limits are not applied, with a warning naming them; pause says there is no cgroup', function () {
    skipUnderRunc(this, 'runc 1.1.5 refuses limits it cannot apply ("container could not join or create cgroup")');
    const b = makeRootlessBundle(user, ['sleep', '60'], (c) => {
      c.linux!.resources = { memory: { limit: 67108864 }, pids: { limit: 50 } };
    });
    const id = uniqueId('rl');
    const r = asUser(user, ['create', '--bundle', b.dir, id], { xdg });
    expect(r.status, describeResult(r)).to.equal(0);
    expect(r.stderr).to.match(/level=warning msg="rootless: no cgroup is delegated to this user, so linux\.resources \(memory, pids\) are not applied"/);
    const cgroup = readFileSync(`/proc/${JSON.parse(ok(asUser(user, ['state', id], { xdg }))).pid}/cgroup`, 'utf8');
    expect(cgroup, 'the container is in the runtime\'s cgroups').to.equal(readFileSync('/proc/self/cgroup', 'utf8'));
    expect(fails(asUser(user, ['pause', id], { xdg }))).to.match(/cgroups not configured for container/);
    ok(asUser(user, ['delete', '--force', id], { xdg }));
  });

  it('a cgroupsPath this user cannot use: refused, naming linux.cgroupsPath; nothing left', function () {
    const b = makeRootlessBundle(user, ['true'], (c) => {
      c.linux!.cgroupsPath = `/tsrunc-rootless-${uniqueId('cg')}`;
    });
    const err = fails(asUser(user, ['run', '--bundle', b.dir, uniqueId('rl')], { xdg }));
    // runc: "mkdir /sys/fs/cgroup/<controller>/...: permission denied".
    if (!underRunc()) expect(err).to.match(/linux\.cgroupsPath: rootless: cannot use cgroup .* leave linux\.cgroupsPath out/);
    expect(stateEntries(), 'left in the state root').to.deep.equal([]);
  });

  it('no XDG_RUNTIME_DIR: an error naming it and --root, nothing made; with --root it runs', function () {
    const b = makeRootlessBundle(user, ['true']);
    const id = uniqueId('rl');
    const err = fails(asUser(user, ['run', '--bundle', b.dir, id], { xdg: null }));
    // runc falls back to /run/runc: "mkdir /run/runc: permission denied".
    if (!underRunc()) expect(err).to.match(/XDG_RUNTIME_DIR is not set.*--root DIR/);
    expect(existsSync(path.join('/run', stateDirName(), id))).to.equal(false);
    const root = path.join(runtimeDirOf(user), 'state');
    places.push({ xdg: null, root });
    ok(asUser(user, ['run', '--bundle', b.dir, id], { xdg: null, root }));
  });

  it('a config without a user namespace: refused with runc\'s words', function () {
    const b = makeRootlessBundle(user, ['true'], (c) => {
      c.linux!.namespaces = c.linux!.namespaces.filter((n: { type: string }) => n.type !== 'user');
      delete c.linux!.uidMappings;
      delete c.linux!.gidMappings;
    });
    expect(fails(asUser(user, ['run', '--bundle', b.dir, uniqueId('rl')], { xdg }))).to.match(/rootless container requires user namespaces/);
    expect(stateEntries(), 'left in the state root').to.deep.equal([]);
  });

  it('host ids that are not the user\'s subordinate ids: refused naming the mapping, /etc/subuid and the usermod that fixes it', function () {
    const start = user.subuid!.start + user.subuid!.count;
    const b = makeRootlessBundle(user, ['true'], (c) => {
      c.linux!.uidMappings = [{ containerID: 0, hostID: user.uid, size: 1 }, { containerID: 1, hostID: start, size: 10 }];
    });
    const err = fails(asUser(user, ['run', '--bundle', b.dir, uniqueId('rl')], { xdg }));
    expect(stateEntries(), 'left in the state root').to.deep.equal([]);
    // runc passes on newuidmap's words: "uid range [1-11) -> [...) not allowed".
    if (underRunc()) return;
    expect(err).to.include(`linux.uidMappings[1]: host uids ${start}-${start + 9} are not subordinate uids of user ${user.name}`);
    expect(err).to.include(`/etc/subuid (it has ${user.subuid!.start}-${start - 1})`);
    expect(err).to.include(`usermod --add-subuids ${start}-${start + 9} ${user.name}`);
  });

  it('a user with no subordinate ids: the same, saying it has none', function () {
    const bxdg = runtimeDirOf(bare);
    places.push({ xdg: bxdg });
    const b = makeRootlessBundle(bare, ['true'], (c) => {
      c.linux!.gidMappings = [{ containerID: 0, hostID: bare.gid, size: 1 }, { containerID: 1, hostID: 100000, size: 65536 }];
    });
    const err = fails(asUser(bare, ['run', '--bundle', b.dir, uniqueId('rl')], { xdg: bxdg }));
    if (underRunc()) return;
    expect(err).to.include(`linux.gidMappings[1]: host gids 100000-165535 are not subordinate gids of user ${bare.name}`);
    expect(err).to.include('/etc/subgid (it has none)');
  });

  it('no newuidmap on $PATH: a subordinate-id map is refused, naming the tool and its package', function () {
    const b = makeRootlessBundle(user, ['true'], subordinateMaps(user));
    const err = fails(asUser(user, ['run', '--bundle', b.dir, uniqueId('rl')], { xdg, env: { PATH: '/nonexistent' } }));
    expect(stateEntries(), 'left in the state root').to.deep.equal([]);
    if (!underRunc()) expect(err).to.match(/linux\.uidMappings: mapping uids other than this user's own \(\d+\) needs newuidmap, which is not in \$PATH: install it/);
  });

  it('user namespaces disabled (user.max_user_namespaces = 0): the error names the sysctl that allows them', async function () {
    for (const cmd of ['unshare', 'setpriv']) if (!hasCommand(cmd)) skipWith(this, `needs the command \`${cmd}\``);
    // The limit is per user namespace: 0 in one made for the test stands for a host with it at 0.
    const b = makeRootlessBundle(user, ['true']);
    const inner = `echo 0 > /proc/sys/user/max_user_namespaces && exec setpriv --reuid=${user.uid} --regid=${user.gid} --clear-groups env XDG_RUNTIME_DIR=${xdg} HOME=/ ${runtimeBin()} run --bundle ${b.dir} ${uniqueId('rl')}`;
    // Mapped only once it waits on stdin: the second sh starts as root of the namespace.
    const child = spawn('unshare', ['--user', 'sh', '-c', `read go; exec sh -c '${inner}'`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const done = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const own = readFileSync('/proc/self/uid_map', 'utf8');
    await waitFor(() => {
      try {
        return readFileSync(`/proc/${child.pid}/uid_map`, 'utf8') !== own;
      } catch {
        return false;
      }
    }, 5000, { what: 'unshare to make its user namespace' });
    writeFileSync(`/proc/${child.pid}/uid_map`, '0 0 65536\n');
    writeFileSync(`/proc/${child.pid}/gid_map`, '0 0 65536\n');
    child.stdin.end('go\n');
    const status = await done;
    expect(status, err).to.not.equal(0);
    // runc: "nsexec[...]: failed to unshare user namespace: No space left on device".
    if (!underRunc()) expect(err).to.match(/failed to create user namespace: no space left on device \(user namespaces are disabled \(user\.max_user_namespaces = 0\): allow them with `sysctl -w user\.max_user_namespaces=15000`\)/);
  });
});
