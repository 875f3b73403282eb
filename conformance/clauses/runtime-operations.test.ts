// runtime.md: scope of a container, the state document, and the operations (state, create,
// start, kill, delete).
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { validateState } from '../../src/spec/validate.js';
import { makeBundle } from '../../test/helpers/bundle.js';
import { useLeakCheck } from '../../test/helpers/leaks.js';
import { requireRoot } from '../../test/helpers/privileges.js';
import { type ContainerState, rt, rtOk, runtimeBin, state, testRoot, uniqueId, waitFor } from '../../test/helpers/runtime.js';
import {
  cgroupDirs,
  clause,
  cmdline,
  create,
  expectCreateFails,
  expectError,
  expectNoContainer,
  expectNoProblems,
  forceDelete,
  host,
  isAlive,
  killAndDelete,
  makeOutBundle,
  mountAt,
  parseMountInfo,
  nsLink,
  readOut,
  waitStopped,
} from './support.js';

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-.]+)?(?:\+[0-9A-Za-z-.]+)?$/;

describe('runtime.md: scope, state and operations', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  clause('runtime.scope.same-entity', 'the caller that created a container can query, start, signal and delete it', async function () {
    const b = makeBundle({ args: ['sleep', '600'] });
    const id = uniqueId();
    // Every operation from a different working directory than create's: only the id and the
    // runtime's --root tie them to the container.
    rtOk(['create', '--bundle', b.dir, id], { cwd: b.dir });
    expect(state(id, { cwd: '/' }).status).to.equal('created');
    rtOk(['start', id], { cwd: '/' });
    expect(state(id).status).to.equal('running');
    rtOk(['kill', id, 'KILL'], { cwd: '/' });
    await waitStopped(id);
    rtOk(['delete', id], { cwd: '/' });
    expectNoContainer(id);
  });

  describe('State', function () {
    clause('runtime.state.oci-version', 'the state has ociVersion, a SemVer string', async function () {
      const b = makeBundle({ args: ['sleep', '600'] });
      const id = create(b);
      try {
        const s = state(id);
        expect(s.ociVersion, JSON.stringify(s)).to.be.a('string').and.match(SEMVER);
      } finally {
        forceDelete(id);
      }
    });

    clause('runtime.state.id-unique', 'the state carries the id given at create, and an id names one container only', function () {
      const a = makeBundle({ args: ['sleep', '600'] });
      const b = makeBundle({ args: ['sleep', '600'] });
      const id1 = uniqueId();
      const id2 = uniqueId();
      try {
        create(a, id1);
        create(b, id2);
        expect(state(id1).id).to.equal(id1);
        expect(state(id2).id).to.equal(id2);
        expect(state(id1).pid).to.not.equal(state(id2).pid);
        const dup = rt(['create', '--bundle', b.dir, id1]);
        expectError(dup, 'a second create with the same id');
        const listed = rtOk(['list', '-q']).split('\n').filter(Boolean);
        expect(listed.filter((x) => x === id1), `list -q: ${listed.join(' ')}`).to.have.length(1);
      } finally {
        forceDelete(id1);
        forceDelete(id2);
      }
    });

    clause('runtime.state.status', 'status is created after create, running after start, stopped after the process exits', async function () {
      const b = makeOutBundle({ args: ['sh', '-c', 'while [ ! -e /out/go ]; do sleep 0.05; done'] });
      const id = create(b);
      try {
        expect(state(id).status).to.equal('created');
        rtOk(['start', id]);
        expect(state(id).status).to.equal('running');
        writeFileSync(path.join(b.out, 'go'), '');
        await waitStopped(id);
        expect(state(id).status).to.equal('stopped');
      } finally {
        forceDelete(id);
      }
    });

    clause('runtime.state.status-new-values', 'the standard states are reported with the standard values, also while create is in progress', async function () {
      // A createRuntime hook holds create for a while; meanwhile `state` may say creating or
      // created (or not know the container yet), never a value of its own for those states.
      const b = makeOutBundle({ args: ['sleep', '600'] });
      b.writeConfig((c) => {
        c.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `touch ${b.out}/hook; sleep 1`] }] };
      });
      const id = uniqueId();
      const seen = new Set<string>();
      const creating = spawn(runtimeBin(), ['--root', testRoot(), 'create', '--bundle', b.dir, id], { stdio: 'ignore' });
      const done = new Promise<number | null>((resolve) => creating.on('exit', (code) => resolve(code)));
      try {
        let finished = false;
        void done.then(() => (finished = true));
        while (!finished) {
          const r = rt(['state', id]);
          if (r.status === 0) seen.add((JSON.parse(r.stdout) as ContainerState).status);
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(await done, 'create').to.equal(0);
        expect([...seen].every((s) => s === 'creating' || s === 'created'), `statuses seen during create: ${[...seen].join(', ')}`).to.equal(true);
        expect(state(id).status).to.equal('created');
        rtOk(['start', id]);
        expect(state(id).status).to.equal('running');
        rtOk(['kill', id, 'KILL']);
        await waitStopped(id);
        expect(state(id).status).to.equal('stopped');
      } finally {
        creating.kill('SIGKILL');
        forceDelete(id);
      }
    });

    clause('runtime.state.pid', 'pid is present when created and running, and is the container process', async function () {
      const b = makeBundle({ args: ['sleep', '600'] });
      const id = create(b);
      try {
        const created = state(id);
        expect(created.pid, 'pid when created').to.be.a('number').above(0);
        expect(isAlive(created.pid!), `process ${created.pid} alive`).to.equal(true);
        expect(readFileSync(`/proc/${created.pid}/cgroup`, 'utf8')).to.include(b.config.linux!.cgroupsPath);
        rtOk(['start', id]);
        const running = state(id);
        expect(running.pid, 'pid when running').to.equal(created.pid);
        await waitFor(() => cmdline(running.pid!).join(' ') === 'sleep 600', 5_000, { what: 'the pid to run `sleep 600`' });
      } finally {
        forceDelete(id);
      }
    });

    clause('runtime.state.bundle', 'bundle is the absolute path of the bundle, also when create was given a relative one', function () {
      const b = makeBundle({ args: ['sleep', '600'] });
      const id = uniqueId();
      // --bundle relative to the runtime's working directory
      rtOk(['create', '--bundle', path.basename(b.dir), id], { cwd: path.dirname(b.dir) });
      try {
        const s = state(id);
        expect(path.isAbsolute(s.bundle), s.bundle).to.equal(true);
        expect(realpathSync(s.bundle)).to.equal(realpathSync(b.dir));
      } finally {
        forceDelete(id);
      }
    });

    clause('runtime.state.schema', 'the state of a created, running and stopped container validates against the state schema', async function () {
      const b = makeBundle({ args: ['sleep', '600'], mutate: (c) => (c.annotations = { 'org.example.key': 'value' }) });
      const id = create(b);
      try {
        const check = (when: string) => {
          const s = state(id);
          expect(validateState(s).map((e) => e.message), `${when}: ${JSON.stringify(s)}`).to.deep.equal([]);
        };
        check('created');
        rtOk(['start', id]);
        check('running');
        rtOk(['kill', id, 'KILL']);
        await waitStopped(id);
        check('stopped');
      } finally {
        forceDelete(id);
      }
    });
  });

  describe('Operations', function () {
    clause('runtime.operations.supported', 'state, create, start, kill and delete each do their job', async function () {
      const b = makeOutBundle({ args: ['sh', '-c', 'trap "echo term > /out/signal; exit 0" TERM; echo up > /out/up; while :; do sleep 0.05; done'] });
      const id = uniqueId();
      rtOk(['create', '--bundle', b.dir, id]);
      expect(state(id).status, 'state after create').to.equal('created');
      rtOk(['start', id]);
      await waitFor(() => readOut(b, 'up') === 'up\n', 5_000, { what: 'the program to run' });
      rtOk(['kill', id, 'TERM']);
      await waitStopped(id);
      expect(readOut(b, 'signal')).to.equal('term\n');
      rtOk(['delete', id]);
      expectNoContainer(id);
    });

    describe('Query State', function () {
      clause('runtime.state-op.no-id-error', '`state` without an id fails', function () {
        expectError(rt(['state']), 'state without an id');
      });

      clause('runtime.state-op.not-found-error', '`state` of a container that does not exist fails', function () {
        expectError(rt(['state', uniqueId('nosuch')]), 'state of a missing container');
      });

      clause('runtime.state-op.returns-state', '`state` returns the container\'s id, status, pid and bundle', function () {
        const b = makeBundle({ args: ['sleep', '600'] });
        const id = create(b);
        try {
          const s = state(id);
          expect(s).to.include({ id, status: 'created', bundle: b.dir });
          expect(s.ociVersion).to.be.a('string');
          // the pid is the process in the container's cgroup
          const procs = cgroupDirs(b.config.linux!.cgroupsPath)
            .map((d) => path.join(d, 'cgroup.procs'))
            .filter((f) => existsSync(f))
            .flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map(Number));
          expect(procs, 'pids in the container cgroup').to.include(s.pid);
        } finally {
          forceDelete(id);
        }
      });
    });

    describe('Create', function () {
      clause('runtime.create.missing-args-error', '`create` without an id, or with a bundle path that does not exist, fails and creates nothing', function () {
        const b = makeBundle({ args: ['true'] });
        expectError(rt(['create', '--bundle', b.dir]), 'create without an id');
        const id = uniqueId();
        expectError(rt(['create', '--bundle', path.join(b.dir, 'no-such-bundle'), id]), 'create with a missing bundle');
        expectNoContainer(id);
        expect(rtOk(['list', '-q']).trim(), 'containers listed').to.equal('');
      });

      clause('runtime.create.id-not-unique', '`create` with the id of an existing container fails and leaves the existing one as it was', function () {
        const first = makeBundle({ args: ['sleep', '600'] });
        const second = makeBundle({ args: ['sleep', '600'] });
        const id = create(first);
        try {
          const before = state(id);
          expectError(rt(['create', '--bundle', second.dir, id]), 'create with a duplicate id');
          const after = state(id);
          expect(after).to.deep.include({ status: 'created', pid: before.pid, bundle: first.dir });
          expect(isAlive(before.pid!)).to.equal(true);
          expect(rtOk(['list', '-q']).split('\n').filter(Boolean)).to.deep.equal([id]);
        } finally {
          forceDelete(id);
        }
      });

      clause('runtime.create.id-invalid', '`create` with an invalid id fails and creates nothing', function () {
        const b = makeBundle({ args: ['true'] });
        for (const bad of ['../escape', 'a/b', 'with space', '', '.', '..']) {
          const r = rt(['create', '--bundle', b.dir, bad]);
          if (r.status === 0) rt(['delete', '--force', bad]);
          expectError(r, `create with id ${JSON.stringify(bad)}`);
        }
        expect(rtOk(['list', '-q']).trim(), 'containers listed').to.equal('');
        expect(existsSync(path.join(path.dirname(testRoot()), 'escape')), 'a state dir outside --root').to.equal(false);
      });

      clause('runtime.create.creates-container', '`create` creates a new container, visible to state and list', function () {
        const b = makeBundle({ args: ['sleep', '600'] });
        const id = create(b);
        try {
          expect(state(id).status).to.equal('created');
          expect(rtOk(['list', '-q']).split('\n')).to.include(id);
        } finally {
          forceDelete(id);
        }
      });

      clause('runtime.create.applies-config', 'after create (before start) the hostname, mounts and namespaces of config.json are in place', function () {
        const b = makeBundle({
          args: ['sleep', '600'],
          mutate: (c) => {
            c.hostname = 'conf-applied';
            c.mounts!.push({ destination: '/applied', type: 'tmpfs', source: 'tmpfs', options: ['size=64k'] });
          },
        });
        const id = create(b);
        try {
          const pid = state(id).pid!;
          const hostname = host('nsenter', ['-t', String(pid), '-u', 'hostname']).trim();
          expect(hostname, 'hostname in the container UTS namespace').to.equal('conf-applied');
          const mounts = parseMountInfo(readFileSync(`/proc/${pid}/mountinfo`, 'utf8'));
          expect(mountAt(mounts, '/applied')?.fsType, 'the tmpfs at /applied in the created container').to.equal('tmpfs');
          for (const ns of ['mnt', 'uts', 'ipc', 'net', 'pid']) {
            expect(nsLink(ns, pid), `${ns} namespace`).to.not.equal(nsLink(ns));
          }
        } finally {
          forceDelete(id);
        }
      });

      clause('runtime.create.args-not-applied', 'the created container\'s process is not yet the program of process.args', async function () {
        const b = makeOutBundle({ args: ['sh', '-c', 'echo ran > /out/ran; exec sleep 600'] });
        const id = create(b);
        try {
          const pid = state(id).pid!;
          await new Promise((r) => setTimeout(r, 300));
          expect(readOut(b, 'ran'), 'the program ran at create').to.equal('');
          expect(cmdline(pid).join(' ')).to.not.match(/^(sh -c echo ran|sleep 600)/);
          rtOk(['start', id]);
          await waitFor(() => cmdline(pid).join(' ') === 'sleep 600', 5_000, { what: 'the program to run after start' });
        } finally {
          forceDelete(id);
        }
      });

      clause('runtime.create.cannot-apply-error', '`create` with a sysctl the kernel does not have fails and creates nothing', function () {
        expectCreateFails((c) => {
          c.linux!.sysctl = { 'net.ipv4.conformance_no_such_key': '1' };
        }, 'create with an unknown sysctl');
      });
    });

    describe('Start', function () {
      clause('runtime.start.no-id-error', '`start` without an id fails', function () {
        expectError(rt(['start']), 'start without an id');
      });

      clause('runtime.start.not-created-error', '`start` of a running or stopped container fails and has no effect', async function () {
        const b = makeOutBundle({ args: ['sh', '-c', 'echo started >> /out/starts; while [ ! -e /out/stop ]; do sleep 0.05; done'] });
        const id = create(b);
        try {
          rtOk(['start', id]);
          await waitFor(() => readOut(b, 'starts') !== '', 5_000, { what: 'the program to start' });
          const before = state(id);
          expectError(rt(['start', id]), 'start of a running container');
          await new Promise((r) => setTimeout(r, 200));
          expect(state(id)).to.deep.include({ status: 'running', pid: before.pid });
          expect(readOut(b, 'starts'), 'times the program started').to.equal('started\n');
          writeFileSync(path.join(b.out, 'stop'), '');
          await waitStopped(id);
          expectError(rt(['start', id]), 'start of a stopped container');
          await new Promise((r) => setTimeout(r, 200));
          expect(state(id).status).to.equal('stopped');
          expect(readOut(b, 'starts'), 'times the program started').to.equal('started\n');
        } finally {
          forceDelete(id);
        }
      });

      clause('runtime.start.run-program', '`start` runs process.args with process.env and process.cwd', async function () {
        const b = makeOutBundle({
          args: ['sh', '-c', 'echo "$0|$1|$GREETING|$(pwd)" > /out/result', 'first', 'second'],
          mutate: (c) => {
            c.process!.env = ['PATH=/bin', 'GREETING=hello world'];
            c.process!.cwd = '/tmp';
          },
        });
        const id = create(b);
        try {
          rtOk(['start', id]);
          await waitFor(() => readOut(b, 'result') !== '', 5_000, { what: 'the program to write /out/result' });
          expect(readOut(b, 'result')).to.equal('first|second|hello world|/tmp\n');
        } finally {
          forceDelete(id);
        }
      });

      clause('runtime.start.no-process-error', 'a container whose config has no process cannot be started', function () {
        const b = makeBundle({ mutate: (c) => delete c.process });
        const id = uniqueId();
        const created = rt(['create', '--bundle', b.dir, id]);
        try {
          if (created.status === 0) {
            // create may accept it (process is only REQUIRED at start); start must not
            expectError(rt(['start', id]), 'start without process');
          } else {
            expectError(created, 'create without process');
            expectNoContainer(id);
          }
        } finally {
          forceDelete(id);
        }
      });
    });

    describe('Kill', function () {
      clause('runtime.kill.no-id-error', '`kill` without an id fails', function () {
        expectError(rt(['kill']), 'kill without an id');
      });

      clause('runtime.kill.not-running-error', '`kill` of a stopped container fails and has no effect', async function () {
        const b = makeBundle({ args: ['true'] });
        const id = create(b);
        try {
          rtOk(['start', id]);
          await waitStopped(id);
          expectError(rt(['kill', id, 'KILL']), 'kill of a stopped container');
          expect(state(id).status).to.equal('stopped');
          rtOk(['delete', id]);
        } finally {
          forceDelete(id);
        }
      });

      clause('runtime.kill.sends-signal', '`kill` delivers the named signal to the container process', async function () {
        const b = makeOutBundle({ args: ['sh', '-c', 'trap "echo usr1 >> /out/got" USR1; echo ready > /out/ready; while :; do sleep 0.05; done'] });
        const id = create(b);
        try {
          rtOk(['start', id]);
          await waitFor(() => readOut(b, 'ready') !== '', 5_000, { what: 'the trap to be set' });
          rtOk(['kill', id, 'USR1']);
          await waitFor(() => readOut(b, 'got') === 'usr1\n', 5_000, { what: 'the container to get SIGUSR1' });
          expect(state(id).status).to.equal('running');
          rtOk(['kill', id, 'SIGKILL']);
          await waitStopped(id);
        } finally {
          forceDelete(id);
        }
      });
    });

    describe('Delete', function () {
      clause('runtime.delete.no-id-error', '`delete` without an id fails', function () {
        expectError(rt(['delete']), 'delete without an id');
      });

      clause('runtime.delete.not-stopped-error', '`delete` of a running or created container fails and has no effect', async function () {
        const running = makeBundle({ args: ['sleep', '600'] });
        const created = makeBundle({ args: ['sleep', '600'] });
        const idRunning = create(running);
        const idCreated = create(created);
        try {
          rtOk(['start', idRunning]);
          const pidRunning = state(idRunning).pid!;
          const pidCreated = state(idCreated).pid!;
          const problems: string[] = [];
          for (const [id, pid, status] of [[idRunning, pidRunning, 'running'], [idCreated, pidCreated, 'created']] as const) {
            const r = rt(['delete', id]);
            if (r.status === 0) problems.push(`delete of a ${status} container succeeded`);
            const s = rt(['state', id]);
            const now = s.status === 0 ? (JSON.parse(s.stdout) as ContainerState) : undefined;
            if (!now || now.status !== status || now.pid !== pid || !isAlive(pid)) {
              problems.push(`delete of a ${status} container changed it: state is now ${now ? `${now.status} pid ${now.pid}` : 'gone'}`);
            }
          }
          expectNoProblems(problems, 'delete of a container that is not stopped');
        } finally {
          forceDelete(idRunning);
          forceDelete(idCreated);
        }
      });

      clause('runtime.delete.removes-resources', '`delete` removes the state, the cgroups and the processes of the container', async function () {
        const b = makeBundle({ args: ['sleep', '600'] });
        const id = create(b);
        const pid = state(id).pid!;
        rtOk(['start', id]);
        const cgroups = cgroupDirs(b.config.linux!.cgroupsPath);
        expect(cgroups.length, 'cgroup directories of the container').to.be.above(0);
        await killAndDelete(id);
        expectNoContainer(id);
        expect(cgroups.filter((d) => existsSync(d)), 'cgroup directories left').to.deep.equal([]);
        expect(isAlive(pid), `container process ${pid} alive`).to.equal(false);
      });

      clause('runtime.delete.keeps-foreign-resources', '`delete` leaves the bind-mount source and a joined namespace alone', async function () {
        const holder = spawn('unshare', ['--net', 'sleep', '600'], { stdio: 'ignore' });
        try {
          await waitFor(() => nsLink('net', holder.pid!) !== nsLink('net'), 5_000, { what: 'the namespace holder' });
          const b = makeOutBundle({
            args: ['sh', '-c', 'echo from-container > /out/written'],
            mutate: (c) => {
              c.linux!.namespaces = c.linux!.namespaces.map((n: { type: string }) =>
                n.type === 'network' ? { type: 'network', path: `/proc/${holder.pid}/ns/net` } : n,
              );
            },
          });
          mkdirSync(path.join(b.out, 'keep'));
          writeFileSync(path.join(b.out, 'keep', 'file'), 'host data');
          const holderNet = nsLink('net', holder.pid!);
          const id = create(b);
          rtOk(['start', id]);
          await waitStopped(id);
          rtOk(['delete', id]);
          expect(readFileSync(path.join(b.out, 'keep', 'file'), 'utf8')).to.equal('host data');
          expect(readOut(b, 'written')).to.equal('from-container\n');
          expect(isAlive(holder.pid!), 'the process holding the joined namespace').to.equal(true);
          expect(nsLink('net', holder.pid!)).to.equal(holderNet);
        } finally {
          holder.kill('SIGKILL');
        }
      });
    });
  });
});
