// config.md, POSIX-platform Hooks: when each kind of hook runs, in which namespaces, where
// its path resolves, what it gets on stdin, in which order, and its fields (path, args, env,
// timeout).
//
// One container goes through a whole lifecycle (create, start, stop, delete) with two
// recording hooks of every kind; the clause tests then look at what the hooks recorded. The
// lifecycle never throws in `before`: if it breaks, each test says which record is missing
// and why.
import { expect } from 'chai';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { useLeakCheck } from '../../test/helpers/leaks.js';
import { isRoot, requireRoot, skipWith } from '../../test/helpers/privileges.js';
import { type ContainerState, describeResult, rt, rtOk, state, uniqueId, waitFor } from '../../test/helpers/runtime.js';
import {
  type OutBundle,
  clause,
  expectCreateFails,
  expectError,
  forceDelete,
  isAlive,
  makeOutBundle,
  mountAt,
  nsLink,
  parseMountInfo,
  readOut,
} from './support.js';

const KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
type Kind = (typeof KINDS)[number];

/** Where each kind runs and where its path resolves (config.md, POSIX-platform Hooks). */
const WHERE: Record<Kind, { ns: 'runtime' | 'container'; pathNs: 'runtime' | 'container' }> = {
  prestart: { ns: 'runtime', pathNs: 'runtime' },
  createRuntime: { ns: 'runtime', pathNs: 'runtime' },
  createContainer: { ns: 'container', pathNs: 'runtime' },
  startContainer: { ns: 'container', pathNs: 'container' },
  poststart: { ns: 'runtime', pathNs: 'runtime' },
  poststop: { ns: 'runtime', pathNs: 'runtime' },
};

const NS_TYPES = ['mnt', 'uts', 'ipc', 'net', 'pid'];
/** A hook that succeeds (after reading the state, so that only the field under test can fail it). */
const READS_STDIN = { path: '/bin/sh', args: ['sh', '-c', 'cat > /dev/null'] };
const HOSTNAME = 'conf-hooks';
/** A tmpfs the config asks for: its presence tells a hook that the environment is built. */
const MARK_MOUNT = '/conf-hooks-mark';
/** Inside the root filesystem only: startContainer's path resolves in the container. */
const CONTAINER_HOOK = '/conf-hooks/record.sh';

/**
 * The recording hook: `record.sh OUT KIND INDEX NSKIND [CGROUPDIR]`. Saves its stdin, its own
 * namespaces, the container's mountinfo and command line (read through the
 * state's pid from the runtime namespace, or its own mountinfo from the container's), whether
 * the container process still exists and whether CGROUPDIR does; appends KIND.INDEX to
 * OUT/order. Runs under dash on the host and busybox sh in the container.
 */
const RECORDER = `#!/bin/sh
out="$1/$2.$3"
cat > "$out.stdin"
echo "$2.$3" >> "$1/order"
for ns in ${NS_TYPES.join(' ')}; do echo "$ns $(readlink /proc/self/ns/$ns)"; done > "$out.ns"
echo real > "$out.which"
pid=$(sed -n 's/.*"pid": *\\([0-9][0-9]*\\).*/\\1/p' "$out.stdin")
if [ "$4" = runtime ] && [ -n "$pid" ]; then
  cat /proc/$pid/mountinfo > "$out.mountinfo" 2>/dev/null
  tr '\\0' ' ' < /proc/$pid/cmdline > "$out.cmdline" 2>/dev/null
  if [ -e /proc/$pid ]; then echo alive; else echo gone; fi > "$out.alive"
else
  cat /proc/self/mountinfo > "$out.mountinfo"
fi
if [ -n "$5" ]; then if [ -d "$5" ]; then echo exists; else echo gone; fi > "$out.cgroup"; fi
exit 0
`;

/** Put where the host path of the recorder would be if resolved inside the container. */
const DECOY = `#!/bin/sh
cat > /dev/null
echo decoy > "/out/$2.$3.which"
exit 0
`;

function writeScript(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  chmodSync(file, 0o755);
}

interface Record_ {
  stdin: string;
  ns: Record<string, string>;
  which: string;
  mountinfo: string;
  cmdline: string;
  alive: string;
  cgroup: string;
}

interface Lifecycle {
  bundle: OutBundle;
  id: string;
  /** Namespaces of the container process, read on the host after create. */
  containerNs: Record<string, string>;
  /** Where it broke, if it did. */
  error?: string;
}

describe('config.md: hooks', function () {
  useLeakCheck();
  let lc: Lifecycle | undefined;

  before(async function () {
    if (!isRoot()) return;
    lc = await runLifecycle();
  });
  beforeEach(function () {
    requireRoot(this);
  });

  async function runLifecycle(): Promise<Lifecycle> {
    const b = makeOutBundle({
      args: ['sh', '-c', 'echo program >> /out/order; while [ ! -e /out/stop ]; do sleep 0.05; done'],
      mutate: (c) => {
        c.hostname = HOSTNAME;
        c.mounts!.push({ destination: MARK_MOUNT, type: 'tmpfs', source: 'tmpfs', options: ['size=16k'] });
      },
    });
    const hostRecorder = path.join(b.dir, 'hooks', 'record.sh');
    writeScript(hostRecorder, RECORDER);
    writeScript(path.join(b.rootfs, hostRecorder), DECOY);
    writeScript(path.join(b.rootfs, CONTAINER_HOOK), RECORDER);
    const pidsCgroup = path.join('/sys/fs/cgroup/pids', b.config.linux!.cgroupsPath);
    b.writeConfig((c) => {
      c.hooks = Object.fromEntries(
        KINDS.map((kind) => {
          const inContainer = WHERE[kind].pathNs === 'container';
          const hookPath = inContainer ? CONTAINER_HOOK : hostRecorder;
          const out = inContainer ? '/out' : b.out;
          const extra = kind === 'poststop' ? [pidsCgroup] : [];
          return [
            kind,
            [0, 1].map((i) => ({
              path: hookPath,
              args: ['record.sh', out, kind, String(i), WHERE[kind].ns, ...extra],
              env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'],
            })),
          ];
        }),
      );
    });
    const id = uniqueId('hooks');
    const lc: Lifecycle = { bundle: b, id, containerNs: {} };
    const mark = (m: string) => writeFileSync(path.join(b.out, 'order'), `${m}\n`, { flag: 'a' });
    const step = (what: string, args: string[]): boolean => {
      const r = rt(args);
      if (r.status !== 0) lc.error = `${what} failed: ${describeResult(r)}`;
      return r.status === 0;
    };
    try {
      if (!step('create', ['create', '--bundle', b.dir, id])) return lc;
      mark('create-returned');
      const pid = state(id).pid!;
      for (const ns of NS_TYPES) lc.containerNs[ns] = nsLink(ns, pid);
      if (!step('start', ['start', id])) return lc;
      mark('start-returned');
      writeFileSync(path.join(b.out, 'stop'), '');
      await waitFor(() => !isAlive(pid), 10_000, { what: 'the program to exit' });
      mark('delete-called');
      if (!step('delete', ['delete', id])) return lc;
      mark('delete-returned');
    } catch (err) {
      lc.error = (err as Error).message;
    } finally {
      if (lc.error) forceDelete(id);
    }
    return lc;
  }

  function order(): string[] {
    return readOut(lc!.bundle, 'order').split('\n').filter(Boolean);
  }

  /** What hook KIND #i recorded; throws, naming the lifecycle's failure, when it did not run. */
  function rec(kind: Kind, i = 0): Record_ {
    const b = lc!.bundle;
    const base = `${kind}.${i}`;
    if (!existsSync(path.join(b.out, `${base}.stdin`))) {
      throw new Error(`hook ${kind} #${i} did not run${lc!.error ? ` (${lc!.error})` : ''}; order: ${order().join(', ')}`);
    }
    const read = (ext: string) => readOut(b, `${base}.${ext}`).trim();
    return {
      stdin: read('stdin'),
      ns: Object.fromEntries(read('ns').split('\n').map((l) => l.split(' ') as [string, string])),
      which: read('which'),
      mountinfo: read('mountinfo'),
      cmdline: read('cmdline'),
      alive: read('alive'),
      cgroup: read('cgroup'),
    };
  }

  /** Position of a line in the order file (throws if absent). */
  function at(line: string): number {
    const i = order().indexOf(line);
    if (i < 0) throw new Error(`${line} is not in the order log: ${order().join(', ')}${lc!.error ? ` (${lc!.error})` : ''}`);
    return i;
  }

  function expectBuiltNotPivoted(kind: Kind): void {
    const r = rec(kind);
    const rootfs = lc!.bundle.rootfs;
    const mounts = parseMountInfo(r.mountinfo);
    expect(r.mountinfo, `${kind}: the container's mount table`).to.not.equal('');
    // before pivot_root the container's mounts are still seen below the host path of the rootfs
    expect(mountAt(mounts, `${rootfs}${MARK_MOUNT}`)?.fsType, `${kind}: the configured tmpfs at ${rootfs}${MARK_MOUNT} (mounted, root not yet pivoted)`).to.equal('tmpfs');
    expect(at(`${kind}.1`), `${kind} before create returned`).to.be.below(at('create-returned'));
  }

  function expectRuntimeNs(kind: Kind): void {
    const r = rec(kind);
    for (const ns of NS_TYPES) expect(r.ns[ns], `${kind}: ${ns} namespace`).to.equal(nsLink(ns));
  }

  function expectContainerNs(kind: Kind): void {
    const r = rec(kind);
    for (const ns of NS_TYPES) expect(r.ns[ns], `${kind}: ${ns} namespace (container's)`).to.equal(lc!.containerNs[ns]);
  }

  function expectPathResolvedIn(kind: Kind): void {
    // the decoy at the same path inside the rootfs would have written "decoy"
    expect(rec(kind).which, `${kind}: which script ran`).to.equal('real');
  }

  clause('config.hooks.order', 'hooks of each kind run one after the other in the listed order', function () {
    for (const kind of KINDS) {
      rec(kind, 0);
      rec(kind, 1);
      expect(at(`${kind}.0`), `${kind} #0 before #1`).to.be.below(at(`${kind}.1`));
    }
  });

  clause('config.hooks.state-stdin', 'every hook gets the container state as JSON on stdin', function () {
    const b = lc!.bundle;
    for (const kind of KINDS) {
      const text = rec(kind).stdin;
      let s: ContainerState;
      try {
        s = JSON.parse(text) as ContainerState;
      } catch {
        throw new Error(`${kind}: stdin is not JSON: ${JSON.stringify(text)}`);
      }
      expect(s, `${kind}: ${text}`).to.include({ id: lc!.id, bundle: b.dir });
      expect(s.ociVersion, `${kind}: ociVersion`).to.be.a('string');
      expect(s.status, `${kind}: status`).to.be.a('string');
      if (kind !== 'poststop') expect(s.pid, `${kind}: pid`).to.be.a('number');
    }
  });

  describe('prestart', function () {
    clause('config.hooks.prestart.when', 'prestart runs during create, with the environment built and before pivot_root', function () {
      expectBuiltNotPivoted('prestart');
    });
    clause('config.hooks.prestart.before-createRuntime', 'prestart hooks run before the createRuntime hooks', function () {
      expect(at('prestart.1')).to.be.below(at('createRuntime.0'));
    });
    clause('config.hooks.prestart.path-runtime-ns', 'the prestart path is resolved on the host, not in the container', function () {
      expectPathResolvedIn('prestart');
    });
    clause('config.hooks.prestart.runtime-ns', 'prestart runs in the runtime\'s namespaces', function () {
      expectRuntimeNs('prestart');
    });
  });

  describe('createRuntime', function () {
    clause('config.hooks.createRuntime.when', 'createRuntime runs during create, with the environment built and before pivot_root', function () {
      expectBuiltNotPivoted('createRuntime');
    });
    clause('config.hooks.createRuntime.path-runtime-ns', 'the createRuntime path is resolved on the host', function () {
      expectPathResolvedIn('createRuntime');
    });
    clause('config.hooks.createRuntime.runtime-ns', 'createRuntime runs in the runtime\'s namespaces', function () {
      expectRuntimeNs('createRuntime');
    });
  });

  describe('createContainer', function () {
    clause('config.hooks.createContainer.when', 'createContainer runs during create, with the environment built and before pivot_root', function () {
      expectBuiltNotPivoted('createContainer');
    });
    clause('config.hooks.createContainer.after-createRuntime', 'createContainer hooks run after the createRuntime hooks', function () {
      expect(at('createContainer.0')).to.be.above(at('createRuntime.1'));
    });
    clause('config.hooks.createContainer.path-runtime-ns', 'the createContainer path is resolved in the runtime namespace', function () {
      expectPathResolvedIn('createContainer');
    });
    clause('config.hooks.createContainer.container-ns', 'createContainer runs in the container\'s namespaces', function () {
      expectContainerNs('createContainer');
    });
  });

  describe('startContainer', function () {
    clause('config.hooks.startContainer.when', 'startContainer runs during start, before the program', function () {
      rec('startContainer', 1);
      expect(at('startContainer.0'), 'after create returned').to.be.above(at('create-returned'));
      expect(at('startContainer.1'), 'before start returned').to.be.below(at('start-returned'));
      expect(at('startContainer.1'), 'before the program ran').to.be.below(at('program'));
    });
    clause('config.hooks.startContainer.path-container-ns', 'the startContainer path is resolved in the container (it exists only in the rootfs)', function () {
      expect(existsSync(CONTAINER_HOOK), `${CONTAINER_HOOK} must not exist on the host for this test`).to.equal(false);
      expectPathResolvedIn('startContainer');
    });
    clause('config.hooks.startContainer.container-ns', 'startContainer runs in the container\'s namespaces', function () {
      expectContainerNs('startContainer');
    });
  });

  describe('poststart', function () {
    clause('config.hooks.poststart.when', 'poststart runs during start, after the program was executed', function () {
      const r = rec('poststart');
      expect(at('poststart.0'), 'after create returned').to.be.above(at('create-returned'));
      expect(at('poststart.1'), 'before start returned').to.be.below(at('start-returned'));
      expect(r.cmdline, 'the container process when poststart ran').to.match(/^sh -c echo program/);
    });
    clause('config.hooks.poststart.path-runtime-ns', 'the poststart path is resolved on the host', function () {
      expectPathResolvedIn('poststart');
    });
    clause('config.hooks.poststart.runtime-ns', 'poststart runs in the runtime\'s namespaces', function () {
      expectRuntimeNs('poststart');
    });
  });

  describe('poststop', function () {
    clause('config.hooks.poststop.when', 'poststop runs during delete, after the container process and cgroup are gone', function () {
      const r = rec('poststop');
      expect(at('poststop.0'), 'after delete was called').to.be.above(at('delete-called'));
      expect(at('poststop.1'), 'before delete returned').to.be.below(at('delete-returned'));
      if (r.alive) expect(r.alive, 'the container process when poststop ran').to.equal('gone');
      expect(r.cgroup, 'the container cgroup when poststop ran').to.equal('gone');
    });
    clause('config.hooks.poststop.path-runtime-ns', 'the poststop path is resolved on the host', function () {
      expectPathResolvedIn('poststop');
    });
    clause('config.hooks.poststop.runtime-ns', 'poststop runs in the runtime\'s namespaces', function () {
      expectRuntimeNs('poststop');
    });
  });

  describe('hook fields', function () {
    clause('config.hooks.path-absolute', 'a hook with a relative path is an error', function () {
      expectCreateFails((c) => (c.hooks = { createRuntime: [{ ...READS_STDIN, path: 'bin/sh' }] }), 'create with a relative hook path');
    });

    clause('config.hooks.timeout-positive', 'a hook timeout of 0 or below is an error', function () {
      expectCreateFails((c) => (c.hooks = { createRuntime: [{ ...READS_STDIN, timeout: 0 }] }), 'create with hook timeout 0');
      expectCreateFails((c) => (c.hooks = { createRuntime: [{ ...READS_STDIN, timeout: -1 }] }), 'create with hook timeout -1');
    });

    clause('config.hooks.timeout-aborts', 'a hook running past its timeout is aborted and fails the operation', async function () {
      const b = makeOutBundle({ args: ['true'] });
      b.writeConfig((c) => {
        c.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `echo $$ > ${b.out}/hook.pid; cat > /dev/null; exec sleep 60`], timeout: 1 }] };
      });
      const id = uniqueId();
      const t0 = Date.now();
      const r = rt(['create', '--bundle', b.dir, id], { timeoutMs: 40_000 });
      const elapsed = Date.now() - t0;
      try {
        expectError(r, 'create with a hook that outlives its timeout');
        expect(elapsed, 'time create took (ms) with a 1 s hook timeout').to.be.below(15_000);
        const pid = Number(readOut(b, 'hook.pid'));
        expect(pid, 'the hook ran').to.be.above(0);
        await waitFor(() => !isAlive(pid), 5_000, { what: `the timed-out hook (pid ${pid}) to be gone` });
      } finally {
        forceDelete(id);
      }
    });

    clause('config.hooks.args-env', 'a hook gets exactly its args (args[0] as argv[0]) and its env', function () {
      if (!existsSync('/bin/busybox')) skipWith(this, 'needs /bin/busybox on the host');
      const b = makeOutBundle({ args: ['true'] });
      // busybox picks its applet by argv[0]: it only acts as `sh` if args[0] is passed as argv[0]
      b.writeConfig((c) => {
        c.hooks = {
          createRuntime: [
            {
              path: '/bin/busybox',
              args: ['sh', '-c', `cat > /dev/null; printf '%s|' "$0" "$@" > ${b.out}/args; env > ${b.out}/env`, 'zero', 'one two', 'three'],
              env: ['CONF_HOOK_VAR=a value', 'PATH=/bin'],
            },
          ],
        };
      });
      const id = uniqueId();
      rtOk(['create', '--bundle', b.dir, id], { env: { ...process.env, CONF_RUNTIME_ONLY: 'leak' } });
      try {
        expect(readOut(b, 'args')).to.equal('zero|one two|three|');
        const env = readOut(b, 'env').split('\n').filter(Boolean);
        expect(env).to.include.members(['CONF_HOOK_VAR=a value', 'PATH=/bin']);
        expect(env.filter((e) => e.startsWith('CONF_RUNTIME_ONLY=')), 'the runtime\'s own environment leaking into the hook').to.deep.equal([]);
      } finally {
        forceDelete(id);
      }
    });
  });

});
