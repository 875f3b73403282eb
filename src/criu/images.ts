// The checkpoint's directories: the image directory CRIU writes (and restore reads), the
// work directory for its logs, descriptors.json (what the container's stdio were, so
// restore can hand it new pipes: runc's format), and the log excerpt an error quotes.
import fs from 'node:fs';
import path from 'node:path';
import { RuntimeError, SystemError, describeFsError } from '../util/errors.js';
import { parseJsonText, readBoundedText } from '../util/json-input.js';
import { lastCriuError } from './binary.js';

/** runc's file name; podman reads it too. */
export const DESCRIPTORS_FILE = 'descriptors.json';
/** Every CRIU image directory has one. */
const INVENTORY = 'inventory.img';
/** Bounds on descriptors.json: a list of a few paths. */
const MAX_DESCRIPTORS_BYTES = 64 * 1024;
const MAX_DESCRIPTORS = 1024;
/** How much of a CRIU log is searched for its errors. */
const LOG_TAIL_BYTES = 1024 * 1024;

/** A directory for CRIU to write into: made if missing (0700), refused when not empty. */
export function prepareEmptyDir(dir: string, what: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new SystemError(`${what}: ${describeFsError(err)}`);
  }
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch (err) {
    throw new SystemError(`${what}: ${describeFsError(err)}`);
  }
  if (entries.length > 0) throw new RuntimeError(`${what} ${dir} is not empty (it holds ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}): checkpoint into an empty or new directory`);
}

/** A directory CRIU may write into (the work directory): made if missing. */
export function prepareDir(dir: string, what: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new SystemError(`${what}: ${describeFsError(err)}`);
  }
}

/** Restore reads a CRIU image: the directory must hold one. */
export function checkImageDir(dir: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (err) {
    throw new RuntimeError(`--image-path: ${describeFsError(err)}`);
  }
  if (!st.isDirectory()) throw new RuntimeError(`--image-path: ${dir} is not a directory`);
  if (!fs.existsSync(path.join(dir, INVENTORY))) {
    throw new RuntimeError(`--image-path: ${dir} is not a CRIU image (no ${INVENTORY}): was it made by checkpoint?`);
  }
}

/** The targets of the container process's fds 0-2, as runc records them. */
export function stdioDescriptors(pid: number): string[] {
  return [0, 1, 2].map((fd) => {
    try {
      return fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return '';
    }
  });
}

export function writeDescriptors(imageDir: string, descriptors: readonly string[]): void {
  fs.writeFileSync(path.join(imageDir, DESCRIPTORS_FILE), JSON.stringify(descriptors), { mode: 0o600 });
}

/**
 * descriptors.json of an image (absent: none recorded, as for images CRIU made alone),
 * read as every JSON input is: a regular file, bounded, its content never quoted.
 */
export function readDescriptors(imageDir: string): string[] {
  const file = path.join(imageDir, DESCRIPTORS_FILE);
  if (!fs.lstatSync(file, { throwIfNoEntry: false })) return [];
  const list = parseJsonText(readBoundedText({ file }, MAX_DESCRIPTORS_BYTES), file);
  if (!Array.isArray(list) || list.length > MAX_DESCRIPTORS || !list.every((d) => typeof d === 'string')) {
    throw new RuntimeError(`${file}: must be a list of at most ${MAX_DESCRIPTORS} strings`);
  }
  return list as string[];
}

/**
 * What went wrong, from a CRIU log: its last few error lines (without the closing
 * "Dumping FAILED." / "Restoring FAILED."), most recent last; empty when none.
 */
export function criuLogErrors(logFile: string, max = 2): string[] {
  let text: string;
  try {
    const fd = fs.openSync(logFile, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const len = Math.min(size, LOG_TAIL_BYTES);
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, size - len);
      text = buf.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return [];
  }
  const errors: string[] = [];
  for (const line of text.split('\n')) {
    const message = lastCriuError(line);
    if (!message || /^(Dumping|Restoring|Pre-dumping) FAILED\.?$/.test(message)) continue;
    if (errors[errors.length - 1] !== message) errors.push(message);
  }
  return errors.slice(-max);
}
