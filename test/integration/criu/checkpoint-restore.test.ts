// checkpoint and restore with a real CRIU: a container saved to disk is gone, and comes
// back (under its id or another, from its bundle or a copy) carrying on where it stopped.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir, safeRemove } from '../../helpers/context.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { rt, rtOk, runtimeBin, startBackground, state, testRoot, uniqueId, waitFor } from '../../helpers/runtime.js';
import { POLLIN, native } from '../../../src/native/addon.js';
import { nsLink, processAlive, sleep, underRunc } from '../lifecycle/support.js';
import { StdioPipes, cgroupExists, newImageDir, runningCounter, failureMessage, startTerminalPeer, copyBundle, countPast, counts, criuBundle, expectContiguous, requireCriu, statusOf } from './support.js';

describe('checkpoint and restore (CRIU)', function () {
  this.timeout(120_000);
  useLeakCheck();
  beforeEach(function () {
    requireCriu(this);
  });
  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    const r = rt(['list', '-q']);
    for (const id of r.status === 0 ? r.stdout.split('\n').filter(Boolean) : []) rt(['delete', '--force', id]);
  });

  it('a counting container is checkpointed, is gone, and restored counts on from where it stopped', async function () {
    const b = criuBundle();
    const id = uniqueId('cr');
    rtOk(['run', '-d', '--bundle', b.dir, id]);
    const pid = state(id).pid as number;
    await countPast(b, 5);
    const images = newImageDir();
    rtOk(['checkpoint', '--image-path', images, id]);

    // Gone: no state, no process, no cgroup, and the count stands still.
    expect(statusOf(id)).to.equal(null);
    expect(processAlive(pid)).to.equal(false);
    expect(cgroupExists(b.config.linux!.cgroupsPath as string)).to.equal(false);
    const atCheckpoint = counts(b);
    expectContiguous(atCheckpoint, 'before the checkpoint');
    await sleep(300);
    expect(counts(b)).to.deep.equal(atCheckpoint);
    expect(existsSync(path.join(images, 'inventory.img'))).to.equal(true);
    expect(JSON.parse(readFileSync(path.join(images, 'descriptors.json'), 'utf8'))).to.have.length(3);

    rtOk(['restore', '-d', '--image-path', images, '--bundle', b.dir, id]);
    const restored = state(id);
    expect(restored.status).to.equal('running');
    expect(restored.bundle).to.equal(b.dir);
    await countPast(b, atCheckpoint.length + 5);
    expectContiguous(counts(b), 'after the restore');
    // It lives in its cgroup again, and exec joins its namespaces.
    expect(cgroupExists(b.config.linux!.cgroupsPath as string)).to.equal(true);
    expect(readFileSync(`/proc/${restored.pid}/cgroup`, 'utf8')).to.include(b.config.linux!.cgroupsPath as string);
    expect(rtOk(['exec', id, 'sh', '-c', 'tail -n 1 /tmp/count.log'])).to.match(/^\d+\n$/);
    // CRIU restores into a time namespace of its own: exec joins that one too (runc's
    // exec does not: a deliberate difference).
    for (const ns of underRunc() ? ['pid', 'mnt'] : ['pid', 'mnt', 'time']) {
      expect(rtOk(['exec', id, 'readlink', `/proc/self/ns/${ns}`]).trim(), ns).to.equal(nsLink(restored.pid as number, ns));
    }
    rtOk(['delete', '--force', id]);
    expect(cgroupExists(b.config.linux!.cgroupsPath as string)).to.equal(false);
  });

  it('--leave-running: the container keeps running, and the image restores under another id', async function () {
    const { b, id } = await runningCounter({}, 0);
    const before = await countPast(b, 3);
    const images = newImageDir();
    rtOk(['checkpoint', '--leave-running', '--image-path', images, id]);
    const after = counts(b).at(-1) as number;
    expect(statusOf(id)).to.equal('running');
    await countPast(b, after + 3);

    // The copy's log starts empty: what the restored counter writes there is its own.
    const copy = copyBundle(b);
    rmSync(path.join(copy.rootfs, 'tmp/count.log'));
    const other = uniqueId('cr');
    rtOk(['restore', '-d', '--image-path', images, '--bundle', copy.dir, other]);
    expect(state(other).status).to.equal('running');
    expect(readFileSync(`/proc/${state(other).pid}/cgroup`, 'utf8')).to.include(copy.config.linux!.cgroupsPath as string);
    await countPast(copy.rootfs, 3);
    const resumed = counts(copy.rootfs);
    // It counts on from the number it had when it was saved, one by one.
    expect(resumed[0]).to.be.within(before + 1, after + 1);
    resumed.forEach((v, i) => expect(v).to.equal((resumed[0] as number) + i));
    expect(statusOf(id)).to.equal('running');
    expectContiguous(counts(b), 'the original');
    rtOk(['delete', '--force', other]);
    rtOk(['delete', '--force', id]);
  });

  it('restore on a new bundle whose rootfs is a copy, under a new id, the original bundle gone; bind mounts from the new config', async function () {
    // Bind mounts of a host file and directory: external to CRIU, taken from the config at restore.
    const hostSide = (tag: string) => {
      const dir = makeTempDir('bindsrc');
      writeFileSync(path.join(dir, 'file.txt'), `${tag} file\n`);
      mkdirSync(path.join(dir, 'dir'));
      writeFileSync(path.join(dir, 'dir/inside.txt'), `${tag} dir\n`);
      return dir;
    };
    const bindMounts = (dir: string) => [
      { destination: '/etc/extra.txt', type: 'bind', source: path.join(dir, 'file.txt'), options: ['bind', 'ro'] },
      { destination: '/srv/data', type: 'bind', source: path.join(dir, 'dir'), options: ['rbind'] },
    ];
    const before = hostSide('before');
    const b = criuBundle({ mutate: (c) => c.mounts!.push(...bindMounts(before)) });
    const id = uniqueId('cr');
    rtOk(['run', '-d', '--bundle', b.dir, id]);
    expect(rtOk(['exec', id, 'cat', '/etc/extra.txt', '/srv/data/inside.txt'])).to.equal('before file\nbefore dir\n');
    await countPast(b, 3);
    const images = newImageDir();
    rtOk(['checkpoint', '--image-path', images, id]);
    const atCheckpoint = counts(b);
    const after = hostSide('after');
    const copy = copyBundle(b, (c) => {
      c.mounts = [...c.mounts!.slice(0, -2), ...bindMounts(after)];
    });
    safeRemove(b.dir);
    // As in a fresh root filesystem, the mount points create made are not there.
    rmSync(path.join(copy.rootfs, 'etc/extra.txt'));
    rmSync(path.join(copy.rootfs, 'srv'), { recursive: true });
    const other = uniqueId('cr');
    rtOk(['restore', '-d', '--image-path', images, '--bundle', copy.dir, other]);
    expect(state(other)).to.include({ status: 'running', bundle: copy.dir, rootfs: copy.rootfs });
    expect(rtOk(['exec', other, 'cat', '/etc/extra.txt', '/srv/data/inside.txt'])).to.equal('after file\nafter dir\n');
    await countPast(copy.rootfs, atCheckpoint.length + 3);
    expectContiguous(counts(copy.rootfs), 'the copy');
    rtOk(['delete', '--force', other]);
  });

  it('stdio pipes are handed over (descriptors.json); without --detach restore waits and exits with the container', async function () {
    const b = criuBundle({ args: ['sh', '-c', 'while read l; do [ "$l" = quit ] && exit 7; echo "pong:$l"; done'] });
    const id = uniqueId('cr');
    const first = new StdioPipes();
    const second = new StdioPipes();
    try {
      const run = first.run(['run', '-d', '--bundle', b.dir, id]);
      expect(run.status, run.stderr).to.equal(0);
      first.closeTheirs();
      first.write('one\n');
      await first.expectOut('pong:one');
      const images = newImageDir();
      rtOk(['checkpoint', '--image-path', images, id]);
      const recorded = JSON.parse(readFileSync(path.join(images, 'descriptors.json'), 'utf8')) as string[];
      expect(recorded).to.have.length(3);
      for (const d of recorded) expect(d).to.match(/^pipe:\[\d+\]$/);

      // In the foreground: restore's own stdin and stdout become the container's.
      const exited = second.start(['restore', '--image-path', images, '--bundle', b.dir, id]);
      second.closeTheirs();
      await waitFor(() => statusOf(id) === 'running', 10_000, { what: 'the restored container' });
      second.write('two\n');
      await second.expectOut('pong:two');
      expect(second.drain(0).out).to.not.include('pong:one');
      second.write('quit\n');
      expect(await exited, second.drain(0).err).to.equal(7);
      expect(statusOf(id)).to.equal(null);
    } finally {
      first.close();
      second.close();
    }
  });

  it('--pid-file, and the prestart and createRuntime hooks run on restore, poststop on delete', async function () {
    const log = path.join(makeTempDir('hooks'), 'hooks.log');
    const hook = (name: string) => ({ path: '/bin/sh', args: ['sh', '-c', `read -r s; echo "${name} $s" >> ${log}`] });
    const b = criuBundle({
      mutate: (c) => {
        c.hooks = { prestart: [hook('prestart')], createRuntime: [hook('createRuntime')], poststop: [hook('poststop')] };
      },
    });
    const id = uniqueId('cr');
    rtOk(['run', '-d', '--bundle', b.dir, id]);
    await countPast(b, 2);
    const images = newImageDir();
    rtOk(['checkpoint', '--image-path', images, id]);
    // Checkpointing removed the container: its poststop hook ran.
    const hooksLog = () => readFileSync(log, 'utf8').split('\n').filter(Boolean);
    expect(hooksLog().map((l) => l.split(' ')[0])).to.deep.equal(['prestart', 'createRuntime', 'poststop']);
    const pidFile = path.join(makeTempDir('pid'), 'ctr.pid');
    rtOk(['restore', '-d', '--pid-file', pidFile, '--image-path', images, '--bundle', b.dir, id]);
    const pid = state(id).pid as number;
    expect(readFileSync(pidFile, 'utf8')).to.equal(String(pid));
    const ran = hooksLog().slice(3);
    expect(ran.map((l) => l.split(' ')[0])).to.deep.equal(['prestart', 'createRuntime']);
    for (const line of ran) {
      const s = JSON.parse(line.slice(line.indexOf(' ') + 1)) as { id: string; pid: number; status: string; bundle: string };
      expect(s).to.include({ id, pid, bundle: b.dir });
    }
    rtOk(['delete', '--force', id]);
    expect(hooksLog().at(-1)).to.match(/^poststop /);
  });

  it('a paused container is checkpointed (CRIU freezes through its freezer) and comes back running', async function () {
    const { b, id } = await runningCounter();
    rtOk(['pause', id]);
    expect(statusOf(id)).to.equal('paused');
    const images = newImageDir();
    rtOk(['checkpoint', '--image-path', images, id]);
    expect(statusOf(id)).to.equal(null);
    const atCheckpoint = counts(b);
    rtOk(['restore', '-d', '--image-path', images, '--bundle', b.dir, id]);
    expect(statusOf(id)).to.equal('running');
    await countPast(b, atCheckpoint.length + 3);
    expectContiguous(counts(b), 'after the restore');
    rtOk(['delete', '--force', id]);
  });

  it('--work-path holds the logs; the image directory only the image', async function () {
    const { b, id } = await runningCounter({}, 2);
    const top = makeTempDir('images');
    const images = path.join(top, 'img');
    const work = path.join(top, 'work');
    rtOk(['checkpoint', '--image-path', images, '--work-path', work, id]);
    expect(existsSync(path.join(work, 'dump.log'))).to.equal(true);
    expect(existsSync(path.join(images, 'dump.log'))).to.equal(false);
    rtOk(['restore', '-d', '--image-path', images, '--work-path', work, '--bundle', b.dir, id]);
    expect(existsSync(path.join(work, 'restore.log'))).to.equal(true);
    expect(statusOf(id)).to.equal('running');
    rtOk(['delete', '--force', id]);
  });

  it('a terminal container: restore sends the new pty master to --console-socket', async function () {
    const b = criuBundle({ terminal: true, args: ['sh', '-c', 'while read l; do echo "got:$l"; done'] });
    const id = uniqueId('cr');
    const before = await startTerminalPeer();
    const after = await startTerminalPeer();
    try {
      rtOk(['run', '-d', '--console-socket', before.socketPath, '--bundle', b.dir, id]);
      expect(await before.received).to.deep.equal({ payload: '/dev/ptmx', fds: 1 });
      expect(await before.talk('hello\n', 1000)).to.include('got:hello');
      const images = newImageDir();
      rtOk(['checkpoint', '--image-path', images, id]);
      expect(statusOf(id)).to.equal(null);
      await before.close();

      rtOk(['restore', '-d', '--console-socket', after.socketPath, '--image-path', images, '--bundle', b.dir, id]);
      expect(await after.received).to.deep.equal({ payload: '/dev/ptmx', fds: 1 });
      expect(await after.talk('again\n', 1000)).to.include('got:again');
      expect(statusOf(id)).to.equal('running');
      rtOk(['delete', '--force', id]);
    } finally {
      await before.close();
      await after.close();
    }
  });

  it('a terminal container restored in the foreground without a console socket: ts-runc relays the new pty', async function () {
    const b = criuBundle({ terminal: true, args: ['sh', '-c', 'while read l; do [ "$l" = quit ] && exit 5; echo "got:$l"; done'] });
    const id = uniqueId('cr');
    const images = newImageDir();
    const peer = await startTerminalPeer();
    try {
      rtOk(['run', '-d', '--console-socket', peer.socketPath, '--bundle', b.dir, id]);
      await peer.received;
      expect(await peer.talk('hello\n', 1000)).to.include('got:hello');
      rtOk(['checkpoint', '--image-path', images, id]);
    } finally {
      await peer.close();
    }
    const restore = startBackground(['restore', '--image-path', images, '--bundle', b.dir, id]);
    await waitFor(() => statusOf(id) === 'running', 10_000, { what: 'the restored container' });
    restore.child.stdin.write('again\n');
    await waitFor(() => restore.stdout().includes('got:again'), 5_000, { what: `the answer through the relay (so far: ${restore.stdout()})` });
    restore.child.stdin.write('quit\n');
    expect((await restore.wait(10_000)).status, restore.stderr()).to.equal(5);
    expect(statusOf(id)).to.equal(null);
  });

  it('a TCP connection survives with --tcp-established (network namespace joined by path); without it checkpoint fails and the container runs on', async function () {
    // The network namespace outlives the container (as an engine's does): held by a sleeper.
    const holder = spawn('unshare', ['--net', 'sh', '-c', 'ip link set lo up && exec sleep 600'], { stdio: 'ignore' });
    let client: ReturnType<typeof spawn> | undefined;
    try {
      const netns = `/proc/${holder.pid}/ns/net`;
      await waitFor(() => readFileSync(`/proc/${holder.pid}/cmdline`, 'utf8').startsWith('sleep'), 5_000, { what: 'the namespace holder' });
      const b = criuBundle({
        args: ['sh', '/server.sh'],
        mutate: (c) => {
          c.linux!.namespaces = (c.linux!.namespaces as { type: string; path?: string }[]).map((n) => (n.type === 'network' ? { type: 'network', path: netns } : n));
        },
      });
      writeFileSync(
        path.join(b.rootfs, 'server.sh'),
        'exec </dev/null >/dev/null 2>&1\nexec nc -l -p 4000 -e sh -c \'while read l; do echo "$l" >> /tmp/got; echo "ack:$l"; done\'\n',
      );
      const id = uniqueId('cr');
      rtOk(['run', '-d', '--bundle', b.dir, id]);
      // 0FA0 is port 4000, state 0A is LISTEN.
      const listening = () => ['tcp', 'tcp6'].some((f) => / [0-9A-F]+:0FA0 [0-9A-F]+:0000 0A /.test(readFileSync(`/proc/${holder.pid}/net/${f}`, 'utf8')));
      await waitFor(listening, 5_000, { what: 'the server to listen' });

      client = spawn('nsenter', [`--net=${netns}`, 'busybox', 'nc', '127.0.0.1', '4000'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let answers = '';
      client.stdout!.setEncoding('utf8').on('data', (d: string) => (answers += d));
      const say = async (line: string) => {
        client!.stdin!.write(`${line}\n`);
        await waitFor(() => answers.includes(`ack:${line}`), 5_000, { what: `the answer to ${line} (so far: ${answers})` });
      };
      await say('before');

      const images = newImageDir();
      const refused = rt(['checkpoint', '--image-path', images, id]);
      expect(failureMessage(refused)).to.match(/^checkpoint failed: criu: .*Connected TCP socket, consider using --tcp-established/);
      expect(statusOf(id)).to.equal('running');
      await say('still');

      const images2 = newImageDir();
      rtOk(['checkpoint', '--tcp-established', '--image-path', images2, id]);
      expect(statusOf(id)).to.equal(null);
      rtOk(['restore', '-d', '--tcp-established', '--image-path', images2, '--bundle', b.dir, id]);
      await say('after');
      expect(readFileSync(path.join(b.rootfs, 'tmp/got'), 'utf8')).to.equal('before\nstill\nafter\n');
      rtOk(['delete', '--force', id]);
    } finally {
      client?.kill('SIGKILL');
      holder.kill('SIGKILL');
    }
  });

  it('--page-server: the memory pages go to a CRIU page server, and the image restores with them', async function () {
    const criu = requireCriu(this);
    const { b, id } = await runningCounter({}, 3);
    const top = makeTempDir('images');
    const pages = path.join(top, 'pages');
    const images = path.join(top, 'img');
    mkdirSync(pages);
    const port = 30000 + (process.pid % 20000);
    const server = spawn(criu, ['page-server', '--images-dir', pages, '--port', String(port)], { stdio: 'ignore' });
    try {
      await waitFor(() => portListening(port), 5_000, { what: 'the page server' });
      rtOk(['checkpoint', '--page-server', `127.0.0.1:${port}`, '--image-path', images, id]);
      expect(readdirSync(images).some((f) => /^pages-\d+\.img$/.test(f)), 'no pages in the image directory').to.equal(false);
      expect(readdirSync(pages).some((f) => /^pages-\d+\.img$/.test(f)), 'pages on the page server').to.equal(true);
    } finally {
      server.kill('SIGKILL');
    }
    const atCheckpoint = counts(b);
    for (const f of readdirSync(pages)) copyFileSync(path.join(pages, f), path.join(images, f));
    rtOk(['restore', '-d', '--image-path', images, '--bundle', b.dir, id]);
    await countPast(b, atCheckpoint.length + 3);
    expectContiguous(counts(b), 'after the restore');
    rtOk(['delete', '--force', id]);
  });
});

describe('checkpoint --lazy-pages (CRIU, userfaultfd)', function () {
  this.timeout(120_000);
  useLeakCheck();

  // A whole lazy migration (restore --lazy-pages fed by `criu lazy-pages`) fails inside CRIU
  // 4.2 on this kernel ("page-pipe: splice: Bad file descriptor" on the dump side), with runc
  // as with ts-runc (docs/checkpoint.md). What the runtime does is tested: the image is
  // written, --status-fd gets its \0 when the page server is ready, and the checkpoint ends
  // when the page server's client goes away.
  it('--status-fd gets a \\0 once the lazy page server is ready, with the image written; the checkpoint ends when the pages are taken', async function () {
    requireCriu(this);
    const { id } = await runningCounter({}, 3);
    const images = newImageDir();
    const port = 30000 + ((process.pid + 7) % 20000);
    const [statusR, statusW] = native().pipe();
    const log = path.join(makeTempDir('lazy'), 'checkpoint.err');
    const errFd = openSync(log, 'w');
    const cp = spawn(runtimeBin(), ['--root', testRoot(), 'checkpoint', '--lazy-pages', '--page-server', `127.0.0.1:${port}`, '--status-fd', '3', '--image-path', images, id], {
      stdio: ['ignore', errFd, errFd, statusW],
    });
    closeSync(statusW);
    closeSync(errFd);
    const cpExit = new Promise<number | null>((resolve) => cp.once('exit', (code) => resolve(code)));
    try {
      const [ready] = native().poll([[statusR, POLLIN]], 20_000);
      expect(ready, `no word on --status-fd: ${readFileSync(log, 'utf8')}`).to.be.above(0);
      const byte = Buffer.alloc(1);
      expect(readSync(statusR, byte)).to.equal(1);
      expect(byte[0]).to.equal(0);
      expect(existsSync(path.join(images, 'inventory.img'))).to.equal(true);
      // The container waits, frozen, for its pages to be fetched.
      expect(statusOf(id)).to.not.equal(null);
      const client = createConnection({ host: '127.0.0.1', port });
      await new Promise<void>((resolve, reject) => client.once('connect', () => resolve()).once('error', reject));
      client.destroy();
      expect(await cpExit, readFileSync(log, 'utf8')).to.equal(0);
      expect(statusOf(id)).to.equal(null);
    } finally {
      closeSync(statusR);
      // criu outlives a killed runtime while it serves pages: it goes first.
      if (cp.exitCode === null && cp.pid) for (const child of childrenOf(cp.pid)) process.kill(child, 'SIGKILL');
      cp.kill('SIGKILL');
    }
  });
});

/** Pids whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Is something listening on TCP `port` (any address) in our network namespace? */
function portListening(port: number): boolean {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['tcp', 'tcp6'].some((f) => new RegExp(` [0-9A-F]+:${hexPort} [0-9A-F]+:0000 0A `).test(readFileSync(`/proc/net/${f}`, 'utf8')));
}
