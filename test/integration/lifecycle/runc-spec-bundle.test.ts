// A bundle made by runc's own `runc spec` (the config engines and people start from) runs
// under the runtime once terminal is off and args are edited, as it does under runc.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { populateRootfs } from '../../helpers/bundle.js';
import { makeTempDir, testCgroupPath } from '../../helpers/context.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireCommand, requireRoot } from '../../helpers/privileges.js';
import { describeResult, rt, uniqueId } from '../../helpers/runtime.js';
import { cleanUpAfterFailure } from './support.js';

describe('a bundle made with `runc spec`', function () {
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
    requireCommand(this, 'runc');
  });

  it('runs with terminal off and args edited', function () {
    const dir = makeTempDir('runcspec');
    execFileSync('runc', ['spec', '--bundle', dir]);
    mkdirSync(path.join(dir, 'rootfs'));
    populateRootfs(path.join(dir, 'rootfs'));
    const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
    config.process.terminal = false;
    config.process.args = ['sh', '-c', 'echo "from $(hostname) as $(id -u)"'];
    // Only so the leak checker sees the container's cgroups; runc spec leaves it unset.
    config.linux.cgroupsPath = testCgroupPath();
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, '\t'));
    const r = rt(['run', '--bundle', dir, uniqueId()]);
    expect(r.status, describeResult(r)).to.equal(0);
    expect(r.stdout).to.equal('from runc as 0\n');
  });
});
