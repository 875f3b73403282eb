// ps: the container's processes. JSON is the list of host PIDs in the container's cgroup
// (nested cgroups included); the table is the host's ps(1) output (`-ef` unless other
// arguments are given) cut down to those PIDs, as runc does it.
import { spawnSync } from 'node:child_process';
import { requireCgroup } from '../linux/cgroups/factory.js';
import { RuntimeError } from '../util/errors.js';
import type { RuntimeContext } from './context.js';

export function containerPids(ctx: RuntimeContext, id: string): number[] {
  return requireCgroup(ctx.store.read(id).cgroup, 'list processes').pids();
}

/** Lines of `ps <args>` whose PID column is one of `pids`, under ps's own header. */
export function filterPsOutput(output: string, pids: readonly number[]): string {
  const lines = output.split('\n');
  const header = lines[0] ?? '';
  const pidIndex = header.trim().split(/\s+/).indexOf('PID');
  if (pidIndex < 0) throw new RuntimeError("couldn't find PID field in ps output");
  const wanted = new Set(pids);
  const out = [header];
  for (const line of lines.slice(1)) {
    if (line.trim() === '') continue;
    const field = line.trim().split(/\s+/)[pidIndex] ?? '';
    if (!/^\d+$/.test(field)) throw new RuntimeError(`unable to parse pid: ${JSON.stringify(field)}`);
    if (wanted.has(Number(field))) out.push(line);
  }
  return `${out.join('\n')}\n`;
}

export function psTable(pids: readonly number[], psArgs: readonly string[]): string {
  const args = psArgs.length ? [...psArgs] : ['-ef'];
  const r = spawnSync('ps', args, { encoding: 'utf8' });
  if (r.error) throw new RuntimeError(`ps: ${r.error.message}`);
  if (r.status !== 0) throw new RuntimeError(`exit status ${r.status ?? r.signal}: ${`${r.stdout}${r.stderr}`.trim()}`);
  return filterPsOutput(r.stdout, pids);
}
