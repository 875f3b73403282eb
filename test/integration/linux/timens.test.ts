// Time namespace offsets (config-linux.md "Offset for Time Namespace"): linux.timeOffsets
// shift CLOCK_MONOTONIC and CLOCK_BOOTTIME inside the container.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireRoot } from '../../helpers/privileges.js';
import { keyValues, lines, runSh, runShOk, setNamespace } from './support.js';

const DAY = 86_400;
const BOOT_OFFSET = 10 * DAY;
const MONO_OFFSET = 3 * DAY;

function withOffsets(config: Parameters<typeof setNamespace>[0]): void {
  setNamespace(config, 'time');
  config.linux!.timeOffsets = {
    boottime: { secs: BOOT_OFFSET, nanosecs: 0 },
    monotonic: { secs: MONO_OFFSET, nanosecs: 500 },
  };
}

const hostUptime = () => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);

describe('linux: time namespace offsets', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  it('the offsets are in /proc/self/timens_offsets inside', function () {
    const out = runShOk('cat /proc/self/timens_offsets', withOffsets);
    expect(lines(out).sort()).to.deep.equal([`boottime ${BOOT_OFFSET} 0`, `monotonic ${MONO_OFFSET} 500`]);
  });

  it('the boottime offset shows in /proc/uptime', function () {
    const before = hostUptime();
    const out = runShOk('echo up=$(cut -d" " -f1 /proc/uptime)', withOffsets);
    const after = hostUptime();
    const inside = Number(keyValues(out).up);
    expect(inside).to.be.at.least(before + BOOT_OFFSET);
    expect(inside).to.be.at.most(after + BOOT_OFFSET + 1);
  });

  it('a new time namespace without offsets has zero offsets', function () {
    const out = runShOk('cat /proc/self/timens_offsets', (c) => setNamespace(c, 'time'));
    expect(lines(out).sort()).to.deep.equal(['boottime 0 0', 'monotonic 0 0']);
  });

  it('timeOffsets without a new time namespace fail naming the field', function () {
    const r = runSh('true', (c) => {
      c.linux!.timeOffsets = { boottime: { secs: 1 } };
    });
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.include('linux.timeOffsets');
    expect(r.stderr.trim().split('\n')).to.have.length(1);
  });
});
