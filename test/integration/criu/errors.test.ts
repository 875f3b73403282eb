// checkpoint and restore refusing what cannot work, each with one clear line, and leaving
// things as they were: a failed checkpoint leaves the container running, a failed restore
// leaves no state directory, cgroup or process (the leak check sees to the latter).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, makeTempDir } from '../../helpers/context.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { describeResult, rt, rtOk, runtimeBin, startBackground, state, testRoot, uniqueId, waitFor } from '../../helpers/runtime.js';
import { requireCommand } from '../../helpers/privileges.js';
import { rootEntries, shHook, skipUnderRunc } from '../lifecycle/support.js';
import { cgroupExists, countPast, counts, criuBundle, failureMessage, fakeCriu, hasMemoryTracking, newImageDir, requireCriu, runningCounter, statusOf } from './support.js';

/** A VERSION answer (criu_resp) from a CRIU 3.14: type VERSION, success, version {3, 14}. */
const VERSION_3_14 = '080a100152040803100e';

describe('checkpoint and restore: errors', function () {
  this.timeout(120_000);
  useLeakCheck();
  let criu = '';
  beforeEach(function () {
    criu = requireCriu(this);
    skipUnderRunc(this, "ts-runc's own checks and wording");
  });
  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    const r = rt(['list', '-q']);
    for (const id of r.status === 0 ? r.stdout.split('\n').filter(Boolean) : []) rt(['delete', '--force', id]);
  });

  /** It still runs, and counts. */
  async function expectStillCounting(b: ReturnType<typeof criuBundle>, id: string) {
    expect(statusOf(id)).to.equal('running');
    await countPast(b, (counts(b).at(-1) ?? 0) + 2);
  }

  /** A checkpoint image made from a fresh counter (which is gone afterwards). */
  async function image() {
    const { b, id } = await runningCounter();
    const images = newImageDir();
    rtOk(['checkpoint', '--image-path', images, id]);
    return { b, images };
  }

  describe('criu missing or not working', function () {
    it('no criu on PATH: checkpoint says so and the container runs on', async function () {
      const { b, id } = await runningCounter();
      const r = rt(['checkpoint', '--image-path', newImageDir(), id], { env: { ...process.env, PATH: '/usr/bin:/bin' } });
      expect(failureMessage(r)).to.equal(
        'CRIU version check failed: exec: "criu": executable file not found in $PATH (checkpoint and restore need CRIU 3.15 or newer)',
      );
      await expectStillCounting(b, id);
      const missing = rt(['--criu', '/nonexistent/criu', 'checkpoint', id]);
      expect(failureMessage(missing)).to.match(/^CRIU version check failed: \/nonexistent\/criu: no such executable file/);
      rtOk(['delete', '--force', id]);
    });

    it('a criu that fails `criu check`: its reason is printed (checkpoint and restore)', async function () {
      const broken = fakeCriu({ version: '3.17', checkFails: 'Unexpected rt vDSO area bounds' });
      const { b, id } = await runningCounter();
      const r = rt(['--criu', broken, 'checkpoint', '--image-path', newImageDir(), id]);
      expect(failureMessage(r)).to.equal(`criu check failed (${broken}): Unexpected rt vDSO area bounds`);
      await expectStillCounting(b, id);
      rtOk(['delete', '--force', id]);

      const { images } = await image();
      const restore = rt(['--criu', broken, 'restore', '-d', '--image-path', images, '--bundle', b.dir, uniqueId('cr')]);
      expect(failureMessage(restore)).to.equal(`criu check failed (${broken}): Unexpected rt vDSO area bounds`);
      expect(rootEntries()).to.deep.equal([]);
    });

    it('a criu too old', async function () {
      const old = fakeCriu({ version: '3.14', versionAnswer: VERSION_3_14 });
      const { b, id } = await runningCounter();
      const r = rt(['--criu', old, 'checkpoint', '--image-path', newImageDir(), id]);
      expect(failureMessage(r)).to.equal(`CRIU 3.14 (${old}) is too old: checkpoint and restore need CRIU 3.15 or newer`);
      await expectStillCounting(b, id);
      rtOk(['delete', '--force', id]);
    });

    it('features says checkpoint is enabled only with a criu that works', function () {
      const annotation = (args: string[]) =>
        (JSON.parse(rtOk([...args, 'features'])) as { annotations: Record<string, string> }).annotations['org.opencontainers.runc.checkpoint.enabled'];
      expect(annotation([])).to.equal('true');
      expect(annotation(['--criu', criu])).to.equal('true');
      expect(annotation(['--criu', '/nonexistent/criu'])).to.equal('false');
      expect(annotation(['--criu', fakeCriu({ version: '3.17', checkFails: 'Unexpected rt vDSO area bounds' })])).to.equal('false');
      expect(annotation(['--criu', fakeCriu({ version: '3.14', versionAnswer: VERSION_3_14 })])).to.equal('false');
    });
  });

  describe('checkpoint', function () {
    it('of a container that is not running: created, stopped, absent', async function () {
      const b = criuBundle({ args: ['true'] });
      const id = uniqueId('cr');
      rtOk(['create', '--bundle', b.dir, id]);
      expect(failureMessage(rt(['checkpoint', id]))).to.equal('Container cannot be checkpointed in created state');
      expect(statusOf(id)).to.equal('created');
      rtOk(['start', id]);
      await waitFor(() => statusOf(id) === 'stopped', 10_000, { what: 'the container to stop' });
      expect(failureMessage(rt(['checkpoint', id]))).to.equal('Container cannot be checkpointed in stopped state');
      rtOk(['delete', id]);
      expect(failureMessage(rt(['checkpoint', id]))).to.equal('container does not exist');
    });

    it('into an image directory that is not empty: refused, the directory and the container untouched', async function () {
      const { b, id } = await runningCounter();
      const images = makeTempDir('images');
      writeFileSync(path.join(images, 'keep.txt'), 'mine');
      expect(failureMessage(rt(['checkpoint', '--image-path', images, id]))).to.equal(
        `--image-path ${images} is not empty (it holds 1 entry): checkpoint into an empty or new directory`,
      );
      expect(readdirSync(images)).to.deep.equal(['keep.txt']);
      await expectStillCounting(b, id);
      rtOk(['delete', '--force', id]);
    });

    it('CRIU fails (stdio on a file of the host): the reason from its log, the container runs on', async function () {
      // rt() gives the runtime files of the host for stdout and stderr; this container keeps them.
      const b = criuBundle({ args: ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i >> /tmp/count.log; sleep 0.05; done'] });
      const id = uniqueId('cr');
      rtOk(['run', '-d', '--bundle', b.dir, id]);
      await countPast(b, 2);
      const images = newImageDir();
      expect(failureMessage(rt(['checkpoint', '--image-path', images, id]))).to.match(
        new RegExp(`^checkpoint failed: criu: .*Can't lookup mount=\\d+ for fd=1 .*\\(log: ${images}/dump\\.log\\)$`),
      );
      await expectStillCounting(b, id);
      rtOk(['delete', '--force', id]);
    });

    it('--pre-dump needs memory dirty tracking: a clear error where the kernel has none', async function () {
      const { b, id } = await runningCounter();
      const images = newImageDir();
      const r = rt(['checkpoint', '--pre-dump', '--image-path', images, id]);
      if (hasMemoryTracking(criu)) {
        expect(r.status, r.stderr).to.equal(0);
      } else {
        expect(failureMessage(r)).to.equal(
          '--pre-dump needs memory dirty tracking (soft-dirty page bits), which this kernel does not offer: pre-dumps and incremental checkpoints cannot work here; checkpoint without --pre-dump and --parent-path (CRIU feature check: mem_track is not available)',
        );
      }
      // Either way a pre-dump leaves the container running.
      await expectStillCounting(b, id);
      rtOk(['delete', '--force', id]);
    });

    it('--parent-path: relative and existing; --auto-dedup with a parent needs dirty tracking too', async function () {
      const { b, id } = await runningCounter();
      const top = makeTempDir('images');
      const images = path.join(top, 'img');
      expect(failureMessage(rt(['checkpoint', '--parent-path', '/abs', '--image-path', images, id]))).to.equal(
        '--parent-path must be relative (to --image-path)',
      );
      expect(failureMessage(rt(['checkpoint', '--parent-path', '../parent', '--image-path', images, id]))).to.equal(
        `invalid --parent-path: stat ${path.join(top, 'parent')}: no such file or directory`,
      );
      mkdirSync(path.join(top, 'parent'));
      if (!hasMemoryTracking(criu)) {
        rmSync(images, { recursive: true, force: true });
        expect(failureMessage(rt(['checkpoint', '--auto-dedup', '--parent-path', '../parent', '--image-path', images, id]))).to.match(
          /^--parent-path needs memory dirty tracking .*\(CRIU feature check: mem_track is not available\)$/,
        );
      }
      await expectStillCounting(b, id);
      rtOk(['delete', '--force', id]);
    });

    it('bad flag values are refused before anything is touched', async function () {
      const { b, id } = await runningCounter();
      const images = newImageDir();
      const cases: [string[], string][] = [
        [['--manage-cgroups-mode', 'bogus'], 'invalid --manage-cgroups-mode value "bogus": soft, full, strict or ignore'],
        [['--empty-ns', 'ipc'], '--empty-ns: namespace "ipc" is not supported (only "network")'],
        [['--page-server', 'nowhere'], '--page-server "nowhere": use --page-server ADDRESS:PORT'],
        [['--page-server', '127.0.0.1:99999'], '--page-server "127.0.0.1:99999": use --page-server ADDRESS:PORT'],
        [['--status-fd', '987'], 'invalid --status-fd argument 987: bad file descriptor'],
      ];
      for (const [flags, message] of cases) {
        expect(failureMessage(rt(['checkpoint', ...flags, '--image-path', images, id])), flags.join(' ')).to.equal(message);
      }
      expect(rootEntries().length).to.equal(1);
      expect(readdirSafe(images)).to.deep.equal([]);
      await expectStillCounting(b, id);
      rtOk(['delete', '--force', id]);
    });
  });

  describe('restore', function () {
    it('from a directory that is not a CRIU image, or none: nothing is left', function () {
      const b = criuBundle();
      const empty = makeTempDir('images');
      expect(failureMessage(rt(['restore', '-d', '--image-path', empty, '--bundle', b.dir, uniqueId('cr')]))).to.equal(
        `--image-path: ${empty} is not a CRIU image (no inventory.img): was it made by checkpoint?`,
      );
      const missing = path.join(empty, 'nothing');
      expect(failureMessage(rt(['restore', '-d', '--image-path', missing, '--bundle', b.dir, uniqueId('cr')]))).to.equal(
        `--image-path: stat ${missing}: no such file or directory`,
      );
      expect(rootEntries()).to.deep.equal([]);
      expect(cgroupExists(b.config.linux!.cgroupsPath as string)).to.equal(false);
    });

    it('with an id that exists: refused, that container untouched', async function () {
      const { b, images } = await image();
      const { b: other, id } = await runningCounter();
      expect(failureMessage(rt(['restore', '-d', '--image-path', images, '--bundle', b.dir, id]))).to.equal(`container with id exists: ${id}`);
      await expectStillCounting(other, id);
      rtOk(['delete', '--force', id]);
    });

    it('CRIU fails (the new rootfs lacks the program): no state directory, cgroup or process left', async function () {
      const { b, images } = await image();
      rmSync(path.join(b.rootfs, 'bin/busybox'));
      const id = uniqueId('cr');
      expect(failureMessage(rt(['restore', '-d', '--image-path', images, '--bundle', b.dir, id]))).to.match(
        new RegExp(`^restore failed: criu: .*\\(log: ${images}/restore\\.log\\)$`),
      );
      expect(rootEntries()).to.deep.equal([]);
      expect(cgroupExists(b.config.linux!.cgroupsPath as string)).to.equal(false);
    });

    it('a failing prestart hook: the hook error, poststop run, nothing left', async function () {
      const { b, images } = await image();
      const log = path.join(makeTempDir('hooks'), 'poststop.log');
      b.writeConfig((c) => {
        c.hooks = { prestart: [shHook('echo nope >&2; exit 3')], poststop: [shHook(`cat > ${log}`)] };
      });
      const id = uniqueId('cr');
      expect(failureMessage(rt(['restore', '-d', '--image-path', images, '--bundle', b.dir, id]))).to.match(
        /^error running prestart hook #0 \(\/bin\/sh\): exit status 3, stderr: nope$/,
      );
      expect(JSON.parse(readFileSync(log, 'utf8'))).to.include({ id, status: 'stopped' });
      expect(rootEntries()).to.deep.equal([]);
      expect(cgroupExists(b.config.linux!.cgroupsPath as string)).to.equal(false);
    });

    it('killed in its prestart hook: like an abandoned create, it is stopped and delete --force removes it, its processes and its cgroups', async function () {
      const { b, images } = await image();
      b.writeConfig((c) => {
        c.hooks = { prestart: [shHook('kill -KILL $PPID; sleep 1')] };
      });
      const id = uniqueId('cr');
      const restore = startBackground(['restore', '-d', '--image-path', images, '--bundle', b.dir, id]);
      const end = await restore.wait(60_000);
      expect(end.signal, restore.stderr()).to.equal('SIGKILL');
      expect(state(id)).to.include({ status: 'stopped', pid: 0 });
      expect(cgroupExists(b.config.linux!.cgroupsPath as string)).to.equal(true);
      const r = rt(['delete', '--force', id]);
      expect(r.status, describeResult(r)).to.equal(0);
      expect(rootEntries()).to.deep.equal([]);
      expect(cgroupExists(b.config.linux!.cgroupsPath as string)).to.equal(false);
      // The leak check then finds no process of the container.
    });

    it('terminal and --console-socket must agree, as for create', async function () {
      const { b, images } = await image();
      b.writeConfig((c) => {
        c.process!.terminal = true;
      });
      expect(failureMessage(rt(['restore', '-d', '--image-path', images, '--bundle', b.dir, uniqueId('cr')]))).to.equal(
        'cannot allocate tty if ts-runc will detach without setting console socket',
      );
      b.writeConfig((c) => {
        c.process!.terminal = false;
      });
      expect(failureMessage(rt(['restore', '-d', '--console-socket', '/x.sock', '--image-path', images, '--bundle', b.dir, uniqueId('cr')]))).to.equal(
        'cannot use console socket if ts-runc will not detach or allocate tty',
      );
      expect(rootEntries()).to.deep.equal([]);
    });
  });
});

function readdirSafe(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}


describe('the CRIU codec (protobufjs) is loaded only by checkpoint and restore', function () {
  this.timeout(60_000);
  useLeakCheck();

  /** The files a runtime invocation (`bin`, by default the one under test) opened (strace). */
  function filesOpened(args: string[], bin = runtimeBin(), env: NodeJS.ProcessEnv = process.env): string[] {
    const trace = path.join(makeTempDir('strace'), 'trace');
    spawnSync('strace', ['-e', 'trace=openat', '-o', trace, bin, '--root', testRoot(), ...args], { stdio: 'ignore', timeout: 30_000, env });
    return [...readFileSync(trace, 'utf8').matchAll(/openat\([^"]*"([^"]+)"[^=]*= \d+/g)].map((m) => m[1] as string);
  }

  /** The files of dist/ a runtime invocation opened. */
  function distFilesOpened(args: string[]): string[] {
    return filesOpened(args)
      .filter((f) => f.includes('/dist/'))
      .map((f) => path.basename(f));
  }

  it('list, state and features never open dist/ts-runc-criu.cjs; checkpoint does', async function () {
    requireCriu(this);
    skipUnderRunc(this, "ts-runc's own bundles");
    requireCommand(this, 'strace');
    const { id } = await runningCounter();
    for (const args of [['list'], ['state', id], ['features']]) {
      expect(distFilesOpened(args), args[0]).to.not.include('ts-runc-criu.cjs');
    }
    expect(distFilesOpened(['checkpoint', '--image-path', newImageDir(), id])).to.include('ts-runc-criu.cjs');
    expect(statusOf(id)).to.equal(null);
  });

  it('a copy of the runtime in another directory loads the codec beside itself, not beside the build', async function () {
    requireCriu(this);
    skipUnderRunc(this, "ts-runc's own bundles");
    requireCommand(this, 'strace');
    const built = realpathSync(runtimeBin());
    const elsewhere = makeTempDir('relocated');
    // With the Bun executable the launcher starts beside it (dist/ts-runc-bun), when there is one.
    const bun = `${built}-bun`;
    for (const [from, to] of [
      [built, path.join(elsewhere, path.basename(built))],
      ...(existsSync(bun) ? [[bun, path.join(elsewhere, path.basename(bun))] as const] : []),
      [path.join(path.dirname(built), 'ts-runc-criu.cjs'), path.join(elsewhere, 'ts-runc-criu.cjs')],
    ] as const) {
      try {
        linkSync(from, to);
      } catch {
        copyFileSync(from, to);
      }
    }
    const { id } = await runningCounter();
    // The addon stays in the checkout's build/ (found from the executable's place otherwise).
    const env = { ...process.env, TSRUNC_NATIVE_DIR: path.join(REPO_ROOT, 'build/Release') };
    const opened = filesOpened(['checkpoint', '--image-path', newImageDir(), id], path.join(elsewhere, path.basename(built)), env);
    expect(opened).to.include(path.join(elsewhere, 'ts-runc-criu.cjs'));
    expect(opened).to.not.include(path.join(path.dirname(built), 'ts-runc-criu.cjs'));
    expect(statusOf(id)).to.equal(null);
  });
});
