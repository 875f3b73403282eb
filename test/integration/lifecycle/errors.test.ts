// Failures reach the user as one line naming the step or path and the reason (the errno text
// for failures inside the container's setup), exit 1, and leave nothing behind: no state,
// process, cgroup or mount (the leak checker) and no container in `list`.
import { expect } from 'chai';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type OciConfig, makeBundle } from '../../helpers/bundle.js';
import { makeTempDir } from '../../helpers/context.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireRoot } from '../../helpers/privileges.js';
import { describeResult, rt, uniqueId } from '../../helpers/runtime.js';
import { cleanUpAfterFailure, expectFailure, messages, rootEntries, singleMessage, skipUnderRunc, underRunc } from './support.js';

interface SetupFailure {
  what: string;
  args?: string[];
  mutate?: (c: OciConfig) => void;
  /** Every string must appear in the one line the runtime prints. */
  expected: string[];
}

/** Host paths that certainly do not exist. */
const MISSING_SOURCE = '/nonexistent-lifecycle-test-src';

const SETUP_FAILURES: SetupFailure[] = [
  {
    what: 'a program not found in $PATH',
    args: ['no-such-program-xyz'],
    expected: ['exec: "no-such-program-xyz": executable file not found in $PATH'],
  },
  {
    what: 'a program path that does not exist',
    args: ['/no/such/program'],
    expected: ['/no/such/program', 'no such file or directory'],
  },
  {
    what: 'a program that is not executable',
    args: ['/etc/passwd'],
    expected: ['exec: "/etc/passwd": permission denied'],
  },
  {
    what: 'a cwd that is a file',
    mutate: (c) => (c.process!.cwd = '/etc/passwd'),
    expected: ['/etc/passwd', 'not a directory'],
  },
  {
    what: 'a bind mount of a missing source',
    mutate: (c) => c.mounts!.push({ destination: '/mnt', type: 'bind', source: MISSING_SOURCE, options: ['rbind'] }),
    expected: [MISSING_SOURCE, 'no such file or directory'],
  },
  {
    what: 'a mount of an unknown file system type',
    mutate: (c) => c.mounts!.push({ destination: '/mnt', type: 'no-such-fs', source: 'none' }),
    expected: ['/mnt', 'no such device'],
  },
  {
    what: 'a file bind-mounted over a directory',
    mutate: (c) => c.mounts!.push({ destination: '/etc', type: 'bind', source: '/etc/hostname', options: ['bind'] }),
    expected: ['/etc/hostname', '/etc', 'not a directory'],
  },
  {
    what: 'a mount destination below a file',
    mutate: (c) => c.mounts!.push({ destination: '/bin/busybox/below', type: 'tmpfs', source: 'tmpfs' }),
    expected: ['/bin/busybox/below', 'not a directory'],
  },
];

describe('errors: failures while setting up the container', function () {
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
  });

  // `run` fails through the same path as `create`; it is checked with the first two cases.
  SETUP_FAILURES.forEach((f, i) => {
    for (const cmd of i < 2 ? (['create', 'run'] as const) : (['create'] as const)) {
      it(`${cmd} with ${f.what}: one line naming it and the reason, exit 1, nothing left`, function () {
        const b = makeBundle({ args: f.args ?? ['true'], mutate: (c) => f.mutate?.(c) });
        const r = expectFailure(rt([cmd, '--bundle', b.dir, uniqueId()]));
        expect(r.status, describeResult(r)).to.equal(1);
        const line = singleMessage(r);
        for (const s of f.expected) expect(line).to.include(s);
        expect(rootEntries()).to.deep.equal([]);
      });
    }
  });
});

describe('errors: invalid config.json', function () {
  useLeakCheck();
  cleanUpAfterFailure();
  beforeEach(function () {
    requireRoot(this);
  });

  it('one line per problem, each naming its JSON path; exit 1; nothing created', function () {
    skipUnderRunc(this, 'runc reports only the first problem, in Go\'s words (json: cannot unmarshal ...)');
    const b = makeBundle({
      mutate: (c) => {
        (c.process as Record<string, unknown>).args = 'not-an-array';
        c.process!.cwd = 'relative/cwd';
        c.linux!.namespaces[0].type = 'no-such-namespace';
      },
    });
    const r = expectFailure(rt(['create', '--bundle', b.dir, uniqueId()]));
    expect(r.status).to.equal(1);
    const msgs = messages(r.stderr);
    expect(msgs).to.have.length(3);
    for (const field of ['process.args', 'process.cwd', 'linux.namespaces[0].type']) {
      expect(msgs.filter((m) => m.startsWith(`${field}:`)), `a line for ${field} in\n${msgs.join('\n')}`).to.have.length(1);
    }
    expect(rootEntries()).to.deep.equal([]);
  });

  it('config.json that is not JSON: one line naming config.json, exit 1, nothing created', function () {
    const b = makeBundle();
    writeFileSync(b.configPath, '{"ociVersion": "1.0.0",\n');
    const r = expectFailure(rt(['create', '--bundle', b.dir, uniqueId()]));
    expect(r.status).to.equal(1);
    if (!underRunc()) expect(singleMessage(r)).to.include('config.json');
    expect(rootEntries()).to.deep.equal([]);
  });

  it('a bundle without config.json: one line naming config.json, exit 1, nothing created', function () {
    const b = makeBundle();
    rmSync(b.configPath);
    const r = expectFailure(rt(['create', '--bundle', b.dir, uniqueId()]));
    expect(r.status).to.equal(1);
    expect(singleMessage(r)).to.include('config.json');
    expect(rootEntries()).to.deep.equal([]);
  });

  it('a root.path that does not exist: one line naming it, exit 1, nothing created', function () {
    const missing = path.join(makeTempDir('noroot'), 'missing-rootfs');
    const b = makeBundle({ mutate: (c) => (c.root!.path = missing) });
    const r = expectFailure(rt(['create', '--bundle', b.dir, uniqueId()]));
    expect(r.status).to.equal(1);
    expect(singleMessage(r)).to.include(missing);
    expect(rootEntries()).to.deep.equal([]);
  });
});
