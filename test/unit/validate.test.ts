// Problem messages of the config / state / features validators (loadConfig: json-input.test.ts).
import { expect } from 'chai';
import { ConfigError } from '../../src/util/errors.js';
import { smallConfig } from '../helpers/config-fixtures.js';
import { formatPath } from '../../src/spec/paths.js';
import {
  validateConfig,
  validateFeatures,
  validateProcess,
  validateResources,
  validateState,
} from '../../src/spec/validate.js';

const lines = (errs: ConfigError[]) => errs.map((e) => e.message);

describe('validateConfig messages', function () {
  it('accepts the small config', function () {
    expect(validateConfig(smallConfig())).to.deep.equal([]);
  });

  it('returns ConfigErrors whose field is the OCI path', function () {
    const c = smallConfig();
    c.linux.namespaces[1].type = 'mnt';
    const [err, ...rest] = validateConfig(c);
    expect(rest).to.deep.equal([]);
    expect(err).to.be.instanceOf(ConfigError);
    expect(err!.field).to.equal('linux.namespaces[1].type');
    expect(err!.message).to.equal(
      'linux.namespaces[1].type: must be one of pid, network, mount, ipc, uts, user, cgroup, time',
    );
  });

  describe('process.args', function () {
    it('missing', function () {
      const c = smallConfig();
      delete c.process.args;
      expect(lines(validateConfig(c))).to.deep.equal(['process.args: is required']);
    });
    it('empty', function () {
      const c = smallConfig();
      c.process.args = [];
      expect(lines(validateConfig(c))).to.deep.equal(['process.args: must be a non-empty array']);
    });
    it('a string instead of an array', function () {
      const c = smallConfig();
      c.process.args = 'sh -c true';
      expect(lines(validateConfig(c))).to.deep.equal(['process.args: must be an array']);
    });
    it('a non-string entry', function () {
      const c = smallConfig();
      c.process.args = ['sh', 1];
      expect(lines(validateConfig(c))).to.deep.equal(['process.args[1]: must be a string']);
    });
  });

  it('wrong scalar types name the expected type', function () {
    const c = smallConfig();
    c.ociVersion = 1;
    c.process.terminal = 'yes';
    c.process.user.uid = 1.5;
    c.process.env = 'A=1';
    c.linux = [];
    expect(lines(validateConfig(c))).to.deep.equal([
      'ociVersion: must be a string',
      'process.terminal: must be a boolean',
      'process.env: must be an array',
      'process.user.uid: must be an integer',
      'linux: must be an object',
    ]);
  });

  it('reports a missing or malformed ociVersion and root', function () {
    expect(lines(validateConfig({}))).to.deep.equal(['ociVersion: is required', 'root: is required']);
    expect(lines(validateConfig({ ociVersion: '1.3', root: {} }))).to.deep.equal([
      'ociVersion: must be a SemVer version such as 1.3.0',
      'root.path: is required',
    ]);
  });

  it('rejects a document that is not an object', function () {
    for (const doc of [null, [], 'x', 3]) expect(lines(validateConfig(doc))).to.deep.equal(['must be an object']);
  });

  it('allows unknown properties anywhere (spec extensibility)', function () {
    const c = smallConfig();
    c.myExtension = { anything: [1, 2] };
    c['org.example.flag'] = true;
    c.process.futureField = 1;
    c.linux.futureLinuxField = 'x';
    c.linux.namespaces[0].extra = null;
    c.mounts = [{ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', extra: {} }];
    expect(validateConfig(c)).to.deep.equal([]);
  });

  it('requires annotation values to be strings and keys to be non-empty', function () {
    const c = smallConfig();
    c.annotations = { 'com.example.ok': '', 'com.example.n': 5, 'com.example.o': {}, '': 'v' };
    expect(lines(validateConfig(c))).to.deep.equal([
      'annotations[""]: key must not be empty',
      'annotations["com.example.n"]: must be a string',
      'annotations["com.example.o"]: must be a string',
    ]);
  });

  it('quotes member names that are not identifiers', function () {
    expect(formatPath(['linux', 'sysctl', 'net.ipv4.ip_forward'])).to.equal('linux.sysctl["net.ipv4.ip_forward"]');
    expect(formatPath(['linux', 'resources', 'unified', 'io.max'])).to.equal('linux.resources.unified["io.max"]');
    expect(formatPath(['mounts', 3, 'options', 0])).to.equal('mounts[3].options[0]');
    expect(formatPath(['linux', 'rdma', 'mlx5_1'])).to.equal('linux.rdma.mlx5_1');
    expect(formatPath(['a', 'with space', ''])).to.equal('a["with space"][""]');
    expect(formatPath([])).to.equal('');
  });

  it('tells array indices from numeric member names', function () {
    const c = smallConfig();
    c.linux.resources = { rdma: { '0': { hcaHandles: 'x' } } };
    c.mounts = [{ destination: 5 }];
    expect(lines(validateConfig(c))).to.deep.equal([
      'mounts[0].destination: must be a string',
      'linux.resources.rdma["0"].hcaHandles: must be an integer',
    ]);
  });

  it('words integer ranges, including 64-bit limits', function () {
    const c = smallConfig();
    c.process.user.gid = 4294967296;
    c.linux.resources = { memory: { limit: 2 ** 64 }, blockIO: { weight: 70000 }, cpu: { shares: -1 } };
    expect(lines(validateConfig(c))).to.deep.equal([
      'process.user.gid: must be <= 4294967295',
      'linux.resources.memory.limit: must be <= 9223372036854775807',
      'linux.resources.cpu.shares: must not be negative',
      'linux.resources.blockIO.weight: must be <= 65535',
    ]);
  });

  it('reports every problem once, in one line each', function () {
    const c = smallConfig();
    c.process.cwd = 'relative';
    c.process.rlimits = [
      { type: 'RLIMIT_NOFILE', soft: 1, hard: 1 },
      { type: 'RLIMIT_NOFILE', soft: 1, hard: 1 },
      { type: 'RLIMIT_NOFILE', soft: 1, hard: 1 },
    ];
    c.hooks = { prestart: [{ path: 'x', timeout: -1 }] };
    c.process.env = ['A=b\u0000c'];
    const msgs = lines(validateConfig(c));
    expect(msgs).to.deep.equal([
      'process.env[0]: must not contain a NUL byte',
      'process.cwd: must be an absolute path',
      'hooks.prestart[0].path: must be an absolute path',
      'hooks.prestart[0].timeout: must be greater than zero',
    ]);
    for (const m of msgs) expect(m).to.not.include('\n');
  });

  it('does not add a semantic problem under a field the schema rejected', function () {
    const c = smallConfig();
    c.process.rlimits = 'RLIMIT_NOFILE';
    c.hooks = { prestart: { path: 'relative' } };
    expect(lines(validateConfig(c))).to.deep.equal([
      'process.rlimits: must be an array',
      'hooks.prestart: must be an array',
    ]);
  });

  it('can skip the semantic checks', function () {
    const c = smallConfig();
    c.process.cwd = 'relative';
    expect(validateConfig(c, { semantic: false })).to.deep.equal([]);
    expect(lines(validateConfig(c))).to.deep.equal(['process.cwd: must be an absolute path']);
  });

  it('refuses ids that the kernel reads as "unchanged" (4294967295), wherever an id is given', function () {
    const c = smallConfig();
    const max = 4294967294;
    c.process.user = { uid: max + 1, gid: max, additionalGids: [1, max + 1] };
    c.linux.devices = [{ type: 'c', path: '/dev/x', major: 1, minor: 3, uid: max + 1, gid: 0 }];
    c.linux.uidMappings = [{ containerID: 0, hostID: max + 1, size: 1 }];
    c.linux.gidMappings = [{ containerID: max, hostID: 1000, size: 2 }, { containerID: 0, hostID: 0, size: 0 }];
    c.mounts = [{ destination: '/m', type: 'bind', source: '/x', options: ['bind'], uidMappings: [{ containerID: max + 1, hostID: 0, size: 1 }], gidMappings: [] }];
    const why = '(4294967295 is (uid_t)-1, "unchanged" to the kernel)';
    expect(lines(validateConfig(c)).sort()).to.deep.equal([
      `linux.devices[0].uid: must be <= 4294967294 ${why}`,
      'linux.gidMappings[0].size: containerID + size - 1 must be <= 4294967294',
      'linux.gidMappings[1].size: must be greater than zero',
      `linux.uidMappings[0].hostID: must be <= 4294967294 ${why}`,
      `mounts[0].uidMappings[0].containerID: must be <= 4294967294 ${why}`,
      `process.user.additionalGids[1]: must be <= 4294967294 ${why}`,
      `process.user.uid: must be <= 4294967294 ${why}`,
    ]);
    c.process.user = { uid: max, gid: max, additionalGids: [max] };
    expect(lines(validateConfig(c))).to.not.include(`process.user.uid: must be <= 4294967294 ${why}`);
  });

  it('refuses a NUL byte in any string or member name, annotations aside', function () {
    const c = smallConfig();
    c.hostname = 'ab\u0000cd';
    c.mounts = [{ destination: '/dev/pts\u0000', type: 'bind', source: '/tmp', options: ['bind'] }];
    c.linux.sysctl = { 'net.core.somaxconn\u0000': '1', 'kernel.msgmax': '1\u00002' };
    c.annotations = { 'a\u0000': 'b\u0000' };
    expect(lines(validateConfig(c)).sort()).to.deep.equal([
      'hostname: must not contain a NUL byte',
      'linux.sysctl["kernel.msgmax"]: must not contain a NUL byte',
      'linux.sysctl["net.core.somaxconn\\u0000"]: key must not contain a NUL byte',
      'mounts[0].destination: must not contain a NUL byte',
    ]);
  });

  it('refuses env entries that are not NAME=VALUE (as runc), without quoting them', function () {
    const c = smallConfig();
    c.process.env = ['PATH=/bin', 'SECRET_NOEQ', '=value', 'EMPTY='];
    expect(lines(validateConfig(c))).to.deep.equal([
      "process.env[1]: invalid environment variable: missing '='",
      'process.env[2]: invalid environment variable: name cannot be empty',
    ]);
  });

  it('refuses memory sizes below -1 (only -1 means unlimited, as the kernel reads them)', function () {
    const c = smallConfig();
    c.linux.resources = { memory: { limit: -5, reservation: -1, swap: -2, kernelTCP: 0 } };
    expect(lines(validateConfig(c))).to.deep.equal([
      'linux.resources.memory.limit: must be -1 (unlimited) or a size in bytes',
      'linux.resources.memory.swap: must be -1 (unlimited) or a size in bytes',
    ]);
    expect(lines(validateResources({ memory: { limit: -5 } }))).to.deep.equal(['memory.limit: must be -1 (unlimited) or a size in bytes']);
  });

  it('takes ioPriority without priority for IOPRIO_CLASS_IDLE only', function () {
    const c = smallConfig();
    c.process.ioPriority = { class: 'IOPRIO_CLASS_IDLE' };
    expect(lines(validateConfig(c))).to.deep.equal([]);
    c.process.ioPriority = { class: 'IOPRIO_CLASS_RT' };
    expect(lines(validateConfig(c))).to.deep.equal(['process.ioPriority.priority: is required']);
  });

  it('lets a FIFO device omit major and minor', function () {
    const c = smallConfig();
    c.linux.devices = [{ type: 'p', path: '/run/fifo' }, { type: 'u', path: '/dev/x', major: 1 }];
    expect(lines(validateConfig(c))).to.deep.equal(['linux.devices[1].minor: is required']);
  });
});

describe('validateProcess / validateResources', function () {
  it('validates an exec process file with paths relative to it', function () {
    expect(validateProcess({ cwd: '/', args: ['true'] })).to.deep.equal([]);
    expect(lines(validateProcess({ cwd: 'tmp', args: [], terminal: 1 }))).to.deep.equal([
      'terminal: must be a boolean',
      'args: must be a non-empty array',
      'cwd: must be an absolute path',
    ]);
  });

  it('validates an update resources file', function () {
    expect(validateResources({ memory: { limit: 1024 }, pids: { limit: -1 } })).to.deep.equal([]);
    expect(lines(validateResources({ pids: { limit: '10' }, rdma: { mlx4_0: {} } }))).to.deep.equal([
      'pids.limit: must be an integer',
      'rdma.mlx4_0: must set hcaHandles or hcaObjects',
    ]);
  });
});

describe('validateState / validateFeatures messages', function () {
  const state = { ociVersion: '1.3.0', id: 'c1', status: 'created', pid: 10, bundle: '/b' };

  it('requires pid only while created or running', function () {
    expect(validateState(state)).to.deep.equal([]);
    const { pid: _pid, ...noPid } = state;
    expect(lines(validateState(noPid))).to.deep.equal(['pid: is required']);
    expect(lines(validateState({ ...noPid, status: 'running' }))).to.deep.equal(['pid: is required']);
    expect(validateState({ ...noPid, status: 'stopped' })).to.deep.equal([]);
    expect(validateState({ ...noPid, status: 'creating' })).to.deep.equal([]);
  });

  it('collapses a failed "object or null" alternative into one line', function () {
    const base = { ociVersionMin: '1.0.0', ociVersionMax: '1.3.0' };
    expect(validateFeatures({ ...base, linux: null, annotations: null })).to.deep.equal([]);
    expect(lines(validateFeatures({ ...base, linux: 'x', annotations: [] }))).to.deep.equal([
      'linux: must be an object or null',
      'annotations: must be an object or null',
    ]);
    // The branch that matched the type went further in: only its error is shown.
    expect(lines(validateFeatures({ ...base, linux: { seccomp: { actions: 'all' } }, annotations: { a: 1 } }))).to.deep.equal([
      'linux.seccomp.actions: must be an array or null',
      'annotations.a: must be a string',
    ]);
  });
});
