// The cgroup v2 device program for real: loaded into the kernel (whose verifier must accept
// it), attached to a cgroup2 directory, and obeyed by a process in that cgroup. Device
// programs attach to any cgroup2 directory, controllers or not, so this runs wherever a
// cgroup2 hierarchy is mounted (pure v2, or the unified one of a hybrid host).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { attachDeviceProgram } from '../../../src/linux/cgroups/apply.js';
import { type DeviceRule, deviceRulesFromSpec, reduceDeviceRules } from '../../../src/linux/cgroups/device-rules.js';
import { hostLayout } from '../../../src/linux/cgroups/mode.js';
import { native } from '../../../src/native/addon.js';
import { CGROUP_PREFIX, uniqueName } from '../../helpers/context.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireRoot, skipWith } from '../../helpers/privileges.js';

const rule = (allow: boolean, type: 'a' | 'c' | 'b', major: number | null, minor: number | null, access = 'rwm'): DeviceRule => ({
  allow,
  type,
  major,
  minor,
  access,
});

/**
 * Opens each device read-only from a shell in `dir`: in a subshell (a failed redirection
 * ends a shell) with stderr closed (sending it to /dev/null would itself need a device).
 */
function openAsMember(dir: string, devices: string[]): Record<string, string> {
  const script = [`echo $$ > ${dir}/cgroup.procs || exit 99`, ...devices.map((d) => `if (: < ${d}) 2>&-; then echo "${d} ok"; else echo "${d} denied"; fi`)].join('\n');
  const r = spawnSync('/bin/busybox', ['sh', '-c', script], { encoding: 'utf8' });
  expect(r.status, r.stderr).to.equal(0);
  const out: Record<string, string> = {};
  for (const line of r.stdout.trim().split('\n')) {
    const [dev, verdict] = line.split(' ');
    out[dev as string] = verdict as string;
  }
  return out;
}

function programIds(dir: string): number[] {
  const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    return native().bpfDeviceProgramQuery(fd);
  } finally {
    fs.closeSync(fd);
  }
}

describe('cgroups v2: device eBPF program on the real kernel', function () {
  useLeakCheck();
  let unified: string;
  let dir: string;

  before(function () {
    requireRoot(this);
    const u = hostLayout().unified;
    if (!u) skipWith(this, 'no cgroup2 hierarchy mounted');
    unified = u;
  });

  beforeEach(function () {
    dir = path.join(unified, CGROUP_PREFIX, uniqueName('dev'));
    fs.mkdirSync(dir, { recursive: true });
  });

  afterEach(function () {
    // The shells have exited; an empty cgroup can go (its programs go with it).
    for (const d of [dir, path.dirname(dir)]) {
      try {
        fs.rmdirSync(d);
      } catch {
        // the parent may hold other tests' cgroups
      }
    }
  });

  it('denies /dev/full but allows /dev/null under "deny all, allow c 1:3"', function () {
    attachDeviceProgram(dir, reduceDeviceRules([rule(false, 'a', null, null), rule(true, 'c', 1, 3)]));
    expect(programIds(dir)).to.have.length(1);
    expect(openAsMember(dir, ['/dev/null', '/dev/full', '/dev/zero'])).to.deep.equal({
      '/dev/null': 'ok',
      '/dev/full': 'denied',
      '/dev/zero': 'denied',
    });
  });

  it('with runc\'s default rules allows the standard devices and nothing else', function () {
    attachDeviceProgram(dir, reduceDeviceRules(deviceRulesFromSpec([{ allow: false, access: 'rwm' }], 'linux.resources.devices')));
    expect(openAsMember(dir, ['/dev/null', '/dev/zero', '/dev/full', '/dev/urandom', '/dev/mem', '/dev/kmsg'])).to.deep.equal({
      '/dev/null': 'ok',
      '/dev/zero': 'ok',
      '/dev/full': 'ok',
      '/dev/urandom': 'ok',
      '/dev/mem': 'denied',
      '/dev/kmsg': 'denied',
    });
  });

  it('honours access bits: read allowed, write denied', function () {
    attachDeviceProgram(dir, reduceDeviceRules([rule(false, 'a', null, null), rule(true, 'c', 1, 3, 'r')]));
    const script = `echo $$ > ${dir}/cgroup.procs; if (: < /dev/null) 2>&-; then echo r-ok; fi; if (: > /dev/null) 2>&-; then echo w-ok; else echo w-denied; fi`;
    const r = spawnSync('/bin/busybox', ['sh', '-c', script], { encoding: 'utf8' });
    expect(r.stdout.trim().split('\n')).to.deep.equal(['r-ok', 'w-denied']);
  });

  it('attaching again replaces the program instead of stacking a second one', function () {
    attachDeviceProgram(dir, reduceDeviceRules([rule(false, 'a', null, null)]));
    const first = programIds(dir);
    attachDeviceProgram(dir, reduceDeviceRules([rule(false, 'a', null, null), rule(true, 'c', 1, 7)]));
    const second = programIds(dir);
    expect(second).to.have.length(1);
    expect(second[0]).to.not.equal(first[0]);
    expect(openAsMember(dir, ['/dev/full', '/dev/null'])).to.deep.equal({ '/dev/full': 'ok', '/dev/null': 'denied' });
  });
});
