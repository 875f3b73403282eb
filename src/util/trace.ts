// Phase marks for performance work: TSRUNC_TRACE=1 prints "<ms since start> <RSS> <label>"
// on stderr at each mark. Off (one property read) otherwise. Written with fs.writeSync: the
// first use of process.stderr costs milliseconds and megabytes under Bun, which would
// land on the marks being measured.
import fs from 'node:fs';

const enabled = !!process.env.TSRUNC_TRACE;

export function trace(label: string): void {
  if (!enabled) return;
  let rss = '?';
  try {
    rss = String(Number(fs.readFileSync('/proc/self/statm', 'latin1').split(' ')[1]) * 4); // pages of 4 KiB
  } catch {
    // no procfs: the time alone
  }
  fs.writeSync(2, `${performance.now().toFixed(2).padStart(8)} ms ${rss.padStart(7)} KiB  ${label}\n`);
}
