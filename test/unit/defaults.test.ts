// The default spec (`spec` command) against what runc 1.1 writes: compared with a live
// `runc spec` when runc is installed, and always with the output stored from Debian's runc
// 1.1.5 in test/fixtures/runc-spec/.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir, REPO_ROOT } from '../helpers/context.js';
import { hasCommand, skipWith } from '../helpers/privileges.js';
import { defaultSpec, OCI_VERSION, serializeSpec } from '../../src/spec/defaults.js';
import { validateConfig } from '../../src/spec/validate.js';
import { writeDefaultSpec } from '../../src/operations/spec.js';
import { hostLayout } from '../../src/linux/cgroups/mode.js';
import { RuntimeError, SystemError } from '../../src/util/errors.js';

const STORED = path.join(REPO_ROOT, 'test/fixtures/runc-spec');

/** runc's file text with ociVersion replaced by ours: what writeDefaultSpec must write, byte for byte. */
function asOurs(runcText: string): string {
  const doc = JSON.parse(runcText);
  expect(doc.ociVersion).to.match(/^1\.0\.2/);
  return runcText.replace(`"ociVersion": "${doc.ociVersion}"`, `"ociVersion": "${OCI_VERSION}"`);
}

/** Run `runc spec [--rootless]` in a fresh directory; the text it wrote. */
function runcSpec(rootless: boolean): string {
  const dir = makeTempDir('runc-spec');
  const r = spawnSync('runc', ['spec', ...(rootless ? ['--rootless'] : [])], { cwd: dir, encoding: 'utf8' });
  expect(r.status, r.stderr).to.equal(0);
  return readFileSync(path.join(dir, 'config.json'), 'utf8');
}

describe('defaultSpec', function () {
  it('is valid for our own validator, both variants', function () {
    expect(validateConfig(defaultSpec({ rootless: false }))).to.deep.equal([]);
    expect(validateConfig(defaultSpec({ rootless: true }))).to.deep.equal([]);
  });

  it('is busybox-friendly: sh on a terminal, runtime-spec 1.3.0', function () {
    const spec = defaultSpec({ rootless: false });
    expect(spec.ociVersion).to.equal('1.3.0');
    expect(spec.process?.args).to.deep.equal(['sh']);
    expect(spec.process?.terminal).to.equal(true);
  });

  it('returns a fresh object each call', function () {
    const a = defaultSpec({ rootless: false });
    a.linux!.maskedPaths!.push('/x');
    a.process!.capabilities!.bounding!.push('CAP_SYS_ADMIN');
    expect(defaultSpec({ rootless: false })).to.deep.equal(JSON.parse(asOurs(readFileSync(path.join(STORED, 'runc-1.1.5-spec.json'), 'utf8'))));
  });

  it('matches the stored runc 1.1.5 output byte for byte (ociVersion aside)', function () {
    const stored = readFileSync(path.join(STORED, 'runc-1.1.5-spec.json'), 'utf8');
    expect(serializeSpec(defaultSpec({ rootless: false }))).to.equal(asOurs(stored));
  });

  it('matches the stored rootless runc 1.1.5 output for uid/gid 0', function () {
    const stored = readFileSync(path.join(STORED, 'runc-1.1.5-spec-rootless-uid0.json'), 'utf8');
    expect(serializeSpec(defaultSpec({ rootless: true, uid: 0, gid: 0 }))).to.equal(asOurs(stored));
  });

  it('maps the given host IDs in the rootless variant', function () {
    const linux = defaultSpec({ rootless: true, uid: 1000, gid: 1001 }).linux!;
    expect(linux.uidMappings).to.deep.equal([{ containerID: 0, hostID: 1000, size: 1 }]);
    expect(linux.gidMappings).to.deep.equal([{ containerID: 0, hostID: 1001, size: 1 }]);
  });

  describe('against the installed runc', function () {
    beforeEach(function () {
      if (!hasCommand('runc')) skipWith(this, 'runc is not installed');
    });

    it('equals `runc spec` (with its cgroup namespace on a pure v2 host)', function () {
      expect(serializeSpec(defaultSpec({ rootless: false, cgroupns: PURE_V2 }))).to.equal(asOurs(runcSpec(false)));
    });

    it('equals `runc spec --rootless` (host IDs of this process)', function () {
      expect(serializeSpec(defaultSpec({ rootless: true, cgroupns: PURE_V2 }))).to.equal(asOurs(runcSpec(true)));
    });
  });
});

/** This host is pure cgroup v2: `spec` then writes a cgroup namespace, as runc's does. */
const PURE_V2 = hostLayout().mode === 'v2';

describe('writeDefaultSpec', function () {
  it('writes config.json like runc: tab-indented, no final newline', function () {
    const dir = makeTempDir('spec-write');
    const file = writeDefaultSpec(dir, { rootless: false });
    expect(file).to.equal(path.join(dir, 'config.json'));
    const text = readFileSync(file, 'utf8');
    expect(text).to.equal(serializeSpec(defaultSpec({ rootless: false, cgroupns: PURE_V2 })));
    expect(text.split('\n')[1]).to.equal('\t"ociVersion": "1.3.0",');
    expect(text.endsWith('}')).to.equal(true);
    expect(readdirSync(dir)).to.deep.equal(['config.json']);
  });

  it('writes the rootless variant on request', function () {
    const dir = makeTempDir('spec-write');
    const doc = JSON.parse(readFileSync(writeDefaultSpec(dir, { rootless: true }), 'utf8'));
    expect(doc.linux.namespaces.map((n: { type: string }) => n.type)).to.deep.equal(['pid', 'ipc', 'uts', 'mount', 'user', ...(PURE_V2 ? ['cgroup'] : [])]);
  });

  it('a cgroup namespace last, where runc adds one (a pure cgroup v2 host)', function () {
    const types = (rootless: boolean) => defaultSpec({ rootless, cgroupns: true }).linux!.namespaces!.map((n) => n.type);
    expect(types(false)).to.deep.equal(['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup']);
    expect(types(true)).to.deep.equal(['pid', 'ipc', 'uts', 'mount', 'user', 'cgroup']);
  });

  it('refuses to overwrite an existing config.json and writes nothing', function () {
    const dir = makeTempDir('spec-write');
    writeFileSync(path.join(dir, 'config.json'), 'mine');
    expect(() => writeDefaultSpec(dir, { rootless: false }))
      .to.throw(RuntimeError, /^File config\.json exists\. Remove it first$/);
    expect(readFileSync(path.join(dir, 'config.json'), 'utf8')).to.equal('mine');
    expect(readdirSync(dir)).to.deep.equal(['config.json']);
  });

  it('fails with a system error when the bundle directory does not exist', function () {
    const dir = path.join(makeTempDir('spec-write'), 'missing');
    expect(() => writeDefaultSpec(dir, { rootless: false })).to.throw(SystemError, /no such file or directory/);
    expect(existsSync(dir)).to.equal(false);
  });
});
