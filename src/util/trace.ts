// Phase timing for performance work: TSRUNC_TRACE=1 prints "<ms since start> <label>" on
// stderr at each mark. Off (one property read) otherwise.
const enabled = !!process.env.TSRUNC_TRACE;
const t0 = enabled ? performance.timeOrigin : 0;

export function trace(label: string): void {
  if (!enabled) return;
  process.stderr.write(`${(performance.now()).toFixed(2).padStart(8)} ms  ${label}\n`);
}
void t0;
