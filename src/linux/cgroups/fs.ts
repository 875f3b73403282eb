// Reading and writing cgroup files. Writes open the existing file (never create it: a
// missing control file means the kernel lacks the feature) with O_TRUNC, which cgroupfs
// ignores and which makes the same code exact on a plain directory tree in tests.
import fs from 'node:fs';
import path from 'node:path';
import { SystemError, errorMessage } from '../../util/errors.js';

/** A value the kernel (or the filesystem) refused: names the file, the value and the errno. */
export class CgroupWriteError extends SystemError {
  constructor(
    readonly file: string,
    readonly value: string,
    /** errno name, e.g. "EINVAL". */
    readonly errno: string,
    /** OCI field the value came from, when there is one. */
    readonly field: string,
    detail: string,
  ) {
    // runc's words ("failed to write "V": write F: invalid argument"), plus the field and errno.
    super(`${field ? `${field}: ` : ''}failed to write ${JSON.stringify(value)}: write ${file}: ${detail} (${errno})`, errno);
  }
}

/** Text of a Node fs error without the "CODE: " prefix and the ", syscall 'path'" suffix. */
function fsErrorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string') return (e.message.split(',')[0] ?? '').replace(/^[A-Z0-9]+: /, '');
  return errorMessage(err);
}

function errnoOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  return typeof code === 'string' ? code : 'EIO';
}

/** Write one value to dir/file as a single write(2). */
export function writeCgroupFile(dir: string, file: string, value: string, field = ''): void {
  const full = path.join(dir, file);
  let fd: number;
  try {
    fd = fs.openSync(full, fs.constants.O_WRONLY | fs.constants.O_TRUNC);
  } catch (err) {
    throw new CgroupWriteError(full, value, errnoOf(err), field, `open: ${fsErrorText(err)}`);
  }
  try {
    fs.writeSync(fd, value);
  } catch (err) {
    throw new CgroupWriteError(full, value, errnoOf(err), field, fsErrorText(err));
  } finally {
    fs.closeSync(fd);
  }
}

/** Contents, or null when the file does not exist (or the cgroup is gone). */
export function readCgroupFile(dir: string, file: string): string | null {
  try {
    return fs.readFileSync(path.join(dir, file), 'utf8');
  } catch {
    return null;
  }
}

/** Largest value cgroup v2 reports as "max" (Go's math.MaxUint64, as runc prints it). */
export const MAX_UINT64 = 18446744073709551615n;

/** A single unsigned number ("max" is MAX_UINT64); null when absent or unreadable. */
export function readUint(dir: string, file: string): bigint | null {
  const text = readCgroupFile(dir, file)?.trim();
  return text === undefined ? null : parseUint(text);
}

function parseUint(text: string): bigint | null {
  if (text === 'max') return MAX_UINT64;
  if (/^\d+$/.test(text)) return BigInt(text);
  // v1 reports "-1" nowhere in stats, but negative values clamp to zero like runc does.
  if (/^-\d+$/.test(text)) return 0n;
  return null;
}

/** "key value" lines (memory.stat, cpu.stat, memory.events...) as a map. */
export function readKeyValues(dir: string, file: string): Map<string, bigint> | null {
  const text = readCgroupFile(dir, file);
  if (text === null) return null;
  const out = new Map<string, bigint>();
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (!k || v === undefined) continue;
    const n = parseUint(v);
    if (n !== null) out.set(k, n);
  }
  return out;
}
