// Per-container operation lock: flock(2) on <root>/<id>/lock, so two commands on one
// container (start and delete, say) never interleave. `state` reads without the lock:
// state.json is only ever replaced atomically.
import fs from 'node:fs';
import { LOCK_EX, LOCK_NB, LOCK_UN, native } from '../native/addon.js';
import { ContainerStateError } from '../util/errors.js';
import { LOCK_FILE, StateStore } from './store.js';

export class ContainerLock {
  private constructor(private fd: number) {}

  /** Take the lock, waiting for whoever holds it. The container must still exist then. */
  static acquire(store: StateStore, id: string): ContainerLock {
    let fd: number;
    try {
      fd = fs.openSync(store.file(id, LOCK_FILE), fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ContainerStateError('container does not exist');
      throw err;
    }
    if (!native().flock(fd, LOCK_EX | LOCK_NB)) {
      // Held by a create that is still running (this may be one of its own hooks asking):
      // waiting would deadlock, so fail now. Anything else: wait our turn.
      let creating = false;
      try {
        creating = store.read(id).status === 'creating';
      } catch {
        // not readable yet: still being created
        creating = true;
      }
      if (creating) {
        fs.closeSync(fd);
        throw new ContainerStateError(`container ${id} is still being created`);
      }
      native().flock(fd, LOCK_EX);
    }
    // A delete that held the lock may have removed the directory meanwhile.
    if (fs.fstatSync(fd).nlink === 0 || !store.exists(id)) {
      fs.closeSync(fd);
      throw new ContainerStateError('container does not exist');
    }
    return new ContainerLock(fd);
  }

  /** For create: the state directory is new, nobody else can hold the lock yet. */
  static forNewContainer(store: StateStore, id: string): ContainerLock {
    const fd = fs.openSync(store.file(id, LOCK_FILE), fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    native().flock(fd, LOCK_EX);
    return new ContainerLock(fd);
  }

  release(): void {
    if (this.fd < 0) return;
    native().flock(this.fd, LOCK_UN);
    fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/** Run fn holding the container's lock. */
export function withLock<T>(store: StateStore, id: string, fn: () => T): T {
  const lock = ContainerLock.acquire(store, id);
  try {
    return fn();
  } finally {
    lock.release();
  }
}
