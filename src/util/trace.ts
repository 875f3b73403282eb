// Phase timing: the runtime marks each setup step it reaches. TSRUNC_TRACE=1 prints
// "<ms since start> <label>" on stderr at each mark; --debug collects them and logs the
// timeline with each step's duration when the command ends (traceTimeline), so a user can
// see where a slow start went. Off (one property read) otherwise.
const live = !!process.env.TSRUNC_TRACE;
let marks: [string, number][] | null = null;

export function trace(label: string): void {
  if (live) process.stderr.write(`${performance.now().toFixed(2).padStart(8)} ms  ${label}\n`);
  marks?.push([label, performance.now()]);
}

/** From now on keep the marks (performance.now() counts from the process's start). */
export function collectTrace(): void {
  marks ??= [['node started', 0]];
}

/** One line per mark: when it was reached, and how long the step before it took. */
export function traceTimeline(): string[] {
  return (marks ?? []).map(([label, at], i, all) => {
    const took = at - (all[i - 1]?.[1] ?? 0);
    return `timeline: ${at.toFixed(2)} ms (+${took.toFixed(2)} ms) ${label}`;
  });
}
