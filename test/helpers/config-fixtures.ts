/**
 * config.json fragments that more than one test file checks: the unit tests of the validators
 * and the loader, and the unit and integration tests of seccomp (the same rule checked as
 * translated and as the kernel applies it).
 */
import type { LinuxSyscall } from '../../src/spec/types.js';

/** A small valid config; each test breaks one thing. */
export function smallConfig(): Record<string, any> {
  return {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    process: { cwd: '/', args: ['sh'], user: { uid: 0, gid: 0 } },
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] },
  };
}

/**
 * kill() with signal SIGUSR1 (10) or SIGUSR2 (12) fails with an errno: two conditions on the
 * same argument, which mean either (as runc: one rule each).
 */
export function killUsr1OrUsr2(): LinuxSyscall {
  return {
    names: ['kill'],
    action: 'SCMP_ACT_ERRNO',
    args: [
      { index: 1, value: 10, op: 'SCMP_CMP_EQ' },
      { index: 1, value: 12, op: 'SCMP_CMP_EQ' },
    ],
  };
}
