// A D-Bus message as @homebridge/dbus-native marshals and unmarshals it (header fields by
// name, the body as an array of values of `signature`).

export const MESSAGE_TYPE = { methodCall: 1, methodReturn: 2, error: 3, signal: 4 } as const;
export const FLAG_NO_REPLY_EXPECTED = 1;

export interface DbusMessage {
  type: number;
  serial?: number;
  flags?: number;
  path?: string;
  interface?: string;
  member?: string;
  errorName?: string;
  replySerial?: number;
  destination?: string;
  sender?: string;
  signature?: string;
  body?: unknown[];
}
