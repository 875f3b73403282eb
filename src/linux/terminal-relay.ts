// `run -t` / `exec -t` without a console socket: ts-runc itself sits between the user's
// terminal and the container's pty, as runc does (its tty.go): the container's pty does not
// turn "\n" into "\r\n" (ONLCR off: the plan's consoleRelayed, restoredMaster below) and
// the user's terminal goes raw except for its output processing, so each newline is
// translated once, by the terminal that shows it, and what is relayed into a file or a pipe
// is the container's bytes. Window size follows SIGWINCH, and everything is restored when
// the container's process exits.
import fs from 'node:fs';
import tty from 'node:tty';
import { native } from '../native/addon.js';
import { FileError } from '../util/errors.js';
import { sleepMs } from '../util/sleep.js';

export interface Relay {
  /** Drain what the container wrote last, restore the terminal. */
  finish(): Promise<void>;
}

function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) {
    try {
      off += fs.writeSync(fd, data, off);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EAGAIN') return; // the other side is gone
      sleepMs(1);
    }
  }
}

/**
 * The user's terminal raw for input, its output processing kept: what runc's console.SetRaw
 * leaves (ICANON, ECHO, ISIG, IEXTEN, ICRNL, IXON off; OPOST and ONLCR on), which is exactly
 * the runtime's raw mode (libuv's, and Bun's after it).
 */
function makeRaw(): () => void {
  const input = process.stdin as tty.ReadStream;
  input.setRawMode(true);
  return () => input.setRawMode(false);
}

/**
 * The relay needs the user's terminal: without a controlling terminal (a service, a pipe
 * from a script) fail at once with runc's error rather than start an interactive program
 * nobody can reach.
 */
export function requireControllingTerminal(): void {
  let fd: number;
  try {
    fd = fs.openSync('/dev/tty', fs.constants.O_RDWR | fs.constants.O_NOCTTY);
  } catch (err) {
    throw FileError.fromFs(err, 'open', '/dev/tty');
  }
  fs.closeSync(fd);
}

/**
 * A restored container's pty master, taken for relaying: its "\n" stays "\n", as runc's
 * recvtty clears ONLCR on receipt. (run and exec have the child clear it before the program
 * runs: the plan's consoleRelayed.) criu hands it over while it restores.
 */
export function restoredMaster(master: number): number {
  native().clearOnlcr(master);
  return master;
}

export function relayTerminal(master: number, _pidfd: number): Relay {
  const addon = native();
  const stdinIsTty = tty.isatty(0);
  const resize = () => {
    const ws = addon.getWinsize(1) ?? addon.getWinsize(0);
    if (ws) addon.setWinsize(master, ws.rows, ws.cols);
  };
  resize();
  process.on('SIGWINCH', resize);
  const restore = stdinIsTty ? makeRaw() : () => undefined;

  const onInput = (chunk: Buffer) => writeAll(master, chunk);
  process.stdin.on('data', onInput);
  process.stdin.on('error', () => undefined);

  const output = new tty.ReadStream(master);
  let ended: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    ended = resolve;
  });
  output.on('data', (chunk: Buffer) => writeAll(1, chunk));
  // EIO once the last slave fd closes: the container's side of the terminal is gone.
  output.on('error', () => ended());
  output.on('end', () => ended());
  output.on('close', () => ended());

  return {
    async finish() {
      await Promise.race([done, new Promise((r) => setTimeout(r, 200))]);
      process.off('SIGWINCH', resize);
      process.stdin.off('data', onInput);
      process.stdin.pause();
      restore();
      output.destroy();
    },
  };
}
