// Writing results to stdout synchronously (the process often exits right after, and a
// pipe on stdout must not be left half-written or switched to non-blocking mode).
import fs from 'node:fs';

export function print(text: string): void {
  let off = 0;
  const buf = Buffer.from(text);
  while (off < buf.length) {
    try {
      off += fs.writeSync(1, buf, off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
  }
}

export function printJson(value: unknown, indent?: number): void {
  print(`${JSON.stringify(value, null, indent)}\n`);
}
