// Logging in runc's formats, because engines parse it:
//   text  time="2026-11-22T11:48:50Z" level=error msg="container does not exist"
//   json  {"level":"error","msg":"container does not exist","time":"2026-11-22T11:48:47Z"}
// With --log FILE, lines go to the file (appended), else to stderr; in either place in the
// --log-format asked for, as runc does. A log file that cannot be opened is an error.
// --debug enables debug lines. Writes are synchronous: the process may exit right after.
import fs from 'node:fs';
import { FileError } from './errors.js';

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';
export type LogFormat = 'text' | 'json';

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warning: 2, error: 3 };

function timestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function quoteText(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

export function formatLine(level: LogLevel, msg: string, format: LogFormat): string {
  if (format === 'json') return `${JSON.stringify({ level, msg, time: timestamp() })}\n`;
  return `time="${timestamp()}" level=${level} msg=${quoteText(msg)}\n`;
}

export class Logger {
  private fd: number;
  readonly toFile: boolean;
  constructor(
    readonly format: LogFormat = 'text',
    readonly minLevel: LogLevel = 'info',
    file?: string,
  ) {
    this.toFile = !!file;
    this.fd = 2;
    if (file) {
      try {
        this.fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o644);
      } catch (err) {
        throw FileError.fromFs(err, 'open', file);
      }
    }
  }

  log(level: LogLevel, msg: string): void {
    if (LEVEL_ORDER[level] < LEVEL_ORDER[this.minLevel]) return;
    try {
      fs.writeSync(this.fd, formatLine(level, msg, this.format));
    } catch {
      // Logging must never turn a result into a crash.
    }
  }

  debug(msg: string): void {
    this.log('debug', msg);
  }
  info(msg: string): void {
    this.log('info', msg);
  }
  warn(msg: string): void {
    this.log('warning', msg);
  }
  /** The fatal error of a command: logged, and also printed plainly on stderr when logging to a file. */
  fatal(msg: string): void {
    this.log('error', msg);
    if (this.toFile) {
      try {
        fs.writeSync(2, `${msg}\n`);
      } catch {
        // stderr closed
      }
    }
  }
}

/** Logger used before the command line is parsed, and by library code in tests. */
export let logger = new Logger();
export function setLogger(l: Logger): void {
  logger = l;
}
