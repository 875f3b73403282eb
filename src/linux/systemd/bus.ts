// systemd's Manager over D-Bus, synchronously: each call is posted to the worker thread
// (bus-worker.ts) and this thread sleeps in Atomics.wait until the reply is in the shared
// buffer. The worker, and with it the D-Bus library, is started on the first call only:
// commands and containers that do not use the systemd driver never load it.
import fs from 'node:fs';
import path from 'node:path';
import workerThreads, { type Worker } from 'node:worker_threads';
import { installDir } from '../../native/addon.js';
import { SystemError } from '../../util/errors.js';
import { hostUid } from '../rootless.js';
import {
  type BusAddress,
  type BusReply,
  type BusRequest,
  HEADER_BYTES,
  JOB_TIMEOUT_MS,
  LENGTH_INDEX,
  REPLY_BYTES,
  STATE_INDEX,
  type UnitProperty,
} from './bus-protocol.js';

/** The bundled worker (scripts/build.mjs), or the source when running from src/ (tests). */
const WORKER_BUNDLE = 'ts-runc-systemd.cjs';

function workerFile(): string | URL {
  // Beside the running bundle: the Bun executable's own directory (its __dirname is the
  // directory it was built in, which need not exist where it runs), or the Node bundle's.
  if (typeof __dirname === 'string') return path.join(installDir(), WORKER_BUNDLE);
  return new URL('./bus-worker.ts', import.meta.url);
}

/** A D-Bus error systemd (or the bus) answered with. */
export class BusCallError extends SystemError {
  constructor(
    readonly dbusName: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Where systemd answers: the system bus for root (systemd's private socket when there is no
 * bus daemon, as go-systemd falls back), the user's session bus for a rootless runtime.
 */
export function busAddress(userBus: boolean, env: NodeJS.ProcessEnv = process.env): BusAddress {
  if (userBus) {
    const fromEnv = /(?:^|;)unix:path=([^,;]+)/.exec(env.DBUS_SESSION_BUS_ADDRESS ?? '')?.[1];
    const runtimeDir = env.XDG_RUNTIME_DIR;
    const socket = fromEnv ?? (runtimeDir ? path.join(runtimeDir, 'bus') : null);
    if (!socket) throw new SystemError('no user D-Bus for the systemd cgroup driver: set DBUS_SESSION_BUS_ADDRESS or XDG_RUNTIME_DIR (install dbus-user-session)');
    // The user's bus daemon runs on the host: it knows us by our uid there, also from
    // inside a user namespace (rootless podman runs the runtime as its uid 0).
    return { socket, direct: false, uid: hostUid() };
  }
  const uid = process.geteuid?.() ?? 0;
  const system = /(?:^|;)unix:path=([^,;]+)/.exec(env.DBUS_SYSTEM_BUS_ADDRESS ?? '')?.[1] ?? '/run/dbus/system_bus_socket';
  if (fs.existsSync(system)) return { socket: system, direct: false, uid };
  return { socket: '/run/systemd/private', direct: true, uid };
}

export class SystemdBus {
  private readonly worker: Worker;
  private readonly header: Int32Array;
  private readonly body: Uint8Array;

  constructor(readonly address: BusAddress) {
    const shared = new SharedArrayBuffer(HEADER_BYTES + REPLY_BYTES);
    this.header = new Int32Array(shared, 0, 2);
    this.body = new Uint8Array(shared, HEADER_BYTES, REPLY_BYTES);
    // Through the module object: the bundle wraps named imports of lazy built-ins in functions.
    this.worker = new workerThreads.Worker(workerFile(), { workerData: { shared, address } });
    // The worker never keeps the runtime alive; a broken one shows as a call's timeout.
    this.worker.unref();
    this.worker.on('error', () => {});
  }

  private call(req: BusRequest): unknown {
    Atomics.store(this.header, STATE_INDEX, 0);
    this.worker.postMessage(req);
    // A job wait is bounded by JOB_TIMEOUT_MS inside the worker; the rest is the bus's answer.
    if (Atomics.wait(this.header, STATE_INDEX, 0, JOB_TIMEOUT_MS + 30_000) === 'timed-out') {
      void this.worker.terminate();
      throw new SystemError(`systemd did not answer ${req.op} over D-Bus (${this.address.socket}) in time`);
    }
    const length = Atomics.load(this.header, LENGTH_INDEX);
    const reply = JSON.parse(Buffer.from(this.body.subarray(0, length)).toString('utf8')) as BusReply;
    if (!reply.ok) throw new BusCallError(reply.name, `${req.op}${'unit' in req ? ` ${req.unit}` : ''}: ${reply.message} (${reply.name})`);
    return reply.value;
  }

  /** Start a transient unit and wait for its job; returns the job's result ("done" on success). */
  startUnit(unit: string, properties: UnitProperty[]): string {
    return this.call({ op: 'startUnit', unit, properties }) as string;
  }

  /** Stop a unit and wait for its job; "no-such-unit" when it was not loaded. */
  stopUnit(unit: string): string {
    return this.call({ op: 'stopUnit', unit }) as string;
  }

  resetFailedUnit(unit: string): void {
    this.call({ op: 'resetFailedUnit', unit });
  }

  setUnitProperties(unit: string, properties: UnitProperty[]): void {
    if (properties.length) this.call({ op: 'setUnitProperties', unit, properties });
  }

  managerProperty(name: string): unknown {
    return this.call({ op: 'managerProperty', name });
  }

  unitProperty(unit: string, iface: string, name: string): unknown {
    return this.call({ op: 'unitProperty', unit, iface, name });
  }

  close(): void {
    void this.worker.terminate();
  }
}

/** "252.38-1~deb12u1" or "v245.4-1.fc32" -> 252 / 245 (runc's systemdVersionAtoi). */
export function parseSystemdVersion(text: string): number {
  const m = /^"?v?(\d+)/.exec(text);
  if (!m) throw new SystemError(`cannot read systemd's version from ${JSON.stringify(text)}`);
  return Number(m[1]);
}
