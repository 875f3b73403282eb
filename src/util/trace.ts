// Phase timing: the runtime marks each setup step it reaches. TSRUNC_TRACE=1 prints
// "<ms since start> <RSS> <label>" on stderr at each mark; --debug collects them and logs
// the timeline with each step's duration when the command ends (traceTimeline), so a user
// can see where a slow start went. Off (one property read) otherwise. Written with
// fs.writeSync: the first use of process.stderr costs milliseconds and megabytes under Bun,
// which would land on the marks being measured.
import fs from 'node:fs';

const live = !!process.env.TSRUNC_TRACE;
let marks: [string, number][] | null = null;

export function trace(label: string): void {
  if (live) writeLive(label);
  marks?.push([label, performance.now()]);
}

function writeLive(label: string): void {
  let rss = '?';
  try {
    rss = String(Number(fs.readFileSync('/proc/self/statm', 'latin1').split(' ')[1]) * 4); // pages of 4 KiB
  } catch {
    // no procfs: the time alone
  }
  fs.writeSync(2, `${performance.now().toFixed(2).padStart(8)} ms ${rss.padStart(7)} KiB  ${label}\n`);
}

/** From now on keep the marks (performance.now() counts from the process's start). */
export function collectTrace(): void {
  marks ??= [['process started', 0]];
}

/** One line per mark: when it was reached, and how long the step before it took. */
export function traceTimeline(): string[] {
  return (marks ?? []).map(([label, at], i, all) => {
    const took = at - (all[i - 1]?.[1] ?? 0);
    return `timeline: ${at.toFixed(2)} ms (+${took.toFixed(2)} ms) ${label}`;
  });
}
