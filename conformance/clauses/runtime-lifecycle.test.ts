// runtime.md: the lifecycle (steps 1-13, including what a failing hook must do), errors and
// warnings.
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { OciConfig } from '../../test/helpers/bundle.js';
import { makeTempDir } from '../../test/helpers/context.js';
import { findLeaks, formatLeaks, hasLeaks, takeSnapshot, useLeakCheck } from '../../test/helpers/leaks.js';
import { requireRoot } from '../../test/helpers/privileges.js';
import { type ContainerState, describeResult, readLogJson, rt, rtOk, state, uniqueId, waitFor } from '../../test/helpers/runtime.js';
import {
  type OutBundle,
  cgroupDirs,
  clause,
  cmdline,
  create,
  expectError,
  expectNoContainer,
  forceDelete,
  isAlive,
  makeOutBundle,
  nsLink,
  readOut,
  waitStopped,
} from './support.js';

type HookKind = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';

/**
 * A hook that appends `line` to the bundle's out/log, then exits with `exitCode`. The
 * startContainer hook runs inside the container (after pivot_root), where out/ is /out; the
 * others see the host path (createContainer runs in the container's mount namespace before
 * pivot_root, where host paths still resolve).
 */
function logHook(b: OutBundle, kind: HookKind, line: string, exitCode = 0, opts: { readStdin?: boolean } = {}) {
  const log = kind === 'startContainer' ? '/out/log' : path.join(b.out, 'log');
  // Reading the state first keeps these tests about what they test: a runtime that trips
  // over a hook ignoring its stdin fails runtime.lifecycle.hooks-invoked, not every test.
  const read = opts.readStdin === false ? '' : 'cat > /dev/null; ';
  return { path: '/bin/sh', args: ['sh', '-c', `${read}echo ${line} >> ${log}; exit ${exitCode}`] };
}

function logLines(b: OutBundle): string[] {
  return readOut(b, 'log').split('\n').filter(Boolean);
}

/** Level names a runtime may use for a warning in its JSON log. */
const isWarning = (e: Record<string, unknown>) => /^warn/i.test(String(e.level));

describe('runtime.md: lifecycle', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  clause('runtime.lifecycle.create-environment', 'create builds the environment of config.json: namespaces, mounts, cgroup', function () {
    const b = makeOutBundle({ args: ['sleep', '600'] });
    const id = create(b);
    try {
      const pid = state(id).pid!;
      for (const ns of ['mnt', 'uts', 'ipc', 'net', 'pid']) expect(nsLink(ns, pid), `${ns} namespace of the created container`).to.not.equal(nsLink(ns));
      const mountinfo = readFileSync(`/proc/${pid}/mountinfo`, 'utf8');
      for (const dest of ['/proc', '/dev', '/dev/pts', '/out']) expect(mountinfo, `mount at ${dest}`).to.include(` ${dest} `);
      expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).to.include(b.config.linux!.cgroupsPath);
    } finally {
      forceDelete(id);
    }
  });

  clause('runtime.lifecycle.create-error', 'create fails when the environment cannot be built (a bind mount of a missing source)', function () {
    const b = makeOutBundle({
      args: ['true'],
      mutate: (c) => c.mounts!.push({ destination: '/missing', type: 'bind', source: '/nonexistent/conformance-source', options: ['bind'] }),
    });
    const id = uniqueId();
    const r = rt(['create', '--bundle', b.dir, id]);
    if (r.status === 0) forceDelete(id);
    expectError(r, 'create with a bind mount of a missing source');
    expectNoContainer(id);
  });

  clause('runtime.lifecycle.program-not-run-at-create', 'the program has not run when create returns, and runs after start', async function () {
    const b = makeOutBundle({ args: ['sh', '-c', 'echo ran >> /out/ran; sleep 600'] });
    const id = create(b);
    try {
      await new Promise((r) => setTimeout(r, 500));
      expect(readOut(b, 'ran'), 'output of the program after create').to.equal('');
      rtOk(['start', id]);
      await waitFor(() => readOut(b, 'ran') === 'ran\n', 5_000, { what: 'the program to run after start' });
    } finally {
      forceDelete(id);
    }
  });

  clause('runtime.lifecycle.config-updates-no-effect', 'editing config.json after create changes nothing in the container', async function () {
    const b = makeOutBundle({
      args: ['sh', '-c', 'echo "original $(hostname)" > /out/result; sleep 600'],
      mutate: (c) => (c.hostname = 'original-host'),
    });
    const id = create(b);
    try {
      b.writeConfig((c) => {
        c.process!.args = ['sh', '-c', 'echo "modified $(hostname)" > /out/result; sleep 600'];
        c.hostname = 'modified-host';
      });
      rtOk(['start', id]);
      await waitFor(() => readOut(b, 'result') !== '', 5_000, { what: 'the program to write /out/result' });
      expect(readOut(b, 'result')).to.equal('original original-host\n');
    } finally {
      forceDelete(id);
    }
  });

  clause('runtime.lifecycle.hooks-invoked', 'all six kinds of hooks run over a create, start, kill, delete lifecycle, also hooks that ignore their stdin', async function () {
    const b = makeOutBundle({ args: ['sleep', '600'] });
    const kinds: HookKind[] = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'];
    b.writeConfig((c) => {
      // a hook is free not to read the state it is given
      c.hooks = Object.fromEntries(kinds.map((k) => [k, [logHook(b, k, k), logHook(b, k, `${k}-no-stdin`, 0, { readStdin: false })]]));
    });
    const id = create(b);
    try {
      rtOk(['start', id]);
      rtOk(['kill', id, 'KILL']);
      await waitStopped(id);
      rtOk(['delete', id]);
    } finally {
      forceDelete(id);
    }
    expect([...logLines(b)].sort()).to.deep.equal(kinds.flatMap((k) => [k, `${k}-no-stdin`]).sort());
  });

  // A failing prestart, createRuntime or createContainer hook: create must fail, the container
  // must be stopped and destroyed (step 12), and the poststop hooks run (step 13).
  for (const kind of ['prestart', 'createRuntime', 'createContainer'] as const) {
    clause(`runtime.lifecycle.${kind}-fail`, `a failing ${kind} hook fails create, destroys the container and runs the poststop hooks`, function () {
      const b = makeOutBundle({ args: ['sh', '-c', 'echo program >> /out/log'] });
      b.writeConfig((c) => {
        c.hooks = { [kind]: [logHook(b, kind, kind, 1)], poststop: [logHook(b, 'poststop', 'poststop')] };
      });
      const id = uniqueId();
      const r = rt(['create', '--bundle', b.dir, id]);
      try {
        expectError(r, `create with a failing ${kind} hook`);
        expectNoContainer(id);
        expect(cgroupDirs(b.config.linux!.cgroupsPath), 'cgroups of the container').to.deep.equal([]);
        expect(logLines(b), 'hooks and program that ran').to.deep.equal([kind, 'poststop']);
      } finally {
        forceDelete(id);
      }
    });
  }

  // A failing startContainer or poststart hook: start must fail, the container be stopped and
  // destroyed (step 12, without a delete), and the poststop hooks run (step 13).
  for (const kind of ['startContainer', 'poststart'] as const) {
    clause(`runtime.lifecycle.${kind}-fail`, `a failing ${kind} hook fails start, stops and destroys the container and runs the poststop hooks`, async function () {
      const b = makeOutBundle({ args: ['sh', '-c', 'echo program >> /out/log; sleep 600'] });
      b.writeConfig((c) => {
        c.hooks = { [kind]: [logHook(b, kind, kind, 1)], poststop: [logHook(b, 'poststop', 'poststop')] };
      });
      const id = create(b);
      const pid = state(id).pid!;
      try {
        const r = rt(['start', id]);
        expectError(r, `start with a failing ${kind} hook`);
        await waitFor(() => !isAlive(pid), 5_000, { what: `the container process ${pid} to be stopped` }).catch(() => {
          throw new Error(`the container process ${pid} (${cmdline(pid).join(' ')}) is still running after the failed start`);
        });
        const lines = logLines(b);
        if (kind === 'startContainer') expect(lines, 'the program must not run after a failing startContainer hook').to.not.include('program');
        const s = rt(['state', id]);
        const st = s.status === 0 ? (JSON.parse(s.stdout) as ContainerState).status : 'gone';
        expect(st, 'the container after the failed start (step 12: destroyed)').to.equal('gone');
        expect(lines.filter((l) => l !== 'program'), 'hooks that ran').to.deep.equal([kind, 'poststop']);
      } finally {
        forceDelete(id);
      }
    });
  }

  clause('runtime.lifecycle.poststop-fail-warn', 'a failing poststop hook is logged as a warning; the next hook runs and delete succeeds', async function () {
    const b = makeOutBundle({ args: ['true'] });
    b.writeConfig((c) => {
      c.hooks = { poststop: [logHook(b, 'poststop', 'first', 1), logHook(b, 'poststop', 'second')] };
    });
    const id = create(b);
    const log = path.join(makeTempDir('log'), 'runtime.log');
    try {
      rtOk(['start', id]);
      await waitStopped(id);
      const r = rt(['--log', log, '--log-format', 'json', 'delete', id]);
      expect(r.status, `delete with a failing poststop hook: ${describeResult(r)}`).to.equal(0);
      expectNoContainer(id);
      expect(logLines(b), 'poststop hooks that ran').to.deep.equal(['first', 'second']);
      const entries = existsSync(log) ? readLogJson(log) : [];
      expect(entries.filter(isWarning).length, `warnings in the runtime log: ${JSON.stringify(entries)}`).to.be.above(0);
    } finally {
      forceDelete(id);
    }
  });

  clause('runtime.errors.no-side-effects', 'a create that fails late (a bad mount after the others) leaves no state, mount, cgroup or process', function () {
    const b = makeOutBundle({
      args: ['true'],
      mutate: (c) => {
        c.mounts!.push({ destination: '/late', type: 'tmpfs', source: 'tmpfs' });
        c.mounts!.push({ destination: '/later', type: 'bind', source: '/nonexistent/conformance-source', options: ['bind'] });
      },
    });
    const base = takeSnapshot();
    const id = uniqueId();
    const r = rt(['create', '--bundle', b.dir, id]);
    if (r.status === 0) forceDelete(id);
    expectError(r, 'create with a failing mount');
    expectNoContainer(id);
    const leaks = findLeaks(base);
    expect(hasLeaks(leaks), formatLeaks(leaks)).to.equal(false);
  });

  clause('runtime.warnings.continue', 'a capability that cannot be granted is warned about and the container runs with the others as configured', function () {
    // A capability outside the runtime's own bounding set cannot be granted (names that are
    // no capability at all are config errors). Needs a host whose bounding set lacks one.
    const capBnd = BigInt(`0x${/CapBnd:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`);
    if ((capBnd & (1n << 24n)) !== 0n) this.skip();
    const b = makeOutBundle({
      args: ['sh', '-c', 'grep -E "^Cap(Bnd|Eff)" /proc/self/status > /out/caps'],
      mutate: (c: OciConfig) => {
        const caps = ['CAP_CHOWN', 'CAP_KILL', 'CAP_SYS_RESOURCE'];
        c.process!.capabilities = { bounding: caps, effective: caps, permitted: caps };
      },
    });
    const log = path.join(makeTempDir('log'), 'runtime.log');
    const id = uniqueId();
    const r = rt(['--log', log, '--log-format', 'json', 'run', '--bundle', b.dir, id]);
    expect(r.status, describeResult(r)).to.equal(0);
    // CAP_CHOWN = bit 0, CAP_KILL = bit 5
    const caps = Object.fromEntries(readOut(b, 'caps').trim().split('\n').map((l) => l.split(/:\s+/) as [string, string]));
    expect(caps, readOut(b, 'caps')).to.deep.equal({ CapBnd: '0000000000000021', CapEff: '0000000000000021' });
  });
});
