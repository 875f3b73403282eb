// Per-container operation lock: flock(2) on <root>/<id>/lock, so two commands on one
// container (start and delete, say) never interleave. `state` reads without the lock:
// state.json is only ever replaced atomically.
import fs from 'node:fs';
import path from 'node:path';
import { LOCK_EX, LOCK_NB, LOCK_UN, native } from '../native/addon.js';
import { ContainerNotFoundError, ContainerStateError } from '../util/errors.js';
import { LOCK_FILE, type StateStore, writeFileAtomic } from './store.js';

export class ContainerLock {
  private constructor(private fd: number) {}

  /**
   * Take the lock, waiting for whoever holds it. The container must still exist then: with
   * `orRemnant`, a directory without a state.json (left by another runtime version, or made
   * by hand) is enough, for delete to remove it.
   */
  static acquire(store: StateStore, id: string, opts: { orRemnant?: boolean } = {}): ContainerLock {
    let fd: number;
    try {
      fd = fs.openSync(store.file(id, LOCK_FILE), fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new ContainerNotFoundError();
      throw err;
    }
    if (!native().flock(fd, LOCK_EX | LOCK_NB)) {
      // Held by a create that is still running (this may be one of its own hooks asking):
      // waiting would deadlock, so fail now. Anything else: wait our turn.
      let creating = false;
      try {
        creating = store.read(id).status === 'creating';
      } catch {
        // unreadable (corrupt): not a create in progress; wait for whoever holds it
      }
      if (creating) {
        fs.closeSync(fd);
        throw new ContainerStateError(`container ${id} is still being created`);
      }
      native().flock(fd, LOCK_EX);
    }
    // A delete that held the lock may have removed the directory meanwhile.
    if (fs.fstatSync(fd).nlink === 0 || !(store.exists(id) || opts.orRemnant)) {
      fs.closeSync(fd);
      throw new ContainerNotFoundError();
    }
    return new ContainerLock(fd);
  }

  /**
   * For create: take the id. A staging directory gets the lock (held from the start) and
   * `files` (state.json first of all), then is renamed to <root>/<id>, so the id becomes
   * visible, locked, with a readable state, in one step: a create killed at any moment
   * leaves either nothing (a staging directory that `delete` sweeps) or a container that
   * `state`, `list` and `delete` all see.
   */
  static claim(store: StateStore, id: string, files: readonly (readonly [string, string])[]): ContainerLock {
    const staging = store.makeStaging();
    let fd = -1;
    try {
      fd = fs.openSync(path.join(staging, LOCK_FILE), fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
      native().flock(fd, LOCK_EX);
      for (const [name, text] of files) writeFileAtomic(path.join(staging, name), text);
      store.publish(staging, id);
    } catch (err) {
      if (fd >= 0) fs.closeSync(fd);
      fs.rmSync(staging, { recursive: true, force: true });
      throw err;
    }
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
