// config-linux.md: namespaces, user namespace mappings, time offsets, devices, cgroupsPath,
// sysctl, rootfsPropagation, maskedPaths, readonlyPaths, mountLabel, personality.
import { expect } from 'chai';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type OciConfig, makeBundle } from '../../test/helpers/bundle.js';
import { useLeakCheck } from '../../test/helpers/leaks.js';
import { requireCommand, requireRoot, skipWith } from '../../test/helpers/privileges.js';
import { describeResult, rt, runtimeBin, state, testRoot, uniqueId, waitFor } from '../../test/helpers/runtime.js';
import { NS_FILES, clause, create, expectCreateFails, expectNoProblems, forceDelete, nsLink, runScript, runScriptOk } from './support.js';

type Namespace = { type: string; path?: string };

/** Namespaces of the base config without `drop`, plus `add`. */
function withNamespaces(c: OciConfig, add: Namespace[], drop: string[] = []): void {
  const kept = (c.linux!.namespaces as Namespace[]).filter((n) => !drop.includes(n.type) && !add.some((a) => a.type === n.type));
  c.linux!.namespaces = [...kept, ...add];
}

/** A user namespace mapping container ids 0-65535 to host ids 100000-165535. */
function userNamespace(c: OciConfig): void {
  withNamespaces(c, [{ type: 'user' }]);
  c.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  c.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  // a cgroup v1 mount is not something an unprivileged user namespace may make
  c.mounts = c.mounts!.filter((m) => m.destination !== '/sys/fs/cgroup');
}

/** A process on the host in new network, UTS and IPC namespaces, with hostname conf-holder. */
async function startHolder(): Promise<ChildProcess & { pid: number }> {
  const holder = spawn('unshare', ['--net', '--uts', '--ipc', 'sh', '-c', 'hostname conf-holder; exec sleep 600'], { stdio: 'ignore' });
  const pid = holder.pid!;
  await waitFor(() => nsLink('uts', pid) !== nsLink('uts') && readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep'), 5_000, {
    what: 'the namespace holder',
  });
  return holder as ChildProcess & { pid: number };
}

describe('config-linux.md: namespaces', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  clause('config-linux.namespaces.path-absolute', 'a relative namespace path is an error', function () {
    expectCreateFails((c) => withNamespaces(c, [{ type: 'network', path: 'proc/1/ns/net' }]), 'create with a relative namespace path');
  });

  clause('config-linux.namespaces.path-join', 'with a path the container joins that namespace (network, uts, ipc)', async function () {
    requireCommand(this, 'unshare');
    const holder = await startHolder();
    try {
      const out = runScriptOk('for f in net uts ipc; do readlink /proc/self/ns/$f; done; hostname', {
        mutate: (c) => {
          delete c.hostname; // joining a UTS namespace: leave its hostname alone
          withNamespaces(c, ['net', 'uts', 'ipc'].map((f) => ({ type: f === 'net' ? 'network' : f, path: `/proc/${holder.pid}/ns/${f}` })));
        },
      });
      expect(out.split('\n').filter(Boolean)).to.deep.equal([nsLink('net', holder.pid), nsLink('uts', holder.pid), nsLink('ipc', holder.pid), 'conf-holder']);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  clause('config-linux.namespaces.path-type-mismatch', 'a path to a namespace of another type is an error', function () {
    expectCreateFails((c) => withNamespaces(c, [{ type: 'network', path: '/proc/self/ns/uts' }]), 'create with a uts namespace given as network');
    expectCreateFails((c) => withNamespaces(c, [{ type: 'ipc', path: `/proc/${process.pid}/ns/net` }]), 'create with a net namespace given as ipc');
  });

  clause('config-linux.namespaces.new', 'without a path the container gets a new namespace of each listed type', function () {
    const problems: string[] = [];
    for (const [type, file] of Object.entries(NS_FILES)) {
      const r = runScript(`readlink /proc/self/ns/${file}`, { mutate: (c) => (type === 'user' ? userNamespace(c) : withNamespaces(c, [{ type }])) });
      if (r.status !== 0) problems.push(`${type}: the container did not run: ${r.stderr.trim()}`);
      else if (r.stdout.trim() === nsLink(file)) problems.push(`${type}: the container is in the host's namespace ${r.stdout.trim()}`);
    }
    expectNoProblems(problems, 'namespace types');
  });

  clause('config-linux.namespaces.inherit', 'a namespace type not listed is the runtime\'s own', function () {
    const inherited = ['net', 'ipc', 'uts', 'cgroup', 'user', 'time'];
    const out = runScriptOk(inherited.map((f) => `readlink /proc/self/ns/${f}`).join('; '), {
      mutate: (c) => {
        delete c.hostname; // a hostname needs a UTS namespace of the container's own
        c.linux!.namespaces = [{ type: 'pid' }, { type: 'mount' }];
      },
    });
    expect(out.split('\n').filter(Boolean)).to.deep.equal(inherited.map((f) => nsLink(f)));
  });

  clause('config-linux.namespaces.duplicate-error', 'the same namespace type twice is an error', function () {
    expectCreateFails((c) => c.linux!.namespaces.push({ type: 'pid' }), 'create with two pid namespaces');
  });

  clause('config-linux.user-mappings', 'uidMappings and gidMappings are the user namespace\'s maps', function () {
    const out = runScriptOk('cat /proc/self/uid_map /proc/self/gid_map; id -u', { mutate: userNamespace });
    const lines = out.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    expect(lines).to.deep.equal(['0 100000 65536', '0 100000 65536', '0']);
  });

  clause('config-linux.time-offsets', 'timeOffsets are the time namespace\'s clock offsets', function () {
    const out = runScriptOk('cat /proc/self/timens_offsets', {
      mutate: (c) => {
        withNamespaces(c, [{ type: 'time' }]);
        c.linux!.timeOffsets = { monotonic: { secs: 31536000, nanosecs: 0 }, boottime: { secs: 172800, nanosecs: 500 } };
      },
    });
    const offsets = Object.fromEntries(out.trim().split('\n').map((l) => { const [k, ...v] = l.trim().split(/\s+/); return [k, v.join(' ')]; }));
    expect(offsets).to.deep.equal({ monotonic: '31536000 0', boottime: '172800 500' });
  });
});

describe('config-linux.md: devices', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  clause('config-linux.devices.available', 'listed devices exist in the container with their type, numbers, mode and owner', function () {
    const out = runScriptOk("stat -c '%n|%F|%t:%T|%a|%u|%g' /dev/conf-null /conf-devs/zero /dev/conf-fifo; head -c 3 /conf-devs/zero | od -An -tx1", {
      mutate: (c) =>
        (c.linux!.devices = [
          { path: '/dev/conf-null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
          // 0644: the default config's root has no CAP_DAC_OVERRIDE, and must read it below.
          { path: '/conf-devs/zero', type: 'c', major: 1, minor: 5, fileMode: 0o644, uid: 1, gid: 2 },
          { path: '/dev/conf-fifo', type: 'p', fileMode: 0o600, uid: 3, gid: 4 },
        ]),
    });
    const [a, b, c, bytes] = out.split('\n');
    expect(a).to.equal('/dev/conf-null|character special file|1:3|666|0|0');
    expect(b).to.equal('/conf-devs/zero|character special file|1:5|644|1|2');
    expect(c).to.match(/^\/dev\/conf-fifo\|fifo\|0:0\|600\|3\|4$/);
    expect(bytes!.trim()).to.equal('00 00 00');
  });

  clause('config-linux.devices.existing-mismatch-error', 'a device path where a different file already exists is an error', function () {
    const b = makeBundle({ args: ['true'], mutate: (c) => (c.linux!.devices = [{ path: '/conf-devfile', type: 'c', major: 1, minor: 3 }]) });
    writeFileSync(path.join(b.rootfs, 'conf-devfile'), 'a regular file\n');
    const id = uniqueId();
    const r = rt(['create', '--bundle', b.dir, id]);
    if (r.status === 0) forceDelete(id);
    expect(r.status, `create with a device over a regular file should fail: ${describeResult(r)}`).to.not.equal(0);
  });

  clause('config-linux.devices.default', 'the default devices exist (null, zero, full, random, urandom, tty, ptmx) and work', function () {
    const out = runScriptOk(
      "for d in null zero full random urandom tty; do echo \"$d $(stat -c '%F %t:%T' /dev/$d)\"; done; " +
        "echo \"ptmx $(stat -L -c '%F %t:%T' /dev/ptmx)\"; echo x > /dev/null && echo null-writes; head -c 2 /dev/urandom | wc -c",
    );
    expect(out.split('\n').filter(Boolean)).to.deep.equal([
      'null character special file 1:3',
      'zero character special file 1:5',
      'full character special file 1:7',
      'random character special file 1:8',
      'urandom character special file 1:9',
      'tty character special file 5:0',
      'ptmx character special file 5:2',
      'null-writes',
      '2',
    ]);
  });

  clause('config-linux.devices.default-console', 'with terminal true, /dev/console is the container\'s pty', function () {
    requireCommand(this, 'script');
    const b = makeBundle({
      args: ['sh', '-c', "echo \"console=$(stat -c %t:%T /dev/console) stdin=$(stat -L -c %t:%T /proc/self/fd/0) mounted=$(grep -c ' /dev/console ' /proc/self/mountinfo)\""],
      terminal: true,
    });
    // `script` gives the runtime a terminal of its own, which it needs to run one in the foreground
    const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const cmd = [runtimeBin(), '--root', testRoot(), 'run', '--bundle', b.dir, uniqueId()].map(quote).join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
    const m = /console=(\S+) stdin=(\S+) mounted=(\d+)/.exec(r.stdout);
    expect(m, `output of \`script -qec "${cmd}"\`: ${r.stdout}${r.stderr}`).to.not.equal(null);
    expect(m![1], '/dev/console device numbers').to.equal(m![2]);
    expect(m![1]!.startsWith('88:'), `/dev/console is a pty slave (major 136): ${m![1]}`).to.equal(true);
    expect(m![3], '/dev/console is a bind mount').to.equal('1');
  });
});

describe('config-linux.md: cgroupsPath', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  /** The cgroup of `pid` in each hierarchy: `<hierarchy-id>:<controllers>` → path. */
  function cgroupsOf(pid: number): Record<string, string> {
    return Object.fromEntries(
      readFileSync(`/proc/${pid}/cgroup`, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const i = l.indexOf(':', l.indexOf(':') + 1);
          return [l.slice(0, i), l.slice(i + 1)];
        }),
    );
  }

  clause('config-linux.cgroups-path.absolute', 'an absolute cgroupsPath is the container\'s cgroup below each hierarchy\'s root', function () {
    const b = makeBundle({ args: ['sleep', '600'] });
    const id = create(b);
    try {
      const cgroups = cgroupsOf(state(id).pid!);
      const wrong = Object.entries(cgroups).filter(([, p]) => p !== b.config.linux!.cgroupsPath);
      expect(wrong.map(([h, p]) => `${h}:${p}`), `hierarchies where the container is not at ${b.config.linux!.cgroupsPath}`).to.deep.equal([]);
      for (const ctrl of ['pids', 'memory']) {
        const procs = path.join('/sys/fs/cgroup', ctrl, b.config.linux!.cgroupsPath, 'cgroup.procs');
        if (existsSync(path.dirname(path.dirname(procs)))) expect(readFileSync(procs, 'utf8').split('\n'), procs).to.include(String(state(id).pid));
      }
    } finally {
      forceDelete(id);
    }
  });

  clause('config-linux.cgroups-path.consistent', 'the same cgroupsPath puts two containers in the same place', function () {
    const a = makeBundle({ args: ['sleep', '600'] });
    const b = makeBundle({ args: ['sleep', '600'], cgroupsPath: a.config.linux!.cgroupsPath });
    const first = create(a);
    let firstCgroups: Record<string, string>;
    try {
      firstCgroups = cgroupsOf(state(first).pid!);
    } finally {
      forceDelete(first);
    }
    const second = create(b);
    try {
      expect(cgroupsOf(state(second).pid!)).to.deep.equal(firstCgroups);
    } finally {
      forceDelete(second);
    }
  });
});

describe('config-linux.md: sysctl, propagation, masked and read-only paths, labels, personality', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  clause('config-linux.sysctl', 'sysctl values are set in the container\'s namespaces', function () {
    const keys = { 'net.ipv4.ip_forward': '1', 'net.core.somaxconn': '1234', 'kernel.shmmax': '123456789', 'kernel.msgmax': '12345' };
    const out = runScriptOk(Object.keys(keys).map((k) => `cat /proc/sys/${k.replace(/\./g, '/')}`).join('; '), { mutate: (c) => (c.linux!.sysctl = keys) });
    expect(out.split('\n').filter(Boolean)).to.deep.equal(Object.values(keys));
  });

  clause('config-linux.rootfs-propagation', 'rootfsPropagation shared, slave, private and unbindable set the propagation of /', function () {
    // What each value must show on the container's / (optional fields of mountinfo). A slave's
    // master can only be seen when the rootfs comes from a shared host mount; making one
    // shared here would let the runtime's own mounts propagate back into the host, so for
    // slave this checks only that / is neither shared nor unbindable.
    const expected: Record<string, (tags: string[]) => boolean> = {
      shared: (t) => t.some((x) => x.startsWith('shared:')),
      slave: (t) => !t.some((x) => x.startsWith('shared:')) && !t.includes('unbindable'),
      private: (t) => t.length === 0,
      unbindable: (t) => t.includes('unbindable'),
    };
    const problems: string[] = [];
    for (const [value, ok] of Object.entries(expected)) {
      const r = runScript('awk \'$5 == "/" { t = ""; for (i = 7; $i != "-"; i++) t = t " " $i } END { print "tags:" t }\' /proc/self/mountinfo', {
        mutate: (c) => (c.linux!.rootfsPropagation = value),
      });
      if (r.status !== 0) {
        problems.push(`${value}: the container did not run: ${r.stderr.trim()}`);
        continue;
      }
      const tags = (/tags:(.*)/.exec(r.stdout)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
      if (!ok(tags)) problems.push(`${value}: propagation of / is [${tags.join(' ')}]`);
    }
    expectNoProblems(problems, 'rootfsPropagation values');
  });

  describe('maskedPaths', function () {
    clause('config-linux.masked-paths.applied', 'masked files and directories cannot be read in the container', function () {
      const b = makeBundle({
        args: ['sh', '-c', 'echo "file=[$(cat /conf-secret-file)] dir=[$(ls -A /conf-secret-dir)] kcore=[$(head -c 16 /proc/kcore | wc -c)]"'],
        mutate: (c) => (c.linux!.maskedPaths = ['/conf-secret-file', '/conf-secret-dir', '/proc/kcore']),
      });
      writeFileSync(path.join(b.rootfs, 'conf-secret-file'), 'secret\n');
      mkdirSync(path.join(b.rootfs, 'conf-secret-dir'));
      writeFileSync(path.join(b.rootfs, 'conf-secret-dir', 'inner'), 'secret\n');
      const r = rt(['run', '--bundle', b.dir, uniqueId()]);
      expect(r.status, describeResult(r)).to.equal(0);
      expect(r.stdout).to.equal('file=[] dir=[] kcore=[0]\n');
    });

    clause('config-linux.masked-paths.absolute', 'a relative masked path is an error', function () {
      expectCreateFails((c) => (c.linux!.maskedPaths = ['proc/kcore']), 'create with maskedPaths ["proc/kcore"]');
    });
  });

  describe('readonlyPaths', function () {
    clause('config-linux.readonly-paths.applied', 'read-only paths cannot be written in the container; the rest of the root can', function () {
      const b = makeBundle({
        args: ['sh', '-c', 'touch /conf-ro/x 2>/dev/null && echo ro-written || echo ro-refused; touch /conf-rw-file && echo rw-written; echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo proc-written || echo proc-refused'],
        mutate: (c) => {
          c.root!.readonly = false;
          c.linux!.readonlyPaths = ['/conf-ro', '/proc/sys'];
        },
      });
      mkdirSync(path.join(b.rootfs, 'conf-ro'));
      const r = rt(['run', '--bundle', b.dir, uniqueId()]);
      expect(r.status, describeResult(r)).to.equal(0);
      expect(r.stdout).to.equal('ro-refused\nrw-written\nproc-refused\n');
    });

    clause('config-linux.readonly-paths.absolute', 'a relative read-only path is an error', function () {
      expectCreateFails((c) => (c.linux!.readonlyPaths = ['proc/sys']), 'create with readonlyPaths ["proc/sys"]');
    });
  });

  clause('config-linux.mount-label', 'mountLabel sets the SELinux context of the container\'s mounts', function () {
    if (!existsSync('/sys/fs/selinux/enforce')) skipWith(this, 'SELinux is not enabled on this host');
    const label = 'system_u:object_r:container_file_t:s0:c1,c2';
    const out = runScriptOk("grep ' /dev ' /proc/self/mountinfo", { mutate: (c) => (c.linux!.mountLabel = label) });
    expect(out).to.include(`context="${label}"`);
  });

  clause('config-linux.personality', 'personality LINUX32 makes uname report a 32-bit machine', function () {
    if (os.arch() !== 'x64') skipWith(this, `the 32-bit personality check is written for x86_64 hosts (this is ${os.arch()})`);
    expect(runScriptOk('uname -m', { mutate: (c) => (c.linux!.personality = { domain: 'LINUX32' }) })).to.equal('i686\n');
    expect(runScriptOk('uname -m', { mutate: (c) => (c.linux!.personality = { domain: 'LINUX' }) })).to.equal('x86_64\n');
  });
});


