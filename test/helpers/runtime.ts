/**
 * Running the runtime under test.
 *
 * The runtime is the installed one (package.json's `bin`: dist/ts-runc, the Bun executable),
 * or whatever binary `TSRUNC_BIN` names, e.g.
 * `TSRUNC_BIN=$(which runc) npm test` runs the same suite against runc. Every invocation gets
 * `--root <per-test temp dir>` as its first arguments (the way container engines call a
 * runtime), so tests never see each other's containers or the host's.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { AssertionError } from 'node:assert';
import path from 'node:path';
import { REPO_ROOT, makeTempDir, testRoot, uniqueName } from './context.js';

export { testRoot };

/** Absolute path of the runtime under test: `$TSRUNC_BIN` if set, else the installed one. */
export function runtimeBin(): string {
  const fromEnv = process.env.TSRUNC_BIN;
  return fromEnv ? path.resolve(fromEnv) : installedBin();
}

/** package.json's `bin` for ts-runc: what `npm link` puts on PATH and engines run. */
export function installedBin(): string {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  return path.join(REPO_ROOT, pkg.bin['ts-runc'] as string);
}

function checkedBin(): string {
  const bin = runtimeBin();
  if (!existsSync(bin)) {
    throw new Error(`runtime under test not found: ${bin} (run \`npm run build\`, or set TSRUNC_BIN)`);
  }
  return bin;
}

export interface RtOptions {
  /** State directory passed as --root (default: this test's own temp root). */
  root?: string;
  /** Working directory of the runtime process (default: the test process's). */
  cwd?: string;
  /** Written to the runtime's stdin (default: stdin is /dev/null). */
  input?: string;
  /** Environment of the runtime process (default: the test process's). */
  env?: NodeJS.ProcessEnv;
  /** Kill the runtime with SIGKILL after this long (default 30 s). */
  timeoutMs?: number;
}

export interface RtResult {
  /** Exit status, or null when killed by a signal. */
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Set when the process could not be started or timed out. */
  error?: Error;
  /** The command line, for messages. */
  command: string;
}

let ioDir: string | undefined;
let ioCounter = 0;

/**
 * Run `<runtime> --root <root> ...args` to completion. `args` may start with other global
 * flags (`--log FILE --log-format json --debug`) before the command.
 *
 * The runtime's stdout and stderr are files, not pipes: a container started by `create` or
 * `run --detach` inherits them and keeps them open, and waiting for a pipe's end would wait
 * for the container to exit.
 */
export function rt(args: string[], opts: RtOptions = {}): RtResult {
  const argv = ['--root', opts.root ?? testRoot(), ...args];
  const bin = checkedBin();
  ioDir ??= makeTempDir('io', { runScoped: true });
  const base = path.join(ioDir, String(++ioCounter));
  if (opts.input !== undefined) writeFileSync(`${base}.in`, opts.input);
  const fds = [opts.input !== undefined ? openSync(`${base}.in`, 'r') : 'ignore', openSync(`${base}.out`, 'w'), openSync(`${base}.err`, 'w')] as const;
  let r;
  try {
    r = spawnSync(bin, argv, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: [...fds],
      timeout: opts.timeoutMs ?? 30_000,
      killSignal: 'SIGKILL',
    });
  } finally {
    for (const fd of fds) if (typeof fd === 'number') closeSync(fd);
  }
  const result: RtResult = {
    status: r.status,
    signal: r.signal,
    stdout: readFileSync(`${base}.out`, 'utf8'),
    stderr: readFileSync(`${base}.err`, 'utf8'),
    command: [bin, ...argv].join(' '),
  };
  for (const ext of ['.in', '.out', '.err']) rmSync(`${base}${ext}`, { force: true });
  if (r.error) result.error = r.error;
  return result;
}

/**
 * Run `<runtime> --root <root> ...args` under `script`, i.e. with a pseudo-terminal as its
 * stdin, stdout and controlling terminal (what `run -t` / `exec -t` relay through). `around`
 * may wrap the command line (a shell snippet around it). Output is what the terminal showed.
 */
export function rtUnderPty(args: string[], input = '', around?: (command: string) => string): { status: number | null; output: string } {
  const command = [checkedBin(), '--root', testRoot(), ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const r = spawnSync('script', ['-qefc', around ? around(command) : command, '/dev/null'], { input, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, output: r.stdout };
}

/** Describe a finished invocation for an assertion message. */
export function describeResult(r: RtResult): string {
  const how = r.error ? `failed: ${r.error.message}` : r.signal ? `was killed by ${r.signal}` : `exited with status ${r.status}`;
  return `\`${r.command}\` ${how}\n--- stderr ---\n${r.stderr}--- stdout ---\n${r.stdout}`;
}

/** Like rt(), but asserts exit status 0 and returns stdout. */
export function rtOk(args: string[], opts: RtOptions = {}): string {
  const r = rt(args, opts);
  if (r.status !== 0 || r.error) throw new AssertionError({ message: describeResult(r) });
  return r.stdout;
}

/** The OCI state document of a container (`<runtime> state <id>`, parsed). */
export interface ContainerState {
  ociVersion: string;
  id: string;
  status: 'creating' | 'created' | 'running' | 'stopped' | 'paused' | string;
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** `<runtime> state <id>`, asserted to succeed, parsed. */
export function state(id: string, opts: RtOptions = {}): ContainerState {
  return JSON.parse(rtOk(['state', id], opts)) as ContainerState;
}

/** A container id unique within the run, e.g. `c-7k3x9q`. */
export function uniqueId(prefix = 'c'): string {
  return uniqueName(prefix);
}

/**
 * Poll `predicate` until it returns a truthy value (which is returned) or `timeoutMs`
 * passes (then reject, quoting the predicate's last error if it threw).
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  timeoutMs = 5_000,
  opts: { intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'condition'}${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 20));
  }
}

/** Parse a `--log-format json` log: one JSON object per non-empty line (throws on a bad line). */
export function readLogJson(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`${file}: line ${i + 1} is not JSON: ${line}`);
      }
    });
}

/** A runtime process left running in the background (e.g. `run` in the foreground). */
export interface BackgroundRuntime {
  child: ChildProcessWithoutNullStreams;
  pid: number;
  /** Everything written to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited. */
  exited: Promise<{ status: number | null; signal: NodeJS.Signals | null }>;
  /** Wait for exit; rejects (leaving the process alone) after `timeoutMs`. */
  wait(timeoutMs?: number): Promise<{ status: number | null; signal: NodeJS.Signals | null }>;
  /** Send a signal to the runtime process itself. */
  kill(signal?: NodeJS.Signals | number): boolean;
}

/** Start `<runtime> --root <root> ...args` without waiting, stdio piped. */
export function startBackground(args: string[], opts: Omit<RtOptions, 'input' | 'timeoutMs'> = {}): BackgroundRuntime {
  const argv = ['--root', opts.root ?? testRoot(), ...args];
  const child = spawn(checkedBin(), argv, { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ status: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    // 'close' waits for stdout/stderr to end, which a detached container can hold open:
    // after 'exit', give the pipes a moment to drain, then settle anyway.
    child.once('close', (status, signal) => resolve({ status, signal }));
    child.once('exit', (status, signal) => setTimeout(() => resolve({ status, signal }), 200).unref());
  });
  exited.catch(() => {}); // observed through wait(); never an unhandled rejection
  if (child.pid === undefined) throw new Error(`could not start ${runtimeBin()}`);
  return {
    child,
    pid: child.pid,
    stdout: () => out,
    stderr: () => err,
    exited,
    wait(timeoutMs = 10_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error(`runtime pid ${child.pid} still running after ${timeoutMs} ms: ${argv.join(' ')}`)),
          timeoutMs,
        );
      });
      return Promise.race([exited, timeout]).finally(() => clearTimeout(timer));
    },
    kill: (signal = 'SIGTERM') => child.kill(signal),
  };
}
