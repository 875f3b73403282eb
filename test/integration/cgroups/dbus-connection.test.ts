// The systemd driver's synchronous D-Bus connection (src/linux/systemd/dbus-connection.ts)
// against a real bus daemon of its own (dbus-daemon --session on a socket in a temp dir),
// and against peers that misbehave (a script in a child process: the connection blocks
// this thread, so the peer cannot live on its event loop). systemd itself answers in the
// guest's tests (test/hosts/systemd-driver.test.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { DbusConnection, DbusError } from '../../../src/linux/systemd/dbus-connection.js';
import { MESSAGE_TYPE } from '../../../src/linux/systemd/dbus-message.js';
import { makeTempDir } from '../../helpers/context.js';
import { requireCommand } from '../../helpers/privileges.js';

const BUS = { destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus' };
const uid = process.getuid?.() ?? 0;

/** A process serving `socket`, started before the test and stopped after it. */
function startServer(argv: string[], socket: string): ChildProcess {
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: 'ignore' });
  const until = Date.now() + 10_000;
  while (!fs.existsSync(socket)) {
    if (Date.now() > until) throw new Error(`${argv[0]} did not listen on ${socket}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
  return child;
}

/** A fake peer: answers AUTH with `authReply`, then after BEGIN writes `after` (base64) and idles. */
function fakePeer(socket: string, authReply: string, after = ''): ChildProcess {
  const script = `
    const net = require('node:net');
    net.createServer((s) => {
      let seen = '';
      s.on('data', (d) => {
        const before = seen.includes('BEGIN');
        seen += d.toString('latin1');
        if (seen.includes('AUTH') && !seen.includes('\\u0001')) { seen += '\\u0001'; s.write(${JSON.stringify(authReply)}); }
        if (!before && seen.includes('BEGIN')) s.write(Buffer.from(${JSON.stringify(after)}, 'base64'));
      });
      s.on('error', () => {});
    }).listen(${JSON.stringify(socket)});`;
  return startServer([process.execPath, '-e', script], socket);
}

describe('systemd driver: the synchronous D-Bus connection', function () {
  this.timeout(30_000);
  let dir: string;
  let server: ChildProcess | undefined;

  beforeEach(function () {
    dir = makeTempDir('dbus');
  });

  afterEach(function () {
    server?.kill('SIGKILL');
    server = undefined;
  });

  describe('with a bus daemon', function () {
    let socket: string;
    beforeEach(function () {
      requireCommand(this, 'dbus-daemon');
      socket = path.join(dir, 'bus');
      server = startServer(['dbus-daemon', '--session', '--nofork', '--nopidfile', `--address=unix:path=${socket}`], socket);
    });

    it('says Hello, calls methods, and gets their replies', function () {
      const c = DbusConnection.open({ socket, direct: false, uid });
      try {
        const [id] = c.call({ ...BUS, member: 'GetId' });
        expect(id).to.match(/^[0-9a-f]{32}$/);
        // The bus knows us by a unique name only after Hello: it lists one besides its own.
        const [names] = c.call({ ...BUS, member: 'ListNames' }) as [string[]];
        expect(names.filter((n) => n.startsWith(':'))).to.have.length.greaterThan(0);
      } finally {
        c.close();
      }
    });

    it('throws the error a peer answers with, by its D-Bus name', function () {
      const c = DbusConnection.open({ socket, direct: false, uid });
      try {
        expect(() => c.call({ ...BUS, member: 'NoSuchMethod' }))
          .to.throw(DbusError, /NoSuchMethod/)
          .with.property('dbusName', 'org.freedesktop.DBus.Error.UnknownMethod');
      } finally {
        c.close();
      }
    });

    it('delivers a matched signal, passing others to onSignal on the way', function () {
      const c = DbusConnection.open({ socket, direct: false, uid });
      const other = DbusConnection.open({ socket, direct: false, uid });
      try {
        // Posted without waiting: the daemon handles it before the call after it.
        c.post({ ...BUS, member: 'AddMatch', signature: 's', body: ["type='signal',interface='test.Jobs'"] });
        c.call({ ...BUS, member: 'GetId' });
        other.send({ type: MESSAGE_TYPE.signal, path: '/test', interface: 'test.Jobs', member: 'Other', signature: 's', body: ['first'] });
        other.send({ type: MESSAGE_TYPE.signal, path: '/test', interface: 'test.Jobs', member: 'Removed', signature: 'os', body: ['/job/7', 'done'] });
        const passed: string[] = [];
        c.onSignal = (m) => passed.push(String(m.member));
        const m = c.next((s) => s.member === 'Removed', 5_000);
        expect(m?.body).to.deep.equal(['/job/7', 'done']);
        expect(passed).to.deep.equal(['Other']);
      } finally {
        c.close();
        other.close();
      }
    });

    it('gives up on a call no one answers after its timeout, naming it', function () {
      const c = DbusConnection.open({ socket, direct: false, uid });
      const silent = DbusConnection.open({ socket, direct: false, uid });
      try {
        // The silent connection's unique name: the newest one the bus lists.
        const [names] = c.call({ ...BUS, member: 'ListNames' }) as [string[]];
        const target = names.filter((n) => n.startsWith(':')).sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1])).at(-1) as string;
        const t0 = Date.now();
        expect(() => c.call({ destination: target, path: '/', interface: 'test.Silent', member: 'Wait' }, 300)).to.throw(/did not answer test\.Silent\.Wait in 300 ms/);
        expect(Date.now() - t0).to.be.within(250, 5_000);
      } finally {
        c.close();
        silent.close();
      }
    });
  });

  it('refuses a message larger than its bound before waiting for its bytes', function () {
    const socket = path.join(dir, 'peer');
    // After BEGIN, the header of a method return whose body would be 2 MiB.
    const header = Buffer.alloc(16);
    header.write('l', 0, 'latin1');
    header.writeUInt8(MESSAGE_TYPE.methodReturn, 1);
    header.writeUInt8(1, 3);
    header.writeUInt32LE(2 << 20, 4);
    header.writeUInt32LE(1, 8);
    header.writeUInt32LE(0, 12);
    server = fakePeer(socket, 'OK 0123456789abcdef0123456789abcdef\r\n', header.toString('base64'));
    const c = DbusConnection.open({ socket, direct: true, uid });
    try {
      expect(() => c.call({ ...BUS, member: 'GetId' }, 5_000)).to.throw(/at most 1048576/);
    } finally {
      c.close();
    }
  });

  it('says so when the peer refuses the authentication', function () {
    const socket = path.join(dir, 'peer');
    server = fakePeer(socket, 'REJECTED EXTERNAL\r\n');
    expect(() => DbusConnection.open({ socket, direct: true, uid })).to.throw(/refused us \(uid \d+\): "REJECTED EXTERNAL"/);
  });

  it('says which socket it could not connect to', function () {
    const socket = path.join(dir, 'none');
    expect(() => DbusConnection.open({ socket, direct: false, uid })).to.throw(`cannot connect to D-Bus at ${socket}`);
  });
});
