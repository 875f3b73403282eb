// Freezing a container's cgroup for pause/resume. The write alone is not enough: the v1
// freezer passes through FREEZING while it stops tasks one by one (and may stay there while
// new tasks keep arriving), and v2 reports completion in cgroup.events. `pause` returns only
// once the freeze has really taken hold; if it cannot, the cgroup is thawed again.
import { SystemError } from '../../util/errors.js';
import { type CgroupDriver, UNIFIED } from './driver.js';
import { readCgroupFile, sleepMs, writeCgroupFile } from './fs.js';

export interface FreezeOptions {
  /** Give up (and thaw) after this long. */
  timeoutMs?: number;
}

/** Which interface the container's freezer is: the v1 controller or v2's cgroup.freeze. */
function freezerOf(driver: CgroupDriver): { version: 1 | 2; dir: string } {
  if (driver.hasV1('freezer')) return { version: 1, dir: driver.dirs.freezer as string };
  const dir = driver.dirs[UNIFIED];
  if (dir !== undefined) return { version: 2, dir };
  throw new SystemError('cannot freeze: no freezer cgroup (neither a v1 freezer hierarchy nor cgroup v2)');
}

function v2Frozen(dir: string): boolean | null {
  const text = readCgroupFile(dir, 'cgroup.events');
  if (text === null) return null;
  return /^frozen 1$/m.test(text);
}

export function freeze(driver: CgroupDriver, opts: FreezeOptions = {}): void {
  const { version, dir } = freezerOf(driver);
  const deadline = Date.now() + (opts.timeoutMs ?? 5_000);
  if (version === 2) {
    writeCgroupFile(dir, 'cgroup.freeze', '1');
    for (;;) {
      if (v2Frozen(dir) !== false) return;
      if (Date.now() > deadline) break;
      sleepMs(1);
    }
  } else {
    // Writing FROZEN again while FREEZING makes the kernel retry the tasks it missed; an
    // occasional thaw lets a fork storm settle so that the next attempt can catch up.
    for (let i = 0; Date.now() <= deadline; i++) {
      if (i % 50 === 49) {
        writeCgroupFile(dir, 'freezer.state', 'THAWED');
        sleepMs(10);
      }
      writeCgroupFile(dir, 'freezer.state', 'FROZEN');
      const state = readCgroupFile(dir, 'freezer.state')?.trim();
      if (state === 'FROZEN') return;
      if (state !== 'FREEZING') throw new SystemError(`unexpected freezer state ${state ?? '(unreadable)'} after freezing ${dir}`);
      sleepMs(i < 10 ? 0 : 1);
    }
  }
  thaw(driver);
  throw new SystemError(`unable to freeze ${dir}: processes kept escaping the freezer`);
}

export function thaw(driver: CgroupDriver, opts: FreezeOptions = {}): void {
  const { version, dir } = freezerOf(driver);
  if (version === 2) {
    writeCgroupFile(dir, 'cgroup.freeze', '0');
    const deadline = Date.now() + (opts.timeoutMs ?? 5_000);
    while (v2Frozen(dir) === true && Date.now() <= deadline) sleepMs(1);
    return;
  }
  writeCgroupFile(dir, 'freezer.state', 'THAWED');
}

/** Thaw if frozen, never throwing: for teardown paths (a frozen task cannot die on v1). */
export function thawQuietly(driver: CgroupDriver): void {
  try {
    if (driver.isFrozen() || isFreezing(driver)) thaw(driver);
  } catch {
    // gone already
  }
}

function isFreezing(driver: CgroupDriver): boolean {
  if (!driver.hasV1('freezer')) return readCgroupFile(driver.dirs[UNIFIED] ?? '/nonexistent', 'cgroup.freeze')?.trim() === '1';
  return readCgroupFile(driver.dirs.freezer as string, 'freezer.state')?.trim() === 'FREEZING';
}
