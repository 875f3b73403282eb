// Global flags and the command line itself: --root, --log / --log-format, --debug,
// --systemd-cgroup, --help, --version, argument counts, unknown flags.
import { expect } from 'chai';
import { existsSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { makeBundle } from '../../helpers/bundle.js';
import { makeTempDir } from '../../helpers/context.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireRoot, skipWith } from '../../helpers/privileges.js';
import { describeResult, readLogJson, rt, rtOk, state, testRoot, uniqueId } from '../../helpers/runtime.js';
import { cleanUpAfterFailure, expectFailure, lines, listedIds, messages, rootEntries, skipUnderRunc, stateOrNull } from './support.js';

/** RFC 3339 as runc's logrus writes it (seconds, `Z` or an offset). */
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

describe('cli: --root', function () {
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
  });

  it('keeps the container\'s state under the given root, invisible from another root', function () {
    const b = makeBundle({ args: ['true'] });
    const id = uniqueId();
    const other = makeTempDir('root');
    rtOk(['create', '--bundle', b.dir, id]);
    expect(readdirSync(testRoot())).to.deep.equal([id]);
    expect(listedIds(other)).to.deep.equal([]);
    expect(stateOrNull(id, other)).to.equal(null);
    expect(listedIds()).to.deep.equal([id]);
    rtOk(['delete', '--force', id]);
  });

  it('a root directory that does not exist yet is created', function () {
    const b = makeBundle({ args: ['true'] });
    const id = uniqueId();
    // A root temp dir (where the leak checker looks for state) removed again before use.
    const root = makeTempDir('root');
    rmdirSync(root);
    rtOk(['create', '--bundle', b.dir, id], { root });
    expect(existsSync(path.join(root, id))).to.equal(true);
    rtOk(['delete', '--force', id], { root });
    expect(readdirSync(root)).to.deep.equal([]);
  });
});

describe('cli: --log, --log-format, --debug', function () {
  useLeakCheck();
  cleanUpAfterFailure();

  const logFile = () => path.join(makeTempDir('log'), 'runtime.log');

  it('--log-format json: every line is a JSON object with level, msg and time', function () {
    const log = logFile();
    expectFailure(rt(['--log', log, '--log-format', 'json', 'state', 'no-such-ctr']));
    const entries = readLogJson(log);
    expect(entries).to.have.length.above(0);
    for (const e of entries) {
      expect(e).to.have.all.keys('level', 'msg', 'time');
      expect(e.time).to.match(RFC3339);
    }
    expect(entries.at(-1)).to.include({ level: 'error', msg: 'container does not exist' });
  });

  it('--log-format text: logfmt lines time="..." level=... msg="..."', function () {
    const log = logFile();
    expectFailure(rt(['--log', log, '--log-format', 'text', 'state', 'no-such-ctr']));
    const logLines = lines(readFileSync(log, 'utf8'));
    expect(logLines).to.have.length.above(0);
    for (const l of logLines) expect(l).to.match(/^time="[^"]+" level=\w+ msg=".*"$/);
    expect(logLines.at(-1)).to.match(/level=error msg="container does not exist"$/);
  });

  it('--log appends: earlier lines are kept', function () {
    const log = logFile();
    expectFailure(rt(['--log', log, '--log-format', 'json', 'state', 'first-ctr']));
    expectFailure(rt(['--log', log, '--log-format', 'json', 'state', 'second-ctr']));
    expect(readLogJson(log).filter((e) => e.level === 'error')).to.have.length(2);
  });

  it('with --log, the error is still printed on stderr (plainly)', function () {
    const log = logFile();
    const r = expectFailure(rt(['--log', log, '--log-format', 'json', 'state', 'no-such-ctr']));
    expect(messages(r.stderr)).to.deep.equal(['container does not exist']);
  });

  it('the last error line of a failed create is the real cause', function () {
    requireRoot(this);
    const log = logFile();
    const b = makeBundle({ args: ['no-such-binary-xyz'] });
    expectFailure(rt(['--log', log, '--log-format', 'json', 'create', '--bundle', b.dir, uniqueId()]));
    const errors = readLogJson(log).filter((e) => e.level === 'error');
    expect(errors.at(-1)?.msg).to.include('exec: "no-such-binary-xyz": executable file not found in $PATH');
  });

  it('an unknown --log-format fails', function () {
    const r = expectFailure(rt(['--log-format', 'xml', 'list']));
    expect(r.stderr).to.include('invalid log-format');
  });

  it('--debug adds debug lines to the log', function () {
    requireRoot(this);
    const log = logFile();
    const b = makeBundle({ args: ['true'] });
    rtOk(['--log', log, '--log-format', 'json', '--debug', 'run', '--bundle', b.dir, uniqueId()]);
    expect(readLogJson(log).filter((e) => e.level === 'debug')).to.have.length.above(0);
  });

  it('without --debug there are no debug lines', function () {
    requireRoot(this);
    const log = logFile();
    const b = makeBundle({ args: ['true'] });
    rtOk(['--log', log, '--log-format', 'json', 'run', '--bundle', b.dir, uniqueId()]);
    expect(readLogJson(log).filter((e) => e.level === 'debug')).to.deep.equal([]);
  });
});

describe('cli: --systemd-cgroup, --help, --version, arguments', function () {
  useLeakCheck();
  cleanUpAfterFailure();

  it('--systemd-cgroup on a host without systemd: other commands work, create fails in one line and creates nothing', function () {
    skipUnderRunc(this, 'runc fails later, on the D-Bus connection');
    requireRoot(this);
    if (existsSync('/run/systemd/system')) skipWith(this, 'systemd runs here: test/hosts covers the driver');
    expect(rt(['--systemd-cgroup', 'list']).status).to.equal(0);
    const b = makeBundle({ args: ['true'] });
    const r = expectFailure(rt(['--systemd-cgroup', 'create', '--bundle', b.dir, uniqueId()]));
    expect(messages(r.stderr)).to.deep.equal(['--systemd-cgroup: systemd is not running on this host (no /run/systemd/system); use the cgroupfs driver (no --systemd-cgroup)']);
    expect(rootEntries()).to.deep.equal([]);
  });

  it('--help prints usage listing the commands and exits 0', function () {
    const r = rt(['--help']);
    expect(r.status, describeResult(r)).to.equal(0);
    for (const cmd of ['create', 'start', 'run', 'state', 'kill', 'delete', 'list', 'spec']) {
      expect(r.stdout).to.match(new RegExp(`^\\s+${cmd}\\s`, 'm'));
    }
  });

  it('COMMAND --help prints that command\'s flags and exits 0', function () {
    const r = rt(['create', '--help']);
    expect(r.status, describeResult(r)).to.equal(0);
    for (const f of ['--bundle', '--console-socket', '--pid-file', '--no-pivot', '--no-new-keyring', '--preserve-fds']) {
      expect(r.stdout).to.include(f);
    }
  });

  it('--version: first line "ts-runc version X", and a "spec: 1.3.0" line', function () {
    skipUnderRunc(this, 'runc says "runc version X" and its own spec version');
    const r = rt(['--version']);
    expect(r.status, describeResult(r)).to.equal(0);
    const out = lines(r.stdout);
    expect(out[0]).to.match(/^ts-runc version \S+$/);
    expect(out).to.include('spec: 1.3.0');
  });

  for (const [cmd, rule] of [
    ['create', 'exactly 1'],
    ['start', 'exactly 1'],
    ['state', 'exactly 1'],
    ['delete', 'exactly 1'],
    ['kill', 'a minimum of 1'],
  ] as const) {
    it(`\`${cmd}\` without a container ID fails`, function () {
      const r = expectFailure(rt([cmd]));
      expect(messages(r.stderr).join('\n')).to.include(`"${cmd}" requires ${rule} argument(s)`);
    });
  }

  it('an unknown flag fails and does nothing', function () {
    requireRoot(this);
    const b = makeBundle({ args: ['true'] });
    const r = expectFailure(rt(['create', '--no-such-flag', '--bundle', b.dir, uniqueId()]));
    expect(r.stderr).to.include('flag provided but not defined: -no-such-flag');
    expect(rootEntries()).to.deep.equal([]);
  });

  it('state output is a single JSON document on stdout', function () {
    requireRoot(this);
    const b = makeBundle({ args: ['true'] });
    const id = uniqueId();
    rtOk(['create', '--bundle', b.dir, id]);
    const r = rt(['state', id]);
    expect(r.stderr).to.equal('');
    expect(JSON.parse(r.stdout)).to.deep.equal(state(id));
    rtOk(['delete', '--force', id]);
  });
});
