// /dev inside the container (config-linux.md "Devices", "Default Devices", "Default File
// Systems"): the default nodes, devpts, shm, mqueue, the standard symlinks, linux.devices,
// and bind-mounted host nodes in a user namespace.
import { expect } from 'chai';
import { statSync } from 'node:fs';
import type { OciConfig } from '../../helpers/bundle.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireRoot } from '../../helpers/privileges.js';
import { keyValues, lines, mountAt, parseMountInfo, runSh, runShOk, useUserns } from './support.js';

/** `stat` of each path as `path|type|major(hex)|minor(hex)|mode|uid|gid`. */
const STAT = "stat -c '%n|%F|%t|%T|%a|%u|%g'";

const DEFAULT_DEVICES: [string, number, number][] = [
  ['/dev/null', 1, 3],
  ['/dev/zero', 1, 5],
  ['/dev/full', 1, 7],
  ['/dev/random', 1, 8],
  ['/dev/urandom', 1, 9],
  ['/dev/tty', 5, 0],
];

const hex = (n: number) => n.toString(16);

function statTable(out: string): Record<string, string[]> {
  return Object.fromEntries(
    lines(out).map((l) => {
      const [name, ...rest] = l.split('|');
      return [name!, rest];
    }),
  );
}

const withDevices = (devices: object[]) => (c: OciConfig) => {
  c.linux!.devices = devices;
};

describe('linux: /dev', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  describe('default devices', function () {
    it('null, zero, full, random, urandom and tty are character devices 0666 root:root', function () {
      const table = statTable(runShOk(`${STAT} ${DEFAULT_DEVICES.map(([p]) => p).join(' ')}`));
      for (const [p, major, minor] of DEFAULT_DEVICES) {
        expect(table[p], p).to.deep.equal(['character special file', hex(major), hex(minor), '666', '0', '0']);
      }
    });

    it('they work: null swallows, zero and urandom give bytes, full is full', function () {
      const out = keyValues(
        runShOk(
          'echo x > /dev/null && echo null=ok; echo zero=$(head -c 5 /dev/zero | wc -c); ' +
            'echo urandom=$(head -c 7 /dev/urandom | wc -c); (echo x > /dev/full) 2>/dev/null; echo full=$?',
        ),
      );
      expect(out).to.deep.equal({ null: 'ok', zero: '5', urandom: '7', full: '1' });
    });

    it('a linux.devices entry for a default path replaces the default', function () {
      const table = statTable(runShOk(`${STAT} /dev/null`, withDevices([{ path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o600, uid: 0, gid: 0 }])));
      expect(table['/dev/null']).to.deep.equal(['character special file', '1', '3', '600', '0', '0']);
    });
  });

  describe('default file systems and links', function () {
    it('/dev/pts is a new devpts instance with ptmxmode=0666', function () {
      const out = runShOk("echo dev=$(stat -c %d /dev/pts/ptmx); echo mode=$(stat -c %a /dev/pts/ptmx); echo ---; cat /proc/self/mountinfo");
      const [head, table] = out.split('---\n');
      const kv = keyValues(head!);
      const pts = mountAt(parseMountInfo(table!), '/dev/pts');
      expect(pts?.fsType).to.equal('devpts');
      expect(pts!.superOptions).to.include('ptmxmode=666');
      expect(kv.mode).to.equal('666');
      expect(Number(kv.dev), 'not the host devpts').to.not.equal(statSync('/dev/pts/ptmx').dev);
    });

    it('/dev/ptmx is a symlink to pts/ptmx', function () {
      expect(runShOk('readlink /dev/ptmx')).to.equal('pts/ptmx\n');
    });

    it('/dev/shm is a tmpfs and /dev/mqueue an mqueue', function () {
      const mounts = parseMountInfo(runShOk('cat /proc/self/mountinfo'));
      expect(mountAt(mounts, '/dev/shm')?.fsType).to.equal('tmpfs');
      expect(mountAt(mounts, '/dev/mqueue')?.fsType).to.equal('mqueue');
    });

    it('/dev/fd, /dev/stdin, /dev/stdout and /dev/stderr link to /proc/self/fd', function () {
      const out = runShOk('for l in fd stdin stdout stderr; do echo $l=$(readlink /dev/$l); done');
      expect(keyValues(out)).to.deep.equal({
        fd: '/proc/self/fd',
        stdin: '/proc/self/fd/0',
        stdout: '/proc/self/fd/1',
        stderr: '/proc/self/fd/2',
      });
    });
  });

  describe('linux.devices', function () {
    it('creates character, block and fifo nodes with type, major, minor, fileMode, uid and gid', function () {
      const devices = [
        { path: '/dev/custom-char', type: 'c', major: 1, minor: 5, fileMode: 0o640, uid: 1000, gid: 2000 },
        { path: '/dev/custom-blk', type: 'b', major: 7, minor: 0, fileMode: 0o600, uid: 0, gid: 6 },
        { path: '/dev/custom-fifo', type: 'p', fileMode: 0o620, uid: 5, gid: 5 },
      ];
      const table = statTable(runShOk(`${STAT} /dev/custom-char /dev/custom-blk /dev/custom-fifo`, withDevices(devices)));
      expect(table['/dev/custom-char']).to.deep.equal(['character special file', '1', '5', '640', '1000', '2000']);
      expect(table['/dev/custom-blk']).to.deep.equal(['block special file', '7', '0', '600', '0', '6']);
      expect(table['/dev/custom-fifo']!.slice(0, 1)).to.deep.equal(['fifo']);
      expect(table['/dev/custom-fifo']!.slice(3)).to.deep.equal(['620', '5', '5']);
    });

    it('creates the missing parent directories of a device path', function () {
      const table = statTable(runShOk(`${STAT} /dev/sub/dir/mydev`, withDevices([{ path: '/dev/sub/dir/mydev', type: 'c', major: 1, minor: 3, fileMode: 0o666 }])));
      expect(table['/dev/sub/dir/mydev']!.slice(0, 3)).to.deep.equal(['character special file', '1', '3']);
    });

    it('an unknown device type fails naming the field', function () {
      const r = runSh('true', withDevices([{ path: '/dev/bad', type: 'x', major: 1, minor: 3 }]));
      expect(r.status).to.not.equal(0);
      expect(r.stderr).to.match(/linux\.devices\[0\]\.type/);
    });
  });

  describe('in a user namespace', function () {
    it('the default devices are bind mounts of the host nodes', function () {
      const out = runShOk(`${STAT} ${DEFAULT_DEVICES.map(([p]) => p).join(' ')}; echo ---; cat /proc/self/mountinfo`, useUserns);
      const [head, table] = out.split('---\n');
      const stats = statTable(head!);
      const mounts = parseMountInfo(table!);
      for (const [p, major, minor] of DEFAULT_DEVICES) {
        expect(stats[p]!.slice(0, 3), p).to.deep.equal(['character special file', hex(major), hex(minor)]);
        expect(mountAt(mounts, p), `${p} is a mount`).to.not.equal(undefined);
      }
    });

    it('linux.devices entries are made by the runtime with their numbers and bound in (mknod is refused in a user namespace)', function () {
      const host = statSync('/dev/kmsg', { throwIfNoEntry: false });
      if (!host) this.skip();
      const out = runShOk(
        `${STAT} /dev/kmsg; echo ---; cat /proc/self/mountinfo`,
        (c) => {
          useUserns(c);
          withDevices([{ path: '/dev/kmsg', type: 'c', major: 1, minor: 11, fileMode: 0o644 }])(c);
        },
      );
      const [head, table] = out.split('---\n');
      expect(statTable(head!)['/dev/kmsg']!.slice(0, 3)).to.deep.equal(['character special file', '1', 'b']);
      expect(mountAt(parseMountInfo(table!), '/dev/kmsg')).to.not.equal(undefined);
    });
  });
});
