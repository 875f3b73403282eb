// Result files: bench/results/<timestamp>.json and latest.json (one document per run, every
// sample kept), and `--compare A B`, which prints how the medians moved between two runs.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { METRICS } from './cases.mjs';
import { formatRatio, formatValue, medians, metricTitle, ratioColumns } from './report.mjs';

export const SCHEMA = 'ts-runc-bench/1';

/** Write `doc` as <dir>/<timestamp>.json and <dir>/latest.json; returns the first path. */
export function saveResults(dir, doc) {
  mkdirSync(dir, { recursive: true });
  const stamp = doc.startedAt.replace(/[:.]/g, '-');
  const file = path.join(dir, `${stamp}.json`);
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  copyFileSync(file, path.join(dir, 'latest.json'));
  return file;
}

export function loadResults(file) {
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  if (doc.schema !== SCHEMA) throw new Error(`${file}: not a ts-runc bench result (schema ${doc.schema ?? 'missing'})`);
  return doc;
}

function change(a, b) {
  if (a === null || b === null) return '-';
  if (a === 0) return b === 0 ? '0%' : '-';
  const pct = ((b - a) / Math.abs(a)) * 100;
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(Math.abs(pct) >= 10 ? 0 : 1)}%`;
}

/** A median, or why there is none (error, n/a). */
function cellOf(doc, metric, rt, value, unit) {
  const cell = doc.results[metric]?.[rt];
  if (cell?.error) return 'error';
  if (cell?.notApplicable || doc.runtimes.find((r) => r.name === rt)?.available === false) return 'n/a';
  return formatValue(value, unit);
}

/** Text comparing two result documents (B against A). */
export function renderCompare(fileA, a, fileB, b) {
  const ma = medians(a);
  const mb = medians(b);
  const names = [...new Set([...a.runtimes, ...b.runtimes].map((r) => r.name))];
  const lines = [];
  const describe = (label, file, d) =>
    `${label}: ${file} — ${d.startedAt}, commit ${d.machine.gitCommit?.slice(0, 12) ?? '?'}${d.machine.gitDirty ? '+dirty' : ''}, ${d.machine.cpus} CPUs, kernel ${d.machine.kernel}, load ${d.machine.loadAverage?.[0]}, runs ${d.options.runs}`;
  lines.push(describe('A', fileA, a));
  lines.push(describe('B', fileB, b));
  if ((a.options.sequence ?? 100) !== (b.options.sequence ?? 100)) lines.push(`note: the sequence case has ${a.options.sequence} containers in A, ${b.options.sequence} in B: not comparable`);
  for (const key of ['kernel', 'cpus', 'cpuModel', 'node']) {
    if (a.machine[key] !== b.machine[key]) lines.push(`note: ${key} differs (${a.machine[key]} → ${b.machine[key]})`);
  }
  for (const name of names) {
    const va = a.runtimes.find((r) => r.name === name)?.version;
    const vb = b.runtimes.find((r) => r.name === name)?.version;
    if (va !== vb) lines.push(`note: ${name} version differs (${va ?? 'absent'} → ${vb ?? 'absent'})`);
  }
  lines.push('');
  const W = 44;
  const C = 9;
  lines.push(['', ...names.flatMap((n) => [`${n} A`, 'B', 'Δ'])].map((h, i) => (i === 0 ? h.padEnd(W) : h.padStart(C))).join(''));
  for (const metric of METRICS) {
    if (!ma[metric.id] && !mb[metric.id]) continue;
    const row = [`${metricTitle(metric, b.options)}${metric.unit === 'KiB' ? ' (MiB)' : metric.unit === 'ms' ? ' (ms)' : ''}`.slice(0, W - 1).padEnd(W)];
    for (const n of names) {
      const x = ma[metric.id]?.[n] ?? null;
      const y = mb[metric.id]?.[n] ?? null;
      // A value that can cross zero changes by a difference, not a percentage.
      const delta = metric.ratio === false ? (x !== null && y !== null ? `${y - x >= 0 ? '+' : ''}${formatValue(y - x, metric.unit)}` : '-') : change(x, y);
      row.push(cellOf(a, metric.id, n, x, metric.unit).padStart(C), cellOf(b, metric.id, n, y, metric.unit).padStart(C), delta.padStart(C));
    }
    lines.push(row.join(''));
  }
  const ratios = ratioColumns(names);
  if (ratios.length) {
    lines.push('');
    lines.push(['ratios', ...ratios.flatMap((c) => [`${c.title} A`, 'B'])].map((h, i) => (i === 0 ? h.padEnd(W) : h.padStart(C))).join(''));
    for (const metric of METRICS) {
      if (metric.ratio === false || (!ma[metric.id] && !mb[metric.id])) continue;
      const row = [metricTitle(metric, b.options).slice(0, W - 1).padEnd(W)];
      for (const c of ratios) {
        for (const m of [ma, mb]) {
          const x = m[metric.id]?.[c.a] ?? null;
          const y = m[metric.id]?.[c.b] ?? null;
          row.push(formatRatio(x !== null && y ? x / y : null).padStart(C));
        }
      }
      lines.push(row.join(''));
    }
  }
  return lines.join('\n');
}
