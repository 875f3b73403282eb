'use strict';
/**
 * Mocha reporter for the clause tests (conformance/report.mjs): prints a progress line (or,
 * with TSRUNC_CONFORMANCE_VERBOSE=1, mocha's spec output) and writes every test's outcome,
 * keyed by the clause id in its title, to the JSON file named by
 * TSRUNC_CONFORMANCE_RESULTS_FILE. report.mjs turns that into the clause report.
 *
 * A test that passed and was then failed by an afterEach hook (the leak check) counts as
 * failed; a failing before/after hook is recorded under `hooks`.
 */
const fs = require('node:fs');
const Mocha = require('mocha');

const { Base, Spec } = Mocha.reporters;
const { EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING, EVENT_RUN_END } = Mocha.Runner.constants;

const CLAUSE_ID = /^\[([^\]]+)\]\s*/;

/** An error's message, plus actual and expected when chai left them out of it. */
function describeError(err) {
  let text = String(err?.message ?? err);
  if (err && err.showDiff !== false && 'actual' in err && 'expected' in err && /…|\[ Array\(/.test(text)) {
    const show = (v) => {
      const s = typeof v === 'string' ? v : JSON.stringify(v, null, 1);
      return s && s.length > 2000 ? `${s.slice(0, 2000)}…` : s;
    };
    text += `\nactual:   ${show(err.actual)}\nexpected: ${show(err.expected)}`;
  }
  return text;
}
const SKIP_NOTE = / \(skipped: (.*)\)$/;

class ClauseReporter extends Base {
  constructor(runner, options) {
    super(runner, options);
    const verbose = process.env.TSRUNC_CONFORMANCE_VERBOSE === '1';
    if (verbose) new Spec(runner, options); // eslint-disable-line no-new
    /** @type {Map<Mocha.Test, object>} */
    const tests = new Map();
    const hooks = [];
    let column = 0;
    const mark = (c) => {
      if (verbose) return;
      process.stdout.write(c);
      if (++column % 80 === 0) process.stdout.write('\n');
    };
    const record = (test, state, err) => {
      const title = test.title;
      const id = CLAUSE_ID.exec(title)?.[1];
      const skip = SKIP_NOTE.exec(title)?.[1];
      tests.set(test, {
        clause: id ?? null,
        title: title.replace(CLAUSE_ID, '').replace(SKIP_NOTE, ''),
        fullTitle: test.fullTitle(),
        file: test.file ? require('node:path').relative(process.cwd(), test.file) : undefined,
        state,
        durationMs: test.duration ?? null,
        ...(skip ? { skipReason: skip } : {}),
        ...(err ? { error: typeof err === 'string' ? err : describeError(err) } : {}),
      });
    };
    runner.on(EVENT_TEST_PASS, (test) => {
      record(test, 'passed');
      mark('.');
    });
    runner.on(EVENT_TEST_PENDING, (test) => {
      record(test, 'skipped');
      mark('-');
    });
    runner.on(EVENT_TEST_FAIL, (runnable, err) => {
      if (runnable.type === 'hook' && !/"(before|after) each" hook/.test(runnable.title)) {
        hooks.push({ title: runnable.fullTitle(), error: describeError(err) });
      } else {
        // an afterEach failure is reported against the test it ran after
        const test = runnable.type === 'hook' ? runnable.ctx?.currentTest ?? runnable : runnable;
        const prev = tests.get(test);
        record(test, 'failed', prev?.state === 'failed' ? `${prev.error}\n${describeError(err)}` : err);
      }
      mark('F');
    });
    runner.once(EVENT_RUN_END, () => {
      if (!verbose && column % 80 !== 0) process.stdout.write('\n');
      const file = process.env.TSRUNC_CONFORMANCE_RESULTS_FILE;
      if (file) fs.writeFileSync(file, `${JSON.stringify({ tests: [...tests.values()], hooks }, null, 2)}\n`);
    });
  }
}

module.exports = ClauseReporter;
