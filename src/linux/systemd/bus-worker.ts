// The D-Bus side of the systemd driver, in a worker thread (see bus-protocol.ts for why):
// one connection to the bus, systemd's Manager methods, and the wait for a job's
// JobRemoved signal, which go-systemd (runc) does the same way. Bundled on its own
// (dist/ts-runc-systemd.cjs) so that only the systemd driver loads the D-Bus library.
import { parentPort, workerData } from 'node:worker_threads';
import * as dbusNative from '@homebridge/dbus-native';
import {
  type BusAddress,
  type BusReply,
  type BusRequest,
  HEADER_BYTES,
  JOB_TIMEOUT_MS,
  LENGTH_INDEX,
  type PropertyValue,
  REPLY_BYTES,
  STATE_INDEX,
  type UnitProperty,
} from './bus-protocol.js';

const DEST = 'org.freedesktop.systemd1';
const PATH = '/org/freedesktop/systemd1';
const MANAGER = 'org.freedesktop.systemd1.Manager';
const PROPERTIES = 'org.freedesktop.DBus.Properties';

interface DbusError {
  name?: string;
  message?: unknown;
}

type Callback = (err: DbusError | null, ...values: unknown[]) => void;

/** The part of @homebridge/dbus-native used here (its typings omit createClient and invokeDbus). */
interface Client {
  connection: { on(event: 'error', f: (err: Error) => void): void; on(event: 'message', f: (msg: { type: number; member?: string; body?: unknown[] }) => void): void };
  invoke(msg: Record<string, unknown>, cb: Callback): void;
  invokeDbus(msg: Record<string, unknown>, cb: Callback): void;
}
const dbus = dbusNative as unknown as { createClient(opts: { socket: string; direct: boolean }): Client };

class BusError extends Error {
  constructor(
    readonly dbusName: string,
    message: string,
  ) {
    super(message);
  }
}

const { shared, address } = workerData as { shared: SharedArrayBuffer; address: BusAddress };
const header = new Int32Array(shared, 0, 2);
const body = new Uint8Array(shared, HEADER_BYTES, REPLY_BYTES);

// dbus-native authenticates (EXTERNAL) as process.getuid(), which inside a user namespace
// is not the uid the bus daemon sees: give it the one it does (this worker's process object only).
Object.defineProperty(process, 'getuid', { value: () => address.uid, configurable: true });
const bus = dbus.createClient({ socket: address.socket, direct: address.direct });
let connectionError: Error | null = null;
bus.connection.on('error', (err) => {
  connectionError = err;
  for (const w of jobWaiters.values()) w(`connection: ${err.message}`);
});

/** JobRemoved results by job path, kept from before the job is known (the signal may win the race). */
const jobResults = new Map<string, string>();
const jobWaiters = new Map<string, (result: string) => void>();
bus.connection.on('message', (msg) => {
  if (msg.type !== 4 || msg.member !== 'JobRemoved') return;
  const [, job, , result] = (msg.body ?? []) as [number, string, string, string];
  const waiter = jobWaiters.get(job);
  if (waiter) waiter(result);
  else jobResults.set(job, result);
});

function call(member: string, signature: string, body: unknown[], iface = MANAGER, path = PATH): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    if (connectionError) return reject(new BusError('org.freedesktop.DBus.Error.Disconnected', connectionError.message));
    bus.invoke({ destination: DEST, path, interface: iface, member, signature: signature || undefined, body }, (err, ...values) => {
      if (err) reject(new BusError(err.name ?? 'org.freedesktop.DBus.Error.Failed', typeof err.message === 'string' ? err.message : String(err.message ?? '')));
      else resolve(values);
    });
  });
}

let subscribed: Promise<void> | null = null;
/** Ask for JobRemoved: a match rule, and systemd's Subscribe (it signals only to subscribers). */
function subscribe(): Promise<void> {
  subscribed ??= (async () => {
    await new Promise<void>((resolve, reject) =>
      bus.invokeDbus(
        { member: 'AddMatch', signature: 's', body: [`type='signal',sender='${DEST}',interface='${MANAGER}',member='JobRemoved'`] },
        (err) => (err && !address.direct ? reject(new BusError(err.name ?? 'AddMatch', String(err.message))) : resolve()),
      ),
    );
    await call('Subscribe', '', []).catch(() => undefined);
  })();
  return subscribed;
}

function waitJob(job: string): Promise<string> {
  const known = jobResults.get(job);
  if (known !== undefined) {
    jobResults.delete(job);
    return Promise.resolve(known);
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      jobWaiters.delete(job);
      resolve('timeout');
    }, JOB_TIMEOUT_MS);
    jobWaiters.set(job, (result) => {
      clearTimeout(timer);
      jobWaiters.delete(job);
      resolve(result);
    });
  });
}

/** dbus-native's form of a value: 64-bit integers as decimal strings (it takes no bigint). */
const wire = (value: PropertyValue): unknown => (typeof value === 'bigint' ? value.toString() : Array.isArray(value) ? value.map(wire) : value);

const properties = (list: UnitProperty[]) => list.map((p) => [p.name, [p.type, wire(p.value)]]);

/** A variant as dbus-native returns it: [[signature tree], [value]]. */
const variantValue = (v: unknown): unknown => (Array.isArray(v) && Array.isArray(v[1]) ? v[1][0] : v);

async function getProperty(path: string, iface: string, name: string): Promise<unknown> {
  const [v] = await call('Get', 'ss', [iface, name], PROPERTIES, path);
  return variantValue(v);
}

async function startUnit(unit: string, props: UnitProperty[]): Promise<string> {
  await subscribe();
  const start = () => call('StartTransientUnit', 'ssa(sv)a(sa(sv))', [unit, 'replace', properties(props), []]);
  let job: string;
  try {
    [job] = (await start()) as [string];
  } catch (err) {
    // A failed unit of the same name lingers until reset: reset it and try once more.
    if (!(err instanceof BusError) || !err.dbusName.endsWith('.UnitExists')) throw err;
    await call('ResetFailedUnit', 's', [unit]).catch(() => undefined);
    [job] = (await start()) as [string];
  }
  return waitJob(job);
}

async function stopUnit(unit: string): Promise<string> {
  await subscribe();
  let job: string;
  try {
    [job] = (await call('StopUnit', 'ss', [unit, 'replace'])) as [string];
  } catch (err) {
    if (err instanceof BusError && err.dbusName.endsWith('.NoSuchUnit')) return 'no-such-unit';
    throw err;
  }
  return waitJob(job);
}

async function handle(req: BusRequest): Promise<unknown> {
  switch (req.op) {
    case 'startUnit':
      return startUnit(req.unit, req.properties);
    case 'stopUnit':
      return stopUnit(req.unit);
    case 'resetFailedUnit':
      return call('ResetFailedUnit', 's', [req.unit]).then(() => null);
    case 'setUnitProperties':
      return call('SetUnitProperties', 'sba(sv)', [req.unit, true, properties(req.properties)]).then(() => null);
    case 'managerProperty':
      return getProperty(PATH, MANAGER, req.name);
    case 'unitProperty': {
      const [path] = (await call('GetUnit', 's', [req.unit])) as [string];
      return getProperty(path, req.iface, req.name);
    }
  }
}

function answer(reply: BusReply): void {
  let bytes = Buffer.from(JSON.stringify(reply));
  if (bytes.length > REPLY_BYTES) bytes = Buffer.from(JSON.stringify({ ok: false, name: 'ts-runc.TooLarge', message: `a reply of ${bytes.length} bytes` }));
  body.set(bytes);
  Atomics.store(header, LENGTH_INDEX, bytes.length);
  Atomics.store(header, STATE_INDEX, 1);
  Atomics.notify(header, STATE_INDEX);
}

parentPort?.on('message', (req: BusRequest) => {
  handle(req).then(
    (value) => answer({ ok: true, value: value ?? null }),
    (err: unknown) => answer({ ok: false, name: err instanceof BusError ? err.dbusName : 'ts-runc.Error', message: err instanceof Error ? err.message : String(err) }),
  );
});
