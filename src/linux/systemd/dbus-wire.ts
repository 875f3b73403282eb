// The D-Bus wire format, from @homebridge/dbus-native: its marshaller and its message
// framing, for the synchronous connection in dbus-connection.ts. Bundled on its own
// (dist/ts-runc-systemd.cjs, embedded in the executable and run on first use: see
// scripts/esbuild-lazy-module.mjs): only the systemd cgroup driver loads it.
import dbusMessage from '@homebridge/dbus-native/lib/message.js';
import type { DbusMessage } from './dbus-message.js';

/** One message's bytes (little-endian, as dbus-native writes them). */
export function encodeMessage(msg: DbusMessage): Buffer {
  return dbusMessage.marshall(msg);
}

/** Turns the bytes read from the socket into whole messages. */
export interface MessageDecoder {
  /** Add what was read; returns the messages completed by it, in order. */
  push(bytes: Buffer): DbusMessage[];
}

/**
 * dbus-native frames messages off a readable stream (`read(n)`: n bytes, or null while
 * fewer are buffered, then a 'readable' event). This is such a stream, fed by the caller;
 * a message longer than `maxBytes` is refused before anything waits for its bytes.
 */
export function messageDecoder(maxBytes: number): MessageDecoder {
  let buffered = Buffer.alloc(0);
  let onReadable: () => void = () => {};
  const done: DbusMessage[] = [];
  const stream = {
    on(event: string, f: () => void) {
      if (event === 'readable') onReadable = f;
    },
    read(n: number): Buffer | null {
      if (n > maxBytes) throw new RangeError(`a D-Bus message of ${n}+ bytes (at most ${maxBytes})`);
      if (buffered.length < n) return null;
      const chunk = buffered.subarray(0, n);
      buffered = buffered.subarray(n);
      return chunk;
    },
  };
  dbusMessage.unmarshalMessages(stream, (m) => done.push(m), {});
  return {
    push(bytes) {
      // A copy: the caller reuses its read buffer, and framed chunks point into ours.
      buffered = Buffer.concat([buffered, bytes]);
      onReadable();
      return done.splice(0);
    },
  };
}
