// linux.seccomp -> SeccompPlan: the OCI profile translated into numbers (tables below),
// compiled to classic BPF by libseccomp in the addon (a host fact: src/linux/specconv/
// host-facts.ts), loaded by the child right before execve. Policy decisions, in runc's terms:
//
// - syscall names libseccomp cannot resolve are skipped (a profile written for a newer
//   kernel or another architecture), as runc does;
// - a rule with the same action as the default is redundant and skipped (libseccomp
//   would refuse it);
// - several conditions on the same argument become one rule each (OR), otherwise the
//   conditions of an entry form one rule (AND) — runc's long-standing behaviour;
// - syscalls newer than every one the profile names fail with ENOSYS on the architectures
//   it lists (runc's "-ENOSYS stub"), unless the default action lets calls through;
// - an unknown action, operator, architecture or flag is a config error naming the field.
import type { SeccompCompileInput } from '../native/addon.js';
import { native } from '../native/addon.js';
import type { SeccompPlan } from '../native/plan-types.js';
import type { LinuxSeccomp } from '../spec/types.js';
import { ConfigError } from '../util/errors.js';

const EPERM = 1;

interface ActionInfo {
  /** SECCOMP_RET_* value; the low 16 bits carry the errno for errno-taking actions. */
  value: number;
  takesErrno: boolean;
}

export const SECCOMP_ACTIONS: Readonly<Record<string, ActionInfo>> = {
  SCMP_ACT_KILL: { value: 0x00000000, takesErrno: false }, // = KILL_THREAD
  SCMP_ACT_KILL_THREAD: { value: 0x00000000, takesErrno: false },
  SCMP_ACT_KILL_PROCESS: { value: 0x80000000, takesErrno: false },
  SCMP_ACT_TRAP: { value: 0x00030000, takesErrno: false },
  SCMP_ACT_ERRNO: { value: 0x00050000, takesErrno: true },
  SCMP_ACT_TRACE: { value: 0x7ff00000, takesErrno: true },
  SCMP_ACT_LOG: { value: 0x7ffc0000, takesErrno: false },
  SCMP_ACT_ALLOW: { value: 0x7fff0000, takesErrno: false },
  SCMP_ACT_NOTIFY: { value: 0x7fc00000, takesErrno: false },
};

export const SCMP_ACT_NOTIFY = SECCOMP_ACTIONS.SCMP_ACT_NOTIFY!.value;

/** SCMP_CMP_* (enum scmp_compare in seccomp.h). */
export const SECCOMP_OPERATORS: Readonly<Record<string, number>> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

/** OCI architecture constants -> libseccomp's names (seccomp_arch_resolve_name). */
export const SECCOMP_ARCHES: Readonly<Record<string, string>> = {
  SCMP_ARCH_X86: 'x86',
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_ARM: 'arm',
  SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_MIPS: 'mips',
  SCMP_ARCH_MIPS64: 'mips64',
  SCMP_ARCH_MIPS64N32: 'mips64n32',
  SCMP_ARCH_MIPSEL: 'mipsel',
  SCMP_ARCH_MIPSEL64: 'mipsel64',
  SCMP_ARCH_MIPSEL64N32: 'mipsel64n32',
  SCMP_ARCH_PPC: 'ppc',
  SCMP_ARCH_PPC64: 'ppc64',
  SCMP_ARCH_PPC64LE: 'ppc64le',
  SCMP_ARCH_S390: 's390',
  SCMP_ARCH_S390X: 's390x',
  SCMP_ARCH_PARISC: 'parisc',
  SCMP_ARCH_PARISC64: 'parisc64',
  SCMP_ARCH_RISCV64: 'riscv64',
  SCMP_ARCH_LOONGARCH64: 'loongarch64',
  SCMP_ARCH_M68K: 'm68k',
  SCMP_ARCH_SH: 'sh',
  SCMP_ARCH_SHEB: 'sheb',
};

/**
 * SECCOMP_FILTER_FLAG_* bits for seccomp(2). TSYNC is accepted and ignored: the process
 * loading the filter is single-threaded (runc ignores it too). NEW_LISTENER is not a
 * profile flag: the child adds it when the filter has a notify rule.
 */
export const SECCOMP_FLAGS: Readonly<Record<string, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC: 0,
  SECCOMP_FILTER_FLAG_LOG: 1 << 1,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 1 << 2,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 1 << 5,
};
const WAIT_KILLABLE_RECV = SECCOMP_FLAGS.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV!;

/**
 * Syscalls the container process itself makes after loading the filter and before the
 * runtime holds the listener fd: notifying them would deadlock the start (the child sends
 * the fd with sendmsg). runc refuses `write` for the same reason.
 */
const NOTIFY_FORBIDDEN = new Set(['sendmsg']);

/** libseccomp switches to a binary tree above this many rules (runc's threshold). */
const OPTIMIZE_ABOVE = 32;

/**
 * Defaults that let unknown syscalls through (a tracer is expected to cope with new ones):
 * no ENOSYS stub for them, as with runc. Compared on the action without its errno/data.
 */
const ALLOWING_DEFAULTS = new Set(['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'].map((a) => SECCOMP_ACTIONS[a]!.value));
const actionBase = (value: number) => (value & 0xffff0000) >>> 0;

/** An action name (and errno) as the SECCOMP_RET_* value; fields name what to blame. */
function action(name: string, errnoRet: number | undefined, actionField: string, errnoField: string): number {
  const a = SECCOMP_ACTIONS[name];
  if (!a) throw new ConfigError(actionField, `unknown seccomp action "${name}"`);
  if (errnoRet !== undefined && !a.takesErrno) {
    throw new ConfigError(errnoField, `${name} does not take an errno`);
  }
  if (!a.takesErrno) return a.value;
  const errno = errnoRet ?? EPERM;
  if (!Number.isInteger(errno) || errno < 0 || errno > 0xffff) {
    throw new ConfigError(errnoField, `errno ${errno} out of range`);
  }
  return (a.value | errno) >>> 0;
}

/** The libseccomp input for a profile, with every name translated; no kernel involved. */
export function translateSeccomp(seccomp: LinuxSeccomp, field = 'linux.seccomp'): SeccompCompileInput & { flags: number; notify: boolean } {
  const defaultAction = action(seccomp.defaultAction, seccomp.defaultErrnoRet, `${field}.defaultAction`, `${field}.defaultErrnoRet`);
  if (defaultAction === SCMP_ACT_NOTIFY) {
    throw new ConfigError(`${field}.defaultAction`, 'SCMP_ACT_NOTIFY cannot be used as the default action');
  }
  const architectures = (seccomp.architectures ?? []).map((arch, i) => {
    const name = SECCOMP_ARCHES[arch];
    if (!name) throw new ConfigError(`${field}.architectures[${i}]`, `unknown seccomp architecture "${arch}"`);
    return name;
  });
  let flags = 0;
  (seccomp.flags ?? []).forEach((flag, i) => {
    const bit = SECCOMP_FLAGS[flag];
    if (bit === undefined) throw new ConfigError(`${field}.flags[${i}]`, `unknown seccomp flag "${flag}"`);
    flags |= bit;
  });

  let notify = false;
  const rules: SeccompCompileInput['rules'] = [];
  (seccomp.syscalls ?? []).forEach((entry, i) => {
    const at = `${field}.syscalls[${i}]`;
    const act = action(entry.action, entry.errnoRet, `${at}.action`, `${at}.errnoRet`);
    const conditions = (entry.args ?? []).map((arg, k) => {
      const op = SECCOMP_OPERATORS[arg.op];
      if (op === undefined) throw new ConfigError(`${at}.args[${k}].op`, `unknown seccomp operator "${arg.op}"`);
      if (!Number.isInteger(arg.index) || arg.index < 0 || arg.index > 5) {
        throw new ConfigError(`${at}.args[${k}].index`, `must be 0 to 5, got ${arg.index}`);
      }
      return { index: arg.index, op, value: BigInt(arg.value), valueTwo: BigInt(arg.valueTwo ?? 0) };
    });
    if (act === SCMP_ACT_NOTIFY) {
      notify = true;
      entry.names.forEach((name, k) => {
        if (NOTIFY_FORBIDDEN.has(name)) {
          throw new ConfigError(`${at}.names[${k}]`, `SCMP_ACT_NOTIFY cannot be used for ${name}: the runtime needs it to hand the listener over`);
        }
      });
    }
    if (act === defaultAction) return; // redundant; libseccomp refuses it
    const perIndex = new Set(conditions.map((c) => c.index));
    const groups = perIndex.size === conditions.length ? [conditions] : conditions.map((c) => [c]);
    for (const name of entry.names) {
      for (const args of groups) rules.push({ syscall: name, action: act, args });
    }
  });
  if (notify && !seccomp.listenerPath) {
    throw new ConfigError(`${field}.listenerPath`, 'is required when SCMP_ACT_NOTIFY is used');
  }
  // WAIT_KILLABLE_RECV only means something for a listener; the kernel refuses it alone.
  if (!notify) flags &= ~WAIT_KILLABLE_RECV;
  // Syscalls newer than the profile fail with ENOSYS, not the default (runc's stub), so
  // libc falls back to the older call it knows.
  const enosysNames = ALLOWING_DEFAULTS.has(actionBase(defaultAction))
    ? undefined
    : [...new Set((seccomp.syscalls ?? []).flatMap((e) => e.names))];
  return { defaultAction, architectures, optimize: rules.length > OPTIMIZE_ABOVE, rules, enosysNames, flags, notify };
}

export interface CompiledSeccomp {
  plan: SeccompPlan;
  /** Syscall names of the profile this libseccomp does not know (skipped). */
  unknownSyscalls: string[];
}

/** Compile linux.seccomp for the child; null when the config has no profile. */
export function compileSeccomp(seccomp: LinuxSeccomp | undefined, field = 'linux.seccomp'): CompiledSeccomp | null {
  if (!seccomp) return null;
  const t = translateSeccomp(seccomp, field);
  let out: { bpf: Buffer; unknownSyscalls: string[] };
  try {
    out = native().seccompCompile(t);
  } catch (err) {
    const rule = (err as { rule?: number }).rule;
    const where = rule === undefined ? field : `${field} (${t.rules[rule]?.syscall ?? 'rule'})`;
    throw new ConfigError(where, (err as Error).message.replace(/^seccomp: /, ''));
  }
  return { plan: { bpf: out.bpf, flags: t.flags, notify: t.notify }, unknownSyscalls: [...new Set(out.unknownSyscalls)] };
}
