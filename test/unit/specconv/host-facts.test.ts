// The one reader of the host (src/linux/specconv/host-facts.ts), on this machine, without
// root: what it reads, and that it reads only what the config needs.
import { expect } from 'chai';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { V2_LAYOUT } from './host.js';
import { gatherHostFacts, gatherProcessFacts, resctrlMountPoint } from '../../../src/linux/specconv/host-facts.js';
import { defaultSpec } from '../../../src/spec/defaults.js';
import type { Spec } from '../../../src/spec/types.js';
import { makeTempDir } from '../../helpers/context.js';

function bundle(): { dir: string; spec: Spec } {
  const dir = makeTempDir('facts');
  mkdirSync(path.join(dir, 'rootfs'));
  return { dir, spec: defaultSpec({ rootless: false }) };
}
const place = (dir: string) => ({ bundle: dir, cgroup: { layout: V2_LAYOUT, dirs: null } });

describe('specconv: host facts', function () {
  it('the capability limits are the kernel\'s and the runtime\'s own', function () {
    const f = gatherProcessFacts(defaultSpec({ rootless: false }));
    expect(f.lastCap).to.equal(Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8')));
    const capBnd = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]!;
    expect(f.boundingSet).to.equal(BigInt(`0x${capBnd}`));
    expect([f.apparmor, f.selinux, f.seccomp]).to.deep.equal([false, false, null]);
  });

  it('the root filesystem as a real path, or why it is not a directory', function () {
    const { dir, spec } = bundle();
    symlinkSync('rootfs', path.join(dir, 'link'));
    writeFileSync(path.join(dir, 'file'), '');
    const rootfs = (p: string) => gatherHostFacts({ ...spec, root: { path: p } }, place(dir)).rootfs;
    expect(rootfs('link')).to.deep.equal({ path: path.join(dir, 'rootfs') });
    expect(rootfs(path.join(dir, 'rootfs'))).to.deep.equal({ path: path.join(dir, 'rootfs') });
    expect(rootfs('file')).to.deep.equal({ error: `${path.join(dir, 'file')}: not a directory` });
    expect(rootfs('nope')).to.deep.equal({ error: `${path.join(dir, 'nope')}: no such directory` });
  });

  it('each bind source: directory, file, procfs or missing (only with a new mount namespace)', function () {
    const { dir, spec } = bundle();
    mkdirSync(path.join(dir, 'data'));
    writeFileSync(path.join(dir, 'hosts'), '');
    spec.mounts = [
      { destination: '/data', type: 'bind', source: 'data', options: ['bind'] },
      { destination: '/etc/hosts', source: path.join(dir, 'hosts'), options: ['rbind'] },
      { destination: '/proc', type: 'bind', source: '/proc', options: ['rbind'] },
      { destination: '/gone', type: 'bind', source: 'gone', options: ['bind'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmp' },
    ];
    const facts = gatherHostFacts(spec, place(dir));
    expect(Object.fromEntries(facts.paths)).to.deep.equal({
      [path.join(dir, 'data')]: { kind: 'directory', procfs: false },
      [path.join(dir, 'hosts')]: { kind: 'file', procfs: false },
      '/proc': { kind: 'directory', procfs: true },
      [path.join(dir, 'gone')]: { error: 'no such file or directory' },
    });
    spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'mount');
    expect(gatherHostFacts(spec, place(dir)).paths.size).to.equal(0);
  });

  it('which joined namespaces are the runtime\'s own, looked at only for sysctls and hostnames', function () {
    const { dir, spec } = bundle();
    spec.linux!.namespaces = [{ type: 'mount' }, { type: 'uts' }, { type: 'network', path: '/proc/self/ns/net' }, { type: 'ipc', path: '/proc/self/ns/net' }];
    spec.linux!.sysctl = { 'net.core.somaxconn': '100' };
    expect([...gatherHostFacts(spec, place(dir)).runtimeNamespaces]).to.deep.equal(['network']);
    delete spec.linux!.sysctl;
    delete spec.hostname;
    expect(gatherHostFacts(spec, place(dir)).runtimeNamespaces.size).to.equal(0);
  });

  it('/proc/kcore, resctrl (only for intelRdt), the cgroup facts as given', function () {
    const { dir, spec } = bundle();
    const facts = gatherHostFacts(spec, place(dir));
    expect(facts.kcore).to.equal(existsSync('/proc/kcore'));
    expect(facts.resctrl).to.equal(null);
    expect(facts.cgroup).to.deep.equal(place(dir).cgroup);
    expect(resctrlMountPoint('22 1 0:21 / /sys rw - sysfs sysfs rw\n40 22 0:35 / /sys/fs/res\\040ctrl rw - resctrl resctrl rw\n')).to.equal('/sys/fs/res ctrl');
    expect(resctrlMountPoint('22 1 0:21 / /sys rw - sysfs sysfs rw\n')).to.equal(null);
  });

  it('compiles the seccomp profile with libseccomp', function () {
    const spec = defaultSpec({ rootless: false });
    spec.linux!.seccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' }] };
    const f = gatherProcessFacts(spec);
    expect(f.seccomp!.plan.bpf.length % 8).to.equal(0);
    expect(f.seccomp!.plan).to.include({ flags: 0, notify: false });
  });
});
