// The state directory: <root>/<id>/ holds state.json, the config.json snapshot taken at
// create time, the exec fifo, and a lock file. A container's directory appears in one
// step with its state.json already in it (see ContainerLock.claim), and state.json is
// only ever replaced atomically, so an id either does not exist or has a readable state.
import fs from 'node:fs';
import path from 'node:path';
import { CONFIG_FILE } from '../spec/defaults.js';
import { ContainerNotFoundError, ContainerStateError, FileError, SystemError, describeFsError, errorMessage } from '../util/errors.js';
import { type Json, toJson } from '../util/json-exact.js';
import { parseJsonText } from '../util/json-input.js';
import { checkContainerId } from './container-id.js';
import { isAlive, readProcStat } from './liveness.js';
import type { ContainerRecord } from './types.js';

export const STATE_FILE = 'state.json';
/** The config.json snapshot taken at create time. */
export const SNAPSHOT_FILE = CONFIG_FILE;
export const EXEC_FIFO = 'exec.fifo';
export const LOCK_FILE = 'lock';

/**
 * Staging directories of creates in progress: `.~<pid>-<starttime>-<n>`. "~" is not allowed
 * in a container id, so they are never mistaken for a container; the creator's pid and
 * start time tell an abandoned one (its creator is gone) from one still being filled.
 */
const STAGING_PREFIX = '.~';
let stagingCounter = 0;

/** state.json exists but cannot be used (not JSON, not a record). */
export class CorruptStateError extends SystemError {}

export interface StateStoreOptions {
  /**
   * The root is the default one under $XDG_RUNTIME_DIR: it is made 0700 and given the sticky
   * bit, which keeps the XDG runtime directory's periodic clean-up off it (as runc does).
   */
  private?: boolean;
}

export class StateStore {
  readonly root: string;
  private readonly privateRoot: boolean;
  constructor(root: string, opts: StateStoreOptions = {}) {
    this.root = path.resolve(root);
    this.privateRoot = opts.private === true;
  }

  dir(id: string): string {
    return path.join(this.root, checkContainerId(id));
  }

  file(id: string, name: string): string {
    return path.join(this.dir(id), name);
  }

  exists(id: string): boolean {
    return fs.existsSync(this.file(id, STATE_FILE));
  }

  /** Does <root>/<id> exist at all (with or without a state.json)? */
  hasDir(id: string): boolean {
    return fs.existsSync(this.dir(id));
  }

  /** A new, empty staging directory for a create (published later with publish()). */
  makeStaging(): string {
    const startTime = readProcStat(process.pid)?.startTime ?? 0;
    const dir = path.join(this.root, `${STAGING_PREFIX}${process.pid}-${startTime}-${++stagingCounter}`);
    try {
      this.makeRoot();
      fs.mkdirSync(dir, { mode: 0o711 });
    } catch (err) {
      throw new SystemError(`create state directory: ${describeFsError(err)}`);
    }
    return dir;
  }

  /**
   * Rename a filled staging directory to <root>/<id>: the id is taken in one step. An
   * existing container (a non-empty directory) makes rename(2) fail, and the staging
   * directory is removed.
   */
  publish(staging: string, id: string): void {
    try {
      fs.renameSync(staging, this.dir(id));
    } catch (err) {
      fs.rmSync(staging, { recursive: true, force: true });
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') {
        throw new ContainerStateError(`container with id exists: ${id}`);
      }
      throw new SystemError(`create state directory: ${describeFsError(err)}`);
    }
  }

  /** Remove staging directories whose create was killed before it published them. */
  sweepAbandonedStaging(): void {
    let names: string[];
    try {
      names = fs.readdirSync(this.root);
    } catch {
      return;
    }
    for (const name of names) {
      const m = /^\.~(\d+)-(\d+)-\d+$/.exec(name);
      if (m && !isAlive(Number(m[1]), Number(m[2]))) fs.rmSync(path.join(this.root, name), { recursive: true, force: true });
    }
  }

  private makeRoot(): void {
    if (!this.privateRoot) {
      fs.mkdirSync(this.root, { recursive: true, mode: 0o711 });
      return;
    }
    try {
      fs.mkdirSync(this.root, { recursive: true, mode: 0o700 });
      fs.chmodSync(this.root, 0o1700);
    } catch (err) {
      throw new SystemError(`${describeFsError(err)} (the path in $XDG_RUNTIME_DIR must be writable by the user)`);
    }
  }

  removeDir(id: string): void {
    fs.rmSync(this.dir(id), { recursive: true, force: true });
  }

  /** Read state.json; a missing container is "container does not exist" (runc's words). */
  read(id: string): ContainerRecord {
    const file = this.file(id, STATE_FILE);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ContainerNotFoundError();
      throw new SystemError(`read state: ${describeFsError(err)}`);
    }
    let rec: unknown;
    try {
      rec = parseJsonText(text, file);
    } catch (err) {
      throw new CorruptStateError(`read state: ${errorMessage(err)}`);
    }
    if (!isRecord(rec, id)) throw new CorruptStateError(`read state: ${file}: not a container state`);
    return rec;
  }

  /** Write state.json atomically: a temp file in the same directory, fsync'd, renamed. */
  write(record: ContainerRecord): void {
    writeFileAtomic(this.file(record.id, STATE_FILE), toJson(record as unknown as Json));
  }

  /**
   * Who owns a container, as runc's list names them: the user owning its state directory,
   * by name from /etc/passwd, else "#<uid>".
   */
  owner(id: string): string {
    let uid: number;
    try {
      uid = fs.statSync(this.dir(id)).uid;
    } catch {
      return '';
    }
    return userName(uid) ?? `#${uid}`;
  }

  /** IDs of every container under the root (directories with a state.json), sorted. */
  list(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new SystemError(`list containers: ${describeFsError(err)}`);
    }
    return names.filter((n) => !n.startsWith(STAGING_PREFIX) && fs.existsSync(path.join(this.root, n, STATE_FILE))).sort();
  }
}

/** The login name of `uid` in /etc/passwd (what runc's user.LookupUid reads), or null. */
export function userName(uid: number, passwd?: string): string | null {
  let text = passwd;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/etc/passwd', 'utf8');
    } catch {
      return null;
    }
  }
  for (const line of text.split('\n')) {
    const [name, , id] = line.split(':');
    if (name && id !== undefined && Number(id) === uid && /^\d+$/.test(id)) return name;
  }
  return null;
}

/** Just enough of a record for the commands to act on it without crashing. */
function isRecord(v: unknown, id: string): v is ContainerRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return r.id === id && typeof r.status === 'string' && typeof r.pid === 'number' && typeof r.bundle === 'string' && Array.isArray(r.namespaces);
}

/**
 * Write a file atomically: a temp file in the same directory, fsync'd, renamed. Errors
 * name `file` (never the temporary name) and leave no temporary file behind.
 */
export function writeFileAtomic(file: string, data: string, mode = 0o600): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  let fd: number;
  try {
    fd = fs.openSync(tmp, 'w', mode);
  } catch (err) {
    throw FileError.fromFs(err, 'open', file);
  }
  try {
    try {
      fs.writeSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw FileError.fromFs(err, 'write', file);
  }
}
