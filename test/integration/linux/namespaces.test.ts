// linux.namespaces (config-linux.md "Namespaces"): a namespace listed without a path is new,
// one with a path is joined, one not listed is the runtime's; bad paths fail clearly.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { RUN_ID } from '../../helpers/context.js';
import { useLeakCheck } from '../../helpers/leaks.js';
import { requireCommand, requireRoot } from '../../helpers/privileges.js';
import { rtOk, state, uniqueId } from '../../helpers/runtime.js';
import { makeBundle } from '../../helpers/bundle.js';
import { NAMESPACES } from '../../../src/linux/namespaces.js';
import { dropNamespace, lines, nsLink, runSh, runShOk, setNamespace, useUserns, withSleeper } from './support.js';

/** Each namespace type and its /proc/<pid>/ns entry. */
const NS_ENTRIES = Object.entries(NAMESPACES).map(([type, info]) => [type, info.proc] as const);

/** Every namespace type, new, in one config (user needs id maps). */
function allNew(config: Parameters<typeof useUserns>[0]): void {
  for (const type of Object.keys(NAMESPACES)) setNamespace(config, type);
  useUserns(config);
}

describe('linux: namespaces', function () {
  useLeakCheck();
  beforeEach(function () {
    requireRoot(this);
  });

  describe('new namespaces differ from the host', function () {
    for (const [type, entry] of NS_ENTRIES) {
      it(`${type}: /proc/self/ns/${entry} inside is not the host's`, function () {
        const inside = runShOk(`readlink /proc/self/ns/${entry}`, allNew).trim();
        expect(inside).to.match(new RegExp(`^${entry}:\\[\\d+\\]$`));
        expect(inside).to.not.equal(nsLink(entry));
      });
    }
  });

  describe('namespaces not listed are shared with the runtime', function () {
    // Without a mount namespace there is no /proc inside: mount is checked from the host.
    for (const [type, entry] of NS_ENTRIES.filter(([t]) => t !== 'mount')) {
      it(`${type}: /proc/self/ns/${entry} inside is the host's`, function () {
        const inside = runShOk(`readlink /proc/self/ns/${entry}`, (c) => {
          dropNamespace(c, type);
          if (type === 'uts') delete c.hostname; // a hostname needs a UTS namespace of its own
        }).trim();
        expect(inside).to.equal(nsLink(entry));
      });
    }

    it('mount: the init process of a container without one is in the host mount namespace', function () {
      const b = makeBundle({
        args: ['sleep', '600'],
        mutate: (c) => {
          dropNamespace(c, 'mount');
          // masking needs a mount namespace of its own (runc refuses it without one)
          delete c.linux!.maskedPaths;
          delete c.linux!.readonlyPaths;
        },
      });
      const id = uniqueId();
      rtOk(['create', '--bundle', b.dir, id]);
      try {
        const pid = state(id).pid!;
        expect(nsLink('mnt', pid)).to.equal(nsLink('mnt'));
        // ...and the other namespaces of the config are still new
        expect(nsLink('net', pid)).to.not.equal(nsLink('net'));
      } finally {
        rtOk(['delete', '--force', id]);
      }
    });
  });

  it('PID 1 of a new pid namespace is the configured program', function () {
    const out = runShOk('echo pid=$$; echo cmdline=$(tr "\\0" " " < /proc/1/cmdline)');
    expect(out).to.include('pid=1\n');
    expect(out).to.include('cmdline=sh -c echo pid=$$;');
  });

  it('the cgroup namespace is rooted at the container cgroup', function () {
    const out = runShOk('cat /proc/self/cgroup', (c) => setNamespace(c, 'cgroup'));
    const paths = lines(out).map((l) => l.split(':').slice(2).join(':'));
    expect(paths.length).to.be.above(0);
    expect(paths, out).to.satisfy((ps: string[]) => ps.every((p) => p === '/'));
  });

  describe('joining namespaces by path', function () {
    for (const [type, entry] of [
      ['network', 'net'],
      ['ipc', 'ipc'],
      ['uts', 'uts'],
      ['pid', 'pid'],
    ] as const) {
      it(`${type}: joins another container's /proc/<pid>/ns/${entry}`, async function () {
        await withSleeper(undefined, (s) => {
          const theirs = nsLink(entry, s.pid);
          expect(theirs).to.not.equal(nsLink(entry));
          const inside = runShOk(`readlink /proc/self/ns/${entry}`, (c) => setNamespace(c, type, `/proc/${s.pid}/ns/${entry}`)).trim();
          expect(inside).to.equal(theirs);
        });
      });
    }

    it("joined pid namespace: the container's process is not PID 1 there", async function () {
      await withSleeper(undefined, (s) => {
        const out = runShOk('echo $$; cat /proc/1/comm', (c) => setNamespace(c, 'pid', `/proc/${s.pid}/ns/pid`));
        const [pid, comm] = lines(out);
        expect(Number(pid)).to.be.above(1);
        expect(comm).to.equal('sleep');
      });
    });

    it('joins a network namespace made with `ip netns add`', function () {
      requireCommand(this, 'ip');
      const name = `tsrunc-test-${RUN_ID}-${Math.random().toString(36).slice(2, 7)}`;
      execFileSync('ip', ['netns', 'add', name], { stdio: 'pipe' });
      try {
        const nsPath = `/run/netns/${name}`;
        const inside = runShOk('readlink /proc/self/ns/net; cat /sys/class/net/lo/operstate', (c) =>
          setNamespace(c, 'network', nsPath),
        );
        const [link] = lines(inside);
        expect(link).to.equal(`net:[${statSync(nsPath).ino}]`);
      } finally {
        execFileSync('ip', ['netns', 'del', name], { stdio: 'pipe' });
      }
    });

    it('a path to a namespace of another type fails, naming the path', function () {
      const wrong = `/proc/${process.pid}/ns/ipc`;
      const r = runSh('true', (c) => setNamespace(c, 'network', wrong));
      expect(r.status).to.not.equal(0);
      expect(r.stderr).to.include(wrong);
      expect(r.stderr).to.match(/namespace/i);
      expect(r.stderr.trim().split('\n')).to.have.length(1);
    });

    it('a path that is not a namespace file fails, naming the path', function () {
      const notNs = makeBundle().configPath;
      const r = runSh('true', (c) => setNamespace(c, 'uts', notNs));
      expect(r.status).to.not.equal(0);
      expect(r.stderr).to.include(notNs);
    });

    it('a missing path fails naming the field', function () {
      const r = runSh('true', (c) => setNamespace(c, 'ipc', '/nonexistent/ns/ipc'));
      expect(r.status).to.not.equal(0);
      expect(r.stderr).to.match(/linux\.namespaces\[\d+\]\.path/);
      expect(r.stderr).to.include('/nonexistent/ns/ipc');
    });
  });
});
