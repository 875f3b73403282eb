// `spec`: write a starter config.json into a bundle directory, like `runc spec`.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { hostLayout } from '../linux/cgroups/mode.js';
import { defaultSpec, serializeSpec } from '../spec/defaults.js';
import { RuntimeError, SystemError, describeFsError } from '../util/errors.js';

/**
 * Write the default config.json (rootless variant on request, a cgroup namespace on a pure
 * cgroup v2 host, as runc's) into `bundleDir` and return
 * its path. An existing config.json is never overwritten: that fails with runc's message
 * and leaves the directory untouched.
 */
export function writeDefaultSpec(bundleDir: string, opts: { rootless: boolean }): string {
  const file = path.join(bundleDir, 'config.json');
  // runc's spec gives a pure cgroup v2 host's containers a cgroup namespace.
  const text = serializeSpec(defaultSpec({ rootless: opts.rootless, cgroupns: hostLayout().mode === 'v2' }));
  try {
    // O_EXCL: no check-then-write race, and a symlink named config.json is not followed.
    writeFileSync(file, text, { flag: 'wx', mode: 0o666 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EEXIST') throw new RuntimeError('File config.json exists. Remove it first');
    throw new SystemError(describeFsError(err), e.code);
  }
  return file;
}
