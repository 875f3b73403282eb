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
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') dieOfSigpipe();
      if (code !== 'EAGAIN') throw err;
    }
  }
}

export function printJson(value: unknown, indent?: number): void {
  print(`${JSON.stringify(value, null, indent)}\n`);
}

/**
 * Nobody reads our output any more (`ts-runc events ID | head -1`): end as a Go program
 * such as runc does, killed by SIGPIPE (status 141 in a shell). Node starts with SIGPIPE
 * ignored; adding and removing a listener makes libuv put the default action back.
 */
function dieOfSigpipe(): never {
  const noop = () => undefined;
  process.on('SIGPIPE', noop);
  process.off('SIGPIPE', noop);
  process.kill(process.pid, 'SIGPIPE');
  // Only if the signal was blocked or still ignored.
  process.exit(128 + 13);
}
