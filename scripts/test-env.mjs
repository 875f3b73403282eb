// The environment the test runners (scripts/test.mjs, conformance/report.mjs) give mocha.
import { accessSync, constants, readFileSync } from 'node:fs';

/**
 * process.env, with TMPDIR=/dev/shm when the caller chose no TMPDIR and /dev/shm is a
 * writable tmpfs. Test bundles are made of a few hundred files each; on a disk file system
 * that is slow (over 100 ms a bundle on this project's VMs), on tmpfs it takes milliseconds.
 */
export function testEnv() {
  const env = { ...process.env };
  if (!env.TMPDIR && isWritableTmpfs('/dev/shm')) env.TMPDIR = '/dev/shm';
  return env;
}

function isWritableTmpfs(dir) {
  try {
    accessSync(dir, constants.W_OK);
    return readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .some((line) => line.split(' ')[4] === dir && line.split(' - ')[1]?.startsWith('tmpfs '));
  } catch {
    return false;
  }
}
