// User namespaces (config-linux.md "User namespace mappings"): the id maps the container
// sees, what its ids are on the host, setgroups, and a rootfs owned by the mapped root.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeBundle } from '../../helpers/bundle.js';
import { makeTempDir, testRoot } from '../../helpers/context.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireRoot } from '../../helpers/privileges.js';
import { runtimeBin, uniqueId } from '../../helpers/runtime.js';
import {
  USERNS_HOST_ID,
  USERNS_SIZE,
  chownTree,
  keyValues,
  lines,
  nsLink,
  runBundle,
  runSh,
  runShOk,
  setNamespace,
  useUserns,
  withSleeper,
} from './support.js';

/** A host directory any mapped id may write to, bound at /tmp/out (/tmp is 1777: the mapped root may create the target in a host-owned rootfs). */
function writableOut(config: Parameters<typeof useUserns>[0], dir: string): void {
  config.mounts!.push({ destination: '/tmp/out', type: 'bind', source: dir, options: ['rbind', 'rw'] });
}

describe('linux: user namespace', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  it('the container sees the configured uid_map and gid_map', function () {
    const out = runShOk('echo uid=$(cat /proc/self/uid_map); echo gid=$(cat /proc/self/gid_map)', (c) => {
      useUserns(c);
      c.linux!.gidMappings = [{ containerID: 0, hostID: USERNS_HOST_ID + 5000, size: 1000 }];
    });
    const kv = keyValues(out);
    expect(lines(kv.uid!)).to.deep.equal([`0 ${USERNS_HOST_ID} ${USERNS_SIZE}`]);
    expect(lines(kv.gid!)).to.deep.equal([`0 ${USERNS_HOST_ID + 5000} 1000`]);
  });

  it('several mapping ranges are all written', function () {
    const out = runShOk('cat /proc/self/uid_map', (c) => {
      useUserns(c);
      c.linux!.uidMappings = [
        { containerID: 0, hostID: USERNS_HOST_ID, size: 1 },
        { containerID: 1, hostID: USERNS_HOST_ID + 1000, size: 999 },
      ];
    });
    expect(lines(out)).to.deep.equal([`0 ${USERNS_HOST_ID} 1`, `1 ${USERNS_HOST_ID + 1000} 999`]);
  });

  it('root inside is the mapped host id: a file it creates is owned by that id on the host', function () {
    const out = makeTempDir('out');
    chmodSync(out, 0o777);
    runShOk('id -u; touch /tmp/out/by-root && mkdir /tmp/out/dir-by-root', (c) => {
      useUserns(c);
      writableOut(c, out);
    });
    for (const name of ['by-root', 'dir-by-root']) {
      const st = statSync(path.join(out, name));
      expect([st.uid, st.gid], name).to.deep.equal([USERNS_HOST_ID, USERNS_HOST_ID]);
    }
  });

  it('a non-root process.user maps to host id + offset', function () {
    const out = makeTempDir('out');
    chmodSync(out, 0o777);
    const ids = runShOk('id -u; id -g; touch /tmp/out/by-user', (c) => {
      useUserns(c);
      writableOut(c, out);
      c.process!.user = { uid: 1000, gid: 2000 };
    });
    expect(lines(ids)).to.deep.equal(['1000', '2000']);
    const st = statSync(path.join(out, 'by-user'));
    expect([st.uid, st.gid]).to.deep.equal([USERNS_HOST_ID + 1000, USERNS_HOST_ID + 2000]);
  });

  it('host ids outside the mapping show as the overflow id 65534', function () {
    // The bundle's rootfs is owned by host root, which is not mapped.
    const out = runShOk('stat -c %u:%g /bin/busybox', useUserns);
    expect(out.trim()).to.equal('65534:65534');
  });

  it('setgroups is allowed for a privileged runtime, so additionalGids apply', function () {
    const out = runShOk('echo setgroups=$(cat /proc/self/setgroups); echo groups=$(id -G)', (c) => {
      useUserns(c);
      c.process!.user = { uid: 0, gid: 0, additionalGids: [5, 100] };
    });
    const kv = keyValues(out);
    expect(kv.setgroups).to.equal('allow');
    expect(kv.groups!.split(' ').map(Number).sort((a, b) => a - b)).to.deep.equal([0, 5, 100]);
  });

  it('a rootfs owned by the mapped root is root-owned and writable inside', function () {
    const b = makeBundle({
      args: ['sh', '-c', 'stat -c %u:%g / /bin/busybox /root; touch /root/written && echo wrote'],
      mutate: (c) => {
        useUserns(c);
        c.root!.readonly = false;
      },
    });
    chownTree(b.rootfs, USERNS_HOST_ID, USERNS_HOST_ID);
    const r = runBundle(b);
    expect(r.status, r.stderr).to.equal(0);
    expect(lines(r.stdout)).to.deep.equal(['0:0', '0:0', '0:0', 'wrote']);
    expect(statSync(path.join(b.rootfs, 'root/written')).uid).to.equal(USERNS_HOST_ID);
  });

  it('joins another container’s user namespace by path', async function () {
    await withSleeper(useUserns, (s) => {
      const theirs = nsLink('user', s.pid);
      const out = runShOk('readlink /proc/self/ns/user; cat /proc/self/uid_map', (c) => {
        setNamespace(c, 'user', `/proc/${s.pid}/ns/user`);
        // the other namespaces are new, owned by the joined user namespace
      });
      const [link, map] = lines(out);
      expect(link).to.equal(theirs);
      expect(map).to.equal(`0 ${USERNS_HOST_ID} ${USERNS_SIZE}`);
    });
  });

  it('a new user namespace without mappings fails naming the field', function () {
    const r = runSh('true', (c) => setNamespace(c, 'user'));
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.match(/uidMappings|gidMappings/);
    expect(r.stderr.trim().split('\n')).to.have.length(1);
  });

  it('a mapping the kernel refuses (overlapping ranges) fails with one clear line', function () {
    const r = runSh('true', (c) => {
      useUserns(c);
      c.linux!.uidMappings = [
        { containerID: 0, hostID: USERNS_HOST_ID, size: 100 },
        { containerID: 50, hostID: USERNS_HOST_ID + 1000, size: 100 },
      ];
    });
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.match(/uid_map/);
    expect(r.stderr.trim().split('\n')).to.have.length(1);
  });

  describe('what the mapped root cannot reach or make (runc, crun)', function () {
    it('a bind source under a directory only the host\'s root may enter is opened by the runtime: the mount works', function () {
      const dir = makeTempDir('private');
      mkdirSync(path.join(dir, 'inner/data'), { recursive: true });
      writeFileSync(path.join(dir, 'inner/data/file'), 'reachable\n');
      chmodSync(path.join(dir, 'inner'), 0o700);
      const out = runShOk('cat /tmp/data/file', (c) => {
        useUserns(c);
        c.mounts!.push({ destination: '/tmp/data', type: 'bind', source: path.join(dir, 'inner/data'), options: ['rbind', 'ro'] });
      });
      expect(out).to.equal('reachable\n');
    });

    it('an id-mapped bind mount whose source is a symlink to a directory', function () {
      const dir = makeTempDir('idmap-link');
      mkdirSync(path.join(dir, 'real'));
      writeFileSync(path.join(dir, 'real/file'), 'x');
      symlinkSync('real', path.join(dir, 'link'));
      const out = runShOk('stat -c %u /tmp/link/file', (c) => {
        useUserns(c);
        c.mounts!.push({ destination: '/tmp/link', type: 'bind', source: path.join(dir, 'link'), options: ['rbind', 'idmap'] });
      });
      // The host's root-owned file is root's inside through the mapping.
      expect(out.trim()).to.equal('0');
    });

    it('device nodes bound from the host are nosuid and noexec (crun)', function () {
      const out = runShOk('grep " /dev/null " /proc/self/mountinfo', (c) => useUserns(c));
      const opts = out.split(' ')[5]!.split(',');
      expect(opts).to.include.members(['nosuid', 'noexec']);
    });

    it('a file given as the container\'s stdout becomes its user\'s (crun), so the process can reopen it', function () {
      const out = path.join(makeTempDir('stdio'), 'out');
      const b = makeBundle({
        args: ['sh', '-c', ': >> /proc/self/fd/1 && echo reopened'],
        mutate: (c) => {
          useUserns(c);
          c.process!.user = { uid: 1000, gid: 1000 };
        },
      });
      const fd = openSync(out, 'w', 0o600);
      let status: number | null;
      try {
        status = spawnSync(runtimeBin(), ['--root', testRoot(), 'run', '--bundle', b.dir, uniqueId()], { stdio: ['ignore', fd, 'pipe'], timeout: 30_000 }).status;
      } finally {
        closeSync(fd);
      }
      expect(status, readFileSync(out, 'utf8')).to.equal(0);
      expect(readFileSync(out, 'utf8')).to.equal('reopened\n');
      expect(statSync(out)).to.include({ uid: USERNS_HOST_ID + 1000, gid: USERNS_HOST_ID + 1000 });
    });

    it('a device the host has no node for is made from its major:minor (crun\'s precreate_device)', function () {
      const out = runShOk('stat -c "%F %t:%T" /dev/my-null && echo x > /dev/my-null && echo written', (c) => {
        useUserns(c);
        c.linux!.devices = [{ path: '/dev/my-null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 }];
      });
      expect(out).to.equal('character special file 1:3\nwritten\n');
    });
  });
});
