// config.md: process (consoleSize, cwd, env, args, rlimits, capabilities warnings,
// noNewPrivileges, oomScoreAdj, user), hostname and domainname.
import { expect } from 'chai';
import path from 'node:path';
import { makeTempDir } from '../../test/helpers/context.js';
import { useLeakCheck } from '../../test/helpers/leaks.js';
import { requireRoot } from '../../test/helpers/privileges.js';
import { describeResult, readLogJson, rt, uniqueId } from '../../test/helpers/runtime.js';
import { makeBundle } from '../../test/helpers/bundle.js';
import { clause, expectCreateFails, expectNoProblems, rtVia, runScript, runScriptOk } from './support.js';
import { existsSync, readFileSync } from 'node:fs';

/** Parse /proc/self/limits: resource name → [soft, hard] as printed. */
function parseLimits(text: string): Record<string, [string, string]> {
  const out: Record<string, [string, string]> = {};
  for (const line of text.split('\n').slice(1)) {
    const m = /^(.+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    if (m) out[m[1]!.trim()] = [m[2]!, m[3]!];
  }
  return out;
}

describe('config.md: process', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  clause('config.process.console-size-ignored', 'consoleSize with terminal false is ignored: the container runs without a terminal', function () {
    const out = runScriptOk('echo ran; [ -t 0 ] || [ -t 1 ] && echo tty; true', {
      mutate: (c) => {
        c.process!.terminal = false;
        c.process!.consoleSize = { height: 10, width: 20 };
      },
    });
    expect(out).to.equal('ran\n');
  });

  clause('config.process.cwd', 'the program starts in process.cwd', function () {
    expect(runScriptOk('pwd', { mutate: (c) => (c.process!.cwd = '/tmp') })).to.equal('/tmp\n');
    expect(runScriptOk('pwd', { mutate: (c) => (c.process!.cwd = '/etc') })).to.equal('/etc\n');
  });

  clause('config.process.cwd-absolute', 'a relative cwd is an error', function () {
    expectCreateFails((c) => (c.process!.cwd = 'tmp'), 'create with cwd "tmp"');
  });

  clause('config.process.env', 'the program\'s environment is process.env', function () {
    const env = ['PATH=/bin:/sbin', 'CONF_A=1', 'CONF_B=two words', 'CONF_EMPTY='];
    const r = runScript('', { args: ['env'], mutate: (c) => (c.process!.env = env) });
    expect(r.status, describeResult(r)).to.equal(0);
    const got = r.stdout.split('\n').filter(Boolean);
    expect(got).to.include.members(env);
    // runc adds HOME when the config does not set it; nothing else may appear
    expect(got.filter((e) => !env.includes(e) && !e.startsWith('HOME=')), 'variables not in process.env').to.deep.equal([]);
  });

  clause('config.process.args-required', 'empty process.args is an error', function () {
    expectCreateFails((c) => (c.process!.args = []), 'create with args []');
  });

  clause('config.process.args-execvp', 'args[0] is looked up in PATH like execvp, or used as a path when it has a slash', function () {
    const viaPath = runScript('', { args: ['echo', 'found in PATH'], mutate: (c) => (c.process!.env = ['PATH=/nonexistent:/bin']) });
    expect(viaPath.status, describeResult(viaPath)).to.equal(0);
    expect(viaPath.stdout).to.equal('found in PATH\n');
    const absolute = runScript('', { args: ['/bin/echo', 'by path'], mutate: (c) => (c.process!.env = ['PATH=/nonexistent']) });
    expect(absolute.status, describeResult(absolute)).to.equal(0);
    expect(absolute.stdout).to.equal('by path\n');
    const missing = runScript('', { args: ['conformance-no-such-program'], mutate: (c) => (c.process!.env = ['PATH=/bin']) });
    expect(missing.status, `a program not in PATH must not run: ${describeResult(missing)}`).to.not.equal(0);
  });

  describe('rlimits', function () {
    clause('config.process.rlimits.invalid-type-error', 'an rlimit type the kernel does not have is an error', function () {
      expectCreateFails((c) => (c.process!.rlimits = [{ type: 'RLIMIT_CONFORMANCE', soft: 1, hard: 1 }]), 'create with RLIMIT_CONFORMANCE');
    });

    clause('config.process.rlimits.values', 'each rlimit\'s soft and hard values are what getrlimit reports in the container', function () {
      const out = runScriptOk('cat /proc/self/limits', {
        mutate: (c) =>
          (c.process!.rlimits = [
            { type: 'RLIMIT_NOFILE', soft: 1000, hard: 2000 },
            { type: 'RLIMIT_NPROC', soft: 3000, hard: 4000 },
            { type: 'RLIMIT_CORE', soft: 4096, hard: 8192 },
            { type: 'RLIMIT_MSGQUEUE', soft: 100000, hard: 200000 },
          ]),
      });
      const limits = parseLimits(out);
      expect(limits['Max open files'], out).to.deep.equal(['1000', '2000']);
      expect(limits['Max processes'], out).to.deep.equal(['3000', '4000']);
      expect(limits['Max core file size'], out).to.deep.equal(['4096', '8192']);
      expect(limits['Max msgqueue size'], out).to.deep.equal(['100000', '200000']);
    });

    clause('config.process.rlimits.duplicate-error', 'two rlimits of the same type are an error', function () {
      expectCreateFails(
        (c) =>
          (c.process!.rlimits = [
            { type: 'RLIMIT_NOFILE', soft: 1000, hard: 2000 },
            { type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 },
          ]),
        'create with RLIMIT_NOFILE twice',
      );
    });
  });

  clause('config.process.capabilities.warn-unavailable', 'a capability the runtime cannot grant is logged as a warning and the container still runs', function () {
    // A name that is no capability at all is a config error instead (as runc and the
    // runtime-tools process_capabilities_fail test expect); a real capability this
    // process cannot hand on (outside its own bounding set) is warned about and skipped.
    const cases: string[] = [];
    // CAP_SYS_RESOURCE is missing from the bounding set on some hosts: then it cannot be granted
    const capBnd = BigInt(`0x${/CapBnd:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`);
    if ((capBnd & (1n << 24n)) === 0n) cases.push('CAP_SYS_RESOURCE');
    if (cases.length === 0) this.skip();
    const problems: string[] = [];
    for (const cap of cases) {
      const b = makeBundle({
        args: ['true'],
        mutate: (c) => {
          const caps = ['CAP_KILL', cap];
          c.process!.capabilities = { bounding: caps, effective: caps, permitted: caps };
        },
      });
      const log = path.join(makeTempDir('log'), 'runtime.log');
      const r = rt(['--log', log, '--log-format', 'json', 'run', '--bundle', b.dir, uniqueId()]);
      if (r.status !== 0) {
        problems.push(`run with ${cap} failed: ${r.stderr.trim()}`);
        continue;
      }
      const entries = existsSync(log) ? readLogJson(log) : [];
      const warnings = entries.filter((e) => /^warn/i.test(String(e.level)) && String(e.msg).includes(cap));
      if (warnings.length === 0) problems.push(`no warning naming ${cap} in the log: ${JSON.stringify(entries)}`);
    }
    expectNoProblems(problems, 'capabilities that were not warned about and skipped');
  });

  clause('config.process.no-new-privileges', 'noNewPrivileges true sets no_new_privs; false leaves it clear', function () {
    const read = 'grep NoNewPrivs /proc/self/status';
    expect(runScriptOk(read, { mutate: (c) => (c.process!.noNewPrivileges = true) })).to.match(/NoNewPrivs:\s+1/);
    expect(runScriptOk(read, { mutate: (c) => (c.process!.noNewPrivileges = false) })).to.match(/NoNewPrivs:\s+0/);
  });

  describe('oomScoreAdj', function () {
    clause('config.process.oom-score-adj.set', 'oomScoreAdj is the container process\'s oom_score_adj', function () {
      expect(runScriptOk('cat /proc/self/oom_score_adj', { mutate: (c) => (c.process!.oomScoreAdj = 500) })).to.equal('500\n');
      expect(runScriptOk('cat /proc/self/oom_score_adj', { mutate: (c) => (c.process!.oomScoreAdj = 0) })).to.equal('0\n');
    });

    clause('config.process.oom-score-adj.unset', 'without oomScoreAdj the container keeps the runtime\'s oom_score_adj', function () {
      // the runtime is started with oom_score_adj 321 (raising it needs no privilege)
      const b = makeBundle({ args: ['cat', '/proc/self/oom_score_adj'], mutate: (c) => delete c.process!.oomScoreAdj });
      const r = rtVia('echo 321 > /proc/self/oom_score_adj', ['run', '--bundle', b.dir, uniqueId()]);
      expect(r.status, describeResult(r)).to.equal(0);
      expect(r.stdout).to.equal('321\n');
    });
  });

  describe('user', function () {
    clause('config.process.user.uid-gid', 'the program runs with user.uid and user.gid', function () {
      const out = runScriptOk('echo "$(id -u) $(id -g)"', { mutate: (c) => (c.process!.user = { uid: 1234, gid: 5678 }) });
      expect(out).to.equal('1234 5678\n');
    });

    clause('config.process.user.additional-gids', 'the program has user.additionalGids as supplementary groups', function () {
      const out = runScriptOk('grep ^Groups: /proc/self/status', { mutate: (c) => (c.process!.user = { uid: 1000, gid: 1000, additionalGids: [5, 6, 4242] }) });
      const groups = out.replace(/^Groups:\s*/, '').trim().split(/\s+/).map(Number);
      expect(groups, out).to.include.members([5, 6, 4242]);
    });

    clause('config.process.user.umask', 'the program runs with user.umask', function () {
      expect(runScriptOk('umask', { mutate: (c) => (c.process!.user = { uid: 0, gid: 0, umask: 0o027 }) })).to.equal('0027\n');
      expect(runScriptOk('umask', { mutate: (c) => (c.process!.user = { uid: 0, gid: 0, umask: 0o002 }) })).to.equal('0002\n');
    });
  });
});

describe('config.md: hostname and domainname', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  clause('config.hostname', 'the container\'s hostname is config.hostname', function () {
    expect(runScriptOk('hostname', { mutate: (c) => (c.hostname = 'conformance-host') })).to.equal('conformance-host\n');
  });

  clause('config.domainname', 'the container\'s domainname is config.domainname', function () {
    expect(runScriptOk('cat /proc/sys/kernel/domainname', { mutate: (c) => (c.domainname = 'conformance.example') })).to.equal('conformance.example\n');
  });
});
