/**
 * Shared pieces of the engine tests (podman, containerd, dockerd driving the runtime under
 * test): running engine commands, private daemons started and stopped by PID, what the
 * runtime under test can do yet (so cases that need a piece still being built are skipped
 * with the reason in their title), and cleaning up what engines leave on the host
 * (bridges, firewall chains, mounts, run directories).
 *
 * Every engine gets its own state under a temp dir of the run (see test/helpers/context.ts),
 * so nothing here touches an engine installation a person may be using on the machine.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, openSync, readFileSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { AssertionError } from 'node:assert';
import { detachMounts, isUnder, makeTempDir } from '../helpers/context.js';
import { makeBundle } from '../helpers/bundle.js';
import { removeEmptyCgroupTree } from '../helpers/engine-setup.mjs';

export { killProcessesNaming } from '../helpers/engine-setup.mjs';
import { cgroupMounts, findLeaks, takeSnapshot } from '../helpers/leaks.js';
import { hasCommand, isRoot, skipWith } from '../helpers/privileges.js';
import { rt, runtimeBin } from '../helpers/runtime.js';
import { type BusyboxImage, buildBusyboxImage } from './image.js';

export interface CmdResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  command: string;
}

export interface CmdOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** The working directory (default: the test run's, i.e. the repository). */
  cwd?: string;
}

/** Run a command to completion (stdout/stderr captured, stdin from `input` or /dev/null). */
export function cmd(file: string, args: string[], opts: CmdOptions = {}): CmdResult {
  const r = spawnSync(file, args, {
    input: opts.input ?? '',
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
  });
  return {
    status: r.status,
    signal: r.signal,
    stdout: r.stdout ?? '',
    stderr: `${r.stderr ?? ''}${r.error ? `\n(${r.error.message})` : ''}`,
    command: [file, ...args].join(' '),
  };
}

export function describeCmd(r: CmdResult): string {
  const how = r.signal ? `was killed by ${r.signal}` : `exited with status ${r.status}`;
  return `\`${r.command}\` ${how}\n--- stderr ---\n${r.stderr}--- stdout ---\n${r.stdout}`;
}

/** Like cmd(), but the command must succeed; returns stdout. */
export function cmdOk(file: string, args: string[], opts: CmdOptions = {}): string {
  const r = cmd(file, args, opts);
  if (r.status !== 0) throw new AssertionError({ message: describeCmd(r) });
  return r.stdout;
}

/** Run a command line under `script`, i.e. on a pseudo-terminal; returns status and output. */
export function underPty(argv: string[], opts: CmdOptions = {}): CmdResult {
  const line = argv.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  return cmd('script', ['-qefc', line, '/dev/null'], opts);
}

/** The runtime the engines are pointed at (TSRUNC_BIN, or the built dist/ts-runc). */
export function engineRuntime(): string {
  return runtimeBin();
}

/** Skip the whole block unless root and every command is installed (scripts/install-engines.sh). */
export function requireEngine(ctx: Mocha.Context, commands: string[]): void {
  if (!isRoot()) skipWith(ctx, 'needs root');
  const missing = commands.filter((c) => !(c.startsWith('/') ? existsSync(c) : hasCommand(c)));
  if (missing.length) skipWith(ctx, `needs ${missing.join(', ')} (scripts/install-engines.sh installs them)`);
  if (!existsSync(engineRuntime())) skipWith(ctx, `runtime not built: ${engineRuntime()}`);
}

// ---------------------------------------------------------------------------------------
// What the runtime under test supports yet
// ---------------------------------------------------------------------------------------

let featuresDoc: { linux?: { seccomp?: { enabled?: boolean } } } | null | undefined;

/** Does the runtime apply seccomp profiles (its `features` says so)? */
export function runtimeHasSeccomp(): boolean {
  if (featuresDoc === undefined) {
    const r = cmd(engineRuntime(), ['features']);
    try {
      featuresDoc = r.status === 0 ? JSON.parse(r.stdout) : null;
    } catch {
      featuresDoc = null;
    }
  }
  return featuresDoc?.linux?.seccomp?.enabled === true;
}

const commandProbe = new Map<string, boolean>();
/** Is `command` implemented (not the "is not implemented yet" placeholder)? */
export function runtimeImplements(command: string): boolean {
  let known = commandProbe.get(command);
  if (known === undefined) {
    const root = makeTempDir('probe', { runScoped: true });
    const r = cmd(engineRuntime(), ['--root', root, command, 'tsrunc-probe-no-such-container']);
    known = !/not implemented/.test(r.stderr);
    commandProbe.set(command, known);
  }
  return known;
}

let resourcesProbe: boolean | undefined;
/**
 * Does the runtime apply linux.resources (cgroup limits)? Probed by creating a container
 * with a pids limit and reading the limit back from its cgroup.
 */
export function runtimeAppliesResources(): boolean {
  if (resourcesProbe !== undefined) return resourcesProbe;
  resourcesProbe = false;
  const b = makeBundle({ args: ['sleep', '600'], mutate: (c) => (c.linux!.resources = { pids: { limit: 77 } }) });
  const root = makeTempDir('probe', { runScoped: true });
  const id = `probe-${process.pid}`;
  // rt(), not cmd(): the container would hold cmd()'s stdout pipe open.
  if (rt(['create', '--bundle', b.dir, id], { root }).status === 0) {
    const cgroupsPath = b.config.linux!.cgroupsPath as string;
    for (const mount of ['/sys/fs/cgroup/pids', '/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
      const file = path.join(mount, cgroupsPath, 'pids.max');
      if (existsSync(file) && readFileSync(file, 'utf8').trim() === '77') resourcesProbe = true;
    }
    rt(['delete', '--force', id], { root });
  }
  b.cleanup();
  return resourcesProbe;
}

/** Skip the test unless the runtime has what it needs; the reason goes into the title. */
export function needs(ctx: Mocha.Context, what: { seccomp?: boolean; resources?: boolean; commands?: string[] }): void {
  if (what.seccomp && !runtimeHasSeccomp()) {
    skipWith(ctx, 'needs seccomp in the runtime (features: linux.seccomp.enabled is not true)');
  }
  if (what.resources && !runtimeAppliesResources()) {
    skipWith(ctx, 'needs cgroup resource limits in the runtime (linux.resources.pids.limit was not applied)');
  }
  for (const c of what.commands ?? []) {
    if (!runtimeImplements(c)) skipWith(ctx, `needs \`${c}\` in the runtime (not implemented yet)`);
  }
}

// ---------------------------------------------------------------------------------------
// Private daemons
// ---------------------------------------------------------------------------------------

export interface Daemon {
  pid: number;
  log: string;
  /** SIGTERM, wait up to `graceMs`, then SIGKILL; waits until it is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** Start a daemon in the background (its own process group), output to `log`. */
export function startDaemon(file: string, args: string[], log: string, env: NodeJS.ProcessEnv = process.env): Daemon {
  const fd = openSync(log, 'a');
  const child: ChildProcess = spawn(file, args, { stdio: ['ignore', fd, fd], env, detached: true });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${file}`);
  let exited = false;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void gone.then(() => (exited = true));
  return {
    pid,
    log,
    async stop(graceMs = 15_000) {
      if (exited) return;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return;
      }
      const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs));
      if ((await Promise.race([gone, timer])) === 'timeout') {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
        await gone;
      }
    },
  };
}

/** Wait until `check` passes (polling), or throw with the daemon's log tail. */
export async function waitReady(check: () => boolean, what: string, log: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-20).join('\n') : '';
  throw new Error(`${what} did not become ready in ${timeoutMs} ms; log tail:\n${tail}`);
}

/**
 * Per-test hygiene for engine suites: engines let helper processes (shims, conmon, podman's
 * cleanup) exit, and unmount, a moment after the command that removed a container returned.
 * Call before() in beforeEach and after() in afterEach: after() waits (bounded) until the
 * test's own processes and mounts are gone, so the leak check that follows judges the
 * steady state rather than a race.
 */
export function settle(): { before(): void; after(): Promise<void> } {
  let base = takeSnapshot();
  return {
    before() {
      base = takeSnapshot();
    },
    async after() {
      for (let i = 0; i < 100; i++) {
        const l = findLeaks(base);
        if (l.processes.length === 0 && l.mounts.length === 0) return;
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

// ---------------------------------------------------------------------------------------
// Host state engines change
// ---------------------------------------------------------------------------------------

/** Delete a network interface if it exists (a bridge an engine made). */
export function deleteLink(name: string): void {
  if (cmd('ip', ['link', 'show', name]).status === 0) cmd('ip', ['link', 'delete', name]);
}

/** Network interfaces present now. */
export function links(): Set<string> {
  return new Set(readdirSync('/sys/class/net'));
}

/**
 * Remove iptables rules and chains whose names start with `prefix` (netavark's NETAVARK,
 * docker's DOCKER) from the filter and nat tables: the jumps to them first, then the chains.
 */
export function removeFirewallChains(prefix: string): void {
  if (!hasCommand('iptables')) return;
  for (const table of ['filter', 'nat', 'mangle']) {
    const rules = cmd('iptables', ['-t', table, '-S']).stdout.split('\n');
    const ours = (chain: string) => chain.startsWith(prefix);
    // Rules in built-in chains that jump to one of ours.
    for (const rule of rules) {
      const m = /^-A (\S+) (.*)$/.exec(rule);
      if (!m || ours(m[1]!)) continue;
      if (new RegExp(`-j ${prefix}`).test(m[2]!)) cmd('iptables', ['-t', table, '-D', m[1]!, ...splitRule(m[2]!)]);
    }
    const chains = rules.map((r) => /^-N (\S+)$/.exec(r)?.[1]).filter((c): c is string => !!c && ours(c));
    for (const c of chains) cmd('iptables', ['-t', table, '-F', c]);
    for (const c of chains) cmd('iptables', ['-t', table, '-X', c]);
  }
}

/** Split an `iptables -S` rule into arguments (quoted comments stay one argument). */
function splitRule(rule: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(rule); m; m = re.exec(rule)) out.push(m[1] !== undefined ? m[1].replace(/\\"/g, '"') : m[2]!);
  return out;
}

/** Does the cgroup `rel` (e.g. "/docker") exist in any hierarchy? */
export function cgroupExists(rel: string): boolean {
  return cgroupMounts().some((mp) => existsSync(path.join(mp, rel)));
}

/**
 * Remove the cgroup `rel` and the empty cgroups below it in every hierarchy (deepest first):
 * the parents engines make for their containers (/libpod_parent, /docker, /<namespace>) and
 * leave behind. A cgroup that still has processes stays.
 */
export function removeCgroupTree(rel: string): void {
  removeEmptyCgroupTree(cgroupMounts(), rel);
}

/** Detach every mount at or below `dir` (deepest first). */
export function unmountUnder(dir: string): string[] {
  return detachMounts((mp) => isUnder(mp, dir));
}

/** Remove `dir` if it exists and is empty (and its empty subdirectories). */
export function removeEmptyTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeEmptyTree(path.join(dir, e.name));
  try {
    rmdirSync(dir);
  } catch {
    // not empty: someone else's
  }
}

/** Remove a path we created (file or directory tree), after detaching mounts in it. */
export function removeOurs(p: string): void {
  if (!existsSync(p)) return;
  unmountUnder(p);
  rmSync(p, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------
// The image
// ---------------------------------------------------------------------------------------

let image: BusyboxImage | undefined;
/** The busybox image of this run (built once). */
export function busyboxImage(): BusyboxImage {
  image ??= buildBusyboxImage(makeTempDir('image', { runScoped: true }), 'docker.io/library/busybox:tsrunc-test');
  return image;
}
