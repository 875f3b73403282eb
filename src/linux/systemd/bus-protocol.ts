// What the runtime's thread and the D-Bus worker (bus-worker.ts) say to each other. The
// runtime's operations are synchronous (the launcher blocks on the child's socket), while a
// D-Bus client runs on an event loop: the worker has the loop, and answers each request in
// a shared buffer the runtime waits on with Atomics.wait (bus.ts).

/** A unit property as StartTransientUnit/SetUnitProperties take it: name, D-Bus type, value. */
export interface UnitProperty {
  name: string;
  /** D-Bus signature of the value, e.g. "t", "b", "s", "au", "ay", "a(ss)". */
  type: string;
  /** bigint for 64-bit integers ("t", "x"); arrays of these for arrays; tuples as arrays. */
  value: PropertyValue;
}

export type PropertyValue = string | number | bigint | boolean | PropertyValue[];

export type BusRequest =
  /** StartTransientUnit(mode "replace"), then the job's result ("done", "failed", ...). */
  | { op: 'startUnit'; unit: string; properties: UnitProperty[] }
  /** StopUnit(mode "replace"), then the job's result; "no-such-unit" when there was none. */
  | { op: 'stopUnit'; unit: string }
  | { op: 'resetFailedUnit'; unit: string }
  | { op: 'setUnitProperties'; unit: string; properties: UnitProperty[] }
  /** A property of org.freedesktop.systemd1.Manager, e.g. "Version", "ControlGroup". */
  | { op: 'managerProperty'; name: string }
  /** A property of a loaded unit, e.g. ("org.freedesktop.systemd1.Scope", "ControlGroup"). */
  | { op: 'unitProperty'; unit: string; iface: string; name: string };

export type BusReply = { ok: true; value: unknown } | { ok: false; name: string; message: string };

/** How the worker reaches the bus: a socket path; direct = systemd's private socket (no Hello). */
export interface BusAddress {
  socket: string;
  direct: boolean;
  /** The uid to authenticate as (SASL EXTERNAL): the one the bus daemon sees us as. */
  uid: number;
}

/** Layout of the shared buffer: [state, length] as Int32, then the reply's JSON bytes. */
export const STATE_INDEX = 0;
export const LENGTH_INDEX = 1;
export const HEADER_BYTES = 8;
export const REPLY_BYTES = 1 << 20;
/** How long one request may take; the job waits inside it are 30 s, as runc's. */
export const JOB_TIMEOUT_MS = 30_000;
