// The rows of the table (METRICS) and the cases that measure them (CASES). A case runs one
// iteration at a time on one runtime through its Context and returns { metricId: value }.
// Commands the case only needs for set-up (a create before timing start, a state to learn
// the init's pid) are untimed; the floor runs an empty Bun program in place of each timed command and
// nothing else.
import { readFileSync } from 'node:fs';
import { rssOf } from './context.mjs';

/** One "peak RSS: <command>" row (id rss-<command>) a command; the first opens `section`. */
function peakRssRows(section, commands) {
  return commands.map((cmd, i) => ({ id: `rss-${cmd}`, ...(i === 0 && { section }), title: `peak RSS: ${cmd}`, unit: 'KiB' }));
}

/**
 * Table rows, in order. unit: ms | KiB | count. single: one runtime invocation per sample
 * (its floor is one empty program). floor: false where the floor has nothing to compare.
 * ratio: false where a ratio means nothing (a difference that can be negative).
 */
export const METRICS = [
  { id: 'run', section: 'Lifecycle (ms)', title: 'run /bin/true', unit: 'ms', single: true },
  { id: 'create', title: 'create', unit: 'ms', single: true },
  { id: 'start', title: 'start (/bin/true)', unit: 'ms', single: true },
  { id: 'delete', title: 'delete (stopped)', unit: 'ms', single: true },
  { id: 'create+start+delete', title: 'create + start + delete', unit: 'ms' },
  { id: 'state', title: 'state (running)', unit: 'ms', single: true },
  { id: 'kill', title: 'kill KILL (running)', unit: 'ms', single: true },
  { id: 'delete-killed', title: 'delete (after kill)', unit: 'ms', single: true },
  { id: 'kill+delete', title: 'kill + delete', unit: 'ms' },
  { id: 'exec', title: 'exec /bin/true (running)', unit: 'ms', single: true },
  { id: 'sequence', section: 'Many containers (ms, total)', title: '{sequence} in sequence: create…, delete…', unit: 'ms' },
  { id: 'par20', title: '20 at once: create, then delete', unit: 'ms' },
  { id: 'confined', section: 'Seccomp + all namespaces (ms)', title: 'run: Docker-shaped seccomp, all ns', unit: 'ms', single: true },
  { id: 'confined-notime', title: 'the same without the time ns', unit: 'ms', single: true },
  { id: 'latency-invoke', section: 'start → program’s first instruction (ms)', title: 'from invoking start', unit: 'ms', floor: false },
  { id: 'latency-return', title: 'from start returning (<0: before)', unit: 'ms', floor: false, ratio: false },
  ...peakRssRows('Memory (MiB)', ['run', 'create', 'start', 'state', 'kill', 'delete', 'exec']),
  { id: 'waiting-rss', title: 'created, waiting for start: RSS', unit: 'KiB', floor: false },
  { id: 'waiting-anon', title: 'created, waiting: anonymous RSS', unit: 'KiB', floor: false },
  { id: 'podman', section: 'Engines', title: 'podman run --rm IMAGE true (ms)', unit: 'ms', floor: false },
  { id: 'podman-commands', title: 'podman: runtime commands per run', unit: 'count', floor: false },
  { id: 'ctr', title: 'ctr run --rm IMAGE true (ms)', unit: 'ms', floor: false },
  { id: 'ctr-commands', title: 'ctr: runtime commands per run', unit: 'count', floor: false },
];

/** A running container (sleep) for the cases that act on one; untimed. */
function startSleeper(ctx, tag) {
  const id = ctx.newId(tag);
  ctx.untimed(['create', '--bundle', ctx.bundle(id, ['/bin/sleep', '100000']), id]);
  const pid = ctx.pidOf(id);
  ctx.untimed(['start', id]);
  return { id, pid };
}

function stopSleeper(ctx, s) {
  if (ctx.floor || !s) return;
  ctx.untimed(['kill', s.id, 'KILL']);
  ctx.waitStopped(s.pid);
  ctx.untimed(['delete', s.id]);
}

/**
 * `count` containers created, then deleted, one at a time or all at once. They are never
 * started, so the delete is `delete --force`, as engines remove a container that never ran:
 * runc treats a created container the same with or without --force (it kills the waiting
 * init and removes the container).
 */
function manyContainers(ctx, tag, count, parallel) {
  const ids = Array.from({ length: count }, () => ctx.newId(tag));
  const create = ctx.batch(
    ids.map((id) => ['create', '--bundle', ctx.bundle(id, ['/bin/true']), id]),
    { parallel },
  );
  const del = ctx.batch(
    ids.map((id) => ['delete', '--force', id]),
    { parallel },
  );
  return create.wallMs + del.wallMs;
}

/**
 * Check once (untimed) that a confined container is what the case says it is: in seccomp
 * filter mode, root mapped onto the bundle's host range. A runtime that ignored part of the config would otherwise be timed doing less.
 */
function checkConfined(ctx, variant) {
  if (ctx.floor) return null;
  const id = ctx.newId('chk');
  const script = 'grep "^Seccomp:" /proc/self/status; cat /proc/self/uid_map';
  const out = ctx.untimed(['run', '--bundle', ctx.bundle(id, ['/bin/sh', '-c', script], variant), id]).stdout;
  if (!/^Seccomp:\s+2$/m.test(out)) throw new Error(`the container is not under a seccomp filter: ${out.split('\n')[0]}`);
  if (!/^\s*0\s+200000\s+65536$/m.test(out)) throw new Error(`root is not mapped onto 200000: ${out}`);
  return null;
}

/** A `run` of /bin/true in a bundle variant. */
function runOnce(ctx, tag, variant) {
  const id = ctx.newId(tag);
  return ctx.timed(['run', '--bundle', ctx.bundle(id, ['/bin/true'], variant), id]);
}

/**
 * Cases. metrics: the rows it fills. aliases: other names --only accepts. reps(opts): measured iterations (default
 * --runs). warmup(ctx): one discarded iteration (default: iterate).
 */
export const CASES = [
  {
    id: 'run',
    metrics: ['run', 'rss-run'],
    title: 'run /bin/true',
    iterate(ctx) {
      const r = runOnce(ctx, 'run', 'plain');
      return { run: r.ms, 'rss-run': r.maxrssKiB };
    },
  },
  {
    id: 'create-start-delete',
    metrics: ['create', 'start', 'delete', 'create+start+delete', 'rss-create', 'rss-start', 'rss-delete'],
    aliases: ['csd', 'create', 'start', 'delete'],
    title: 'create + start + delete of /bin/true',
    iterate(ctx) {
      const id = ctx.newId('csd');
      const create = ctx.timed(['create', '--bundle', ctx.bundle(id, ['/bin/true']), id]);
      const pid = ctx.pidOf(id);
      const start = ctx.timed(['start', id]);
      ctx.waitStopped(pid);
      const del = ctx.timed(['delete', id]);
      return {
        create: create.ms,
        start: start.ms,
        delete: del.ms,
        'create+start+delete': create.ms + start.ms + del.ms,
        'rss-create': create.maxrssKiB,
        'rss-start': start.maxrssKiB,
        'rss-delete': del.maxrssKiB,
      };
    },
  },
  {
    id: 'lifecycle',
    metrics: ['state', 'kill', 'delete-killed', 'kill+delete', 'rss-state', 'rss-kill', 'waiting-rss', 'waiting-anon'],
    aliases: ['state', 'kill', 'kill-delete', 'waiting'],
    title: 'state, kill, delete of a running container; the created container waiting',
    iterate(ctx) {
      const id = ctx.newId('lc');
      const out = {};
      let pid = null;
      if (!ctx.floor) {
        ctx.untimed(['create', '--bundle', ctx.bundle(id, ['/bin/sleep', '100000']), id]);
        pid = ctx.pidOf(id);
        const waiting = rssOf(pid);
        out['waiting-rss'] = waiting.rss;
        out['waiting-anon'] = waiting.anon;
        ctx.untimed(['start', id]);
      }
      const state = ctx.timed(['state', id]);
      if (!ctx.floor) {
        const status = JSON.parse(state.stdout).status;
        if (status !== 'running') throw new Error(`state says "${status}" for a started container`);
      }
      const kill = ctx.timed(['kill', id, 'KILL']);
      ctx.waitStopped(pid);
      const del = ctx.timed(['delete', id]);
      return {
        ...out,
        state: state.ms,
        kill: kill.ms,
        'delete-killed': del.ms,
        'kill+delete': kill.ms + del.ms,
        'rss-state': state.maxrssKiB,
        'rss-kill': kill.maxrssKiB,
      };
    },
  },
  {
    id: 'exec',
    metrics: ['exec', 'rss-exec'],
    title: 'exec /bin/true into a running container',
    setup: (ctx) => (ctx.floor ? null : startSleeper(ctx, 'ex')),
    iterate(ctx, s) {
      const r = ctx.timed(['exec', s?.id ?? '-', '/bin/true']);
      return { exec: r.ms, 'rss-exec': r.maxrssKiB };
    },
    teardown: stopSleeper,
  },
  {
    id: 'sequence',
    metrics: ['sequence'],
    aliases: ['seq100'],
    title: '{sequence} containers created one at a time, then deleted one at a time',
    reps: (opts) => opts.batchRuns,
    warmup: (ctx) => manyContainers(ctx, 'sqw', 2, false),
    iterate: (ctx, _s, opts) => ({ sequence: manyContainers(ctx, 'sq', opts.sequence, false) }),
  },
  {
    id: 'par20',
    metrics: ['par20'],
    aliases: ['parallel', 'concurrent'],
    title: '20 containers created at once, then deleted at once',
    reps: (opts) => (opts.quick ? opts.batchRuns : 3 * opts.batchRuns),
    warmup: (ctx) => manyContainers(ctx, 'pw', 2, true),
    iterate: (ctx) => ({ par20: manyContainers(ctx, 'pa', 20, true) }),
  },
  {
    id: 'confined',
    metrics: ['confined'],
    aliases: ['seccomp'],
    title: 'run with a Docker-shaped seccomp profile and every namespace',
    setup: (ctx) => checkConfined(ctx, 'confined'),
    iterate: (ctx) => ({ confined: runOnce(ctx, 'sc', 'confined').ms }),
  },
  {
    id: 'confined-notime',
    metrics: ['confined-notime'],
    aliases: ['seccomp'],
    title: 'the same without the time namespace',
    setup: (ctx) => checkConfined(ctx, 'confined-notime'),
    iterate: (ctx) => ({ 'confined-notime': runOnce(ctx, 'sn', 'confined-notime').ms }),
  },
  {
    id: 'start-latency',
    metrics: ['latency-invoke', 'latency-return'],
    aliases: ['latency'],
    title: 'start → the program’s first instruction',
    floor: false,
    iterate(ctx) {
      const id = ctx.newId('lt');
      const create = ctx.untimed(['create', '--bundle', ctx.bundle(id, ['/stamp']), id]);
      const pid = ctx.pidOf(id);
      const start = ctx.timed(['start', id]);
      ctx.waitStopped(pid);
      ctx.untimed(['delete', id]);
      // The container's stdout is the file create's stdout went to.
      const text = readFileSync(create.outFile, 'utf8').trim();
      if (!/^\d+$/.test(text)) throw new Error(`the program wrote ${JSON.stringify(text.slice(0, 80))}, not a timestamp`);
      const stamp = BigInt(text);
      return {
        'latency-invoke': Number(stamp - start.startNs) / 1e6,
        'latency-return': Number(stamp - start.endNs) / 1e6,
      };
    },
  },
];

/** Cases selected by --only (ids or aliases; all when empty). Unknown names throw. */
export function selectCases(only, extraIds = []) {
  if (!only || only.length === 0) return { cases: CASES, extras: extraIds };
  const known = new Set([...CASES.flatMap((c) => [c.id, ...(c.aliases ?? [])]), ...extraIds]);
  const unknown = only.filter((n) => !known.has(n));
  if (unknown.length) throw new Error(`unknown case(s): ${unknown.join(', ')} (known: ${[...known].join(', ')})`);
  return {
    cases: CASES.filter((c) => only.includes(c.id) || (c.aliases ?? []).some((a) => only.includes(a))),
    extras: extraIds.filter((e) => only.includes(e)),
  };
}
