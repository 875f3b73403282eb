// `state`, `list [--format table|json] [-q]` and `spec [--bundle] [--rootless]`.
import { expect } from 'chai';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { validateState } from '../../../src/spec/validate.js';
import { makeBundle } from '../../helpers/bundle.js';
import { makeTempDir } from '../../helpers/context.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireRoot } from '../../helpers/privileges.js';
import { describeResult, rt, rtOk, state, uniqueId } from '../../helpers/runtime.js';
import { cleanUpAfterFailure, expectFailure, lines, listedIds } from './support.js';

describe('cli: state', function () {
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
  });

  it('prints the spec\'s state (state-schema.json): ociVersion, id, status, pid, bundle', function () {
    const b = makeBundle({ args: ['true'] });
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    const s = state(id);
    expect(s.ociVersion).to.be.a('string').and.match(/^\d+\.\d+\.\d+/);
    expect(s.id).to.equal(id);
    expect(s.status).to.equal('created');
    expect(s.pid).to.be.a('number').above(0);
    expect(s.bundle).to.equal(b.dir);
    expect(validateState(s).map((p) => p.message), 'state-schema.json').to.deep.equal([]);
    rtOk(['delete', '--force', id]);
  });

  it('includes the config\'s annotations', function () {
    const annotations = { 'org.example.key': 'value', 'other': 'x y' };
    const b = makeBundle({ args: ['true'], mutate: (c) => (c.annotations = annotations) });
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    expect(state(id).annotations).to.deep.equal(annotations);
    rtOk(['delete', '--force', id]);
  });

  it('uses the config as it was at create: a later edit of config.json changes nothing', function () {
    const b = makeBundle({ args: ['true'], mutate: (c) => (c.annotations = { phase: 'at-create' }) });
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    b.writeConfig((c) => (c.annotations = { phase: 'edited-later' }));
    expect(state(id).annotations).to.deep.equal({ phase: 'at-create' });
    rtOk(['delete', '--force', id]);
  });
});

describe('cli: list', function () {
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
  });

  /** Two containers: one created, one running. */
  function twoContainers() {
    const created = uniqueId('a');
    const running = uniqueId('b');
    const b1 = makeBundle({ args: ['sleep', '600'] });
    const b2 = makeBundle({ args: ['sleep', '600'] });
    rtOk(['create', '--bundle', b1.dir, created]);
    rtOk(['run', '--detach', '--bundle', b2.dir, running]);
    return { created, running, b1, b2, remove: () => [created, running].forEach((id) => rtOk(['delete', '--force', id])) };
  }

  it('the table has a header and one row per container with its ID, pid, status and bundle', function () {
    const c = twoContainers();
    const rows = lines(rtOk(['list'])).map((l) => l.trim().split(/\s+/));
    expect(rows[0]).to.deep.equal(['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']);
    const byId = new Map(rows.slice(1).map((r) => [r[0], r]));
    expect([...byId.keys()].sort()).to.deep.equal([c.created, c.running].sort());
    expect(byId.get(c.created)!.slice(1, 4)).to.deep.equal([String(state(c.created).pid), 'created', c.b1.dir]);
    expect(byId.get(c.running)!.slice(1, 4)).to.deep.equal([String(state(c.running).pid), 'running', c.b2.dir]);
    c.remove();
  });

  it('--format json prints each container\'s state', function () {
    const c = twoContainers();
    const items = JSON.parse(rtOk(['list', '--format', 'json'])) as Record<string, unknown>[];
    const byId = new Map(items.map((i) => [i.id, i]));
    expect([...byId.keys()].sort()).to.deep.equal([c.created, c.running].sort());
    expect(byId.get(c.created)).to.include({ status: 'created', pid: state(c.created).pid, bundle: c.b1.dir });
    expect(byId.get(c.running)).to.include({ status: 'running', pid: state(c.running).pid, bundle: c.b2.dir });
    c.remove();
  });

  it('--format json gives the owner by name, as the table does (runc: "root")', function () {
    const c = twoContainers();
    const items = JSON.parse(rtOk(['list', '-f', 'json'])) as Record<string, unknown>[];
    const table = lines(rtOk(['list'])).slice(1).map((l) => l.trim().split(/\s+/));
    expect(items.map((i) => i.owner)).to.deep.equal(table.map((r) => r[5]));
    expect(items[0]!.owner).to.equal('root');
    c.remove();
  });

  it('-q prints only the IDs, one per line', function () {
    const c = twoContainers();
    expect(listedIds().sort()).to.deep.equal([c.created, c.running].sort());
    c.remove();
  });

  it('with no containers the table is only the header and json is empty', function () {
    expect(lines(rtOk(['list']))).to.have.length(1);
    // runc prints `null` (a nil Go slice), ts-runc `[]`: both say "nothing".
    expect(JSON.parse(rtOk(['list', '--format', 'json'])) ?? []).to.deep.equal([]);
  });

  it('an unknown --format fails', function () {
    const r = expectFailure(rt(['list', '--format', 'xml']));
    expect(r.stderr).to.include('invalid format option');
  });
});

describe('cli: spec', function () {
  useLeakCheck();

  it('--bundle DIR writes DIR/config.json: the default config, terminal on, args ["sh"]', function () {
    const dir = makeTempDir('spec');
    rtOk(['spec', '--bundle', dir]);
    const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
    expect(config.ociVersion).to.be.a('string');
    expect(config.process).to.include({ terminal: true });
    expect(config.process.args).to.deep.equal(['sh']);
    expect(config.root).to.deep.equal({ path: 'rootfs', readonly: true });
    expect(config.linux.namespaces.map((n: { type: string }) => n.type)).to.include.members(['pid', 'network', 'ipc', 'uts', 'mount']);
  });

  it('without --bundle writes config.json in the working directory', function () {
    const dir = makeTempDir('spec');
    rtOk(['spec'], { cwd: dir });
    expect(existsSync(path.join(dir, 'config.json'))).to.equal(true);
  });

  it('refuses to overwrite an existing config.json and leaves it as it was', function () {
    const dir = makeTempDir('spec');
    writeFileSync(path.join(dir, 'config.json'), '{"mine": true}\n');
    const r = expectFailure(rt(['spec', '--bundle', dir]));
    expect(r.stderr).to.include('File config.json exists. Remove it first');
    expect(readFileSync(path.join(dir, 'config.json'), 'utf8')).to.equal('{"mine": true}\n');
  });

  it('--rootless writes a config with a user namespace and id mappings and no network namespace', function () {
    const dir = makeTempDir('spec');
    rtOk(['spec', '--rootless', '--bundle', dir]);
    const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
    const types = config.linux.namespaces.map((n: { type: string }) => n.type);
    expect(types).to.include('user');
    expect(types).to.not.include('network');
    expect(config.linux.uidMappings).to.be.an('array').with.length.above(0);
    expect(config.linux.gidMappings).to.be.an('array').with.length.above(0);
  });

  it('the config it writes runs as is once a rootfs is added and terminal is off', function () {
    requireRoot(this);
    const b = makeBundle();
    const dir = makeTempDir('spec');
    rtOk(['spec', '--bundle', dir]);
    const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
    config.process.terminal = false;
    config.process.args = ['echo', 'spec-works'];
    config.root.path = b.rootfs;
    config.linux.cgroupsPath = b.config.linux!.cgroupsPath;
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    const r = rt(['run', '--bundle', dir, uniqueId()]);
    expect(r.status, describeResult(r)).to.equal(0);
    expect(r.stdout).to.equal('spec-works\n');
  });
});
