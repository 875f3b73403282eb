// The command line where a runc user notices: the log (--log, --log-format), unknown
// commands and help, the manual pages and bash completion, --version, the --debug
// timeline, a closed stdout (events | head), a terminal without a controlling terminal,
// and signals that reach run or exec before its process exists.
import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { makeBundle } from '../../helpers/bundle.js';
import { REPO_ROOT, makeTempDir } from '../../helpers/context.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireCommand, requireRoot } from '../../helpers/privileges.js';
import { describeResult, readLogJson, rt, rtOk, runtimeBin, startBackground, testRoot, uniqueId, waitFor } from '../../helpers/runtime.js';
import { startSleeper } from '../linux/support.js';
import { cleanUpAfterFailure, expectFailure, lines, messages, rootEntries, shHook, skipUnderRunc } from './support.js';

/** The commands `--help` lists (the runtime under test's own list). */
function listedCommands(): string[] {
  const out = rtOk(['--help']);
  const section = out.slice(out.indexOf('COMMANDS:'), out.indexOf('GLOBAL OPTIONS:'));
  return lines(section)
    .slice(1)
    .map((l) => l.trim().split(/[\s,]+/)[0] as string)
    .filter((c) => c !== 'help' && c !== 'h');
}

/**
 * Run the runtime in a new session (setsid: no controlling terminal). Killed after 20 s:
 * a runtime that starts an interactive program nobody can reach would wait forever.
 */
function rtWithoutTerminal(args: string[]): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(runtimeBin(), ['--root', testRoot(), ...args], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.once('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stderr });
    }),
  );
}

describe('cli parity: the log', function () {
  useLeakCheck();
  cleanUpAfterFailure();

  it('--log FILE that cannot be opened is an error naming it, and nothing is done', function () {
    const log = path.join(makeTempDir('log'), 'no-such-dir', 'runtime.log');
    const r = expectFailure(rt(['--log', log, 'state', 'no-such-ctr']));
    expect(messages(r.stderr)).to.deep.equal([`open ${log}: no such file or directory`]);
    if (process.getuid?.() === 0) {
      const b = makeBundle({ args: ['true'] });
      expectFailure(rt(['--log', log, 'create', '--bundle', b.dir, uniqueId()]));
      expect(rootEntries()).to.deep.equal([]);
    }
  });

  it('--log-format json without --log: JSON lines on stderr', function () {
    const r = expectFailure(rt(['--log-format', 'json', 'state', 'no-such-ctr']));
    const entries = lines(r.stderr).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries).to.have.length(1);
    expect(entries[0]).to.include({ level: 'error', msg: 'container does not exist' });
  });
});

describe('cli parity: commands, help, manual pages, completion, version', function () {
  useLeakCheck();
  cleanUpAfterFailure();

  it('an unknown command exits 3: "No help topic for ..."', function () {
    const r = rt(['frobnicate']);
    expect(r.status, describeResult(r)).to.equal(3);
    expect(r.stderr).to.include("No help topic for 'frobnicate'");
  });

  it('help of an unknown command exits 3 too', function () {
    const r = rt(['help', 'frobnicate']);
    expect(r.status, describeResult(r)).to.equal(3);
    expect(r.stderr).to.include("No help topic for 'frobnicate'");
  });

  it('"h" is "help": the command list, or one command\'s help', function () {
    const r = rt(['h']);
    expect(r.status, describeResult(r)).to.equal(0);
    expect(r.stdout).to.equal(rtOk(['help']));
    expect(r.stdout).to.match(/^COMMANDS:$/m);
    const create = rtOk(['h', 'create']);
    expect(create).to.equal(rtOk(['help', 'create']));
    expect(create).to.match(/^USAGE:\n\s+\S+ create \[command options\] <container-id>$/m);
  });

  it('help CMD and CMD --help print the same text', function () {
    for (const cmd of ['create', 'exec', 'kill']) expect(rtOk(['help', cmd])).to.equal(rtOk([cmd, '--help']));
  });

  it('every command\'s --help has a description and an example', function () {
    skipUnderRunc(this, 'runc 1.1.5 has examples for few commands');
    const commands = listedCommands();
    expect(commands).to.include.members(['create', 'start', 'run', 'exec', 'delete', 'state', 'list', 'kill', 'spec']);
    for (const cmd of commands) {
      const out = rtOk([cmd, '--help']);
      for (const section of ['NAME:', 'USAGE:', 'DESCRIPTION:', 'EXAMPLE:']) expect(out, `${cmd} --help`).to.match(new RegExp(`^${section}\\n   \\S`, 'm'));
      const example = out.slice(out.indexOf('EXAMPLE:'));
      expect(example, `${cmd}'s example uses ${cmd}`).to.match(new RegExp(`ts-runc ${cmd}\\b`));
    }
  });

  it('a manual page per command (man ts-runc-CMD), installed by scripts/install-docs.sh', function () {
    skipUnderRunc(this, 'manual pages of ts-runc');
    requireCommand(this, 'man');
    const prefix = makeTempDir('docs');
    execFileSync('bash', [path.join(REPO_ROOT, 'scripts/install-docs.sh'), prefix], { stdio: 'pipe' });
    const manpath = path.join(prefix, 'share/man');
    const man = (page: string) =>
      execFileSync('man', ['--manpath', manpath, '-P', 'cat', page], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '250', MAN_KEEP_FORMATTING: '' } });
    expect(man('ts-runc')).to.match(/^NAME\n\s+ts-runc - /m);
    for (const cmd of listedCommands()) {
      const page = man(`ts-runc-${cmd}`);
      const help = rtOk([cmd, '--help']);
      const summary = /^NAME:\n\s+\S+ \S+ - (.*)$/m.exec(help)![1]!;
      expect(page, cmd).to.include(`ts-runc-${cmd} - ${summary}`);
      for (const section of ['SYNOPSIS', 'DESCRIPTION', 'OPTIONS', 'EXAMPLE', 'SEE ALSO']) expect(page, cmd).to.match(new RegExp(`^${section}$`, 'm'));
      // Every flag of the help is in the page.
      for (const flag of help.match(/--[a-z][a-z-]+/g) ?? []) expect(page, `${cmd} ${flag}`).to.include(flag);
    }
  });

  it('bash completion: commands, flags, file names, container ids and signals', function () {
    skipUnderRunc(this, 'bash completion of ts-runc');
    requireRoot(this);
    const script = path.join(REPO_ROOT, 'dist/completion/ts-runc');
    expect(existsSync(script), 'built into dist/completion').to.equal(true);
    const b = makeBundle({ args: ['sleep', '30'] });
    const id = uniqueId('complete');
    rtOk(['create', '--bundle', b.dir, id]);
    const complete = (...words: string[]) =>
      lines(
        execFileSync('bash', ['-c', `source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _ts_runc; printf '%s\\n' "\${COMPREPLY[@]}"`, script, runtimeBin(), ...words], {
          encoding: 'utf8',
          cwd: b.dir,
        }),
      );
    try {
      expect(complete('cr')).to.deep.equal(['create']);
      expect(complete('--ro')).to.deep.equal(['--root', '--rootless']);
      expect(complete('create', '--pid')).to.deep.equal(['--pidfd-socket', '--pid-file']);
      expect(complete('create', '--bundle', 'roo')).to.deep.equal(['rootfs']);
      expect(complete('--root', testRoot(), 'delete', '')).to.deep.equal([id]);
      expect(complete('--root', testRoot(), 'kill', id, 'SIGKI')).to.deep.equal(['SIGKILL']);
      expect(complete('help', 'exe')).to.deep.equal(['exec']);
    } finally {
      rtOk(['delete', '--force', id]);
    }
  });

  it('--version names libseccomp\'s version', function () {
    requireCommand(this, 'pkg-config');
    const want = execFileSync('pkg-config', ['--modversion', 'libseccomp'], { encoding: 'utf8' }).trim();
    const r = rt(['--version']);
    expect(r.status, describeResult(r)).to.equal(0);
    expect(lines(r.stdout)).to.include(`libseccomp: ${want}`);
  });
});

describe('cli parity: --debug shows a timeline of the setup', function () {
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
    skipUnderRunc(this, "runc's debug log has no timeline");
  });

  const TIMELINE = /^timeline: (\d+\.\d+) ms \(\+(\d+\.\d+) ms\) (.+)$/;

  it('in the log: each step reached, when, and how long it took', function () {
    const log = path.join(makeTempDir('log'), 'runtime.log');
    const b = makeBundle({ args: ['true'] });
    rtOk(['--log', log, '--log-format', 'json', '--debug', 'run', '--bundle', b.dir, uniqueId()]);
    const steps = readLogJson(log)
      .filter((e) => e.level === 'debug' && TIMELINE.test(String(e.msg)))
      .map((e) => TIMELINE.exec(String(e.msg))!);
    const labels = steps.map((m) => m[3]);
    for (const label of ['process started', 'main', 'create: config loaded', 'create: cgroups made', 'launch: ready', 'run: started', 'exit']) {
      expect(labels).to.include(label);
    }
    let last = 0;
    for (const m of steps) {
      const at = Number(m[1]);
      expect(at).to.be.at.least(last);
      expect(Number(m[2])).to.be.closeTo(at - last, 0.02);
      last = at;
    }
  });

  it('without --log, on stderr; a failed command shows its timeline too', function () {
    const r = expectFailure(rt(['--debug', 'create', '--bundle', makeTempDir('empty-bundle'), uniqueId()]));
    const timeline = messages(r.stderr).filter((m) => TIMELINE.test(m));
    expect(timeline.map((m) => TIMELINE.exec(m)![3])).to.include.members(['main', 'create: begin', 'exit']);
  });
});

describe('cli parity: a closed stdout', function () {
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
  });

  it('events into a closed pipe ends the runtime by SIGPIPE (status 141), not an error every interval', async function () {
    const sleeper = startSleeper();
    try {
      const child = spawn(runtimeBin(), ['--root', testRoot(), 'events', '--interval', '100ms', sleeper.id], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
      // The first event, then nobody reads any more.
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      child.stdout.destroy();
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5_000));
      const end = await Promise.race([exited, timeout]);
      if (end === 'timeout') child.kill('SIGKILL');
      expect(end, `stderr: ${stderr}`).to.not.equal('timeout');
      const { code, signal } = end as { code: number | null; signal: string | null };
      expect(signal === 'SIGPIPE' || code === 141, `exit ${code} signal ${signal}`).to.equal(true);
      expect(stderr).to.not.match(/EPIPE|broken pipe/i);
    } finally {
      sleeper.stop();
    }
  });
});

describe('cli parity: terminal: true without a controlling terminal', function () {
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
  });

  it('run fails at once with runc\'s error and leaves nothing', async function () {
    const b = makeBundle({ args: ['sh'], terminal: true });
    const r = await rtWithoutTerminal(['run', '--bundle', b.dir, uniqueId()]);
    expect(r.status, r.stderr).to.equal(1);
    expect(messages(r.stderr)).to.have.length(1);
    expect(messages(r.stderr)[0]).to.match(/^\S+ run failed: open \/dev\/tty: no such device or address$/);
    expect(rootEntries()).to.deep.equal([]);
  });

  it('exec -t fails with exit status 255 and runc\'s error', async function () {
    const sleeper = startSleeper();
    try {
      const r = await rtWithoutTerminal(['exec', '-t', sleeper.id, 'sh']);
      expect(r.status, r.stderr).to.equal(255);
      expect(messages(r.stderr)).to.deep.equal(['exec failed: open /dev/tty: no such device or address']);
    } finally {
      sleeper.stop();
    }
  });
});

describe('cli parity: signals that reach run or exec before the process exists', function () {
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
  });

  it('run: a SIGTERM while create runs its hooks goes to the container once it runs', async function () {
    // Without a PID namespace of its own the program is no namespace init: SIGTERM kills it.
    const b = makeBundle({
      args: ['sleep', '30'],
      mutate: (c) => {
        c.linux!.namespaces = c.linux!.namespaces.filter((n: { type: string }) => n.type !== 'pid');
        // The hook reads its state first: runc would otherwise pass on the SIGPIPE it gets.
        c.hooks = { prestart: [shHook('/bin/cat >/dev/null; kill -TERM $PPID')] };
      },
    });
    const run = startBackground(['run', '--bundle', b.dir, uniqueId()]);
    const end = await run.wait(20_000);
    expect(end, run.stderr()).to.deep.equal({ status: 128 + 15, signal: null });
    expect(rootEntries()).to.deep.equal([]);
  });

  for (const delayMs of [0, 2, 5, 10, 20]) {
    it(`exec: a SIGTERM ${delayMs} ms after it started reaches the process`, async function () {
      const sleeper = startSleeper();
      try {
        const log = path.join(makeTempDir('log'), 'runtime.log');
        const exec = startBackground(['--debug', '--log', log, 'exec', sleeper.id, 'sleep', '30']);
        // The first log line: the runtime's code runs (Node itself has started).
        await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').length > 0, 10_000, { intervalMs: 1, what: 'the first log line' });
        if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
        exec.kill('SIGTERM');
        const end = await exec.wait(20_000);
        expect(end, exec.stderr()).to.deep.equal({ status: 128 + 15, signal: null });
      } finally {
        sleeper.stop();
      }
    });
  }
});
