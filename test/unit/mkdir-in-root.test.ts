// The addon's mkdirInRoot (restore makes CRIU's mount points with it): the child program's
// own symlink-safe mkdir (addon/child/inroot.cc), linked into the addon. No root needed: a
// temporary directory stands for the container's rootfs, another one for the host.
import { expect } from 'chai';
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { native } from '../../src/native/addon.js';
import { makeTempDir } from '../helpers/context.js';

describe('mkdirInRoot: directories and files made inside a root, never outside it', function () {
  it('makes the missing parents and the last component, a directory or an empty file; what exists is left alone', function () {
    const root = makeTempDir('rootfs');
    native().mkdirInRoot(root, '/a/b/c', false);
    native().mkdirInRoot(root, '/a/f/file', true);
    expect(lstatSync(path.join(root, 'a/b/c')).isDirectory()).to.equal(true);
    expect(lstatSync(path.join(root, 'a/f/file')).isFile()).to.equal(true);
    writeFileSync(path.join(root, 'a/f/file'), 'kept');
    native().mkdirInRoot(root, '/a/f/file', true);
    expect(readFileSync(path.join(root, 'a/f/file'), 'utf8')).to.equal('kept');
  });

  it('a symlink of the image, absolute or climbing out, is resolved inside the root', function () {
    const root = makeTempDir('rootfs');
    const host = makeTempDir('host');
    symlinkSync(host, path.join(root, 'abs'));
    symlinkSync('../../../../../../../..' + host, path.join(root, 'up'));
    mkdirSync(path.join(root, 'etc'));
    symlinkSync(`${host}/made-by-dangling`, path.join(root, 'etc', 'dangling'));
    native().mkdirInRoot(root, '/abs/x', false);
    native().mkdirInRoot(root, '/up/y', true);
    native().mkdirInRoot(root, '/etc/dangling/z', false);
    for (const name of ['x', 'y', 'made-by-dangling']) {
      expect(existsSync(path.join(host, name)), `${host}/${name} on the host`).to.equal(false);
      expect(existsSync(path.join(root, host, name)), `${name} inside the root`).to.equal(true);
    }
  });

  it('a failure throws with the errno and the path', function () {
    const root = makeTempDir('rootfs');
    writeFileSync(path.join(root, 'file'), '');
    expect(() => native().mkdirInRoot(root, '/file/sub', false))
      .to.throw(/mkdir \/file\/sub: Not a directory/)
      .with.property('code', 'ENOTDIR');
    expect(() => native().mkdirInRoot(path.join(root, 'missing'), '/x', false)).to.throw(/open .*missing/).with.property('code', 'ENOENT');
  });
});
