// Tests that need the hosts ts-runc is for: systemd as PID 1 and pure cgroup v2 with its
// controllers (Debian 12, Ubuntu 22.04+, Fedora, RHEL 9). CI runs them in the guest
// (scripts/guest/run-tests.sh); anywhere else they skip, saying why.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { hostLayout } from '../../src/linux/cgroups/mode.js';
import { makeTempDir } from '../helpers/context.js';
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

// ---------------------------------------------------------------------------------------
// The guest's lingering user (scripts/guest/build-image.sh: tester, uid 1000, subordinate
// ids, its systemd --user with cpu cpuset io memory pids delegated)
// ---------------------------------------------------------------------------------------

export interface Tester {
  name: string;
  uid: number;
  gid: number;
  /** /run/user/UID: its XDG_RUNTIME_DIR, with the user bus. */
  runtimeDir: string;
  /** Its systemd's cgroup (user@UID.service), the root of what is delegated to it. */
  managerCgroup: string;
}

export const TESTER = 'tester';

/** The lingering user with its own systemd and delegated controllers, or why there is none. */
export function lingeringUser(): Tester | string {
  const id = (flag: string) => spawnSync('id', [flag, TESTER], { encoding: 'utf8' });
  const uid = id('-u');
  if (uid.status !== 0) return `no user ${TESTER} (scripts/guest/build-image.sh makes it)`;
  const t: Tester = {
    name: TESTER,
    uid: Number(uid.stdout.trim()),
    gid: Number(id('-g').stdout.trim()),
    runtimeDir: `/run/user/${uid.stdout.trim()}`,
    managerCgroup: `/user.slice/user-${uid.stdout.trim()}.slice/user@${uid.stdout.trim()}.service`,
  };
  if (!fs.existsSync(path.join(t.runtimeDir, 'bus'))) return `${TESTER} has no systemd --user with a bus at ${t.runtimeDir}/bus (loginctl enable-linger ${TESTER})`;
  const delegated = fs.readFileSync(path.join(CGROUP2, t.managerCgroup, 'cgroup.controllers'), 'utf8').split(/\s+/);
  const missing = ['memory', 'pids', 'cpu'].filter((c) => !delegated.includes(c));
  if (missing.length) return `${t.managerCgroup} is not delegated ${missing.join(', ')} (Delegate= in user@.service)`;
  return t;
}

/** In a before hook: the lingering user, or skip the block saying why. */
export function requireLingeringUser(ctx: Mocha.Context): Tester {
  requireSystemdV2(ctx);
  const t = lingeringUser();
  if (typeof t === 'string') skipWith(ctx, t);
  return t as Tester;
}

export interface UserRun {
  status: number | null;
  stdout: string;
  stderr: string;
  command: string;
}

/**
 * Run `argv` as the user. `inManager`: as a transient service of its systemd (systemd-run
 * --user --wait --pipe), i.e. inside its delegated subtree, as a login session's programs
 * run; otherwise straight from here (runuser), in this test's cgroup, which is root's.
 */
export function asTester(t: Tester, argv: string[], opts: { inManager?: boolean; env?: Record<string, string>; timeoutMs?: number } = {}): UserRun {
  const env = [`XDG_RUNTIME_DIR=${t.runtimeDir}`, `DBUS_SESSION_BUS_ADDRESS=unix:path=${t.runtimeDir}/bus`, `HOME=/home/${t.name}`, ...Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`)];
  const wrapped = opts.inManager
    ? ['runuser', '-u', t.name, '--', 'env', ...env, 'systemd-run', '--user', '--wait', '--pipe', '--quiet', '--collect', ...Object.entries(opts.env ?? {}).map(([k, v]) => `--setenv=${k}=${v}`), '--', ...argv]
    : ['runuser', '-u', t.name, '--', 'env', ...env, ...argv];
  // Files, not pipes, as rt() has them: a detached container keeps its stdio open.
  ioDir ??= makeTempDir('userio', { runScoped: true });
  const base = path.join(ioDir, String(++ioCounter));
  const fds = [fs.openSync(`${base}.out`, 'w'), fs.openSync(`${base}.err`, 'w')];
  let r;
  try {
    r = spawnSync(wrapped[0] as string, wrapped.slice(1), { cwd: '/', stdio: ['ignore', ...fds], timeout: opts.timeoutMs ?? 120_000, killSignal: 'SIGKILL' });
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
  const read = (ext: string) => {
    const text = fs.readFileSync(`${base}${ext}`, 'utf8');
    fs.rmSync(`${base}${ext}`);
    return text;
  };
  return { status: r.status, stdout: read('.out'), stderr: `${read('.err')}${r.error ? `\n(${r.error.message})` : ''}`, command: wrapped.join(' ') };
}

let ioDir: string | undefined;
let ioCounter = 0;

export function describeRun(r: UserRun): string {
  return `\`${r.command}\` exited with status ${r.status}\n--- stderr ---\n${r.stderr}--- stdout ---\n${r.stdout}`;
}

/** `systemctl --user` of the user, from root (-M user@): a unit's properties as a map. */
export function userUnitProperties(t: Tester, unit: string, ...names: string[]): Record<string, string> {
  const r = spawnSync('systemctl', ['--user', '-M', `${t.name}@`, 'show', unit, ...names.flatMap((n) => ['-p', n])], { encoding: 'utf8' });
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}
