// Process and container setup where runc or crun behave a way users notice (issue 11,
// "Process and container setup"): the loopback interface, scheduler, I/O priority, memory
// policy, and the inputs runc refuses. Each runs against runc too (TSRUNC_BIN).
import { expect } from 'chai';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireRoot } from '../../helpers/privileges.js';
import { runSh, runShOk } from './support.js';

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

  describe('inputs runc refuses', function () {
    it('an env entry without "="', function () {
      expectRefused(runSh('true', (c) => c.process!.env!.push('NOEQ')), /process\.env\[\d+\]|environment variable/);
    });

    it('memory.limit -5 (only -1 means unlimited)', function () {
      expectRefused(runSh('true', (c) => (c.linux!.resources = { ...c.linux!.resources, memory: { limit: -5 } })), /memory/);
    });
  });
});
