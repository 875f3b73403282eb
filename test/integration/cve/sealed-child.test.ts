// The CVE-2019-5736 class beyond the final program: the process that sets up a container or
// joins one for `exec` must never be a copy of the runtime. With CAP_SYS_PTRACE in the
// container, a process there can open /proc/<pid>/exe, environ, maps and fd/* of that
// setup process (non-dumpable does not stop CAP_SYS_PTRACE in the initial user namespace).
// ts-runc's wall: the setup process is tsrunc-child, a small static program executed from a
// sealed, read-only memfd, with an empty environment and only the descriptors it was given;
// it execs tsrunc-init from another sealed memfd.
//
// The probe (test/native/proc-probe.c) records what it sees and tries every way of writing
// the executable and any memfd the process holds. It never writes to a host file: those it
// only opens for writing (on today's kernels the open of a running binary fails anyway).
// Weakened build: TSRUNC_WEAKEN=exe (weak-build.ts): the programs run from their host files
// with the runtime's environment, and these tests fail.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeBundle } from '../../helpers/bundle.js';
import { REPO_ROOT, makeTempDir } from '../../helpers/context.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { procProbe } from '../../helpers/native-build.js';
import { requireRoot } from '../../helpers/privileges.js';
import { rt, rtOk, runtimeBin, state, uniqueId, waitFor } from '../../helpers/runtime.js';
import { Attacker } from './support.js';
import { useWeakenedBuild } from './weak-build.js';

interface Observation {
  pid: number;
  exe: string | null;
  seals?: number;
  exeWrites?: Record<string, string>;
  cmdline: string | null;
  environ: string | null;
  maps: string | null;
  fds: { fd: number; link: string; flags?: number; seals?: number; writes?: Record<string, string> }[];
}

const F_SEAL_SEAL = 0x1;
const F_SEAL_SHRINK = 0x2;
const F_SEAL_GROW = 0x4;
const F_SEAL_WRITE = 0x8;
const F_SEAL_EXEC = 0x20;
/** Kernels since 6.3 can also seal the mode's exec bits. */
const [major, minor] = os.release().split('.').map(Number) as [number, number];
const ALL_WRITE_SEALS = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | (major > 6 || (major === 6 && minor >= 3) ? F_SEAL_EXEC : 0);
const O_ACCMODE = 3;
/** Ways of changing a file's content; none may succeed on a sealed memfd. */
const WRITES = ['write', 'pwrite', 'ftruncate', 'fallocate', 'mmapShared'];

/** The runtime's own files (its executable and the Bun executable it starts, the addon and its programs, node), which no container may see the paths of or change. */
function hostFiles(): string[] {
  const native = process.env.TSRUNC_NATIVE_DIR ?? path.join(REPO_ROOT, 'build/Release');
  const files = [runtimeBin(), `${runtimeBin()}-bun`, process.execPath, ...['tsrunc.node', 'tsrunc-child', 'tsrunc-init'].map((f) => path.join(native, f))];
  return files.filter((f) => existsSync(f));
}
const digest = (files: string[]) => files.map((f) => createHash('sha256').update(readFileSync(f)).digest('hex'));

/** Everything an observation shows that must not be the runtime's. */
function expectNothingOfTheRuntime(o: Observation, secret: string): void {
  const seen = [o.exe, o.cmdline, o.environ, o.maps, ...o.fds.map((f) => f.link)].join('\n');
  const what = `pid ${o.pid} (${o.exe})`;
  expect(seen, `${what}: the runtime's environment`).to.not.include(secret);
  expect(seen, `${what}: the runtime's variables`).to.not.include('TSRUNC_TEST_SECRET');
  expect(seen, `${what}: the runtime's executable`).to.not.include(runtimeBin());
  expect(seen, `${what}: the node binary`).to.not.include(process.execPath);
  expect(seen, `${what}: the addon`).to.not.include('tsrunc.node');
  expect(seen, `${what}: the runtime's tree`).to.not.include(REPO_ROOT);
  expect(seen, `${what}: the runtime's pidfds`).to.not.include('[pidfd]');
  expect(seen, `${what}: a cgroup file`).to.not.match(/cgroup\.procs/);
}

/** Nothing wrote the executable or a memfd the process holds. */
function expectNoWrite(o: Observation): void {
  for (const [way, result] of Object.entries(o.exeWrites ?? {})) {
    if (WRITES.includes(way) || (way === 'openForWrite' && !o.exe?.startsWith('/memfd:'))) {
      expect(result, `pid ${o.pid}: ${way} of its executable ${o.exe}`).to.not.equal('ok');
    }
  }
  for (const f of o.fds) {
    for (const [way, result] of Object.entries(f.writes ?? {})) {
      if (WRITES.includes(way)) expect(result, `pid ${o.pid}: ${way} of fd ${f.fd} (${f.link})`).to.not.equal('ok');
    }
  }
}

/**
 * A memfd of ours: sealed against every change, held read-only. Racing a process that moves
 * on, the probe may see a link and then fail to open it: such a file is not judged.
 */
function expectSealedMemfd(o: Observation, name: string, racing = false): void {
  expect(o.exe, `pid ${o.pid}: the executable`).to.match(new RegExp(`^/memfd:${name} \\(deleted\\)$`));
  if (!racing || o.seals !== undefined) {
    expect((o.seals ?? 0) & ALL_WRITE_SEALS, `pid ${o.pid}: seals of ${name}`).to.equal(ALL_WRITE_SEALS);
  }
  for (const f of o.fds.filter((d) => d.link.startsWith('/memfd:'))) {
    if (racing && f.seals === undefined) continue;
    expect((f.seals ?? 0) & ALL_WRITE_SEALS, `fd ${f.fd} (${f.link}): seals`).to.equal(ALL_WRITE_SEALS);
    expect((f.flags ?? -1) & O_ACCMODE, `fd ${f.fd} (${f.link}): held read-only`).to.equal(0);
  }
}

describe('the setup process is a sealed static program, not a copy of the runtime (CVE-2019-5736 class)', function () {
  useLeakCheck();
  useWeakenedBuild();
  let attacker: Attacker | undefined;
  let probe = '';
  const secret = `tsrunc-secret-${randomBytes(8).toString('hex')}`;
  // Read when used: the weakened build's TSRUNC_NATIVE_DIR is set in a before hook.
  const env = () => ({ ...process.env, TSRUNC_TEST_SECRET: secret });

  before(function () {
    this.timeout(300_000);
    try {
      probe = procProbe();
    } catch {
      this.skip(); // no static C toolchain: `gcc -static` is needed for the probe
    }
  });
  beforeEach(function () {
    requireRoot(this);
  });
  afterEach(function () {
    attacker?.stop();
    attacker = undefined;
  });

  it('exec: a container with CAP_SYS_PTRACE racing every exec sees nothing of the runtime and writes nothing', async function () {
    this.timeout(240_000);
    const before = digest(hostFiles());
    attacker = new Attacker((c) => {
      const caps = c.process!.capabilities as Record<string, string[]>;
      for (const set of ['bounding', 'effective', 'permitted']) caps[set] = [...caps[set]!, 'CAP_SYS_PTRACE', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER'];
    });
    copyFileSync(probe, path.join(attacker.bundle.rootfs, 'probe'));
    chmodSync(path.join(attacker.bundle.rootfs, 'probe'), 0o755);
    attacker.start();
    const log = path.join(attacker.shared, 'probe.log');
    await attacker.run('/probe watch /shared/probe.log /shared/stop > /dev/null 2>&1 &');
    await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').includes('"ready"'), 10_000, { what: 'the probe to watch' });
    const observations = (): Observation[] =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{"pid"'))
        .map((l) => JSON.parse(l) as Observation);
    // The setup process: anything running but the container's own programs and the stub.
    const setup = () => observations().filter((o) => o.exe && !o.exe.startsWith('/bin/') && !o.exe.startsWith('/memfd:tsrunc-init'));
    // The probe opens each memfd it finds for writing (the seals must stop the write, not
    // the open): an exec that reaches execve while the probe holds tsrunc-init so fails
    // with ETXTBSY. That is the container denying its own exec, nothing of the host: allowed.
    for (let i = 0; i < 80 && setup().length < 3; i++) {
      const r = rt(['exec', attacker.id, 'true'], { env: env() });
      if (r.status !== 0) expect(r.stderr, 'an exec failed for another reason than the probe').to.match(/exec tsrunc-init: text file busy/);
    }
    writeFileSync(path.join(attacker.shared, 'stop'), '');
    const caught = setup();
    expect(caught.length, 'the probe never caught the setup process of an exec (machine too slow?)').to.be.greaterThan(0);
    for (const o of observations()) {
      expectNothingOfTheRuntime(o, secret);
      expectNoWrite(o);
    }
    for (const o of caught) {
      expectSealedMemfd(o, 'tsrunc-child', true);
      expect(o.environ, 'the setup process has an empty environment').to.equal('');
    }
    expect(digest(hostFiles()), 'a host file changed').to.deep.equal(before);
  });

  it('create: the setup process, paused for the hooks, holds only sealed read-only memfds and nothing of the runtime', function () {
    this.timeout(60_000);
    const out = path.join(makeTempDir('probe'), 'observation.json');
    const b = makeBundle({
      args: ['true'],
      mutate: (c) => {
        // A createRuntime hook runs on the host while the container process waits before
        // pivot_root: the probe looks at it there, as root with every capability.
        c.hooks = {
          createRuntime: [
            {
              path: '/bin/sh',
              args: ['sh', '-c', `pid=$(grep -o '"pid": *[0-9]*' | grep -o '[0-9]*$'); ${probe} pid "$pid" > ${out}`],
              env: ['PATH=/usr/bin:/bin'],
            },
          ],
        };
      },
    });
    const id = uniqueId('sealed');
    const before = digest(hostFiles());
    rtOk(['create', '--bundle', b.dir, id], { env: env() });
    try {
      const o = JSON.parse(readFileSync(out, 'utf8')) as Observation;
      expectSealedMemfd(o, 'tsrunc-child');
      expect(o.environ, 'the setup process has an empty environment').to.equal('');
      expect(o.cmdline).to.match(/^tsrunc-child\n/);
      expectNothingOfTheRuntime(o, secret);
      expectNoWrite(o);
      // Its descriptors: stdio, the exec fifo, the sync socket, the stub, and (it is mounting
      // in it) the container's rootfs; nothing else.
      const links = o.fds
        .filter((f) => f.fd > 2)
        .map((f) => f.link.replace(/\[\d+\]/, '').replace(/.*\/exec\.fifo$/, 'exec.fifo').replace(b.rootfs, 'rootfs'));
      expect(links.sort()).to.deep.equal(['/memfd:tsrunc-init (deleted)', 'exec.fifo', 'rootfs', 'socket:'].sort());
    } finally {
      rt(['delete', '--force', id]);
    }
    expect(digest(hostFiles()), 'a host file changed').to.deep.equal(before);
  });

  it('created, waiting for start: tsrunc-init runs from a sealed memfd that no way of writing changes', function () {
    const b = makeBundle({ args: ['true'] });
    const id = uniqueId('sealed');
    rtOk(['create', '--bundle', b.dir, id], { env: env() });
    try {
      const o = JSON.parse(rtProbe(probe, state(id).pid!)) as Observation;
      expectSealedMemfd(o, 'tsrunc-init');
      expectNoWrite(o);
      expectNothingOfTheRuntime(o, secret);
    } finally {
      rt(['delete', '--force', id]);
    }
  });
});

function rtProbe(probe: string, pid: number): string {
  return execFileSync(probe, ['pid', String(pid)], { encoding: 'utf8' });
}
