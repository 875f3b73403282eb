// Tests that need the hosts ts-runc is for: systemd as PID 1 and pure cgroup v2 with its
// controllers (Debian 12, Ubuntu 22.04+, Fedora, RHEL 9). CI runs them in the guest
// (scripts/guest/run-tests.sh); anywhere else they skip, saying why.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { hostLayout } from '../../src/linux/cgroups/mode.js';
import { requireRoot, skipWith } from '../helpers/privileges.js';

export const CGROUP2 = '/sys/fs/cgroup';
const WANTED = ['cpu', 'cpuset', 'io', 'memory', 'pids'];

/** Why this machine is not such a host, or null when it is. */
export function notSystemdV2(): string | null {
  if (!fs.statSync('/run/systemd/system', { throwIfNoEntry: false })?.isDirectory()) return 'systemd is not PID 1 here (no /run/systemd/system)';
  const layout = hostLayout();
  if (layout.mode !== 'v2' || layout.unified !== CGROUP2) return `cgroups here are ${layout.mode}, not pure v2 at ${CGROUP2}`;
  const offered = fs.readFileSync(path.join(CGROUP2, 'cgroup.controllers'), 'utf8').split(/\s+/);
  const missing = WANTED.filter((c) => !offered.includes(c));
  if (missing.length) return `the cgroup2 root lacks ${missing.join(', ')}`;
  return null;
}

/** In a before/it: skip unless root on a systemd + cgroup v2 host. */
export function requireSystemdV2(ctx: Mocha.Context): void {
  const why = notSystemdV2();
  if (why) skipWith(ctx, `${why}; scripts/guest/run-tests.sh runs these in a guest`);
  requireRoot(ctx);
}

export const readCgroup = (dir: string, file: string): string => fs.readFileSync(path.join(dir, file), 'utf8').trim();

/** `systemctl show UNIT -p P...` as a map (the test may ask systemd; the runtime may not). */
export function unitProperties(unit: string, ...names: string[]): Record<string, string> {
  const r = spawnSync('systemctl', ['show', unit, ...names.flatMap((n) => ['-p', n])], { encoding: 'utf8' });
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** Is the unit loaded at all (a stopped transient unit is gone)? */
export function unitLoaded(unit: string): boolean {
  return unitProperties(unit, 'LoadState').LoadState === 'loaded';
}

export function stopUnit(unit: string): void {
  spawnSync('systemctl', ['stop', unit], { stdio: 'ignore' });
  spawnSync('systemctl', ['reset-failed', unit], { stdio: 'ignore' });
}
