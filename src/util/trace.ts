// Phase timing for performance work: TSRUNC_TRACE=1 prints "<ms since start> <label>" on
// stderr at each mark. Off (one property read) otherwise.
const enabled = !!process.env.TSRUNC_TRACE;

export function trace(label: string): void {
  if (!enabled) return;
  process.stderr.write(`${performance.now().toFixed(2).padStart(8)} ms  ${label}\n`);
}
