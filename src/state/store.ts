// The state directory: <root>/<id>/ holds state.json, the config.json snapshot taken at
// create time, the exec fifo, and a lock file. state.json is replaced atomically.
import fs from 'node:fs';
import path from 'node:path';
import { ContainerStateError, SystemError, describeFsError } from '../util/errors.js';
import { checkContainerId } from './container-id.js';
import type { ContainerRecord } from './types.js';

export const STATE_FILE = 'state.json';
export { CONFIG_FILE } from '../spec/defaults.js';
export const EXEC_FIFO = 'exec.fifo';
export const LOCK_FILE = 'lock';

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

  /** Make <root>/<id>; EEXIST means the ID is taken. */
  createDir(id: string): string {
    const dir = this.dir(id);
    try {
      this.makeRoot();
      fs.mkdirSync(dir, { mode: 0o711 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new ContainerStateError(`container with id exists: ${id}`);
      }
      throw new SystemError(`create state directory: ${describeFsError(err)}`);
    }
    return dir;
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
    let text: string;
    try {
      text = fs.readFileSync(this.file(id, STATE_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ContainerStateError('container does not exist');
      throw new SystemError(`read state: ${describeFsError(err)}`);
    }
    try {
      return JSON.parse(text) as ContainerRecord;
    } catch (err) {
      throw new SystemError(`read state: ${this.file(id, STATE_FILE)}: ${(err as Error).message}`);
    }
  }

  /** Write state.json atomically: a temp file in the same directory, fsync'd, renamed. */
  write(record: ContainerRecord): void {
    writeFileAtomic(this.file(record.id, STATE_FILE), JSON.stringify(record));
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

  /** IDs of every container under the root, sorted. */
  list(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new SystemError(`list containers: ${describeFsError(err)}`);
    }
    return names.filter((n) => fs.existsSync(path.join(this.root, n, STATE_FILE))).sort();
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

export function writeFileAtomic(file: string, data: string, mode = 0o600): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  const fd = fs.openSync(tmp, 'w', mode);
  try {
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
