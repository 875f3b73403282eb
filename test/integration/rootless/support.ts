/**
 * Rootless runs on this machine (root-only, no systemd, no delegated cgroups): the tests
 * create users of their own (`useradd`, one set per run, removed at its end), and run the
 * runtime under test as them, with an XDG_RUNTIME_DIR of theirs. This file is not a test.
 *
 * A test user is made with the subordinate ids useradd gives (SUB_UID_COUNT in
 * /etc/login.defs, 65536 on Debian), or with none. Every rootless invocation goes through
 * asUser(), which passes no --root unless asked: the runtime's default state root is part
 * of what is tested.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { OciConfig } from '../../helpers/bundle.js';
import { RUN_ID, makeTempDir } from '../../helpers/context.js';
import { hasCommand, isRoot, skipWith } from '../../helpers/privileges.js';
import type { RtResult } from '../../helpers/runtime.js';
import { runtimeBin } from '../../helpers/runtime.js';
import { sleepMs } from '../../../src/util/sleep.js';

export interface IdRange {
  start: number;
  count: number;
}

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  /** Its range in /etc/subuid and /etc/subgid, or null when it has none. */
  subuid: IdRange | null;
  subgid: IdRange | null;
}

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Why rootless containers cannot be tried here, or null. */
export function whyNoRootless(): string | null {
  if (!isRoot()) return 'needs root (to create the test users)';
  for (const cmd of ['useradd', 'userdel', 'newuidmap', 'newgidmap']) {
    if (!hasCommand(cmd)) return `needs the command \`${cmd}\` (apt-get install passwd uidmap)`;
  }
  const read = (f: string) => {
    try {
      return readFileSync(f, 'utf8').trim();
    } catch {
      return null;
    }
  };
  if (read('/proc/sys/user/max_user_namespaces') === '0') return 'user namespaces are disabled here (user.max_user_namespaces = 0)';
  if (read('/proc/sys/kernel/unprivileged_userns_clone') === '0') return 'unprivileged user namespaces are disabled here (kernel.unprivileged_userns_clone = 0)';
  if (read('/proc/sys/kernel/apparmor_restrict_unprivileged_userns') === '1') return 'AppArmor restricts unprivileged user namespaces here';
  return null;
}

/** In a before hook: skip the block with the reason when rootless cannot be tried. */
export function requireRootless(ctx: Mocha.Context): void {
  const why = whyNoRootless();
  if (why) skipWith(ctx, why);
}

function subordinate(file: string, name: string): IdRange | null {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [owner, start, count] = line.split(':');
    if (owner === name && start && count) return { start: Number(start), count: Number(count) };
  }
  return null;
}

let userCounter = 0;

/** A new user of this run: `tsrl-<run>-<n>`, with subordinate ids or without. */
export function createUser(opts: { subordinateIds: boolean }): TestUser {
  const name = `tsrl-${RUN_ID}-${++userCounter}`;
  const args = ['--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', '--user-group'];
  if (!opts.subordinateIds) args.push('-K', 'SUB_UID_COUNT=0', '-K', 'SUB_GID_COUNT=0');
  // Another run may hold the lock on /etc/passwd for a moment.
  for (let attempt = 0; ; attempt++) {
    const r = spawnSync('useradd', [...args, name], { encoding: 'utf8' });
    if (r.status === 0) break;
    if (attempt >= 20 || !/lock/i.test(r.stderr)) throw new Error(`useradd ${name}: ${r.stderr.trim() || `status ${r.status}`}`);
    sleepMs(200);
  }
  const id = (flag: string) => Number(spawnSync('id', [flag, name], { encoding: 'utf8' }).stdout.trim());
  return { name, uid: id('-u'), gid: id('-g'), subuid: subordinate('/etc/subuid', name), subgid: subordinate('/etc/subgid', name) };
}

export function removeUser(user: TestUser): void {
  for (let attempt = 0; attempt < 20; attempt++) {
    const r = spawnSync('userdel', [user.name], { encoding: 'utf8' });
    if (r.status === 0 || !/lock/i.test(r.stderr)) return;
    sleepMs(200);
  }
}

/** A fresh XDG_RUNTIME_DIR of the user's (0700, as pam_systemd makes /run/user/UID). */
export function runtimeDirOf(user: TestUser): string {
  const dir = makeTempDir('xdg');
  chownSync(dir, user.uid, user.gid);
  chmodSync(dir, 0o700);
  return dir;
}

/** The name the runtime under test gives its directory in $XDG_RUNTIME_DIR (runc: runc). */
export function stateDirName(): string {
  return path.basename(runtimeBin());
}

export interface AsUserOptions {
  /** XDG_RUNTIME_DIR (null: unset). */
  xdg: string | null;
  /** --root, when given. */
  root?: string;
  /** Environment on top of PATH, HOME, USER and XDG_RUNTIME_DIR. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

let ioDir: string | undefined;
let ioCounter = 0;

/** `<runtime> [--root R] args...` as the user, to completion (stdout/stderr as files, as rt() has them). */
export function asUser(user: TestUser, args: string[], opts: AsUserOptions): RtResult {
  const bin = runtimeBin();
  const argv = [...(opts.root ? ['--root', opts.root] : []), ...args];
  ioDir ??= makeTempDir('rlio', { runScoped: true });
  const base = path.join(ioDir, String(++ioCounter));
  const fds = [openSync(`${base}.out`, 'w'), openSync(`${base}.err`, 'w')];
  const env: NodeJS.ProcessEnv = { PATH, HOME: '/', USER: user.name, LOGNAME: user.name, ...(opts.xdg ? { XDG_RUNTIME_DIR: opts.xdg } : {}), ...opts.env };
  let r;
  try {
    r = spawnSync(bin, argv, { uid: user.uid, gid: user.gid, env, cwd: opts.cwd ?? '/', stdio: ['ignore', ...fds], timeout: opts.timeoutMs ?? 30_000, killSignal: 'SIGKILL' });
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  const result: RtResult = {
    status: r.status,
    signal: r.signal,
    stdout: readFileSync(`${base}.out`, 'utf8'),
    stderr: readFileSync(`${base}.err`, 'utf8'),
    command: `(as ${user.name}) ${[bin, ...argv].join(' ')}`,
  };
  for (const ext of ['.out', '.err']) rmSync(`${base}${ext}`, { force: true });
  if (r.error) result.error = r.error;
  return result;
}

/** Maps root to the user and ids 1..65536 to its subordinate range (as podman does). */
export function subordinateMaps(user: TestUser): (c: OciConfig) => void {
  return (c) => {
    c.linux!.uidMappings = [{ containerID: 0, hostID: user.uid, size: 1 }, { containerID: 1, hostID: user.subuid!.start, size: 65536 }];
    c.linux!.gidMappings = [{ containerID: 0, hostID: user.gid, size: 1 }, { containerID: 1, hostID: user.subgid!.start, size: 65536 }];
  };
}

/**
 * Host pids of live processes running as the user or any of its subordinate ids: what a
 * rootless container leaves behind if it leaves anything.
 */
export function processesOf(user: TestUser): number[] {
  const owned = (uid: number) =>
    uid === user.uid || (!!user.subuid && uid >= user.subuid.start && uid < user.subuid.start + user.subuid.count);
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      // A zombie is dead already (its parent, PID 1 here, reaps it when it gets to it).
      if (/^State:\s+Z/m.test(status)) continue;
      if (owned(Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]))) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

/**
 * After each test: delete whatever containers the user still has in `roots`, then fail if
 * any process of the user is left (killing them first, so the next test starts clean).
 */
export function checkNothingLeft(user: TestUser, roots: () => { xdg: string | null; root?: string }[]): string | null {
  for (const where of roots()) {
    const r = asUser(user, ['list', '-q'], where);
    for (const id of r.status === 0 ? r.stdout.split('\n').filter(Boolean) : []) asUser(user, ['delete', '--force', id], where);
  }
  let left = processesOf(user);
  for (let i = 0; i < 50 && left.length; i++) {
    sleepMs(20);
    left = processesOf(user);
  }
  if (!left.length) return null;
  const described = left.map((pid) => {
    try {
      return `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()}`;
    } catch {
      return String(pid);
    }
  });
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  return `processes of ${user.name} were left running: ${described.join('; ')}`;
}
