// The CRIU side of checkpoint/restore that needs no root and no criu: the wire format,
// command-line values, external mounts and namespaces, image directories, CRIU's logs.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir } from '../helpers/context.js';
import { decodeResponse, encodeRequest } from '../../src/criu/codec.js';
import { lastCriuError, locateCriu } from '../../src/criu/binary.js';
import { dumpMounts, hostBinds, restoreMounts, restoreNamespaces } from '../../src/criu/external.js';
import { DESCRIPTORS_FILE, checkImageDir, criuLogErrors, prepareEmptyDir, readDescriptors } from '../../src/criu/images.js';
import { cgroupsMode, emptyNamespaces, pageServer } from '../../src/criu/options.js';
import { CgroupDirs } from '../../src/linux/cgroups/dirs.js';
import type { CgroupLayout } from '../../src/linux/cgroups/mode.js';
import type { Spec } from '../../src/spec/types.js';
import { ConfigError, RuntimeError, UsageError } from '../../src/util/errors.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('criu: RPC messages (protobuf, CRIU field numbers)', function () {
  it('encodes requests as CRIU reads them', function () {
    // type (1) = VERSION (10), keep_open (4) = true
    expect(hex(encodeRequest({ type: 'VERSION', keep_open: true }))).to.equal('080a2001');
    // type = DUMP (1); opts (2) { images_dir_fd (1) = 5, manage_cgroups_mode (34) = SOFT (3) }
    expect(hex(encodeRequest({ type: 'DUMP', opts: { images_dir_fd: 5, manage_cgroups_mode: 'SOFT' } }))).to.equal('080112050805900203');
    // opts.ext_mnt (23) { key (1) "a", val (2) "b" }
    expect(hex(encodeRequest({ type: 'RESTORE', opts: { images_dir_fd: 3, ext_mnt: [{ key: 'a', val: 'b' }] } }))).to.equal(
      '0802120b0803ba01060a0161120162',
    );
  });

  it('decodes responses, enums by name', function () {
    // type VERSION, success, version (10) { major 3, minor 14 }
    expect(decodeResponse(Buffer.from('080a100152040803100e', 'hex'))).to.deep.equal({
      type: 'VERSION',
      success: true,
      version: { major_number: 3, minor_number: 14 },
    });
    // type NOTIFY (6), success, notify (5) { script "post-restore", pid 42 }
    const notify = Buffer.concat([Buffer.from('08061001', 'hex'), Buffer.from([0x2a, 16, 0x0a, 12]), Buffer.from('post-restore'), Buffer.from([0x10, 42])]);
    expect(decodeResponse(notify)).to.deep.equal({ type: 'NOTIFY', success: true, notify: { script: 'post-restore', pid: 42 } });
  });

  it('refuses a response that is not one', function () {
    expect(() => decodeResponse(Buffer.from('ff', 'hex'))).to.throw();
  });
});

describe('criu: command-line values', function () {
  it('--manage-cgroups-mode: runc names; none is the default', function () {
    expect(cgroupsMode(undefined)).to.equal('DEFAULT');
    expect(cgroupsMode('soft')).to.equal('SOFT');
    expect(cgroupsMode('full')).to.equal('FULL');
    expect(cgroupsMode('strict')).to.equal('STRICT');
    expect(cgroupsMode('ignore')).to.equal('IGNORE');
    expect(() => cgroupsMode('SOFT')).to.throw(UsageError, 'invalid --manage-cgroups-mode value "SOFT"');
  });

  it('--empty-ns: the network namespace always (as runc), nothing else allowed', function () {
    expect(emptyNamespaces([])).to.equal(0x40000000);
    expect(emptyNamespaces(['network', 'network'])).to.equal(0x40000000);
    expect(() => emptyNamespaces(['pid'])).to.throw(UsageError, '--empty-ns: namespace "pid" is not supported');
  });

  it('--page-server ADDRESS:PORT', function () {
    expect(pageServer('10.0.0.1:27277')).to.deep.equal({ address: '10.0.0.1', port: 27277 });
    expect(pageServer('[::1]:80')).to.deep.equal({ address: '::1', port: 80 });
    expect(pageServer('host.example:1')).to.deep.equal({ address: 'host.example', port: 1 });
    for (const bad of ['', 'x', ':80', 'x:0', 'x:65536', 'x:port', '::1:80']) {
      expect(() => pageServer(bad), bad).to.throw(UsageError, 'use --page-server ADDRESS:PORT');
    }
  });
});

describe('criu: what lies outside the container', function () {
  const layout: CgroupLayout = {
    mode: 'hybrid',
    unified: '/sys/fs/cgroup/unified',
    v1: new Map([
      ['cpu', '/sys/fs/cgroup/cpu,cpuacct'],
      ['cpuacct', '/sys/fs/cgroup/cpu,cpuacct'],
      ['pids', '/sys/fs/cgroup/pids'],
    ]),
  };
  const cgroup = { layout, dirs: CgroupDirs.plan({ inner: '/ctr', absolute: true }, layout, new Map()).dirs };

  function spec(extra: Partial<Spec> = {}, namespaces = [{ type: 'mount' }, { type: 'pid' }]): Spec {
    return { ociVersion: '1.3.0', root: { path: 'rootfs' }, linux: { namespaces }, ...extra } as Spec;
  }

  it('bind mounts of host paths and, without a cgroup namespace, the cgroup directories bound in', function () {
    const src = makeTempDir('bindsrc');
    const s = spec({
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/data/', type: 'bind', source: src, options: ['rbind'] },
        { destination: 'etc/x', source: src, options: ['bind', 'ro'] },
        { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup' },
      ],
    });
    const binds = hostBinds(s, '/bundle', cgroup);
    expect(binds).to.deep.equal([
      { dest: '/data', source: src },
      { dest: '/etc/x', source: src },
      { dest: '/sys/fs/cgroup/cpu,cpuacct', source: '/sys/fs/cgroup/cpu,cpuacct/ctr' },
      { dest: '/sys/fs/cgroup/pids', source: '/sys/fs/cgroup/pids/ctr' },
      { dest: '/sys/fs/cgroup/unified', source: '/sys/fs/cgroup/unified/ctr' },
    ]);
    // A dump names them by their place in the container; a restore maps the names to the new sources.
    expect(dumpMounts(binds.slice(0, 1), ['/proc/kcore'])).to.deep.equal([
      { key: '/data', val: '/data' },
      { key: '/proc/kcore', val: '/dev/null' },
    ]);
    expect(restoreMounts(binds.slice(0, 1), true)).to.deep.equal([
      { key: '/data', val: src },
      { key: '/dev/null', val: '/dev/null' },
    ]);
    expect(restoreMounts([], false)).to.deep.equal([]);
  });

  it('with a cgroup namespace the v1 hierarchies are real mounts; cgroup2 is the container directory bound in (external)', function () {
    // src/linux/mounts.ts planCgroupMount: a fresh cgroup2 mount can be EBUSY where the
    // host's /sys is bound in, so cgroup2 is always the container's own directory, bound.
    const s = spec({ mounts: [{ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup' }] }, [{ type: 'mount' }, { type: 'cgroup' }]);
    expect(hostBinds(s, '/bundle', cgroup)).to.deep.equal([{ dest: '/sys/fs/cgroup/unified', source: '/sys/fs/cgroup/unified/ctr' }]);
  });

  it('in a user namespace the devices are bound from the host', function () {
    const s = spec({}, [{ type: 'mount' }, { type: 'user' }]);
    const binds = hostBinds(s, '/bundle', cgroup);
    expect(binds).to.deep.include({ dest: '/dev/null', source: '/dev/null' });
    expect(binds).to.deep.include({ dest: '/dev/tty', source: '/dev/tty' });
  });

  it('without a mount namespace of its own, nothing is the container\'s to map', function () {
    expect(hostBinds(spec({ mounts: [{ destination: '/x', type: 'bind', source: '/tmp' }] }, [{ type: 'pid' }]), '/b', cgroup)).to.deep.equal([]);
  });

  it('namespaces joined by path: network and PID handed to criu as fds, the others joined, cgroup refused', function () {
    const s = spec({}, [
      { type: 'network', path: '/proc/self/ns/net' },
      { type: 'pid', path: '/proc/self/ns/pid' },
      { type: 'ipc', path: '/proc/self/ns/ipc' },
      { type: 'uts' },
      { type: 'mount' },
    ] as never);
    const r = restoreNamespaces(s, 4);
    try {
      expect(r.inheritFd).to.deep.equal([
        { key: 'extRootNetNS', fd: 4 },
        { key: 'extRootPidNS', fd: 5 },
      ]);
      expect(r.fds).to.have.length(2);
      expect(r.joinNs).to.deep.equal([{ ns: 'ipc', ns_file: '/proc/self/ns/ipc' }]);
    } finally {
      for (const fd of r.fds) closeSync(fd);
    }
    expect(() => restoreNamespaces(spec({}, [{ type: 'cgroup', path: '/proc/self/ns/cgroup' }] as never), 4)).to.throw(
      ConfigError,
      'linux.namespaces[0].path: CRIU cannot restore into a cgroup namespace given by path',
    );
    expect(() => restoreNamespaces(spec({}, [{ type: 'network', path: '/nonexistent/ns' }] as never), 4)).to.throw(
      ConfigError,
      'linux.namespaces[0].path: open /nonexistent/ns: no such file or directory',
    );
  });
});

describe('criu: image directories and logs', function () {
  it('checkpoint writes only into an empty (or new) directory', function () {
    const dir = makeTempDir('img');
    prepareEmptyDir(path.join(dir, 'new/deeper'), '--image-path');
    writeFileSync(path.join(dir, 'file'), '');
    expect(() => prepareEmptyDir(dir, '--image-path')).to.throw(RuntimeError, `--image-path ${dir} is not empty (it holds 2 entries)`);
  });

  it('restore reads only a CRIU image', function () {
    const dir = makeTempDir('img');
    expect(() => checkImageDir(dir)).to.throw(RuntimeError, 'is not a CRIU image (no inventory.img)');
    writeFileSync(path.join(dir, 'inventory.img'), '');
    checkImageDir(dir);
    expect(() => checkImageDir(path.join(dir, 'inventory.img'))).to.throw(RuntimeError, 'is not a directory');
  });

  it('descriptors.json: absent is none; otherwise a bounded list of strings', function () {
    const dir = makeTempDir('img');
    expect(readDescriptors(dir)).to.deep.equal([]);
    const file = path.join(dir, DESCRIPTORS_FILE);
    writeFileSync(file, '["pipe:[1]","/dev/null","/dev/pts/0"]');
    expect(readDescriptors(dir)).to.deep.equal(['pipe:[1]', '/dev/null', '/dev/pts/0']);
    for (const bad of ['{', '{"a":1}', '[1]', JSON.stringify(Array(1025).fill('x'))]) {
      writeFileSync(file, bad);
      expect(() => readDescriptors(dir), bad.slice(0, 10)).to.throw(RuntimeError, DESCRIPTORS_FILE);
    }
    writeFileSync(file, JSON.stringify(['x'.repeat(70_000)]));
    expect(() => readDescriptors(dir)).to.throw(RuntimeError, 'larger than');
    // Like every JSON input (src/util/json-input.ts): never quoted, never deeper than the bound.
    writeFileSync(file, '["secret", x]');
    expect(() => readDescriptors(dir)).to.throw(RuntimeError, DESCRIPTORS_FILE).with.property('message').that.does.not.include('secret');
    writeFileSync(file, '['.repeat(1000));
    expect(() => readDescriptors(dir)).to.throw(RuntimeError, 'nested deeper than');
  });

  it('descriptors.json that is not a regular file (a FIFO) is refused at once', function () {
    const dir = makeTempDir('img');
    execFileSync('mkfifo', [path.join(dir, DESCRIPTORS_FILE)]);
    expect(() => readDescriptors(dir)).to.throw(RuntimeError, 'not a regular file');
  });

  it("CRIU's last errors, without its closing summary", function () {
    const dir = makeTempDir('log');
    const log = path.join(dir, 'dump.log');
    writeFileSync(
      log,
      [
        '(00.000100) Version: 4.2',
        '(00.000200) Error (criu/util.c:1534): rlimit: Can\'t setup RLIMIT_NOFILE for self: Operation not permitted',
        '(00.170642) Error (criu/files-reg.c:1790): Can\'t lookup mount=24 for fd=0 path=/dev/null',
        '(00.170651) Error (criu/cr-dump.c:1698): Dump files (pid: 26075) failed with -1',
        '(00.255568) Error (criu/cr-dump.c:2128): Dumping FAILED.',
        '',
      ].join('\n'),
    );
    expect(criuLogErrors(log)).to.deep.equal(["Can't lookup mount=24 for fd=0 path=/dev/null", 'Dump files (pid: 26075) failed with -1']);
    expect(criuLogErrors(path.join(dir, 'missing.log'))).to.deep.equal([]);
    expect(lastCriuError('Error (criu/vdso.c:1): Unexpected rt vDSO area bounds\nLooks good?')).to.equal('Unexpected rt vDSO area bounds');
    expect(lastCriuError('Looks good.')).to.equal(null);
  });

  it('criu is --criu PATH, or found in $PATH', function () {
    const dir = makeTempDir('criubin');
    mkdirSync(path.join(dir, 'bin'));
    const bin = path.join(dir, 'bin/criu');
    writeFileSync(bin, '#!/bin/sh\n');
    expect(locateCriu(bin, '')).to.equal(null); // not executable yet
    expect(locateCriu(undefined, path.join(dir, 'bin'))).to.equal(null);
    chmodSync(bin, 0o755);
    expect(locateCriu(undefined, `/nonexistent:${path.join(dir, 'bin')}`)).to.equal(bin);
    expect(locateCriu(undefined, '/nonexistent')).to.equal(null);
    expect(locateCriu(bin, '')).to.equal(bin);
    expect(locateCriu('criu', path.join(dir, 'bin'))).to.equal(bin);
    expect(locateCriu(path.join(dir, 'bin'), '')).to.equal(null); // a directory
  });
});
