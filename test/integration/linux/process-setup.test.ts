// Process and container setup where runc or crun behave a way users notice (issue 11,
// "Process and container setup"): the loopback interface, scheduler, I/O priority, memory
// policy, and the inputs runc refuses. Each runs against runc too (TSRUNC_BIN).
import { expect } from 'chai';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hostLayout } from '../../../src/linux/cgroups/mode.js';
import type { OciConfig } from '../../helpers/bundle.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireCgroupV1Controller, requireRoot } from '../../helpers/privileges.js';
import { rtOk, uniqueId } from '../../helpers/runtime.js';
import { runBundle, runSh, runShOk, shBundle } from './support.js';

/**
 * A bundle whose config.json has exact 64-bit numbers where `mutate` put the placeholder
 * strings of `exact` (JSON.stringify cannot write them).
 */
function exactBundle(script: string, exact: Record<string, string>, mutate: (c: OciConfig) => void) {
  const b = shBundle(script, mutate);
  let text = readFileSync(b.configPath, 'utf8');
  for (const [placeholder, digits] of Object.entries(exact)) text = text.replace(`"${placeholder}"`, digits);
  writeFileSync(b.configPath, text);
  return b;
}

/** A failed start: non-zero, one line naming `field`. */
function expectRefused(r: ReturnType<typeof runSh>, field: RegExp): void {
  expect(r.status, r.stderr).to.not.equal(0);
  expect(r.stderr).to.match(field);
  expect(r.stderr.trim().split('\n'), r.stderr).to.have.length(1);
}

describe('linux: process and container setup as runc and crun do it', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  describe('process.ioPriority', function () {
    it('IOPRIO_CLASS_IDLE needs no priority', function () {
      const out = runShOk('ionice -p $$', (c) => (c.process!.ioPriority = { class: 'IOPRIO_CLASS_IDLE' }));
      expect(out.trim()).to.match(/^idle/);
    });
  });

  describe('64-bit numbers are exact', function () {
    it('an rlimit of 18446744073709551615 is unlimited (not 0)', function () {
      const b = exactBundle('grep "Max core file size" /proc/self/limits', { SOFT: '18446744073709551615', HARD: '18446744073709551615' }, (c) => {
        c.process!.rlimits = [{ type: 'RLIMIT_CORE', soft: 'SOFT' as unknown as number, hard: 'HARD' as unknown as number }];
      });
      const r = runBundle(b);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout.split(/\s{2,}/).slice(1, 3)).to.deep.equal(['unlimited', 'unlimited']);
    });

    it('a blkio throttle of 2^53+1 bytes/s reaches the cgroup exactly, and the snapshot keeps it', function () {
      requireCgroupV1Controller(this, 'blkio');
      const dev = readdirSync('/sys/block').find((d) => !/^(loop|ram|zram)/.test(d)) ?? readdirSync('/sys/block')[0]!;
      const [major, minor] = readFileSync(`/sys/block/${dev}/dev`, 'utf8').trim().split(':').map(Number);
      const b = exactBundle('sleep 600', { RATE: '9007199254740993' }, (c) => {
        c.linux!.resources = { ...c.linux!.resources, blockIO: { throttleReadBpsDevice: [{ major, minor, rate: 'RATE' }] } };
      });
      const id = uniqueId();
      rtOk(['create', '--bundle', b.dir, id]);
      try {
        const file = path.join(hostLayout().v1.get('blkio')!, b.config.linux!.cgroupsPath, 'blkio.throttle.read_bps_device');
        expect(readFileSync(file, 'utf8').trim()).to.equal(`${major}:${minor} 9007199254740993`);
        // Commands after create read the config snapshot: it carries the exact value too.
        rtOk(['update', '--pids-limit', '50', id]);
        expect(readFileSync(file, 'utf8').trim()).to.equal(`${major}:${minor} 9007199254740993`);
      } finally {
        rtOk(['delete', '--force', id]);
      }
    });
  });

  describe('inputs runc refuses', function () {
    it('an env entry without "="', function () {
      expectRefused(runSh('true', (c) => c.process!.env!.push('NOEQ')), /process\.env\[\d+\]|environment variable/);
    });

    it('memory.limit -5 (only -1 means unlimited)', function () {
      expectRefused(runSh('true', (c) => (c.linux!.resources = { ...c.linux!.resources, memory: { limit: -5 } })), /memory/);
    });
  });
});
