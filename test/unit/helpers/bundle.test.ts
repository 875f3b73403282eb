import { expect } from 'chai';
import { existsSync, lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { BUSYBOX, makeBundle } from '../../helpers/bundle.js';
import { CGROUP_PREFIX, TMP_PREFIX, runTempDirs } from '../../helpers/context.js';

describe('helpers/bundle', function () {
  it('makes a busybox bundle with a runc-spec-like config', function () {
    const b = makeBundle();
    expect(b.dir.startsWith(TMP_PREFIX)).to.equal(true);
    expect(path.basename(b.dir)).to.match(/^tsrunc-test-/);
    const onDisk = JSON.parse(readFileSync(b.configPath, 'utf8'));
    expect(onDisk).to.deep.equal(b.config);
    expect(onDisk.process.terminal).to.equal(false);
    expect(onDisk.process.args).to.deep.equal(['sh']);
    expect(onDisk.root).to.deep.equal({ path: 'rootfs', readonly: true });
    expect(onDisk.linux.cgroupsPath.startsWith(`${CGROUP_PREFIX}/`)).to.equal(true);
    expect(onDisk.linux.namespaces.map((n: { type: string }) => n.type)).to.deep.equal(['pid', 'network', 'ipc', 'uts', 'mount']);
  });

  it('copies busybox (never a hard link) and links the applets to it', function () {
    const b = makeBundle();
    const copy = path.join(b.rootfs, 'bin/busybox');
    expect(statSync(copy).ino).to.not.equal(statSync(BUSYBOX).ino);
    expect(statSync(copy).nlink).to.equal(1);
    expect(statSync(copy).mode & 0o777).to.equal(0o755);
    expect(lstatSync(path.join(b.rootfs, 'bin/sh')).isSymbolicLink()).to.equal(true);
    expect(readlinkSync(path.join(b.rootfs, 'bin/sh'))).to.equal('busybox');
    expect(readFileSync(path.join(b.rootfs, 'etc/passwd'), 'utf8')).to.match(/^nobody:x:65534:65534:/m);
    expect(readFileSync(path.join(b.rootfs, 'etc/group'), 'utf8')).to.match(/^root:x:0:/m);
    expect(statSync(path.join(b.rootfs, 'tmp')).mode & 0o7777).to.equal(0o1777);
    for (const d of ['proc', 'dev', 'sys', 'root']) expect(statSync(path.join(b.rootfs, d)).isDirectory()).to.equal(true);
  });

  it('applies options and mutators, and rewrites config.json', function () {
    const b = makeBundle({
      args: ['echo', 'x'],
      env: ['A=1'],
      terminal: true,
      cgroupsPath: null,
      mutate: (c) => {
        c.hostname = 'h1';
      },
    });
    expect(b.config.process!.args).to.deep.equal(['echo', 'x']);
    expect(b.config.process!.env).to.deep.equal(['A=1']);
    expect(b.config.process!.terminal).to.equal(true);
    expect(b.config.linux!.cgroupsPath).to.equal(undefined);
    expect(b.config.hostname).to.equal('h1');
    b.writeConfig((c) => {
      c.hostname = 'h2';
    });
    expect(JSON.parse(readFileSync(b.configPath, 'utf8')).hostname).to.equal('h2');
  });

  // What makes a bundle cheap is that the root filesystem is built once per run and only
  // copied after: asserted by counting template directories, not by timing.
  it('builds the template root filesystem once per run, copies it per bundle, and cleans up', function () {
    makeBundle().cleanup(); // template built by now
    const templates = () => runTempDirs().filter((dir) => path.basename(dir).startsWith(`${path.basename(TMP_PREFIX)}template-`));
    expect(templates()).to.have.length(1);
    const a = makeBundle();
    const b = makeBundle();
    expect(templates()).to.have.length(1);
    const busybox = (bundle: { rootfs: string }) => statSync(path.join(bundle.rootfs, 'bin/busybox'));
    expect(busybox(a).ino).to.not.equal(busybox(b).ino);
    expect(busybox(a).size).to.equal(busybox(b).size);
    a.cleanup();
    b.cleanup();
    expect(existsSync(a.dir)).to.equal(false);
    expect(existsSync(b.dir)).to.equal(false);
  });
});
