// A synchronous D-Bus connection on the runtime's own thread: the runtime's operations are
// synchronous (the launcher blocks on the child's socket), so each call writes its message
// to a blocking unix socket and reads until its reply, poll(2) bounding every wait. No event
// loop, no worker thread: a call costs the round trip and nothing to start. The messages'
// bytes are @homebridge/dbus-native's (dbus-wire.ts, loaded on the first connection).
import fs from 'node:fs';
import { POLLIN, native } from '../../native/addon.js';
import { SystemError } from '../../util/errors.js';
import { type DbusMessage, FLAG_NO_REPLY_EXPECTED, MESSAGE_TYPE } from './dbus-message.js';
import { type MessageDecoder, encodeMessage, messageDecoder } from './dbus-wire.js';

/** How the runtime reaches a bus: a socket path; direct = a peer that is not a bus daemon (no Hello). */
export interface BusAddress {
  socket: string;
  direct: boolean;
  /** The uid to authenticate as (SASL EXTERNAL): the one the peer sees us as. */
  uid: number;
}

/** The longest message accepted (systemd's replies and signals are a few hundred bytes). */
export const MAX_MESSAGE_BYTES = 1 << 20;
/** The longest SASL line accepted ("OK <32 hex digits>" is 35 bytes). */
const MAX_AUTH_LINE = 512;
/** How long a method call may wait for its reply. */
export const CALL_TIMEOUT_MS = 25_000;

const BUS_DAEMON = { destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus' };

/** A D-Bus error the peer answered with (name: e.g. org.freedesktop.systemd1.NoSuchUnit). */
export class DbusError extends SystemError {
  constructor(
    readonly dbusName: string,
    message: string,
  ) {
    super(message);
  }
}

export class DbusConnection {
  private serial = 0;
  /** Made once authenticated: loading the D-Bus library overlaps the bus's answer to AUTH. */
  private decoder: MessageDecoder | null = null;
  private readonly readBuffer = Buffer.alloc(64 * 1024);
  /** Messages read and decoded, not yet looked at (at most one read's worth). */
  private readonly decoded: DbusMessage[] = [];
  /** Where the signals go that arrive while a call waits for its reply. */
  onSignal: (m: DbusMessage) => void = () => {};
  private fd: number;

  private constructor(
    readonly address: BusAddress,
    fd: number,
  ) {
    this.fd = fd;
  }

  /** Connect, authenticate (EXTERNAL) and, on a bus, say Hello (pipelined: its reply is not awaited). */
  static open(address: BusAddress): DbusConnection {
    let fd: number;
    try {
      fd = native().connectUnix(address.socket);
    } catch (err) {
      throw new SystemError(`cannot connect to D-Bus at ${address.socket}: ${(err as Error).message}`);
    }
    const c = new DbusConnection(address, fd);
    try {
      c.authenticate();
      if (!address.direct) c.send({ ...BUS_DAEMON, type: MESSAGE_TYPE.methodCall, member: 'Hello' });
    } catch (err) {
      c.close();
      throw err;
    }
    return c;
  }

  private authenticate(): void {
    this.write(Buffer.from(`\0AUTH EXTERNAL ${Buffer.from(String(this.address.uid)).toString('hex')}\r\n`, 'latin1'));
    this.messageDecoder();
    const line = this.readLine(Date.now() + CALL_TIMEOUT_MS);
    if (!line.startsWith('OK ')) throw new SystemError(`D-Bus at ${this.address.socket} refused us (uid ${this.address.uid}): ${JSON.stringify(line.slice(0, 80))}`);
    this.write(Buffer.from('BEGIN\r\n', 'latin1'));
  }

  /** The server's one answer to AUTH; nothing else is sent before BEGIN, so nothing follows it. */
  private readLine(deadline: number): string {
    let line = '';
    while (!line.endsWith('\r\n')) {
      if (line.length > MAX_AUTH_LINE) throw new SystemError(`D-Bus at ${this.address.socket}: an authentication line of more than ${MAX_AUTH_LINE} bytes`);
      const bytes = this.readSome(deadline, MAX_AUTH_LINE);
      if (bytes.length === 0) throw new SystemError(`D-Bus at ${this.address.socket} did not answer AUTH in ${CALL_TIMEOUT_MS} ms`);
      line += bytes.toString('latin1');
    }
    return line.slice(0, -2);
  }

  private messageDecoder(): MessageDecoder {
    this.decoder ??= messageDecoder(MAX_MESSAGE_BYTES);
    return this.decoder;
  }

  /** Sends a message; returns its serial. */
  send(msg: Omit<DbusMessage, 'serial'>): number {
    const serial = ++this.serial;
    this.write(encodeMessage({ ...msg, serial }));
    return serial;
  }

  /** Sends a method call no reply is wanted for (the peer still handles calls in order). */
  post(msg: Omit<DbusMessage, 'serial' | 'type'>): void {
    this.send({ ...msg, type: MESSAGE_TYPE.methodCall, flags: FLAG_NO_REPLY_EXPECTED });
  }

  /** A method call and its reply's body; a D-Bus error reply throws DbusError. */
  call(msg: Omit<DbusMessage, 'serial' | 'type'>, timeoutMs = CALL_TIMEOUT_MS): unknown[] {
    const serial = this.send({ ...msg, type: MESSAGE_TYPE.methodCall });
    const what = `${msg.interface ?? ''}.${msg.member ?? ''}`;
    const reply = this.next((m) => (m.type === MESSAGE_TYPE.methodReturn || m.type === MESSAGE_TYPE.error) && m.replySerial === serial, timeoutMs, what);
    if (!reply) throw new SystemError(`D-Bus at ${this.address.socket} did not answer ${what} in ${timeoutMs} ms`);
    if (reply.type === MESSAGE_TYPE.error) {
      const text = typeof reply.body?.[0] === 'string' ? reply.body[0] : '';
      throw new DbusError(reply.errorName ?? 'org.freedesktop.DBus.Error.Failed', text || (reply.errorName ?? 'error'));
    }
    return reply.body ?? [];
  }

  /**
   * The first message from now on that `wanted` accepts; null when none came in `timeoutMs`.
   * Signals passed over on the way go to onSignal, other messages (the reply to Hello, to a
   * call that timed out) are dropped.
   */
  next(wanted: (m: DbusMessage) => boolean, timeoutMs: number, what = 'a message'): DbusMessage | null {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.decoded.shift();
      if (m === undefined) {
        const bytes = this.readSome(deadline, this.readBuffer.length);
        if (bytes.length === 0) return null;
        try {
          this.decoded.push(...this.messageDecoder().push(bytes));
        } catch (err) {
          throw new SystemError(`D-Bus at ${this.address.socket}, waiting for ${what}: ${(err as Error).message}`);
        }
      } else if (wanted(m)) {
        return m;
      } else if (m.type === MESSAGE_TYPE.signal) {
        this.onSignal(m);
      }
    }
  }

  /** Up to `max` bytes, waiting until the deadline; an empty buffer when it passed first. */
  private readSome(deadline: number, max: number): Buffer {
    if (this.fd < 0) throw new SystemError(`D-Bus at ${this.address.socket}: the connection is closed`);
    const wait = Math.max(0, deadline - Date.now());
    const [revents = 0] = native().poll([[this.fd, POLLIN]], wait);
    if (revents === 0) return Buffer.alloc(0);
    const n = fs.readSync(this.fd, this.readBuffer, 0, max, null);
    if (n === 0) throw new SystemError(`D-Bus at ${this.address.socket} closed the connection`);
    return Buffer.from(this.readBuffer.subarray(0, n));
  }

  private write(bytes: Buffer): void {
    if (this.fd < 0) throw new SystemError(`D-Bus at ${this.address.socket}: the connection is closed`);
    for (let off = 0; off < bytes.length; ) off += fs.writeSync(this.fd, bytes, off, bytes.length - off);
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}
