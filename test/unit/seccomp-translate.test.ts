// linux.seccomp -> the addon's input (src/linux/seccomp.ts): the translation tables, runc's
// rule shaping and the config errors; and, through libseccomp, the compiled program.
import { expect } from 'chai';
import { compileSeccomp, translateSeccomp } from '../../src/linux/seccomp.js';
import type { LinuxSeccomp } from '../../src/spec/types.js';
import { ConfigError } from '../../src/util/errors.js';
import { killUsr1OrUsr2 } from '../helpers/config-fixtures.js';

const profile = (p: Partial<LinuxSeccomp>): LinuxSeccomp => ({ defaultAction: 'SCMP_ACT_ALLOW', ...p }) as LinuxSeccomp;

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('seccomp translation', function () {
  it('maps every action to its SECCOMP_RET value, errno in the low bits (EPERM by default)', function () {
    const t = translateSeccomp(
      profile({
        defaultAction: 'SCMP_ACT_ERRNO',
        defaultErrnoRet: 38,
        syscalls: [
          { names: ['a'], action: 'SCMP_ACT_KILL' },
          { names: ['b'], action: 'SCMP_ACT_KILL_PROCESS' },
          { names: ['c'], action: 'SCMP_ACT_KILL_THREAD' },
          { names: ['d'], action: 'SCMP_ACT_TRAP' },
          { names: ['e'], action: 'SCMP_ACT_ERRNO' },
          { names: ['f'], action: 'SCMP_ACT_TRACE', errnoRet: 5 },
          { names: ['g'], action: 'SCMP_ACT_ALLOW' },
          { names: ['h'], action: 'SCMP_ACT_LOG' },
          { names: ['i'], action: 'SCMP_ACT_NOTIFY' },
        ],
        listenerPath: '/run/agent.sock',
      }),
    );
    expect(t.defaultAction).to.equal(0x00050000 + 38);
    expect(Object.fromEntries(t.rules.map((r) => [r.syscall, r.action]))).to.deep.equal({
      a: 0,
      b: 0x80000000,
      c: 0,
      d: 0x00030000,
      e: 0x00050001,
      f: 0x7ff00005,
      g: 0x7fff0000,
      h: 0x7ffc0000,
      i: 0x7fc00000,
    });
    expect(t.notify).to.equal(true);
  });

  it('skips rules with the default action (libseccomp refuses them), comparing errnos too', function () {
    const t = translateSeccomp(
      profile({
        defaultAction: 'SCMP_ACT_ERRNO',
        syscalls: [
          { names: ['same'], action: 'SCMP_ACT_ERRNO' },
          { names: ['same2'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
          { names: ['other'], action: 'SCMP_ACT_ERRNO', errnoRet: 2 },
        ],
      }),
    );
    expect(t.rules.map((r) => r.syscall)).to.deep.equal(['other']);
  });

  it('one rule per name; conditions on distinct arguments stay together (AND)', function () {
    const t = translateSeccomp(
      profile({
        syscalls: [
          {
            names: ['x', 'y'],
            action: 'SCMP_ACT_ERRNO',
            args: [
              { index: 0, value: 1, op: 'SCMP_CMP_EQ' },
              { index: 1, value: 0o7, valueTwo: 0o2, op: 'SCMP_CMP_MASKED_EQ' },
            ],
          },
        ],
      }),
    );
    expect(t.rules).to.have.length(2);
    expect(t.rules[0]!.args).to.deep.equal([
      { index: 0, op: 4, value: 1n, valueTwo: 0n },
      { index: 1, op: 7, value: 7n, valueTwo: 2n },
    ]);
  });

  it('several conditions on the same argument become one rule each (OR), as runc does', function () {
    const t = translateSeccomp(
      profile({
        syscalls: [killUsr1OrUsr2()],
      }),
    );
    expect(t.rules.map((r) => r.args.map((a) => a.value))).to.deep.equal([[10n], [12n]]);
  });

  it('operators, architectures and flags come from tables', function () {
    const ops = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'];
    const t = translateSeccomp(
      profile({
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
        flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
        syscalls: [{ names: ['x'], action: 'SCMP_ACT_ERRNO', args: ops.map((op, i) => ({ index: i % 6, value: i, op })) as never }],
      }),
    );
    expect(t.architectures).to.deep.equal(['x86_64', 'x86', 'x32']);
    expect(t.flags).to.equal(2 | 4);
    // index 0 is used twice (the 1st and 7th): split into single-condition rules
    expect(t.rules.flatMap((r) => r.args.map((a) => a.op))).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
  });

  it('WAIT_KILLABLE_RECV is kept with a listener and dropped without one (the kernel refuses it alone)', function () {
    const flags: LinuxSeccomp['flags'] = ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'];
    expect(translateSeccomp(profile({ flags })).flags).to.equal(0);
    const notify = translateSeccomp(
      profile({ flags, listenerPath: '/x', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }),
    );
    expect(notify.flags).to.equal(32);
  });

  describe('config errors name the field', function () {
    const cases: [string, Partial<LinuxSeccomp>, string, RegExp][] = [
      ['unknown default action', { defaultAction: 'SCMP_ACT_NOPE' as never }, 'linux.seccomp.defaultAction', /unknown seccomp action "SCMP_ACT_NOPE"/],
      ['unknown rule action', { syscalls: [{ names: ['x'], action: 'SCMP_ACT_NOPE' as never }] }, 'linux.seccomp.syscalls[0].action', /unknown seccomp action/],
      [
        'unknown operator',
        { syscalls: [{ names: ['x'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0, op: 'SCMP_CMP_NOPE' as never }] }] },
        'linux.seccomp.syscalls[0].args[0].op',
        /unknown seccomp operator "SCMP_CMP_NOPE"/,
      ],
      [
        'argument index out of range',
        { syscalls: [{ names: ['x'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }] }] },
        'linux.seccomp.syscalls[0].args[0].index',
        /0 to 5/,
      ],
      ['unknown architecture', { architectures: ['SCMP_ARCH_VAX' as never] }, 'linux.seccomp.architectures[0]', /unknown seccomp architecture/],
      ['unknown flag', { flags: ['SECCOMP_FILTER_FLAG_NOPE' as never] }, 'linux.seccomp.flags[0]', /unknown seccomp flag/],
      ['errnoRet on an action without one', { syscalls: [{ names: ['x'], action: 'SCMP_ACT_ALLOW', errnoRet: 1 }] }, 'linux.seccomp.syscalls[0].errnoRet', /does not take an errno/],
      ['defaultErrnoRet on a default without one', { defaultAction: 'SCMP_ACT_KILL', defaultErrnoRet: 1 }, 'linux.seccomp.defaultErrnoRet', /does not take an errno/],
      ['notify as the default action', { defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/x' }, 'linux.seccomp.defaultAction', /cannot be used as the default action/],
      ['notify without a listener', { syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }, 'linux.seccomp.listenerPath', /required/],
      [
        'notify on the syscall that hands the listener over',
        { listenerPath: '/x', syscalls: [{ names: ['mkdir', 'sendmsg'], action: 'SCMP_ACT_NOTIFY' }] },
        'linux.seccomp.syscalls[0].names[1]',
        /sendmsg/,
      ],
    ];
    for (const [what, p, field, message] of cases) {
      it(what, function () {
        const err = configError(() => translateSeccomp(profile(p)));
        expect(err.field).to.equal(field);
        expect(err.message).to.match(message);
      });
    }
  });
});

describe('seccomp compilation (libseccomp)', function () {
  it('returns classic BPF (8-byte instructions) and names the syscalls libseccomp does not know', function () {
    const c = compileSeccomp(
      profile({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', 'no_such_syscall_xyz', 'write'], action: 'SCMP_ACT_ALLOW' }] }),
    )!;
    expect(c.plan.bpf.length % 8).to.equal(0);
    expect(c.plan.bpf.length).to.be.above(0);
    expect(c.unknownSyscalls).to.deep.equal(['no_such_syscall_xyz']);
  });

  it('extra architectures make a longer program', function () {
    const base = profile({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] });
    const one = compileSeccomp(base)!.plan.bpf.length;
    const three = compileSeccomp({ ...base, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'] })!.plan.bpf.length;
    expect(three).to.be.above(one);
  });

  it('no profile, no plan', function () {
    expect(compileSeccomp(undefined)).to.equal(null);
  });
});
