// The engines on a systemd + cgroup v2 host, with the runtime under test and runc as the
// control on the same cases (each case runs once per runtime):
//   podman as root with the systemd cgroup manager (--runtime, --memory/--cpus/--pids-limit);
//   rootless podman (the lingering user; the runtime runs in podman's user namespace);
//   containerd's runc shim with the systemd cgroup (`ctr run --runc-binary
//   --runc-systemd-cgroup`, the system containerd);
//   the CRI flow: a private containerd with the CRI plugin, the runtime as a runtime
//   handler with SystemdCgroup = true (what a Kubernetes RuntimeClass names), driven by
//   crictl as a kubelet would (pod sandbox in its slice, container with limits, exec).
// Each case checks the limits where the engine put them: the unit's properties (systemctl),
// the cgroup files, and what the container sees.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { RUN_ID, makeTempDir, uniqueName } from '../helpers/context.js';
import { writeContainerdConfig } from '../helpers/engine-setup.mjs';
import { hasCommand, skipWith } from '../helpers/privileges.js';
import { runtimeBin } from '../helpers/runtime.js';
import { type Daemon, busyboxImage, cmd, describeCmd, killProcessesNaming, startDaemon, unmountUnder, waitReady } from '../engines/support.js';
import { buildBusyboxImage } from '../engines/image.js';
import { CGROUP2, type Tester, asTester, describeRun, readCgroup, requireLingeringUser, requireSystemdV2, unitLoaded, unitProperties } from './support.js';

interface Runtime {
  /** How the cases name it. */
  label: string;
  bin: string;
}

/** The runtime under test, and runc as the control (once, when runc is what is tested). */
function runtimes(): Runtime[] {
  const under = { label: path.basename(runtimeBin()), bin: runtimeBin() };
  const runc = spawnSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).stdout.trim();
  if (!runc || fs.realpathSync(runc) === fs.realpathSync(under.bin)) return [under];
  return [under, { label: 'runc (control)', bin: runc }];
}

const ok = (r: ReturnType<typeof cmd>): string => {
  expect(r.status, describeCmd(r)).to.equal(0);
  return r.stdout;
};
const MEMORY = 67108864;
/** What the container sees of its own limits (a cgroup namespace: /sys/fs/cgroup is its cgroup). */
const LIMITS_INSIDE = ['cat', '/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/cpu.max', '/sys/fs/cgroup/pids.max'];

function requireCommands(ctx: Mocha.Context, names: string[]): void {
  const missing = names.filter((n) => !hasCommand(n));
  if (missing.length) skipWith(ctx, `needs ${missing.join(', ')} (scripts/guest/build-image.sh installs them)`);
}

describe('hosts: podman as root with the systemd cgroup manager', function () {
  // Under emulation (the CI guest) one podman command takes 10-20 s.
  this.timeout(300_000);
  let dir: string;
  let global: string[];
  const podman = (args: string[], timeoutMs = 180_000) => cmd('podman', [...global, ...args], { timeoutMs });

  before(function () {
    requireSystemdV2(this);
    requireCommands(this, ['podman', 'conmon']);
    dir = makeTempDir('podman', { runScoped: true });
    global = ['--root', path.join(dir, 'storage'), '--runroot', path.join(dir, 'run'), '--tmpdir', path.join(dir, 'tmp'), '--cgroup-manager', 'systemd', '--events-backend', 'file'];
    ok(podman(['load', '-q', '-i', busyboxImage().ociArchive]));
  });

  after(function () {
    if (!dir) return;
    podman(['rm', '--all', '--force']);
    killProcessesNaming(dir);
    unmountUnder(dir);
  });

  for (const rt of runtimes()) {
    it(`${rt.label}: run -d with --memory/--cpus/--pids-limit: a libpod scope in machine.slice with them, in the files and inside; rm stops it`, function () {
      const name = uniqueName('pod');
      const id = ok(podman(['--runtime', rt.bin, 'run', '-d', '--network', 'none', '--name', name, '--memory', '64m', '--cpus', '0.5', '--pids-limit', '40', busyboxImage().name, 'sleep', '600'])).trim();
      try {
        const unit = `libpod-${id}.scope`;
        const p = unitProperties(unit, 'ActiveState', 'Slice', 'MemoryMax', 'CPUQuotaPerSecUSec', 'TasksMax', 'ControlGroup');
        expect(p).to.deep.equal({ ActiveState: 'active', Slice: 'machine.slice', MemoryMax: String(MEMORY), CPUQuotaPerSecUSec: '500ms', TasksMax: '40', ControlGroup: `/machine.slice/${unit}` });
        const dirOf = path.join(CGROUP2, 'machine.slice', unit);
        expect([readCgroup(dirOf, 'memory.max'), readCgroup(dirOf, 'cpu.max'), readCgroup(dirOf, 'pids.max')]).to.deep.equal([String(MEMORY), '50000 100000', '40']);
        expect(ok(podman(['exec', name, ...LIMITS_INSIDE])).trim().split('\n')).to.deep.equal([String(MEMORY), '50000 100000', '40']);
        ok(podman(['rm', '--force', name]));
        expect(unitLoaded(unit)).to.equal(false);
      } finally {
        podman(['rm', '--force', name]);
      }
    });
  }
});

describe('hosts: rootless podman, with limits', function () {
  this.timeout(300_000);
  let t: Tester;
  let archive: string;
  const podman = (args: string[]) => asTester(t, ['podman', '--events-backend', 'file', ...args], { timeoutMs: 180_000 });

  before(function () {
    t = requireLingeringUser(this);
    requireCommands(this, ['podman', 'newuidmap', 'slirp4netns']);
    // The user's own copy of the image archive (the run's temp dirs are root's).
    archive = path.join(makeTempDir('rlimage', { runScoped: true }), 'busybox.tar');
    fs.copyFileSync(busyboxImage().ociArchive, archive);
    fs.chmodSync(archive, 0o644);
    const r = podman(['load', '-q', '-i', archive]);
    expect(r.status, describeRun(r)).to.equal(0);
  });

  for (const rt of runtimes()) {
    it(`${rt.label}: run with --memory/--pids-limit: the limits in the container's cgroup (the user's systemd, through podman's user namespace)`, function () {
      const r = podman(['--runtime', rt.bin, 'run', '--rm', '--network', 'none', '--memory', '32m', '--pids-limit', '40', busyboxImage().name, 'sh', '-c', 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; cat /proc/self/uid_map']);
      expect(r.status, describeRun(r)).to.equal(0);
      const [memory, pids, ...map] = r.stdout.trim().split('\n');
      expect([memory, pids]).to.deep.equal(['33554432', '40']);
      expect(map[0]?.trim().split(/\s+/), 'root in the container is the user').to.deep.equal(['0', String(t.uid), '1']);
    });
  }
});

describe('hosts: containerd\'s runc shim with the systemd cgroup (ctr)', function () {
  this.timeout(300_000);
  const ns = `tsrunc${RUN_ID}`;
  const ctr = (args: string[]) => cmd('ctr', ['-n', ns, ...args], { timeoutMs: 180_000 });

  before(function () {
    requireSystemdV2(this);
    requireCommands(this, ['ctr', 'containerd-shim-runc-v2']);
    if (ctr(['version']).status !== 0) skipWith(this, 'the system containerd is not running');
    ok(ctr(['images', 'import', busyboxImage().ociArchive]));
  });

  after(function () {
    for (const id of ctr(['containers', 'ls', '-q']).stdout.split('\n').filter(Boolean)) {
      ctr(['tasks', 'kill', '-s', 'SIGKILL', id]);
      ctr(['tasks', 'delete', '--force', id]);
      ctr(['containers', 'delete', id]);
    }
    ctr(['images', 'rm', busyboxImage().name]);
    cmd('ctr', ['namespaces', 'remove', ns]);
  });

  for (const rt of runtimes()) {
    it(`${rt.label}: run -d --runc-systemd-cgroup with a memory limit and --cpus: a scope in the given slice with them; delete stops it`, async function () {
      const id = uniqueName('ctr').replace(/-/g, '');
      const unit = `tsrunc-${id}.scope`;
      ok(ctr(['run', '-d', '--runc-binary', rt.bin, '--runc-systemd-cgroup', '--cgroup', `system.slice:tsrunc:${id}`, '--memory-limit', String(MEMORY), '--cpus', '0.5', busyboxImage().name, id, 'sleep', '600']));
      try {
        const p = unitProperties(unit, 'ActiveState', 'MemoryMax', 'CPUQuotaPerSecUSec', 'ControlGroup');
        expect(p).to.deep.equal({ ActiveState: 'active', MemoryMax: String(MEMORY), CPUQuotaPerSecUSec: '500ms', ControlGroup: `/system.slice/${unit}` });
        const dir = path.join(CGROUP2, 'system.slice', unit);
        expect([readCgroup(dir, 'memory.max'), readCgroup(dir, 'cpu.max')]).to.deep.equal([String(MEMORY), '50000 100000']);
        const pid = ok(ctr(['tasks', 'ls'])).split('\n').find((l) => l.startsWith(`${id} `))?.trim().split(/\s+/)[1];
        expect(readCgroup(dir, 'cgroup.procs').split('\n')).to.include(pid);
      } finally {
        ctr(['tasks', 'kill', '-s', 'SIGKILL', id]);
        await waitReady(() => !/RUNNING/.test(ctr(['tasks', 'ls']).stdout.split('\n').find((l) => l.startsWith(`${id} `)) ?? ''), 'the task to stop', '/dev/null', 60_000);
        ok(ctr(['tasks', 'delete', id]));
        ok(ctr(['containers', 'delete', id]));
      }
      expect(unitLoaded(unit)).to.equal(false);
    });
  }
});

describe('hosts: the CRI flow (crictl, a RuntimeClass handler, SystemdCgroup = true)', function () {
  this.timeout(600_000);
  let dir: string;
  let sock: string;
  let daemon: Daemon | undefined;
  const crictl = (args: string[]) => cmd('crictl', ['--runtime-endpoint', `unix://${sock}`, '--image-endpoint', `unix://${sock}`, '--timeout', '300s', ...args], { timeoutMs: 330_000 });
  const ctr = (args: string[]) => cmd('ctr', ['--address', sock, '-n', 'k8s.io', ...args], { timeoutMs: 180_000 });
  const PAUSE = 'localhost/tsrunc-pause:1';

  before(async function () {
    requireSystemdV2(this);
    requireCommands(this, ['containerd', 'ctr', 'containerd-shim-runc-v2']);
    if (!hasCommand('crictl')) skipWith(this, 'needs crictl (/work/shared/cri-tools/build-crictl.sh builds it; scripts/guest/run-tests.sh brings it in)');
    dir = makeTempDir('cri', { runScoped: true });
    sock = path.join(dir, 'containerd.sock');
    // Runtime handlers, one per runtime: a RuntimeClass's `handler` names one of these.
    const handlers = runtimes().flatMap((rt, i) => {
      const key = `plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${handlerName(i)}`;
      return [`[${key}]`, '  runtime_type = "io.containerd.runc.v2"', `[${key}.options]`, `  BinaryName = "${rt.bin}"`, '  SystemdCgroup = true', `  Root = "${path.join(dir, `shim-root-${i}`)}"`];
    });
    fs.mkdirSync(path.join(dir, 'cni'));
    const config = writeContainerdConfig(dir, sock, [
      '[plugins."io.containerd.grpc.v1.cri"]',
      `  sandbox_image = "${PAUSE}"`,
      '[plugins."io.containerd.grpc.v1.cri".cni]',
      `  conf_dir = "${path.join(dir, 'cni')}"`,
      '[plugins."io.containerd.grpc.v1.cri".containerd]',
      `  default_runtime_name = "${handlerName(0)}"`,
      ...handlers,
    ]);
    daemon = startDaemon('containerd', ['--config', config], path.join(dir, 'containerd.log'));
    await waitReady(() => fs.existsSync(sock) && ctr(['version']).status === 0, 'containerd', daemon.log, 120_000);
    const pause = buildBusyboxImage(makeTempDir('pause', { runScoped: true }), PAUSE, ['sleep', '2147483647']);
    ok(ctr(['images', 'import', pause.ociArchive]));
    ok(ctr(['images', 'import', busyboxImage().ociArchive]));
  });

  after(async function () {
    if (!daemon) return;
    for (const pod of crictl(['pods', '-q']).stdout.split('\n').filter(Boolean)) {
      crictl(['stopp', pod]);
      crictl(['rmp', '--force', pod]);
    }
    await daemon.stop();
    killProcessesNaming(dir);
    unmountUnder(dir);
    spawnSync('systemctl', ['stop', 'tsrunchosts.slice'], { stdio: 'ignore' });
  });

  /** The handler a RuntimeClass names: the runtime's name, and runc for the control. */
  const handlerName = (i: number) => (i === 0 ? path.basename(runtimeBin()) : 'runc');

  runtimes().forEach((rt, i) => {
    it(`${rt.label} as a RuntimeClass handler: a pod in its slice, a container with limits in a cri-containerd scope, exec, stop and remove`, function () {
      const podSlice = `tsrunchosts-pod${uniqueName('p').replace(/-/g, '')}.slice`;
      const podJson = path.join(dir, `${podSlice}.pod.json`);
      fs.writeFileSync(
        podJson,
        JSON.stringify({
          metadata: { name: `pod-${i}`, namespace: 'default', uid: podSlice, attempt: 0 },
          log_directory: path.join(dir, 'logs', podSlice),
          // What a kubelet with cgroupDriver: systemd passes: the pod's slice.
          linux: { cgroup_parent: podSlice, security_context: { namespace_options: { network: 2 } } },
        }),
      );
      const ctrJson = path.join(dir, `${podSlice}.ctr.json`);
      fs.writeFileSync(
        ctrJson,
        JSON.stringify({
          metadata: { name: 'c' },
          image: { image: busyboxImage().name },
          command: ['sleep', '600'],
          log_path: 'c.log',
          linux: { resources: { memory_limit_in_bytes: MEMORY, cpu_period: 100000, cpu_quota: 50000 } },
        }),
      );
      const pod = ok(crictl(['runp', '--runtime', handlerName(i), podJson])).trim();
      try {
        const container = ok(crictl(['create', pod, ctrJson, podJson])).trim();
        ok(crictl(['start', container]));
        const scope = `cri-containerd-${container}.scope`;
        const cgroup = `/tsrunchosts.slice/${podSlice}/${scope}`;
        expect(unitProperties(scope, 'ActiveState', 'Slice', 'MemoryMax', 'CPUQuotaPerSecUSec', 'ControlGroup')).to.deep.equal({
          ActiveState: 'active',
          Slice: podSlice,
          MemoryMax: String(MEMORY),
          CPUQuotaPerSecUSec: '500ms',
          ControlGroup: cgroup,
        });
        const cgdir = path.join(CGROUP2, cgroup);
        expect([readCgroup(cgdir, 'memory.max'), readCgroup(cgdir, 'cpu.max')]).to.deep.equal([String(MEMORY), '50000 100000']);
        expect(ok(crictl(['exec', container, 'cat', '/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/cpu.max'])).trim().split('\n')).to.deep.equal([String(MEMORY), '50000 100000']);
        ok(crictl(['stop', container]));
        ok(crictl(['rm', container]));
        expect(unitLoaded(scope)).to.equal(false);
      } finally {
        crictl(['stopp', pod]);
        crictl(['rmp', '--force', pod]);
        spawnSync('systemctl', ['stop', podSlice], { stdio: 'ignore' });
      }
    });
  });
});
