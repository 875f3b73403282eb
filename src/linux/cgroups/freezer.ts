// Freezing a container's cgroup for pause/resume. The write alone is not enough: the v1
// freezer passes through FREEZING while it stops tasks one by one (and may stay there while
// new tasks keep arriving), and v2 reports completion in cgroup.events. `pause` returns only
// once the freeze has really taken hold; if it cannot, the cgroup is thawed again.
import { SystemError } from '../../util/errors.js';
import { type CgroupDirs, UNIFIED } from './dirs.js';
import { sleepMs } from '../../util/sleep.js';
import { readCgroupFile, writeCgroupFile } from './fs.js';

export interface FreezeOptions {
  /** Give up (and thaw) after this long. */
  timeoutMs?: number;
}

/** Which interface the container's freezer is: the v1 controller or v2's cgroup.freeze. */
function freezerOf(cg: CgroupDirs): { version: 1 | 2; dir: string } {
  if (cg.hasV1('freezer')) return { version: 1, dir: cg.dirs.freezer as string };
  const dir = cg.dirs[UNIFIED];
  if (dir !== undefined) return { version: 2, dir };
  throw new SystemError('cannot freeze: no freezer cgroup (neither a v1 freezer hierarchy nor cgroup v2)');
}

function v2Frozen(dir: string): boolean | null {
  const text = readCgroupFile(dir, 'cgroup.events');
  if (text === null) return null;
  return /^frozen 1$/m.test(text);
}

export function freeze(cg: CgroupDirs, opts: FreezeOptions = {}): void {
  const { version, dir } = freezerOf(cg);
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
  thaw(cg);
  throw new SystemError(`unable to freeze ${dir}: processes kept escaping the freezer`);
}

export function thaw(cg: CgroupDirs, opts: FreezeOptions = {}): void {
  const { version, dir } = freezerOf(cg);
  if (version === 2) {
    writeCgroupFile(dir, 'cgroup.freeze', '0');
    const deadline = Date.now() + (opts.timeoutMs ?? 5_000);
    while (v2Frozen(dir) === true && Date.now() <= deadline) sleepMs(1);
    return;
  }
  writeCgroupFile(dir, 'freezer.state', 'THAWED');
}

/** runc's freezer states. */
export type FreezerState = 'THAWED' | 'FREEZING' | 'FROZEN';

/**
 * Where the freezer is now. v1 says so in freezer.state; v2's cgroup.freeze is what was
 * asked, and cgroup.events' "frozen" whether the kernel got there.
 */
export function freezerState(cg: CgroupDirs): FreezerState {
  if (cg.hasV1('freezer')) {
    const state = readCgroupFile(cg.dirs.freezer as string, 'freezer.state')?.trim();
    return state === 'FROZEN' || state === 'FREEZING' ? state : 'THAWED';
  }
  const dir = cg.dirs[UNIFIED];
  if (dir === undefined || readCgroupFile(dir, 'cgroup.freeze')?.trim() !== '1') return 'THAWED';
  return v2Frozen(dir) === false ? 'FREEZING' : 'FROZEN';
}
