// config.md: ociVersion, root, mounts (order, destinations, sources, uid/gid mappings).
// The Linux mount options have their own file (config-mount-options.test.ts).
import { expect } from 'chai';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeBundle } from '../../test/helpers/bundle.js';
import { useLeakCheck } from '../../test/helpers/leaks.js';
import { requireRoot } from '../../test/helpers/privileges.js';
import { describeResult, rt, uniqueId } from '../../test/helpers/runtime.js';
import { clause, expectCreateFails, mountAt, parseMountInfo, runScript, runScriptOk } from './support.js';

describe('config.md: ociVersion and root', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  clause('config.oci-version.semver', 'an ociVersion that is not SemVer is an error', function () {
    expectCreateFails((c) => (c.ociVersion = 'not-a-version'), 'create with ociVersion "not-a-version"');
    expectCreateFails((c) => (c.ociVersion = '1.0'), 'create with ociVersion "1.0"');
  });

  clause('config.root.required', 'a config without root is an error', function () {
    expectCreateFails((c) => delete c.root, 'create without root');
  });

  clause('config.root.path-exists', 'a root.path that does not exist, or is not a directory, is an error', function () {
    expectCreateFails((c) => (c.root!.path = 'no-such-rootfs'), 'create with a missing root.path');
    expectCreateFails((c) => (c.root!.path = 'config.json'), 'create with root.path naming a file');
  });

  clause('config.root.path-absolute-or-relative', 'root.path works as a path relative to the bundle and as an absolute path', function () {
    const b = makeBundle({ args: ['cat', '/marker'] });
    writeFileSync(path.join(b.rootfs, 'marker'), 'absolute\n');
    b.writeConfig((c) => (c.root!.path = b.rootfs));
    const r = rt(['run', '--bundle', b.dir, uniqueId()]);
    expect(r.status, describeResult(r)).to.equal(0);
    expect(r.stdout).to.equal('absolute\n');
    // relative to the bundle, not to the runtime's working directory
    const rel = makeBundle({ args: ['cat', '/marker'], mutate: (c) => (c.root!.path = 'rootfs') });
    writeFileSync(path.join(rel.rootfs, 'marker'), 'relative\n');
    const r2 = rt(['run', '--bundle', rel.dir, uniqueId()], { cwd: '/' });
    expect(r2.status, describeResult(r2)).to.equal(0);
    expect(r2.stdout).to.equal('relative\n');
  });

  clause('config.root.readonly', 'root.readonly true makes / read-only in the container; false leaves it writable', function () {
    const ro = runScript('touch /conformance-write 2>&1; echo "opts=$(awk \'$5 == "/" { o = $6 } END { print o }\' /proc/self/mountinfo)"', {
      mutate: (c) => (c.root!.readonly = true),
    });
    expect(ro.status, describeResult(ro)).to.equal(0);
    expect(ro.stdout, 'touch on a read-only root').to.match(/Read-only file system/);
    expect(ro.stdout).to.match(/opts=ro\b/);
    const rw = runScript('touch /conformance-write && echo written', { mutate: (c) => (c.root!.readonly = false) });
    expect(rw.status, describeResult(rw)).to.equal(0);
    expect(rw.stdout).to.equal('written\n');
  });
});

describe('config.md: mounts', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  clause('config.mounts.order', 'mounts are made in the listed order: a later mount covers an earlier one at the same place', function () {
    const out = runScriptOk("df -k /stack | awk 'END { print $2 }'; cat /proc/self/mountinfo", {
      mutate: (c) => {
        c.mounts!.push({ destination: '/stack', type: 'tmpfs', source: 'tmpfs', options: ['size=1024k'] });
        c.mounts!.push({ destination: '/stack', type: 'tmpfs', source: 'tmpfs', options: ['size=2048k'] });
        c.mounts!.push({ destination: '/stack/inner', type: 'tmpfs', source: 'tmpfs', options: ['mode=755'] });
        for (const n of [1, 2, 3]) c.mounts!.push({ destination: `/seq${n}`, type: 'tmpfs', source: 'tmpfs' });
      },
    });
    const [size, ...rest] = out.split('\n');
    expect(size, 'size in KiB of the file system at /stack (the second tmpfs)').to.equal('2048');
    const mounts = parseMountInfo(rest.join('\n'));
    const ids = ['/seq1', '/seq2', '/seq3'].map((p) => mountAt(mounts, p)?.id ?? NaN);
    const listed = mounts.map((m) => m.mountPoint).filter((p) => /^\/seq\d$/.test(p));
    expect(listed, 'order of the mounts in mountinfo').to.deep.equal(['/seq1', '/seq2', '/seq3']);
    expect(ids.every((id) => !Number.isNaN(id)), `mount ids ${ids.join(', ')}`).to.equal(true);
    const inner = mountAt(mounts, '/stack/inner');
    const stack = mountAt(mounts, '/stack');
    expect(inner, '/stack/inner mounted on top of the second /stack tmpfs').to.not.equal(undefined);
    expect(stack, '/stack').to.not.equal(undefined);
  });

  clause('config.mounts.destination-relative', 'a relative mount destination is taken relative to /', function () {
    const out = runScriptOk('grep " /conformance-rel " /proc/self/mountinfo | wc -l', {
      mutate: (c) => c.mounts!.push({ destination: 'conformance-rel', type: 'tmpfs', source: 'tmpfs' }),
    });
    expect(out.trim(), 'mounts at /conformance-rel').to.equal('1');
  });

  clause('config.mounts.bind-source-relative', 'a bind mount source may be relative to the bundle', function () {
    const b = makeBundle({
      args: ['cat', '/data/file'],
      mutate: (c) => c.mounts!.push({ destination: '/data', type: 'bind', source: 'hostdata', options: ['bind', 'ro'] }),
    });
    mkdirSync(path.join(b.dir, 'hostdata'));
    writeFileSync(path.join(b.dir, 'hostdata', 'file'), 'from the bundle\n');
    // the runtime's working directory is not the bundle: the path is relative to the bundle
    const r = rt(['run', '--bundle', b.dir, uniqueId()], { cwd: '/' });
    expect(r.status, describeResult(r)).to.equal(0);
    expect(r.stdout).to.equal('from the bundle\n');
    rmSync(path.join(b.dir, 'hostdata'), { recursive: true });
  });

  clause('config.mounts.mappings-paired', 'a mount with uidMappings but no gidMappings (or the reverse) is an error', function () {
    const map = [{ containerID: 0, hostID: 100000, size: 1000 }];
    expectCreateFails(
      (c) => c.mounts!.push({ destination: '/idm', type: 'bind', source: '/tmp', options: ['bind', 'idmap'], uidMappings: map } as never),
      'create with a mount that has uidMappings only',
    );
    expectCreateFails(
      (c) => c.mounts!.push({ destination: '/idm', type: 'bind', source: '/tmp', options: ['bind', 'idmap'], gidMappings: map } as never),
      'create with a mount that has gidMappings only',
    );
  });
});
