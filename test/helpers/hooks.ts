/**
 * Mocha root hooks (a root-hook plugin: scripts/test.mjs passes `--require test/helpers/hooks.ts`).
 *
 * Around every test:
 *   beforeEach (before any suite's beforeEach): temp dirs made from now on belong to the
 *     test; leak-check baseline for suites that called useLeakCheck().
 *   afterEach (after every suite's afterEach): leak check, then removal of the test's temp
 *     dirs (its --root and bundles). A failure here fails the TEST, not the hook, so mocha
 *     goes on with the next test instead of abandoning the suite.
 * After the run: sweep everything of the run that is still there, remove the per-run cgroup
 * prefix dirs and temp dirs.
 */
import { enterTest, leaveTest, safeRemove } from './context.js';
import { cleanupRun, leakCheckAfterEach, leakCheckBeforeEach, markRootHooksLoaded } from './leaks.js';

markRootHooksLoaded();

/** Fail the current test from an afterEach hook without aborting the rest of the suite. */
function failCurrentTest(ctx: Mocha.Context, err: Error): void {
  (ctx.test as Mocha.Hook).error(err);
}

export const mochaHooks = {
  beforeEach(this: Mocha.Context): void {
    enterTest();
    leakCheckBeforeEach(this.currentTest);
  },

  afterEach(this: Mocha.Context): void {
    const problems: string[] = [];
    const leak = leakCheckAfterEach(this.currentTest);
    if (leak) problems.push(leak.message);
    for (const dir of leaveTest()) {
      try {
        const detached = safeRemove(dir);
        if (detached.length) problems.push(`mounts were left under ${dir} (detached): ${detached.join(', ')}`);
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
    if (problems.length) {
      const err = new Error(problems.join('\n'));
      err.stack = err.message;
      failCurrentTest(this, err);
    }
  },

  afterAll(): void {
    const err = cleanupRun();
    if (err) throw err;
  },
};
