// The printed report: one table (medians side by side, then ratios), the reasons for every
// cell that has no number, and the issue's targets checked against the numbers of this run.
import { METRICS } from './cases.mjs';
import { FLOOR } from './runtimes.mjs';

export function median(xs) {
  if (!xs || xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Display value of a median in the metric's unit (ms, MiB, count). */
export function formatValue(v, unit) {
  if (v === null || v === undefined) return '-';
  if (unit === 'KiB') return (v / 1024).toFixed(v < 10 * 1024 ? 2 : 1);
  if (unit === 'count') return String(Math.round(v));
  const a = Math.abs(v);
  return a >= 1000 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export function formatRatio(r) {
  if (r === null || !Number.isFinite(r)) return '-';
  if (r < 0.01) return '<0.01x';
  return r >= 100 ? `${r.toFixed(0)}x` : r >= 10 ? `${r.toFixed(1)}x` : `${r.toFixed(2)}x`;
}

/** Ratio columns: ts-runc against each other runtime, and runc against crun. */
export function ratioColumns(names) {
  const cols = [];
  const has = (n) => names.includes(n);
  const short = { 'ts-runc': 'ts', runc: 'runc', crun: 'crun', [FLOOR]: 'floor' };
  for (const [a, b] of [
    ['ts-runc', 'runc'],
    ['ts-runc', 'crun'],
    ['ts-runc', FLOOR],
    ['runc', 'crun'],
  ]) {
    if (has(a) && has(b)) cols.push({ a, b, title: `${short[a]}/${short[b]}` });
  }
  return cols;
}

/**
 * Medians per metric and runtime from a result document (the JSON this harness writes):
 * { [metric]: { [runtime]: { median, error } } }.
 */
export function medians(doc) {
  const out = {};
  for (const [metric, cells] of Object.entries(doc.results)) {
    out[metric] = {};
    for (const [rt, cell] of Object.entries(cells)) out[metric][rt] = cell.median ?? null;
  }
  return out;
}

/** A metric's title for a run's options (the sequence case's size is an option). */
export function metricTitle(metric, options) {
  return metric.title.replace('{sequence}', String(options?.sequence ?? 100));
}

const TITLE_WIDTH = 40;
const COL = 9;
/** A cell right-aligned in its column, always with a space before it. */
const cellText = (text) => ` ${text}`.padStart(COL);

/** The table and its notes, as text. `doc` is the result document. */
export function renderReport(doc) {
  const names = doc.runtimes.map((r) => r.name);
  const runtimeByName = Object.fromEntries(doc.runtimes.map((r) => [r.name, r]));
  const ratios = ratioColumns(names);
  const notes = [];
  const noteIndex = new Map();
  const footnote = (text) => {
    if (!noteIndex.has(text)) {
      notes.push(text);
      noteIndex.set(text, notes.length);
    }
    return noteIndex.get(text);
  };

  const lines = [];
  const m = doc.machine;
  lines.push(`ts-runc benchmark — ${doc.startedAt} — medians of ${doc.options.runs} runs (${doc.options.sequence} in sequence: ${doc.options.batchRuns}; 20 at once: ${doc.options.quick ? doc.options.batchRuns : 3 * doc.options.batchRuns})${doc.options.quick ? ', quick' : ''}`);
  const others = doc.cpu ? `; other work used ${doc.cpu.othersCpus} CPUs on average, steal ${doc.cpu.stealCpus ?? 0}` : '';
  lines.push(`machine: Linux ${m.kernel} ${m.arch}, ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB, cgroups ${m.cgroups}; load ${m.loadAverage?.[0]} at start, ${doc.loadAtEnd?.[0] ?? '?'} at end${others}`);
  lines.push(`tree: ${m.gitCommit?.slice(0, 12) ?? 'unknown'}${m.gitDirty ? ' (with uncommitted changes)' : ''}; node ${m.node}`);
  for (const r of doc.runtimes) lines.push(`  ${r.name.padEnd(8)} ${r.available ? r.version ?? '' : `n/a: ${r.reason}`}`);
  for (const w of doc.warnings ?? []) lines.push(`WARNING: ${w}`);
  lines.push('');

  const header = ['', ...names, ...ratios.map((c) => c.title)];
  lines.push(header.map((h, i) => (i === 0 ? h.padEnd(TITLE_WIDTH) : cellText(h))).join(''));
  let section = null;
  let printed = null;
  for (const metric of METRICS) {
    section = metric.section ?? section;
    const cells = doc.results[metric.id];
    if (!cells) continue;
    if (section !== printed) {
      lines.push(section);
      printed = section;
    }
    const title = metricTitle(metric, doc.options);
    const row = [`  ${title}`.slice(0, TITLE_WIDTH - 1).padEnd(TITLE_WIDTH)];
    for (const name of names) {
      const rt = runtimeByName[name];
      const cell = cells[name];
      let text;
      if (name === FLOOR && metric.floor === false) text = '-';
      else if (!rt.available) text = `n/a[${footnote(`${name}: ${rt.reason}`)}]`;
      else if (cell?.error) text = `error[${footnote(`${name}: ${cell.error}`)}]`;
      else if (cell?.notApplicable) text = `n/a[${footnote(`${name}: ${cell.notApplicable}`)}]`;
      else text = formatValue(cell?.median ?? null, metric.unit);
      row.push(cellText(text));
    }
    for (const c of ratios) {
      const a = cells[c.a]?.median ?? null;
      const b = cells[c.b]?.median ?? null;
      const ok = a !== null && b !== null && b > 0 && a >= 0 && metric.ratio !== false && !(c.b === FLOOR && metric.floor === false);
      row.push(cellText(formatRatio(ok ? a / b : null)));
    }
    lines.push(row.join(''));
  }
  lines.push('');
  lines.push('floor: each timed runtime command of the case replaced by an empty program compiled by the same Bun (a 3-command case has a 3-program floor).');
  lines.push('peak RSS: wait4 ru_maxrss of the command (largest process of its tree that it waited for, as GNU time %M).');
  for (const r of doc.runtimes) if (r.note) lines.push(`${r.name}: ${r.note}`);
  for (const extra of doc.notes ?? []) lines.push(extra);
  if (notes.length) {
    lines.push('');
    notes.forEach((n, i) => lines.push(`[${i + 1}] ${n}`));
  }
  const targets = doc.targets ?? [];
  if (targets.length) {
    lines.push('');
    lines.push('Targets (issue 12), from this run:');
    for (const t of targets) lines.push(`  ${t.met === true ? 'met    ' : t.met === false ? 'NOT met' : 'n/a    '}  ${t.text}`);
  }
  return lines.join('\n');
}

/** Rows whose target is ts-runc's median ≤ limit × runc's (issue 12), and what they count. */
const RUNC_RATIO_TARGETS = [
  { metric: 'create+start+delete', text: 'create + start + delete', limit: 1.5 },
  { metric: 'state', text: 'state', limit: 1.5 },
  { metric: 'start', text: 'start', limit: 1.5 },
  { metric: 'kill', text: 'kill', limit: 1.5 },
  { metric: 'delete', text: 'delete', limit: 1.5 },
  { metric: 'exec', text: 'exec /bin/true', limit: 1.5 },
  { metric: 'run', text: 'run /bin/true', limit: 1.5 },
  { metric: 'podman', text: 'podman run --rm', limit: 1.2, commands: 'podman-commands' },
  { metric: 'ctr', text: 'ctr run --rm', limit: 1.2, commands: 'ctr-commands' },
];
const RSS_LIMIT = 3.5; // × runc's, every command
const WAITING_RSS_LIMIT_KIB = 50; // a created container stays at ~0.01 MiB

/** The issue's targets, evaluated on the medians of this run. */
export function evaluateTargets(doc) {
  const med = medians(doc);
  const get = (metric, rt) => med[metric]?.[rt] ?? null;
  const ms = (v) => `${formatValue(v, 'ms')} ms`;
  const mib = (v) => `${formatValue(v, 'KiB')} MiB`;
  const out = [];
  const target = (text, met) => out.push({ text, met });

  for (const t of RUNC_RATIO_TARGETS) {
    const head = `${t.text} ≤ ${t.limit} × runc's`;
    const v = get(t.metric, 'ts-runc');
    const r = get(t.metric, 'runc');
    if (v === null || r === null || r <= 0) {
      target(`${head}: not measured`, null);
      continue;
    }
    const calls = t.commands ? ` (runtime commands per run: ${get(t.commands, 'ts-runc') ?? '?'} vs ${get(t.commands, 'runc') ?? '?'})` : '';
    target(`${head}: ${ms(v)} = ${(v / r).toFixed(3)} × ${ms(r)}${calls}`, v <= t.limit * r);
  }

  const rssRows = METRICS.filter((x) => x.id.startsWith('rss-'))
    .map((x) => ({ id: x.id, v: get(x.id, 'ts-runc'), r: get(x.id, 'runc') }))
    .filter((x) => x.v !== null && x.r !== null && x.r > 0);
  if (rssRows.length) {
    const worst = rssRows.reduce((a, b) => (b.v / b.r > a.v / a.r ? b : a));
    target(
      `peak RSS of every command ≤ ${RSS_LIMIT} × runc's: worst is ${worst.id.slice(4)}, ${mib(worst.v)} = ${(worst.v / worst.r).toFixed(3)} × ${mib(worst.r)}`,
      rssRows.every((x) => x.v <= RSS_LIMIT * x.r),
    );
  } else target(`peak RSS of every command ≤ ${RSS_LIMIT} × runc's: not measured`, null);

  const waiting = get('waiting-rss', 'ts-runc');
  const waitingRunc = get('waiting-rss', 'runc');
  if (waiting !== null) {
    target(`created container's RSS stays ~0.01 MiB (≤ ${mib(WAITING_RSS_LIMIT_KIB)}): ${mib(waiting)} (runc: ${waitingRunc === null ? '-' : mib(waitingRunc)})`, waiting <= WAITING_RSS_LIMIT_KIB);
  } else target("created container's RSS stays ~0.01 MiB: not measured", null);
  return out;
}
