// Runs the cases: per case, each runtime gets its set-up and warm-up, then the measured
// iterations go round-robin over the runtimes (starting with a different one each time), so
// a change in the machine's load during the run lands on every column alike. A failure
// ends that case for that runtime only: its reason is kept, its containers are removed,
// and the run goes on.
import { Context } from './context.mjs';

/** results[metric][runtime] = { samples: number[], error?: string } */
export class Results {
  constructor() {
    this.byMetric = {};
  }

  cell(metric, rt) {
    this.byMetric[metric] ??= {};
    this.byMetric[metric][rt] ??= { samples: [] };
    return this.byMetric[metric][rt];
  }

  add(metric, rt, value) {
    this.cell(metric, rt).samples.push(value);
  }

  fail(metrics, rt, reason) {
    for (const m of metrics) this.cell(m, rt).error ??= reason;
  }

  skip(metrics, rt, reason) {
    for (const m of metrics) this.cell(m, rt).skipped ??= reason;
  }
}

/** Thrown by a case's setup when it does not apply to a runtime: "n/a" and the reason, not "error". */
export class NotApplicable extends Error {}

export class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

/**
 * @param {object} o
 * @param {object} o.kase a case from cases.mjs
 * @param {import('./runtimes.mjs').Runtime[]} o.runtimes available runtimes (floor included)
 * @param {string[]} o.metrics the metric ids this case fills
 * @param {Results} o.results
 * @param {object} o.opts runs, warmup, batchRuns
 * @param {(rt) => Context} o.contextFor
 * @param {() => boolean} o.interrupted
 * @param {(msg: string) => void} o.log progress
 */
export async function runCase({ kase, runtimes, metrics, results, opts, contextFor, interrupted, log }) {
  const active = runtimes.filter((rt) => !(rt.floor && kase.floor === false));
  const state = new Map();
  const failed = new Set();
  const ctxs = new Map(active.map((rt) => [rt, contextFor(rt)]));
  const fail = (rt, err) => {
    failed.add(rt);
    const reason = err?.reason ?? err?.message ?? String(err);
    if (err instanceof NotApplicable) {
      results.skip(metrics, rt.name, reason);
      log(`  ${rt.name}: n/a: ${reason}`);
      return;
    }
    results.fail(metrics, rt.name, reason);
    log(`  ${rt.name}: error: ${reason}`);
  };
  const check = async () => {
    await tick();
    if (interrupted()) throw new Interrupted();
  };

  try {
    for (const rt of active) {
      const ctx = ctxs.get(rt);
      try {
        state.set(rt, kase.setup ? kase.setup(ctx) : null);
        for (let w = 0; w < opts.warmup; w++) {
          if (kase.warmup) kase.warmup(ctx, state.get(rt), opts);
          else kase.iterate(ctx, state.get(rt), opts);
          await check();
        }
      } catch (err) {
        if (err instanceof Interrupted) throw err;
        fail(rt, err);
        ctx.cleanup();
      }
    }
    const reps = kase.reps ? kase.reps(opts) : opts.runs;
    for (let i = 0; i < reps; i++) {
      const order = active.map((_, k) => active[(k + i) % active.length]);
      for (const rt of order) {
        if (failed.has(rt)) continue;
        try {
          const measured = kase.iterate(ctxs.get(rt), state.get(rt), opts);
          for (const [metric, value] of Object.entries(measured)) results.add(metric, rt.name, value);
        } catch (err) {
          if (err instanceof Interrupted) throw err;
          fail(rt, err);
          ctxs.get(rt).cleanup();
        }
        await check();
      }
    }
  } finally {
    for (const rt of active) {
      const ctx = ctxs.get(rt);
      if (!failed.has(rt) && kase.teardown) {
        try {
          kase.teardown(ctx, state.get(rt));
        } catch (err) {
          log(`  ${rt.name}: teardown: ${err.message}`);
        }
      }
      ctx.cleanup();
    }
  }
}

export { Context };
