// systemd's Manager over D-Bus, synchronously (dbus-connection.ts): the calls runc's
// go-systemd makes, and the wait for a job's JobRemoved signal, which systemd sends to the
// client that queued the job (no Subscribe needed; on a bus, a match rule lets it through).
// The connection is opened on the first call: commands and containers that do not use the
// systemd driver never connect, nor load the D-Bus library.
import fs from 'node:fs';
import path from 'node:path';
import { SystemError } from '../../util/errors.js';
import { trace } from '../../util/trace.js';
import { hostUid } from '../rootless.js';
import { type BusAddress, DbusConnection, DbusError } from './dbus-connection.js';
import { MESSAGE_TYPE } from './dbus-message.js';
import type { PropertyValue, UnitProperty } from './properties.js';

const SYSTEMD = { destination: 'org.freedesktop.systemd1', path: '/org/freedesktop/systemd1' };
const MANAGER = 'org.freedesktop.systemd1.Manager';
const PROPERTIES = 'org.freedesktop.DBus.Properties';
/** How long a job may take (runc waits 30 s for its start and stop jobs). */
export const JOB_TIMEOUT_MS = 30_000;

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
  private readonly connection: DbusConnection;
  /** JobRemoved results that came while waiting for something else, by job path. */
  private readonly jobResults = new Map<string, string>();
  private watchingJobs = false;

  constructor(readonly address: BusAddress) {
    this.connection = DbusConnection.open(address);
    trace('systemd: D-Bus connected');
    this.connection.onSignal = (m) => {
      const job = jobRemoved(m);
      if (job) this.jobResults.set(job.path, job.result);
    };
  }

  private call(member: string, signature: string, body: unknown[], iface = MANAGER, objectPath = SYSTEMD.path): unknown[] {
    try {
      return this.connection.call({ ...SYSTEMD, path: objectPath, interface: iface, member, signature: signature || undefined, body });
    } catch (err) {
      if (err instanceof DbusError) throw new DbusError(err.dbusName, `${member}${typeof body[0] === 'string' ? ` ${body[0]}` : ''}: ${err.message} (${err.dbusName})`);
      throw err;
    }
  }

  /**
   * Let JobRemoved through the bus daemon to us (a match rule; the private socket sends
   * every signal). Posted, not awaited: the daemon handles it before the call after it.
   */
  private watchJobs(): void {
    if (this.watchingJobs || this.address.direct) return;
    this.connection.post({
      destination: 'org.freedesktop.DBus',
      path: '/org/freedesktop/DBus',
      interface: 'org.freedesktop.DBus',
      member: 'AddMatch',
      signature: 's',
      body: [`type='signal',sender='${SYSTEMD.destination}',path='${SYSTEMD.path}',interface='${MANAGER}',member='JobRemoved'`],
    });
    this.watchingJobs = true;
  }

  private waitJob(job: string): string {
    const known = this.jobResults.get(job);
    if (known !== undefined) {
      this.jobResults.delete(job);
      return known;
    }
    const m = this.connection.next((s) => jobRemoved(s)?.path === job, JOB_TIMEOUT_MS, `job ${job}`);
    return m ? (jobRemoved(m)?.result ?? 'timeout') : 'timeout';
  }

  /** Start a transient unit and wait for its job; returns the job's result ("done" on success). */
  startUnit(unit: string, properties: UnitProperty[]): string {
    this.watchJobs();
    const start = () => this.call('StartTransientUnit', 'ssa(sv)a(sa(sv))', [unit, 'replace', wireProperties(properties), []])[0] as string;
    let job: string;
    try {
      job = start();
    } catch (err) {
      // A failed unit of the same name lingers until reset: reset it and try once more.
      if (!(err instanceof DbusError) || !err.dbusName.endsWith('.UnitExists')) throw err;
      this.resetFailedUnitQuietly(unit);
      job = start();
    }
    return this.waitJob(job);
  }

  /** Stop a unit and wait for its job; "no-such-unit" when it was not loaded. */
  stopUnit(unit: string): string {
    this.watchJobs();
    let job: string;
    try {
      job = this.call('StopUnit', 'ss', [unit, 'replace'])[0] as string;
    } catch (err) {
      if (err instanceof DbusError && err.dbusName.endsWith('.NoSuchUnit')) return 'no-such-unit';
      throw err;
    }
    return this.waitJob(job);
  }

  resetFailedUnit(unit: string): void {
    this.call('ResetFailedUnit', 's', [unit]);
  }

  /** Forget a failed unit; not failed or gone is as good. */
  resetFailedUnitQuietly(unit: string): void {
    try {
      this.resetFailedUnit(unit);
    } catch {
      // only tidying
    }
  }

  setUnitProperties(unit: string, properties: UnitProperty[]): void {
    if (properties.length) this.call('SetUnitProperties', 'sba(sv)', [unit, true, wireProperties(properties)]);
  }

  managerProperty(name: string): unknown {
    return this.property(SYSTEMD.path, MANAGER, name);
  }

  unitProperty(unit: string, iface: string, name: string): unknown {
    const [unitPath] = this.call('GetUnit', 's', [unit]) as [string];
    return this.property(unitPath, iface, name);
  }

  private property(objectPath: string, iface: string, name: string): unknown {
    const [v] = this.call('Get', 'ss', [iface, name], PROPERTIES, objectPath);
    // A variant as dbus-native reads it: [[signature tree], [value]].
    return Array.isArray(v) && Array.isArray(v[1]) ? v[1][0] : v;
  }

  close(): void {
    this.connection.close();
  }
}

/** systemd's JobRemoved(u id, o job, s unit, s result) signal, or null for any other message. */
function jobRemoved(m: { type: number; member?: string; interface?: string; body?: unknown[] }): { path: string; result: string } | null {
  if (m.type !== MESSAGE_TYPE.signal || m.member !== 'JobRemoved' || m.interface !== MANAGER) return null;
  const [, job, , result] = (m.body ?? []) as [unknown, unknown, unknown, unknown];
  return typeof job === 'string' && typeof result === 'string' ? { path: job, result } : null;
}

/** dbus-native's form of a value: 64-bit integers as decimal strings (it takes no bigint). */
const wire = (value: PropertyValue): unknown => (typeof value === 'bigint' ? value.toString() : Array.isArray(value) ? value.map(wire) : value);

const wireProperties = (list: UnitProperty[]) => list.map((p) => [p.name, [p.type, wire(p.value)]]);

/** "252.38-1~deb12u1" or "v245.4-1.fc32" -> 252 / 245 (runc's systemdVersionAtoi). */
export function parseSystemdVersion(text: string): number {
  const m = /^"?v?(\d+)/.exec(text);
  if (!m) throw new SystemError(`cannot read systemd's version from ${JSON.stringify(text)}`);
  return Number(m[1]);
}
