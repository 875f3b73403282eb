// The child's {step, errno, index} as the one line the user reads: runc's words where
// engines match them, otherwise the step's text, its config field and the plan value the
// index points at (the step table is generated from addon/protocol/plan.json).
import { expect } from 'chai';
import { FIELDS, NO_INDEX, STEPS, Step, type WireMsg } from '../../src/native/generated/protocol.js';
import { describeChildError, stepSubject } from '../../src/linux/child-errors.js';
import { initPlan } from '../helpers/plan-fixtures.js';

const msg = (step: number, err: number, index = NO_INDEX): WireMsg => ({ type: 6, step, err, pid: 0, index });
const ENOENT = 2;
const EPERM = 1;

describe('child errors: {step, errno, index} to one line', function () {
  const plan = initPlan({ joins: [{ fd: 5, nstype: 0x40000000, path: '/run/netns/blue' }] });

  it("keeps runc's words for the program lookup", function () {
    expect(describeChildError(msg(Step.EXEC_LOOKUP, ENOENT), plan)).to.equal('exec: "sh": executable file not found in $PATH');
    expect(describeChildError(msg(Step.EXEC_ACCESS, 13), plan)).to.equal('exec: "sh": permission denied');
  });

  it('names the plan entry the index points at', function () {
    expect(describeChildError(msg(Step.MOUNT, ENOENT, 1), plan)).to.equal('error mounting "tmpfs" to rootfs at "/dev": mount tmpfs: no such file or directory');
    expect(describeChildError(msg(Step.SETNS, 22, 0), plan)).to.equal('failed to join namespace /run/netns/blue: invalid argument');
    expect(describeChildError(msg(Step.RLIMIT, EPERM, 0), plan)).to.equal('process.rlimits[0]: error setting RLIMIT_NOFILE (soft 1024, hard 1024): operation not permitted');
  });

  it('otherwise: the config field, the step, its subject and the errno text', function () {
    expect(describeChildError(msg(Step.SCHEDULER, EPERM), plan)).to.equal('process.scheduler: set the scheduler: operation not permitted');
    expect(describeChildError(msg(Step.MASKED_PATH, EPERM, 1), plan)).to.equal('linux.maskedPaths: mask /sys/firmware: operation not permitted');
    expect(describeChildError(msg(Step.DUMPABLE, EPERM), plan)).to.equal('make the setup process non-dumpable: operation not permitted');
    expect(describeChildError(msg(Step.DEV_NULL_REOPEN, 5, 0), plan)).to.equal("put the container's /dev/null in place of the host's as stdio 0: input/output error");
  });

  it('capabilities by name, plan fields by name', function () {
    expect(describeChildError(msg(Step.AMBIENT_RAISE, EPERM, 5), plan)).to.equal("can't raise ambient capability CAP_KILL: operation not permitted");
    expect(describeChildError(msg(Step.PLAN_FIELD, 71, FIELDS.indexOf('MountPlan.dest')), plan)).to.match(/refused the plan's MountPlan\.dest$/);
  });

  it('a subject whose index is out of the plan is left out, not invented', function () {
    expect(stepSubject(msg(Step.MASKED_PATH, EPERM, 99), plan)).to.equal(undefined);
    expect(stepSubject(msg(Step.MASKED_PATH, EPERM), plan)).to.equal(undefined);
  });

  it('every step has a text; every subject names a plan path or an index kind', function () {
    for (const [id, info] of Object.entries(STEPS)) {
      expect(info.text, `step ${id}`).to.be.a('string').and.not.equal('');
      if (info.subject) expect(info.subject, info.name).to.match(/^(\w+(\[i\])?(\.\w+(\[i\])?)*|(field|fd|stdio|capability):i)$/);
    }
  });
});
