// After the conversion: the fds a draft names are opened into the SpawnPlan, and every one
// of them is closed again when a later one cannot be opened (no root needed: a process may
// open its own namespace files).
import { expect } from 'chai';
import { closeSync, readdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { NAMESPACES } from '../../../src/linux/namespaces.js';
import { draftPlan, type PlanDraft } from '../../../src/linux/specconv/draft.js';
import { convertHook } from '../../../src/linux/specconv/index.js';
import { openPlan } from '../../../src/linux/specconv/open.js';
import { encodePlan } from '../../../src/native/generated/protocol.js';
import { ConfigError, RuntimeError } from '../../../src/util/errors.js';
import { makeTempDir } from '../../helpers/context.js';

const openFds = () => readdirSync('/proc/self/fd').length;

function draftWithJoins(...paths: string[]): PlanDraft {
  const d = convertHook({ path: '/bin/true' }, 0);
  return draftPlan(d.process, { joins: paths.map((p, i) => ({ nstype: i ? NAMESPACES.network.flag : NAMESPACES.uts.flag, path: p, field: `linux.namespaces[${i}].path` })) });
}

describe('specconv: opening a plan\'s fds', function () {
  it('opens the namespaces to join and fills in the descriptors the operation gives', function () {
    const before = openFds();
    const { plan, fds } = openPlan(draftWithJoins('/proc/self/ns/uts', '/proc/self/ns/net'), { stdio: [7, 8, 9], execFifoFd: 5 });
    try {
      expect(fds).to.have.length(2);
      expect(plan.joins).to.deep.equal([
        { fd: fds[0], nstype: NAMESPACES.uts.flag, path: '/proc/self/ns/uts' },
        { fd: fds[1], nstype: NAMESPACES.network.flag, path: '/proc/self/ns/net' },
      ]);
      expect(plan.process).to.include({ consoleSocketFd: -1, execFifoFd: 5 });
      expect(plan.process.stdioFds).to.deep.equal([7, 8, 9]);
      expect(plan.joinPidfd).to.equal(-1);
      // What the conversion and the opening make is a plan the generated serializer takes.
      expect(encodePlan(plan).length).to.be.greaterThan(0);
      expect(openFds()).to.equal(before + 2);
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  });

  it('a namespace that cannot be opened fails naming its field, and closes what was opened', async function () {
    const sock = path.join(makeTempDir('console'), 's');
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    try {
      const before = openFds();
      const draft = draftWithJoins('/proc/self/ns/uts', '/nonexistent/ns/net');
      expect(() => openPlan(draft, { console: { path: sock } })).to.throw(ConfigError, 'linux.namespaces[1].path: /nonexistent/ns/net: no such file or directory');
      expect(openFds()).to.equal(before);
    } finally {
      server.close();
    }
  });

  it('a plan that joins the container needs its init pidfd; a console fd given is used as it is', function () {
    const hook = convertHook({ path: '/bin/true' }, NAMESPACES.uts.flag);
    expect(() => openPlan(hook)).to.throw(RuntimeError, /init pidfd/);
    const { plan, fds } = openPlan(hook, { initPidfd: 42, console: { fd: 17 } });
    expect(fds).to.deep.equal([]);
    expect(plan).to.include({ joinPidfd: 42, joinPidfdFlags: NAMESPACES.uts.flag });
    expect(plan.process.consoleSocketFd).to.equal(17);
    expect(plan.process.stdioFds).to.deep.equal([0, 1, 2]);
    expect(Object.keys(plan)).to.not.include('joinInit');
    expect(plan.mounts).to.deep.equal([]);
  });
});
