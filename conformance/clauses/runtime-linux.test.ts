// runtime-linux.md: file descriptors and /dev symbolic links.
import { expect } from 'chai';
import { useLeakCheck } from '../../test/helpers/leaks.js';
import { requireRoot } from '../../test/helpers/privileges.js';
import { clause, runScriptOk } from './support.js';

describe('runtime-linux.md', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  clause('runtime-linux.fds.stdio-only', 'the container process starts with only fds 0, 1 and 2 open', function () {
    // `ls` lists the shell's descriptors (pid 1), not its own; a plain command (no pipeline,
    // whose pipes the shell would hold for a moment), and `; true` so the shell does not
    // exec ls in its own place
    const out = runScriptOk('ls /proc/$$/fd; true');
    const fds = out.split('\n').filter(Boolean).map(Number).sort((a, b) => a - b);
    expect(fds, out).to.deep.equal([0, 1, 2]);
  });

  clause('runtime-linux.dev-symlinks', '/dev/fd, /dev/stdin, /dev/stdout and /dev/stderr link to /proc/self/fd', function () {
    const out = runScriptOk('for l in fd stdin stdout stderr; do echo "$l $(readlink /dev/$l)"; done');
    expect(out).to.equal('fd /proc/self/fd\nstdin /proc/self/fd/0\nstdout /proc/self/fd/1\nstderr /proc/self/fd/2\n');
  });
});
