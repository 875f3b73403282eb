// linux.seccomp inside real containers: a Docker-default-shaped allow-list (our own,
// fixtures/default-shaped-seccomp.json), denied calls failing with the configured errno,
// argument conditions, every action, the flags, and SCMP_ACT_NOTIFY with a live agent.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type OciConfig, makeBundle } from '../../helpers/bundle.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { makeTempDir } from '../../helpers/context.js';
import { killUsr1OrUsr2 } from '../../helpers/config-fixtures.js';
import { requireCommand, requireRoot } from '../../helpers/privileges.js';
import { describeResult } from '../../helpers/runtime.js';
import { type SeccompAgent, keyValues, oneLineError, procStatus, runBundle, runSh, runShOk, shBundle, startSeccompAgent } from './support.js';

/** A static program that makes raw syscall <nr> and prints "<nr> <errno>" (busybox cannot). */
const RAW_SYSCALL_C = `#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    long nr = atol(argv[i]);
    errno = 0;
    long r = syscall(nr, -1L, 0L, 0L, 0L, 0L, 0L);
    printf("%ld %d\\n", nr, r < 0 ? errno : 0);
  }
  return 0;
}
`;
let rawSyscallBinary: string | undefined;
function rawSyscall(): string {
  if (!rawSyscallBinary) {
    const dir = makeTempDir('rawsyscall', { runScoped: true });
    writeFileSync(`${dir}/raw.c`, RAW_SYSCALL_C);
    execFileSync('gcc', ['-static', '-O2', '-o', `${dir}/raw-syscall`, `${dir}/raw.c`]);
    rawSyscallBinary = `${dir}/raw-syscall`;
  }
  return rawSyscallBinary;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DEFAULT_SHAPED = JSON.parse(readFileSync(path.join(HERE, 'fixtures/default-shaped-seccomp.json'), 'utf8'));

const SIGSYS_EXIT = 128 + 31;

type Seccomp = Record<string, any>;
const withSeccomp = (seccomp: Seccomp, extra?: (c: OciConfig) => void) => (c: OciConfig) => {
  c.linux!.seccomp = seccomp;
  c.root!.readonly = false;
  extra?.(c);
};
/** The Docker-shaped profile plus extra rules in front. */
const defaultShaped = (...extra: Seccomp[]): Seccomp => ({ ...DEFAULT_SHAPED, syscalls: [...extra, ...DEFAULT_SHAPED.syscalls] });
/** Allow everything but apply `action` to chdir (the `cd` builtin runs it in the shell itself). */
const onChdir = (action: string, more: Seccomp = {}): Seccomp => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [{ names: ['chdir'], action, ...more }],
});

describe('seccomp', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  describe('a Docker-default-shaped profile (large allow-list with argument filters)', function () {
    it('an ordinary shell workload runs under it, with the filter in place', function () {
      const out = runShOk(
        'echo hi > /tmp/f && cat /tmp/f && ls / >/dev/null && echo list=ok; ' +
          'grep -E "^(Seccomp|Seccomp_filters|NoNewPrivs):" /proc/self/status; echo arch32=$(linux32 uname -m)',
        withSeccomp(DEFAULT_SHAPED),
      );
      const kv = keyValues(out);
      expect(out).to.include('hi\n');
      expect(kv.list).to.equal('ok');
      const status = procStatus(out);
      expect(status.Seccomp, 'filter mode').to.equal('2');
      // personality(PER_LINUX32) is allowed by an EQ argument rule
      expect(kv.arch32).to.equal('i686');
    });

    it('a syscall outside the allow-list fails with defaultErrnoRet (EPERM)', function () {
      const out = runShOk('unshare -U true 2>&1; echo rc=$?', withSeccomp(DEFAULT_SHAPED));
      expect(out).to.match(/Operation not permitted/);
      expect(keyValues(out).rc).to.not.equal('0');
    });

    it('forks pass the clone rule (MASKED_EQ: no CLONE_NEW* flag set)', function () {
      const out = runShOk('(echo child-ran); echo ok=$?', withSeccomp(DEFAULT_SHAPED));
      expect(out).to.equal('child-ran\nok=0\n');
    });

    it('a rule with its own errnoRet wins over the allow-list: mkdir fails with EDQUOT', function () {
      const out = runShOk(
        'mkdir /tmp/d 2>&1; echo rc=$?; touch /tmp/f && echo touch=ok',
        withSeccomp(defaultShaped({ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 122 })),
      );
      expect(out).to.match(/can't create directory '\/tmp\/d': Disk quota exceeded/);
      expect(keyValues(out).rc).to.equal('1');
      expect(keyValues(out).touch).to.equal('ok');
    });

    it('defaultErrnoRet applies to everything not listed (ENOSYS here)', function () {
      const out = runShOk('unshare -U true 2>&1; echo rc=$?', withSeccomp({ ...DEFAULT_SHAPED, defaultErrnoRet: 38 }));
      expect(out).to.match(/Function not implemented/);
    });
  });

  describe("runc's -ENOSYS stub", function () {
    // The Docker-shaped list without its newest syscalls: its highest x86_64 number is then
    // openat2 (437). 452 (fchmodat2) is newer than the profile; 272 (unshare) is older and
    // simply not allowed.
    const NEWEST = ['faccessat2', 'epoll_pwait2', 'landlock_add_rule', 'landlock_create_ruleset', 'landlock_restrict_self', 'process_mrelease', 'futex_waitv', 'fchmodat2'];
    const olderProfile = (architectures: string[]) => ({
      ...DEFAULT_SHAPED,
      architectures,
      syscalls: [
        { ...DEFAULT_SHAPED.syscalls[0], names: DEFAULT_SHAPED.syscalls[0].names.filter((n: string) => !NEWEST.includes(n)) },
        ...DEFAULT_SHAPED.syscalls.slice(1),
      ],
    });
    const raw = (architectures: string[]) => {
      const b = makeBundle({ args: ['/raw-syscall', '452', '272'], mutate: withSeccomp(olderProfile(architectures)) });
      copyFileSync(rawSyscall(), `${b.rootfs}/raw-syscall`);
      execFileSync('chmod', ['755', `${b.rootfs}/raw-syscall`]);
      const r = runBundle(b);
      expect(r.status, describeResult(r)).to.equal(0);
      return Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]));
    };

    beforeEach(function () {
      requireCommand(this, 'gcc');
    });

    it('a syscall newer than every one the profile names fails with ENOSYS, an older unlisted one with the default errno', function () {
      expect(raw(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'])).to.deep.equal({ 452: '38', 272: '1' });
    });

    it('without architectures in the profile there is no stub (as runc): the default errno for both', function () {
      expect(raw([])).to.deep.equal({ 452: '1', 272: '1' });
    });
  });

  describe('argument conditions', function () {
    // Each renice in a fresh shell, from niceness 0 (raising it needs no capability).
    const nice = (n: number) => `sh -c 'renice ${n} -p $$' 2>/dev/null && echo n${n}=ok || echo n${n}=denied`;
    const cases: [string, number, number, number][] = [
      // op, value, an allowed niceness, a denied niceness (setpriority's 3rd argument)
      ['SCMP_CMP_EQ', 7, 6, 7],
      ['SCMP_CMP_NE', 7, 7, 6],
      ['SCMP_CMP_GT', 7, 7, 8],
      ['SCMP_CMP_GE', 7, 6, 7],
      ['SCMP_CMP_LT', 7, 7, 6],
      ['SCMP_CMP_LE', 7, 8, 7],
    ];
    for (const [op, value, allowed, denied] of cases) {
      it(`${op} ${value}: niceness ${allowed} allowed, ${denied} denied`, function () {
        const out = runShOk(
          `${nice(allowed)}; ${nice(denied)}`,
          withSeccomp({
            defaultAction: 'SCMP_ACT_ALLOW',
            syscalls: [{ names: ['setpriority'], action: 'SCMP_ACT_ERRNO', args: [{ index: 2, value, op }] }],
          }),
        );
        const kv = keyValues(out);
        expect(kv[`n${allowed}`], out).to.equal('ok');
        expect(kv[`n${denied}`], out).to.equal('denied');
      });
    }

    it('SCMP_CMP_MASKED_EQ: chmod to a world-writable mode is denied, 0755 is not', function () {
      const masked = (index: number) => ({ index, value: 0o002, valueTwo: 0o002, op: 'SCMP_CMP_MASKED_EQ' });
      const out = runShOk(
        'exec 2>&1; touch /tmp/f; chmod 777 /tmp/f; echo open=$?; chmod 755 /tmp/f; echo closed=$?; stat -c mode=%a /tmp/f',
        withSeccomp({
          defaultAction: 'SCMP_ACT_ALLOW',
          syscalls: [
            { names: ['chmod'], action: 'SCMP_ACT_ERRNO', errnoRet: 122, args: [masked(1)] },
            { names: ['fchmodat', 'fchmodat2'], action: 'SCMP_ACT_ERRNO', errnoRet: 122, args: [masked(2)] },
          ],
        }),
      );
      const kv = keyValues(out);
      expect(out).to.match(/Disk quota exceeded/);
      expect(kv).to.include({ open: '1', closed: '0', mode: '755' });
    });

    it('two conditions on the same argument mean either (as runc): USR1 and USR2 denied, TERM not', function () {
      const out = runShOk(
        'sleep 30 & p=$!; kill -USR1 $p 2>/dev/null; echo usr1=$?; kill -USR2 $p 2>/dev/null; echo usr2=$?; kill -TERM $p; echo term=$?',
        withSeccomp({
          defaultAction: 'SCMP_ACT_ALLOW',
          syscalls: [killUsr1OrUsr2()],
        }),
      );
      expect(keyValues(out)).to.include({ usr1: '1', usr2: '1', term: '0' });
    });
  });

  describe('actions', function () {
    const script = 'exec 2>&1; echo before; cd /tmp; echo after=$?';

    for (const action of ['SCMP_ACT_KILL', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_KILL_PROCESS']) {
      it(`${action}: the process is killed by SIGSYS at the call`, function () {
        const r = runSh(script, withSeccomp(onChdir(action)));
        expect(r.status, describeResult(r)).to.equal(SIGSYS_EXIT);
        expect(r.stdout).to.equal('before\n');
      });
    }

    it('SCMP_ACT_TRAP: SIGSYS is delivered and can be handled; the call does not happen', function () {
      const r = runSh(`trap 'echo trapped' SYS; ${script}; pwd`, withSeccomp(onChdir('SCMP_ACT_TRAP')));
      expect(r.status, describeResult(r)).to.equal(0);
      expect(r.stdout).to.include('trapped');
      expect(r.stdout.trim().split('\n').pop()).to.equal('/');
    });

    it('SCMP_ACT_TRAP without a handler: killed by SIGSYS', function () {
      const r = runSh(script, withSeccomp(onChdir('SCMP_ACT_TRAP')));
      expect(r.status, describeResult(r)).to.equal(SIGSYS_EXIT);
    });

    it('SCMP_ACT_ERRNO: the call fails with errnoRet', function () {
      const out = runShOk(`${script} 2>&1`, withSeccomp(onChdir('SCMP_ACT_ERRNO', { errnoRet: 13 })));
      expect(out).to.match(/can't cd to \/tmp: Permission denied/);
    });

    it('SCMP_ACT_TRACE with no tracer attached: the call fails with ENOSYS', function () {
      const out = runShOk(`${script} 2>&1`, withSeccomp(onChdir('SCMP_ACT_TRACE', { errnoRet: 1 })));
      expect(out).to.match(/can't cd to \/tmp: Function not implemented/);
    });

    it('SCMP_ACT_LOG: the call is allowed', function () {
      const out = runShOk(`${script}; pwd`, withSeccomp(onChdir('SCMP_ACT_LOG')));
      expect(out).to.equal('before\nafter=0\n/tmp\n');
    });

    it('SCMP_ACT_ALLOW under a denying default: only the allowed call works', function () {
      const out = runShOk('cd /tmp && echo cd=ok', (c) => {
        // allow the Docker-shaped list minus chdir, plus chdir explicitly
        const list = { ...DEFAULT_SHAPED.syscalls[0], names: DEFAULT_SHAPED.syscalls[0].names.filter((n: string) => n !== 'chdir') };
        withSeccomp({ ...DEFAULT_SHAPED, syscalls: [list, ...DEFAULT_SHAPED.syscalls.slice(1), { names: ['chdir'], action: 'SCMP_ACT_ALLOW' }] })(c);
      });
      expect(keyValues(out).cd).to.equal('ok');
    });
  });

  describe('flags, architectures, names', function () {
    for (const flag of ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW']) {
      it(`${flag} is accepted and the filter still applies`, function () {
        const out = runShOk(`${script()} 2>&1`, withSeccomp({ ...onChdir('SCMP_ACT_ERRNO', { errnoRet: 13 }), flags: [flag] }));
        expect(out).to.match(/Permission denied/);
      });
    }
    function script() {
      return 'exec 2>&1; cd /tmp; echo after=$?';
    }

    it('architectures: x86, x32 and x86_64 together', function () {
      const out = runShOk(`${script()} 2>&1`, withSeccomp({
        ...onChdir('SCMP_ACT_ERRNO', { errnoRet: 13 }),
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      }));
      expect(out).to.match(/Permission denied/);
    });

    it('syscall names libseccomp does not know are skipped (as runc does)', function () {
      const out = runShOk(`${script()} 2>&1`, withSeccomp({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['no_such_syscall_at_all', 'chdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
      }));
      expect(out).to.match(/Permission denied/);
    });

    it('an errnoRet on an action without one fails naming the field, nothing left behind', function () {
      const r = runSh('true', withSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['chdir'], action: 'SCMP_ACT_KILL', errnoRet: 1 }] }));
      expect(r.status).to.not.equal(0);
      expect(oneLineError(r)).to.match(/linux\.seccomp\.syscalls\[0\]\.errnoRet: SCMP_ACT_KILL does not take an errno/);
    });

    it('an unknown action fails naming the field', function () {
      const r = runSh('true', withSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['chdir'], action: 'SCMP_ACT_WHATEVER' }] }));
      expect(r.status).to.not.equal(0);
      expect(oneLineError(r)).to.match(/linux\.seccomp\.syscalls\[0\]\.action/);
    });
  });

  describe('SCMP_ACT_NOTIFY', function () {
    let agent: SeccompAgent | undefined;
    beforeEach(function () {
      requireCommand(this, 'python3');
    });
    afterEach(async function () {
      await agent?.stop();
      agent = undefined;
    });

    const notifyProfile = (a: SeccompAgent, flags: string[] = []): Seccomp => ({
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: a.socketPath,
      listenerMetadata: 'MKDIR=deny-with-EXDEV',
      flags,
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
    });

    it('the agent gets the fd and the container process state; its answer is what the call returns', async function () {
      agent = await startSeccompAgent(18 /* EXDEV */);
      const b = shBundle('mkdir /tmp/x 2>&1; echo rc=$?', withSeccomp(notifyProfile(agent), (c) => {
        c.annotations = { 'org.example/key': 'value' };
      }));
      const r = runBundle(b);
      expect(r.status, describeResult(r)).to.equal(0);
      expect(r.stdout).to.match(/can't create directory '\/tmp\/x': Invalid cross-device link/);
      const got = await agent.result();
      expect(got.nfds).to.equal(1);
      const doc = got.state;
      expect(doc.ociVersion).to.be.a('string');
      expect(doc.fds).to.deep.equal(['seccompFd']);
      expect(doc.metadata).to.equal('MKDIR=deny-with-EXDEV');
      expect(doc.pid).to.be.a('number').above(1);
      expect(doc.state.status).to.equal('creating');
      expect(doc.state.pid).to.equal(doc.pid);
      expect(doc.state.bundle).to.equal(b.dir);
      expect(doc.state.annotations).to.deep.equal({ 'org.example/key': 'value' });
      expect(got.handled.length).to.be.above(0);
    });

    it('a "continue" answer lets the call through; WAIT_KILLABLE_RECV is accepted with a listener', async function () {
      agent = await startSeccompAgent('continue');
      const out = runShOk('mkdir /tmp/x && echo made', withSeccomp(notifyProfile(agent, ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'])));
      expect(out).to.equal('made\n');
      expect((await agent.result()).handled.length).to.be.above(0);
    });

    it('a listener that is not there fails the create with one line, nothing left behind', function () {
      const r = runSh('true', withSeccomp({
        defaultAction: 'SCMP_ACT_ALLOW',
        listenerPath: '/nonexistent/agent.sock',
        syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }],
      }));
      expect(r.status).to.not.equal(0);
      expect(oneLineError(r)).to.match(/\/nonexistent\/agent\.sock/);
    });
  });
});
