// The child program's order of operations, without root: its own sources built on the
// recording system-call layer (test/native/sys_record.cc) run on a few plans, and the
// recorded calls checked against runc's order: signals first, mounts then pivot_root then
// masked paths, capabilities around the uid change, seccomp last with no_new_privs, every
// failure reported as {step, errno, index}.
import { expect } from 'chai';
import { FIELDS, MsgType, NO_INDEX, STEPS, Step, encodePlan } from '../../src/native/generated/protocol.js';
import { type ChildCall, type ChildRun, runChild, runChildBytes } from '../helpers/child-harness.js';
import { CAP_KILL, initPlan, mountPlan as mount } from '../helpers/plan-fixtures.js';

const PR_SET_PDEATHSIG = 1;
const PR_SET_DUMPABLE = 4;
const PR_SET_KEEPCAPS = 8;
const PR_CAPBSET_DROP = 24;
const PR_SET_NO_NEW_PRIVS = 38;
const PR_CAP_AMBIENT = 47;
const PR_CAP_AMBIENT_RAISE = 2;
const PR_CAP_AMBIENT_CLEAR_ALL = 4;
const AT_REMOVEDIR = 0x200;
const AT_EMPTY_PATH = 0x1000;
const O_ACCMODE = 3;
const O_RDWR = 2;
const RESOLVE_NO_MAGICLINKS = 0x02;
const RESOLVE_NO_SYMLINKS = 0x04;
const RESOLVE_IN_ROOT = 0x10;
const EPERM = 1;
const ENOENT = 2;
const EIO = 5;
const EBADF = 9;
const EPIPE = 32;
const ENOTEMPTY = 39;

const PATHS = { '/bin/sh': 'exe', '/rootfs/proc/kcore': 'file', '/proc/kcore': 'file', '/etc/passwd': 'file:u:x:1000:1000::/home/u:/bin/sh\n' };

function messages(run: ChildRun): NonNullable<ChildCall['msg']>[] {
  return run.calls.filter((c) => c.msg).map((c) => c.msg!);
}

/** Index of the first call matching, or -1. */
function at(run: ChildRun, match: (c: ChildCall) => boolean): number {
  return run.calls.findIndex(match);
}
function lastAt(run: ChildRun, match: (c: ChildCall) => boolean): number {
  for (let i = run.calls.length - 1; i >= 0; i--) if (match(run.calls[i]!)) return i;
  return -1;
}
const prctl = (option: number, a?: number) => (c: ChildCall) => c.call === 'prctl' && c.args[0] === option && (a === undefined || c.args[1] === a);
const named = (name: string) => (c: ChildCall) => c.call === name;

function expectError(run: ChildRun, step: number, err: number, index = NO_INDEX): void {
  const msgs = messages(run);
  expect(msgs.at(-1), `the last message of ${JSON.stringify(msgs)}`).to.deep.include({ type: MsgType.ERROR, step, err, index });
  expect(run.calls.at(-1)).to.deep.include({ call: 'exit_group', args: [1] });
  expect(run.status).to.equal(1);
  expect(at(run, named('execveat')), 'no exec after an error').to.equal(-1);
}

describe('child program: order of operations (recorded system calls)', function () {
  this.timeout(300_000);

  it('runs a container init to the exec of tsrunc-init, reporting STAGE1, READY and nothing else', function () {
    const run = runChild(initPlan(), { paths: PATHS });
    expect(run.status, run.stderr).to.equal(0);
    expect(messages(run).map((m) => m.type)).to.deep.equal([MsgType.STAGE1, MsgType.READY]);
    const exec = run.calls.at(-1)!;
    expect(exec.call).to.equal('execveat');
    expect(exec.argv).to.deep.equal(['tsrunc-init', '7', '/bin/sh', 'sh', '-c', 'true']);
    // HOME from the container's /etc/passwd replaced the placeholder.
    expect(exec.envp).to.deep.equal(['PATH=/bin', 'HOME=/home/u']);
  });

  it('resets every signal disposition and the mask before anything else, and so before the exec', function () {
    const run = runChild(initPlan(), { paths: PATHS });
    const sigactions = run.calls.filter(named('rt_sigaction'));
    expect(sigactions.map((c) => c.args[0])).to.deep.equal([...Array(64).keys()].map((i) => i + 1).filter((s) => s !== 9 && s !== 19));
    expect(sigactions.every((c) => c.args[1] === 'SIG_DFL')).to.equal(true);
    const mask = at(run, named('rt_sigprocmask_setmask'));
    expect(run.calls[mask]!.args).to.deep.equal([0]);
    const firstOther = at(run, (c) => !['rt_sigaction', 'rt_sigprocmask_setmask', 'fcntl'].includes(c.call));
    expect(mask).to.be.lessThan(firstOther);
    expect(mask).to.be.lessThan(at(run, named('execveat')));
  });

  it('checks the plan before it acts on it: mapped, then every named descriptor, then the rest closed', function () {
    const run = runChild(initPlan(), { paths: PATHS });
    const mapped = at(run, named('mmap'));
    const fdChecks = run.calls.filter((c) => c.call === 'fcntl' && c.args[1] === 1 /* F_GETFD */).map((c) => c.args[0]);
    expect(fdChecks).to.include.members([0, 1, 2, 7]);
    // The sync socket (90) and the stub (91) become close-on-exec: they end at the final exec.
    const cloexec = run.calls.filter((c) => c.call === 'fcntl' && c.args[1] === 2 /* F_SETFD */ && c.args[2] === 1).map((c) => c.args[0]);
    expect(cloexec).to.include.members([90, 91]);
    const closeRange = at(run, named('close_range'));
    expect(mapped).to.be.greaterThan(-1);
    expect(closeRange).to.be.greaterThan(mapped);
    expect(closeRange).to.be.lessThan(at(run, prctl(PR_SET_PDEATHSIG)));
  });

  it('mounts in plan order, then pivot_root, then read-only and masked paths, then the rootfs propagation', function () {
    const run = runChild(initPlan({ rootfsPropagation: 0x40000 }), { paths: PATHS });
    const mountAt = (dest: string) => at(run, (c) => (c.call === 'mount' || c.call === 'move_mount') && c.path === `/rootfs${dest}`);
    const order = ['/proc', '/dev', '/dev/pts', '/sys', '/etc/hosts'].map(mountAt);
    expect(order.every((i) => i >= 0), JSON.stringify(order)).to.equal(true);
    expect([...order].sort((a, b) => a - b)).to.deep.equal(order);
    const pivot = at(run, named('pivot_root'));
    expect(pivot).to.be.greaterThan(order.at(-1)!);
    const mknod = at(run, named('mknodat'));
    const symlink = at(run, named('symlinkat'));
    expect(mknod).to.be.within(order.at(-1)!, pivot);
    expect(symlink).to.be.within(mknod, pivot);
    const readonly = at(run, (c) => c.call === 'mount_setattr' && c.path === '/proc/sys');
    const maskFile = at(run, (c) => c.call === 'move_mount' && c.path === '/proc/kcore');
    const maskDir = at(run, (c) => c.call === 'move_mount' && c.path === '/sys/firmware');
    expect(readonly).to.be.greaterThan(pivot);
    expect(maskFile).to.be.greaterThan(readonly);
    expect(maskDir).to.be.greaterThan(maskFile);
    // The file is masked with the verified /dev/null, the directory with a fresh tmpfs.
    expect(run.calls[maskFile]!.from).to.equal('/dev/null');
    expect(run.calls[maskDir]!.from).to.match(/^mount:fs:tmpfs$/);
    const propagation = lastAt(run, (c) => c.call === 'mount' && c.args[1] === '/' && c.args[3] === 0x40000);
    expect(propagation).to.be.greaterThan(maskDir);
  });

  describe("stdio on the host's /dev/null moves to the container's (runc's reOpenDevNull)", function () {
    // fd 0 is on the null device, fd 1 a file.
    const STDIO = { ...PATHS, 'fd:0': 'chr:1:3', 'fd:1': 'file' };
    const nullOpen = (c: ChildCall) => c.call === 'openat2' && c.path === '/dev/null' && ((c.args[2] as number) & O_ACCMODE) === O_RDWR;

    it('after pivot_root, the verified null device is dup3()ed over the null-device stdio only, before the read-only remounts', function () {
      // fd 2 is the runtime's own, kept as it is (-1): not open there.
      const run = runChild(initPlan({}, { stdioFds: [0, 1, -1] }), { paths: STDIO, closed: [2] });
      expect(run.status, run.stderr).to.equal(0);
      const checked = run.calls.filter((c) => c.call === 'fstatat' && c.args[1] === '' && [0, 1, 2].includes(c.args[0] as number));
      expect(checked.slice(0, 3).map((c) => [c.args[0], c.ret])).to.deep.equal([[0, 0], [1, 0], [2, -EBADF]]);
      const open = at(run, nullOpen);
      expect(open, 'the container\'s /dev/null opened read-write').to.be.greaterThan(at(run, named('pivot_root')));
      const nullFd = run.calls[open]!.ret;
      // Opened inside the root, no symlink followed, then checked to be the null device.
      expect(run.calls[open]!.args[3]).to.equal(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS);
      expect(run.calls[open + 1]).to.deep.include({ call: 'fstatat', args: [nullFd, '', AT_EMPTY_PATH] });
      const dups = run.calls.flatMap((c, i) => (c.call === 'dup3' && c.args[0] === nullFd ? [i] : []));
      expect(dups.map((i) => run.calls[i]!.args[1])).to.deep.equal([0]);
      const closed = at(run, (c) => c.call === 'close' && c.args[0] === nullFd);
      expect(closed).to.be.greaterThan(dups[0]!);
      expect(closed).to.be.lessThan(at(run, (c) => c.call === 'mount_setattr' && c.path === '/sys'));
    });

    it('stdio that is a file goes to the process\'s user before the uid change (runc, crun); the null device does not', function () {
      const run = runChild(initPlan({}, { stdioFds: [0, 1, -1] }), { paths: STDIO, closed: [2] });
      expect(run.status, run.stderr).to.equal(0);
      const chowns = run.calls.filter((c) => c.call === 'fchownat' && c.args[1] === '');
      expect(chowns.map((c) => c.args)).to.deep.equal([[1, '', 1000, 1000]]);
      expect(at(run, (c) => c.call === 'fchownat' && c.args[0] === 1)).to.be.lessThan(at(run, named('setresuid')));
      expectError(runChild(initPlan({}, { stdioFds: [0, 1, -1] }), { paths: STDIO, closed: [2], fail: [`fchownat:1=${EIO}`] }), Step.STDIO_CHOWN, EIO, 1);
      expect(runChild(initPlan({}, { stdioFds: [0, 1, -1] }), { paths: STDIO, closed: [2], fail: [`fchownat:1=${EPERM}`] }).status, 'EPERM is no error').to.equal(0);
    });

    it('nothing is moved with a terminal or where /dev is not the runtime\'s (no devices planned)', function () {
      expect(at(runChild(initPlan({ devices: [] }), { paths: STDIO }), nullOpen)).to.equal(-1);
      const tty = runChild(initPlan({}, { terminal: true, consoleSocketFd: 8 }), { paths: { ...STDIO, '/dev/console': 'file' } });
      expect(tty.status, tty.stderr).to.equal(0);
      expect(at(tty, nullOpen)).to.equal(-1);
    });

    it('a container /dev/null that is not the null device fails, naming stdio 0; so does a failing dup3', function () {
      expectError(runChild(initPlan(), { paths: { ...STDIO, '/dev/null': 'file' } }), Step.DEV_NULL_NOT_DEVICE, EPERM, 0);
      expectError(runChild(initPlan(), { paths: STDIO, fail: [`dup3=${EIO}`] }), Step.DEV_NULL_REOPEN, EIO, 0);
    });
  });

  it('tmpcopyup: the covered directory is opened before the tmpfs goes over it, then copied into the new mount', function () {
    const plan = initPlan();
    plan.mounts.push(mount('/var', 'tmpfs', { tmpcopyup: true }));
    const run = runChild(plan, { paths: PATHS });
    const covered = at(run, (c) => c.call === 'openat' && c.path === '/rootfs/var' && c.args[1] === '.');
    const tmpfs = at(run, (c) => c.call === 'mount' && c.path === '/rootfs/var');
    const copy = at(run, (c) => c.call === 'getdents64');
    expect(covered, 'the covered directory opened').to.be.greaterThan(-1);
    expect(tmpfs).to.be.greaterThan(covered);
    expect(copy).to.be.greaterThan(tmpfs);
    expect(run.calls[copy]!.args[0]).to.equal(run.calls[covered]!.ret);
    // Only a tmpfs gets a copy (as runc): tmpcopyup on a bind mount copies nothing.
    const bind = initPlan();
    bind.mounts[4]!.tmpcopyup = true;
    expect(at(runChild(bind, { paths: PATHS }), named('getdents64'))).to.equal(-1);
  });

  it('drops the bounding set, keeps capabilities across the uid change, then sets them and the ambient ones', function () {
    const run = runChild(initPlan(), { paths: PATHS });
    const bounding = at(run, prctl(PR_CAPBSET_DROP));
    const keep = at(run, prctl(PR_SET_KEEPCAPS, 1));
    const groups = at(run, named('setgroups'));
    const gid = at(run, named('setresgid'));
    const uid = at(run, named('setresuid'));
    const unkeep = at(run, prctl(PR_SET_KEEPCAPS, 0));
    const capset = at(run, named('capset'));
    const clear = at(run, prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL));
    const raise = at(run, prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE));
    const seq = [bounding, keep, groups, gid, uid, unkeep, capset, clear, raise];
    expect(seq.every((i) => i >= 0), JSON.stringify(seq)).to.equal(true);
    expect([...seq].sort((a, b) => a - b)).to.deep.equal(seq);
    expect(run.calls[groups]!.args).to.deep.equal([10, 20]);
    expect(run.calls[uid]!.args).to.deep.equal([1000, 1000, 1000]);
    // Every capability outside the bounding set is dropped, the kept ones are not.
    const dropped = run.calls.filter(prctl(PR_CAPBSET_DROP)).map((c) => c.args[1]);
    expect(dropped).to.not.include(Number(CAP_KILL));
    expect(dropped).to.include.members([0, 21]);
    expect(run.calls.filter(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE)).map((c) => c.args[2])).to.deep.equal([Number(CAP_KILL)]);
  });

  it('with no_new_privs, loads seccomp last: after the PATH lookup and the cwd, right before the exec', function () {
    const run = runChild(initPlan(), { paths: PATHS });
    const nnp = at(run, prctl(PR_SET_NO_NEW_PRIVS));
    const lookup = lastAt(run, named('faccessat'));
    const chdir = at(run, named('fchdir'));
    const seccomp = at(run, named('seccomp'));
    const ready = at(run, (c) => c.msg?.type === MsgType.READY);
    expect(nnp).to.be.greaterThan(-1);
    expect(seccomp).to.be.greaterThan(lookup);
    expect(seccomp).to.be.greaterThan(chdir);
    expect(seccomp).to.be.greaterThan(at(run, named('capset')));
    expect(seccomp).to.be.lessThan(ready);
    expect(ready).to.be.lessThan(at(run, named('execveat')));
  });

  it('without no_new_privs, loads seccomp before the uid change (it needs CAP_SYS_ADMIN then)', function () {
    const run = runChild(initPlan({}, { noNewPrivileges: false }), { paths: PATHS });
    expect(at(run, prctl(PR_SET_NO_NEW_PRIVS))).to.equal(-1);
    expect(at(run, named('seccomp'))).to.be.lessThan(at(run, named('setresuid')));
  });

  it('HOME comes from a regular /etc/passwd only: a FIFO there is not read (it would hang the setup)', function () {
    const run = runChild(initPlan(), { paths: { ...PATHS, '/etc/passwd': 'fifo' } });
    const open = run.calls.find((c) => c.call === 'openat2' && c.path === '/etc/passwd')!;
    expect(Number(open.args[2]) & 0o4000, 'opened O_NONBLOCK').to.equal(0o4000);
    expect(at(run, (c) => c.call === 'read' && c.path === '/etc/passwd')).to.equal(-1);
    expect(run.calls.at(-1)!.envp).to.deep.equal(['PATH=/bin', 'HOME=/']);
  });

  it('an ambient capability the kernel refuses is a WARNING, and the setup goes on', function () {
    // prctl:47#2 = the second PR_CAP_AMBIENT call: the first raise, after the clear.
    const run = runChild(initPlan(), { paths: PATHS, fail: [`prctl:${PR_CAP_AMBIENT}#2=${EPERM}`] });
    expect(run.status, run.stderr).to.equal(0);
    expect(messages(run)).to.deep.include({ type: MsgType.WARNING, step: Step.AMBIENT_RAISE, err: EPERM, pid: 0, index: Number(CAP_KILL) });
    expect(run.calls.at(-1)!.call).to.equal('execveat');
  });

  it('an ambient capability the config leaves out of inheritable is skipped, without a warning (runc 1.1)', function () {
    const caps = 1n << CAP_KILL;
    const run = runChild(initPlan({}, { capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: 0n, ambient: caps } }), { paths: PATHS });
    expect(at(run, prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE))).to.equal(-1);
    expect(messages(run).map((m) => m.type)).to.deep.equal([MsgType.STAGE1, MsgType.READY]);
  });

  describe('every failure is reported as {step, errno, index}, never a silent exit', function () {
    it('a failing mount: the step, the errno and the index of the plan entry', function () {
      const plan = initPlan();
      // mount calls #1 and #2 are the rootfs's own (slave, bind); the failing one is found by its path
      const run = runChild(plan, { paths: PATHS, fail: [`mount#5=${ENOENT}`] });
      const failed = run.calls.find((c) => c.call === 'mount' && c.ret === -ENOENT)!;
      const index = plan.mounts.findIndex((m) => `/rootfs${m.dest}` === failed.path);
      expect(index).to.be.greaterThan(-1);
      expectError(run, plan.mounts[index]!.bind ? Step.BIND_MOUNT : Step.MOUNT, ENOENT, index);
    });

    const checked: [string, string, number][] = [
      ['prctl(PR_SET_DUMPABLE)', `prctl:${PR_SET_DUMPABLE}#1=${EPERM}`, Step.DUMPABLE],
      ['prctl(PR_SET_PDEATHSIG)', `prctl:${PR_SET_PDEATHSIG}#1=${EPERM}`, Step.PDEATHSIG],
      ['setsid', `setsid=${EPERM}`, Step.SETSID],
      ['prctl(PR_CAP_AMBIENT_CLEAR_ALL)', `prctl:${PR_CAP_AMBIENT}#1=${EPERM}`, Step.AMBIENT_CLEAR],
      ['prctl(PR_SET_KEEPCAPS)', `prctl:${PR_SET_KEEPCAPS}#1=${EPERM}`, Step.KEEPCAPS],
      ['send of STAGE1', `sendmsg:${MsgType.STAGE1}=${EPIPE}`, Step.SYNC_STAGE1],
      ['send of READY', `sendmsg:${MsgType.READY}=${EPIPE}`, Step.SYNC_READY],
      ['rt_sigaction (signal reset)', `rt_sigaction#3=${EPERM}`, Step.SIGNALS],
    ];
    for (const [what, fail, step] of checked) {
      it(`a failing ${what} is reported as ${STEPS[step]!.name}`, function () {
        const err = Number(fail.split('=')[1]);
        expectError(runChild(initPlan(), { paths: PATHS, fail: [fail] }), step, err);
      });
    }

    it('stage 1: a failing INIT_PID message kills the new process and is reported', function () {
      const run = runChild(initPlan(), { paths: PATHS, cloneParent: true, fail: [`sendmsg:${MsgType.INIT_PID}=${EPIPE}`] });
      const kill = at(run, named('pidfd_send_signal'));
      expect(kill).to.be.greaterThan(at(run, named('clone3')));
      expect(run.calls[kill]!.args).to.deep.equal([run.calls[kill]!.args[0], 9]);
      expectError(run, Step.SYNC_INIT_PID, EPIPE);
    });

    it('stage 1: INIT_PID carries the new process\'s pid, and stage 1 exits 0', function () {
      const run = runChild(initPlan(), { paths: PATHS, cloneParent: true });
      expect(messages(run).at(-1)).to.deep.include({ type: MsgType.INIT_PID, pid: 4242 });
      expect(run.calls.at(-1)).to.deep.include({ call: 'exit_group', args: [0] });
    });

    it('the runtime gone before the death signal was set is reported, not an unexplained exit', function () {
      expectError(runChild(initPlan(), { paths: PATHS, runtimeGone: true }), Step.RUNTIME_GONE, 3 /* ESRCH */);
    });
  });

  describe('the plan is checked before anything is done with it', function () {
    const good = () => encodePlan(initPlan());
    const onlyChecks = (run: ChildRun) => {
      for (const name of ['mount', 'setns', 'unshare', 'clone3', 'execveat']) expect(at(run, named(name)), name).to.equal(-1);
    };
    const cases: [string, (b: Buffer) => void, number][] = [
      ['a wrong magic', (b) => b.writeUInt32LE(0x12345678, 0), Step.PLAN_MAGIC],
      ['another version', (b) => b.writeUInt32LE(99, 4), Step.PLAN_VERSION],
      ['another layout hash', (b) => b.writeUInt32LE((b.readUInt32LE(8) ^ 1) >>> 0, 8), Step.PLAN_LAYOUT],
      ['a size that does not match', (b) => b.writeUInt32LE(b.length + 8, 16), Step.PLAN_SIZE],
    ];
    for (const [what, corrupt, step] of cases) {
      it(`refuses a plan with ${what}`, function () {
        const bytes = good();
        corrupt(bytes);
        const run = runChildBytes(bytes);
        expectError(run, step, 71 /* EPROTO */);
        onlyChecks(run);
      });
    }

    it('refuses a string that runs past the end of its table, naming the field', function () {
      const bytes = good();
      bytes.writeUInt32LE(bytes.length, 24 + 40); // Plan.rootfs's offset: past the end
      const run = runChildBytes(bytes);
      const last = messages(run).at(-1)!;
      expect(last).to.deep.include({ type: MsgType.ERROR, step: Step.PLAN_FIELD, err: 71 });
      expect(FIELDS[last.index]).to.equal('SpawnPlan.rootfs');
      onlyChecks(run);
    });

    it('refuses a boolean that is not 0 or 1, naming the field', function () {
      const bytes = good();
      bytes.writeUInt32LE(2, 24 + 36); // Plan.isInit
      const run = runChildBytes(bytes);
      const last = messages(run).at(-1)!;
      expect(last).to.deep.include({ type: MsgType.ERROR, step: Step.PLAN_FIELD });
      expect(FIELDS[last.index]).to.equal('SpawnPlan.isInit');
      onlyChecks(run);
    });

    it('refuses a plan whose descriptor is not open', function () {
      const run = runChild(initPlan(), { closed: [7] });
      expect(messages(run).at(-1)).to.deep.include({ type: MsgType.ERROR, step: Step.PLAN_FD, err: 9 });
      onlyChecks(run);
    });
  });

  describe('/dev symlinks: what the image has there', function () {
    it('a directory at /dev/fd is removed and the symlink made', function () {
      const run = runChild(initPlan(), { paths: { ...PATHS, '/rootfs/dev/fd': 'dir' } });
      const rm = at(run, (c) => c.call === 'unlinkat' && c.path === '/rootfs/dev/fd');
      expect(run.calls[rm]!.args[2]).to.equal(AT_REMOVEDIR);
      expect(at(run, (c) => c.call === 'symlinkat' && c.path === '/rootfs/dev/fd')).to.be.greaterThan(rm);
    });

    it('an identical symlink stays as it is', function () {
      const run = runChild(initPlan(), { paths: { ...PATHS, '/rootfs/dev/fd': 'link:/proc/self/fd' } });
      expect(at(run, (c) => (c.call === 'unlinkat' || c.call === 'symlinkat') && c.path === '/rootfs/dev/fd')).to.equal(-1);
    });

    it('another symlink or a file is replaced', function () {
      const run = runChild(initPlan(), { paths: { ...PATHS, '/rootfs/dev/fd': 'link:/etc', '/rootfs/dev/ptmx': 'file' } });
      for (const p of ['/rootfs/dev/fd', '/rootfs/dev/ptmx']) {
        const rm = at(run, (c) => c.call === 'unlinkat' && c.path === p);
        expect(run.calls[rm]!.args[2], p).to.equal(0);
        expect(at(run, (c) => c.call === 'symlinkat' && c.path === p), p).to.be.greaterThan(rm);
      }
    });

    it('a directory with content there fails, naming the symlink', function () {
      const run = runChild(initPlan(), { paths: { ...PATHS, '/rootfs/dev/fd': 'dir' }, fail: [`unlinkat=${ENOTEMPTY}`] });
      expectError(run, Step.SYMLINK_NOT_EMPTY, ENOTEMPTY, 0);
    });
  });

  describe('process and container setup as runc and crun do it', function () {
    const sendType = (type: number) => (c: ChildCall) => c.msg?.type === type;
    const SIOCGIFFLAGS = 0x8913;
    const SIOCSIFFLAGS = 0x8914;

    it('a new network namespace: the loopback interface goes up in stage 2, before the rootfs', function () {
      const run = runChild(initPlan({ loopbackUp: true }), { paths: PATHS });
      expect(run.status, run.stderr).to.equal(0);
      const socket = at(run, named('socket'));
      const get = at(run, (c) => c.call === 'ioctl' && c.args[1] === SIOCGIFFLAGS);
      const set = at(run, (c) => c.call === 'ioctl' && c.args[1] === SIOCSIFFLAGS);
      expect(socket).to.be.greaterThan(at(run, named('clone3')));
      expect([socket < get, get < set, set < at(run, named('pivot_root'))]).to.deep.equal([true, true, true]);
      expect(run.calls[socket]!.args[0]).to.equal(2); // AF_INET
      expect(at(runChild(initPlan(), { paths: PATHS }), named('socket')), 'not without loopbackUp').to.equal(-1);
    });

    it('a failing SIOCSIFFLAGS is reported as LOOPBACK', function () {
      expectError(runChild(initPlan({ loopbackUp: true }), { paths: PATHS, fail: [`ioctl#2=${EPERM}`] }), Step.LOOPBACK, EPERM);
    });

    it('a real-time scheduler is set in stage 1 before any namespace (CAP_SYS_NICE of the initial namespace), SCHED_DEADLINE in stage 2', function () {
      const fifo = { policy: 1, nice: 0, priority: 10, flags: 0n, runtime: 0n, deadline: 0n, period: 0n };
      const run = runChild(initPlan({ newUserns: true }, { scheduler: fifo }), { paths: PATHS });
      expect(run.status, run.stderr).to.equal(0);
      const sched = run.calls.filter(named('sched_setattr'));
      expect(sched).to.have.length(1);
      expect(at(run, named('sched_setattr'))).to.be.lessThan(at(run, named('unshare')));
      const deadline = runChild(initPlan({}, { scheduler: { ...fifo, policy: 6 } }), { paths: PATHS });
      expect(at(deadline, named('sched_setattr'))).to.be.greaterThan(at(deadline, named('clone3')));
    });

    it('exec: the initial CPU affinity before the cgroup placement (STAGE1), the final one right before READY', function () {
      const affinity = { initial: Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]), final: Buffer.from([2, 0, 0, 0, 0, 0, 0, 0]) };
      const run = runChild(initPlan({ joinPidfd: 9, joinPidfdFlags: 0x20000, unshareFlags: 0, isInit: false, setupMounts: false, mounts: [], devices: [], symlinks: [], maskedPaths: [], readonlyPaths: [], rootReadonly: false, hostname: null, sysctls: [] }, { execFifoFd: -1, cpuAffinity: affinity }), { paths: { ...PATHS, '/work': 'dir' } });
      expect(run.status, run.stderr).to.equal(0);
      const calls = run.calls.filter(named('sched_setaffinity'));
      expect(calls.map((c) => c.args)).to.deep.equal([[8, 1], [8, 2]]);
      const [initial, final] = [at(run, named('sched_setaffinity')), lastAt(run, named('sched_setaffinity'))];
      expect(initial).to.be.lessThan(at(run, sendType(MsgType.STAGE1)));
      expect(final).to.be.greaterThan(at(run, named('seccomp')));
      expect(final).to.be.lessThan(at(run, sendType(MsgType.READY)));
    });

    it('the memory policy is set with the process attributes, maxnode one past the mask\'s bits', function () {
      const run = runChild(initPlan({}, { memoryPolicy: { mode: 2 | (1 << 15), nodes: Buffer.from([3, 0, 0, 0, 0, 0, 0, 0]) } }), { paths: PATHS });
      expect(run.status, run.stderr).to.equal(0);
      const mp = at(run, named('set_mempolicy'));
      expect(run.calls[mp]!.args).to.deep.equal([2 | (1 << 15), 3, 65]);
      expect(mp).to.be.greaterThan(at(run, named('prlimit')));
      expect(mp).to.be.lessThan(at(run, prctl(PR_SET_NO_NEW_PRIVS)));
      expectError(runChild(initPlan({}, { memoryPolicy: { mode: 2, nodes: Buffer.alloc(8, 1) } }), { paths: PATHS, fail: [`set_mempolicy=${EIO}`] }), Step.MEMORY_POLICY, EIO);
    });

    it('a tmpfs over an existing directory gets its mode in front of its data (runc); nothing is read without takeMode', function () {
      const mounts = [mount('/etc', 'tmpfs', { data: 'size=1m', takeMode: true }), mount('/run', 'tmpfs', { takeMode: true }), mount('/tmp', 'tmpfs')];
      const run = runChild(initPlan({ mounts }), { paths: PATHS });
      expect(run.status, run.stderr).to.equal(0);
      const data = (dest: string) => run.calls.find((c) => c.call === 'mount' && c.path === `/rootfs${dest}`)!.args[4];
      expect([data('/etc'), data('/run'), data('/tmp')]).to.deep.equal(['mode=0755,size=1m', 'mode=0755', null]);
    });

    it('user namespace devices: a node the runtime made is moved in, a host node cloned; both nosuid and noexec first', function () {
      const dev = (path: string, extra: object) => ({ path, mode: 0o20666, major: 1, minor: 3, uid: 0, gid: 0, bindFromHost: true, hostPath: null, ...extra });
      const devices = [dev('/dev/null', { hostPath: '/dev/null', replaceExisting: true }), dev('/dev/mine', { mountFd: 12 })];
      const run = runChild(initPlan({ devices }), { paths: PATHS });
      expect(run.status, run.stderr).to.equal(0);
      const trees = run.calls.filter(named('open_tree'));
      expect(trees.map((c) => c.args[1])).to.include('/dev/null');
      const setattrs = run.calls.filter((c) => c.call === 'mount_setattr' && c.args[2] === 0x2 + 0x8);
      expect(setattrs.length, 'nosuid|noexec on both').to.equal(2);
      const moved = run.calls.filter((c) => c.call === 'move_mount' && (c.path === '/rootfs/dev/null' || c.path === '/rootfs/dev/mine'));
      expect(moved.map((c) => c.path)).to.deep.equal(['/rootfs/dev/null', '/rootfs/dev/mine']);
      expect(at(run, (c) => c.call === 'move_mount' && c.args[0] === 12)).to.be.greaterThan(-1);
      expect(at(run, named('mknodat')), 'no mknod in a user namespace').to.equal(-1);
    });

    it('a mount over / itself: later targets are resolved in it (the root is opened again)', function () {
      const mounts = [mount('/', 'none', { bind: true, source: '/elsewhere' }), mount('/sys', 'sysfs', { noSymlinks: true })];
      const run = runChild(initPlan({ mounts }), { paths: PATHS });
      expect(run.status, run.stderr).to.equal(0);
      const rootOpens = run.calls.filter((c) => c.call === 'openat' && c.path === '/rootfs' && c.ret >= 0);
      expect(rootOpens.length).to.be.at.least(2);
      const over = at(run, (c) => c.call === 'mount' && c.args[0] === '/elsewhere');
      const reopened = at(run, (c) => c.call === 'openat' && c.path === '/rootfs' && run.calls.indexOf(c) > over);
      expect(reopened).to.be.greaterThan(over);
      expect(reopened).to.be.lessThan(at(run, (c) => c.call === 'mount' && c.args[2] === 'sysfs'));
    });
  });

  it('exec (joining by pidfd): setns before the fork, no rootfs setup, the same final steps', function () {
    const plan = initPlan({
      joinPidfd: 9,
      joinPidfdFlags: 0x7e020000,
      unshareFlags: 0,
      isInit: false,
      rootfs: null,
      setupMounts: false,
      mounts: [],
      devices: [],
      symlinks: [],
      maskedPaths: [],
      readonlyPaths: [],
      rootReadonly: false,
      hostname: null,
      sysctls: [],
    }, { execFifoFd: -1 });
    const run = runChild(plan, { paths: { ...PATHS, '/work': 'dir' } });
    expect(run.status, run.stderr).to.equal(0);
    const setns = at(run, named('setns'));
    expect(run.calls[setns]!.args).to.deep.equal([9, 0x7e020000]);
    expect(setns).to.be.lessThan(at(run, named('clone3')));
    expect(at(run, named('pivot_root'))).to.equal(-1);
    expect(at(run, named('mount'))).to.equal(-1);
    // The pidfd of the container is not passed on to the new process.
    expect(run.calls.at(-1)!.argv![1]).to.equal('-1');
  });
});
