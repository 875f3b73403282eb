'use strict';
/**
 * Mocha reporter: mocha's spec output, then one plain closing line, always last:
 *
 *   N passed, N failed, N skipped
 *
 * Counting: a test that passed and then was failed by an afterEach hook (the leak check)
 * counts as failed, not both; every failed hook counts as one failure (mocha's own count);
 * pending tests are skipped. If TSRUNC_TEST_SUMMARY_FILE is set, the line is also written
 * there, so scripts/test.mjs can tell a finished run from a crashed one.
 */
const fs = require('node:fs');
const Mocha = require('mocha');

const { Spec } = Mocha.reporters;
const { EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING, EVENT_RUN_END } = Mocha.Runner.constants;

class SummaryReporter extends Spec {
  constructor(runner, options) {
    super(runner, options); // Spec prints its epilogue on EVENT_RUN_END; this listener comes after it
    const passed = new Set();
    const failed = new Set();
    const skipped = new Set();
    runner.on(EVENT_TEST_PASS, (test) => passed.add(test));
    runner.on(EVENT_TEST_FAIL, (runnable) => {
      passed.delete(runnable);
      failed.add(runnable);
    });
    runner.on(EVENT_TEST_PENDING, (test) => skipped.add(test));
    runner.once(EVENT_RUN_END, () => {
      const line = `${passed.size} passed, ${failed.size} failed, ${skipped.size} skipped`;
      process.stdout.write(`\n${line}\n`);
      const file = process.env.TSRUNC_TEST_SUMMARY_FILE;
      if (file) fs.writeFileSync(file, `${line}\n`);
    });
  }
}

module.exports = SummaryReporter;
