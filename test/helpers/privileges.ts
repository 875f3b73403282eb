/**
 * Skipping tests the machine cannot run, with the reason in the test's title:
 *
 *   it('mounts things', function () { requireRoot(this); ... });
 *   before(function () { requireCgroupV1Controller(this, 'memory'); });   // whole block
 *
 * Works in a test, a beforeEach hook (skips that test) or a before hook (skips the block).
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { readMountInfo } from './context.js';

/** Append ` (skipped: <reason>)` to the titles of the tests the skip applies to, then skip. */
export function skipWith(ctx: Mocha.Context, reason: string): never {
  const note = ` (skipped: ${reason})`;
  const runnable = ctx.test;
  const mark = (t: Mocha.Test) => {
    if (!t.title.endsWith(note)) t.title += note;
  };
  const markSuite = (s: Mocha.Suite): void => {
    s.tests.forEach(mark);
    s.suites.forEach(markSuite);
  };
  if ((runnable as { type?: string } | undefined)?.type === 'test') {
    mark(runnable as Mocha.Test);
  } else if (runnable?.parent && /^"before all" hook/.test(runnable.title)) {
    markSuite(runnable.parent);
  } else if (ctx.currentTest) {
    mark(ctx.currentTest);
  }
  ctx.skip();
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Is `name` an executable on PATH? */
export function hasCommand(name: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir) continue;
    try {
      accessSync(path.join(dir, name), constants.X_OK);
      return true;
    } catch {
      /* not here */
    }
  }
  return false;
}

/** Is a cgroup v1 hierarchy with controller `name` mounted ('memory', or 'name=systemd')? */
export function hasCgroupV1Controller(name: string): boolean {
  return readMountInfo().some((m) => m.fsType === 'cgroup' && m.superOptions.includes(name));
}

/** Skip unless running as root. */
export function requireRoot(ctx: Mocha.Context): void {
  if (!isRoot()) skipWith(ctx, 'needs root');
}

/** Skip unless `name` is an executable on PATH. */
export function requireCommand(ctx: Mocha.Context, name: string): void {
  if (!hasCommand(name)) skipWith(ctx, `needs the command \`${name}\``);
}

/** Skip unless the cgroup v1 controller `name` is mounted. */
export function requireCgroupV1Controller(ctx: Mocha.Context, name: string): void {
  if (!hasCgroupV1Controller(name)) skipWith(ctx, `needs the cgroup v1 controller ${name}`);
}
