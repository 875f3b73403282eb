// The part of @homebridge/dbus-native used (its typings cover only the top-level client).
declare module '@homebridge/dbus-native/lib/message.js' {
  import type { DbusMessage } from './dbus-message.js';
  interface ReadableLike {
    on(event: 'readable', f: () => void): void;
    read(n: number): Buffer | null;
  }
  const message: {
    marshall(msg: DbusMessage): Buffer;
    unmarshalMessages(stream: ReadableLike, onMessage: (msg: DbusMessage) => void, opts: object): void;
  };
  export default message;
}
