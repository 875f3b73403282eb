/**
 * Helpers shared by the lifecycle integration tests (this file is not a test itself).
 *
 * Everything here drives the runtime under test (`runtimeBin()`, i.e. dist/ts-runc or
 * $TSRUNC_BIN) as a separate program, the way engines do: nothing imports the runtime's code.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { type Bundle, type BundleOptions, type OciConfig, makeBundle } from '../../helpers/bundle.js';
import { makeTempDir } from '../../helpers/context.js';
import { skipWith } from '../../helpers/privileges.js';
import { type RtResult, describeResult, rt, runtimeBin, testRoot, waitFor } from '../../helpers/runtime.js';

/** Is the runtime under test runc (TSRUNC_BIN=$(which runc))? For notes on deliberate differences. */
export function underRunc(): boolean {
  return path.basename(runtimeBin()) === 'runc';
}

/** Skip when the runtime under test is runc, for a deliberate difference named by `reason`. */
export function skipUnderRunc(ctx: Mocha.Context, reason: string): void {
  if (underRunc()) skipWith(ctx, `deliberate difference from runc: ${reason}`);
}

/**
 * In a describe: after a FAILED test, force-delete every container left in its --root, so a
 * failed assertion is reported once and not again as a leak. Passing tests are left to the
 * leak checker, which must find nothing.
 */
export function cleanUpAfterFailure(): void {
  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    const r = rt(['list', '-q']);
    for (const id of r.status === 0 ? lines(r.stdout) : []) rt(['delete', '--force', id]);
  });
}

let ioDir: string | undefined;
let ioCounter = 0;

export interface SpawnOptions {
  root?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Descriptors the runtime gets as fd 3, 4, ... (for --preserve-fds). */
  extraFds?: number[];
  timeoutMs?: number;
}

/**
 * Like rt(), but asynchronous, so several invocations can race each other, and able to hand
 * the runtime extra descriptors. stdout/stderr are files for the same reason as in rt(): a
 * container started by `create` inherits them.
 */
export function rtAsync(args: string[], opts: SpawnOptions = {}): Promise<RtResult> {
  const argv = ['--root', opts.root ?? testRoot(), ...args];
  ioDir ??= makeTempDir('lcio', { runScoped: true });
  const base = path.join(ioDir, String(++ioCounter));
  const out = openSync(`${base}.out`, 'w');
  const err = openSync(`${base}.err`, 'w');
  const child = spawn(runtimeBin(), argv, {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['ignore', out, err, ...(opts.extraFds ?? [])],
  });
  closeSync(out);
  closeSync(err);
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (status, signal) => {
      clearTimeout(timer);
      const result: RtResult = {
        status,
        signal,
        stdout: readFileSync(`${base}.out`, 'utf8'),
        stderr: readFileSync(`${base}.err`, 'utf8'),
        command: [runtimeBin(), ...argv].join(' '),
      };
      rmSync(`${base}.out`, { force: true });
      rmSync(`${base}.err`, { force: true });
      resolve(result);
    });
  });
}

/** Assert that an invocation failed (non-zero exit, not killed) and return it. */
export function expectFailure(r: RtResult): RtResult {
  expect(r.signal, describeResult(r)).to.equal(null);
  expect(r.status, describeResult(r)).to.be.a('number').and.not.equal(0);
  return r;
}

/** Non-empty lines of an output. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

/**
 * The messages of a runtime's stderr: a text-format log line (`time=".." level=error
 * msg="..."`) is reduced to its unquoted msg; other lines are kept as they are.
 */
export function messages(stderr: string): string[] {
  return lines(stderr).map((line) => {
    const m = /level=\w+ msg="((?:[^"\\]|\\.)*)"/.exec(line);
    return m ? (JSON.parse(`"${m[1]}"`) as string) : line;
  });
}

/** The one message a failed command printed (asserting there was exactly one line). */
export function singleMessage(r: RtResult): string {
  const msgs = messages(r.stderr);
  expect(msgs, `expected exactly one line on stderr\n${describeResult(r)}`).to.have.length(1);
  return msgs[0]!;
}

/** `state <id>` parsed, or null when the runtime says the container does not exist. */
export function stateOrNull(id: string, root?: string): Record<string, unknown> | null {
  const r = rt(['state', id], root ? { root } : {});
  if (r.status === 0) return JSON.parse(r.stdout) as Record<string, unknown>;
  expect(r.stderr, describeResult(r)).to.include('container does not exist');
  return null;
}

/** Wait until `state <id>` reports `status`. */
export async function waitForStatus(id: string, status: string, timeoutMs = 10_000): Promise<void> {
  await waitFor(() => stateOrNull(id)?.status === status, timeoutMs, { what: `container ${id} to be ${status}` });
}

/** The IDs `list -q` prints for this test's root. */
export function listedIds(root?: string): string[] {
  const r = rt(['list', '-q'], root ? { root } : {});
  expect(r.status, describeResult(r)).to.equal(0);
  return lines(r.stdout);
}

/**
 * What is in the test's --root (read directly, not through the runtime): after a failed
 * operation it must be empty, not even a state directory without state.json.
 */
export function rootEntries(root: string = testRoot()): string[] {
  return existsSync(root) ? readdirSync(root) : [];
}

/** A bundle whose root filesystem is writable (root.readonly false): containers leave files in it. */
export function writableBundle(opts: BundleOptions = {}): Bundle {
  return makeBundle({
    ...opts,
    mutate: (c) => {
      c.root!.readonly = false;
      opts.mutate?.(c);
    },
  });
}

/** A hook running `/bin/sh -c script` (the host's sh for runtime-namespace hooks). */
export function shHook(script: string, extra: { env?: string[]; timeout?: number; argv0?: string } = {}): NonNullable<OciConfig['hooks']>[string][number] {
  const hook: NonNullable<OciConfig['hooks']>[string][number] = { path: '/bin/sh', args: [extra.argv0 ?? 'sh', '-c', script] };
  if (extra.env) hook.env = extra.env;
  if (extra.timeout !== undefined) hook.timeout = extra.timeout;
  return hook;
}

/** Quote a string for a POSIX shell command line. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The namespace a process is in, e.g. `pid:[4026531836]`. */
export function nsLink(pid: number | 'self', type: string): string {
  return readlinkSync(`/proc/${pid}/ns/${type}`);
}

/** Is `pid` alive (not gone, not a zombie)? */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The process state letter of `pid` (R, S, T, Z...), or undefined when it is gone. */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** Pids in the container's cgroup (read from the v1 pids hierarchy). */
export function cgroupPids(cgroupsPath: string): number[] {
  const text = readFileSync(path.join('/sys/fs/cgroup/pids', cgroupsPath, 'cgroup.procs'), 'utf8');
  return lines(text).map(Number);
}

/** Wait until the container's cgroup holds exactly `count` processes; returns their pids. */
export async function waitForCgroupPids(cgroupsPath: string, count: number, timeoutMs = 10_000): Promise<number[]> {
  let pids: number[] = [];
  await waitFor(() => (pids = cgroupPids(cgroupsPath)).length === count, timeoutMs, { what: `${count} processes in ${cgroupsPath}` });
  return pids;
}

/** Sleep without blocking the event loop. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Python program that makes itself a child subreaper (so an orphaned container process is
 * its child and stays a zombie until it reaps it), creates a container, SIGKILLs the container
 * process, and asks the runtime for the state while that process is a zombie.
 * argv: runtime root bundle id. Prints one JSON line: {pid, zombie, stateStatus, stateOutput}.
 */
const ZOMBIE_PROBE = `
import ctypes, json, os, signal, subprocess, sys, time
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
    raise OSError(ctypes.get_errno(), "prctl")
rt, root, bundle, cid = sys.argv[1:5]
# create's stdio is inherited by the container: never a pipe we would wait on
subprocess.run([rt, "--root", root, "create", "--bundle", bundle, cid], check=True,
               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
st = json.loads(subprocess.run([rt, "--root", root, "state", cid], check=True, capture_output=True).stdout)
pid = st["pid"]
os.kill(pid, signal.SIGKILL)
def proc_state(p):
    try:
        with open(f"/proc/{p}/stat") as f:
            s = f.read()
        return s[s.rindex(")") + 2:].split(" ")[0]
    except FileNotFoundError:
        return None
deadline = time.time() + 5
while proc_state(pid) != "Z" and time.time() < deadline:
    time.sleep(0.01)
zombie_before = proc_state(pid) == "Z"
r = subprocess.run([rt, "--root", root, "state", cid], capture_output=True, text=True)
zombie_after = proc_state(pid) == "Z"
# reap the container process and anything else the runtime left to us
while True:
    try:
        if os.waitpid(-1, 0)[0] <= 0:
            break
    except ChildProcessError:
        break
print(json.dumps({"pid": pid, "zombie": zombie_before and zombie_after, "status": r.returncode,
                  "stdout": r.stdout, "stderr": r.stderr}))
`;

export interface ZombieProbe {
  pid: number;
  /** The container process was a zombie before and after the `state` call. */
  zombie: boolean;
  status: number;
  stdout: string;
  stderr: string;
}

/** Create a container, kill its process and query its state while it is an unreaped zombie. */
export function probeZombieState(bundleDir: string, id: string): Promise<ZombieProbe> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', ZOMBIE_PROBE, runtimeBin(), testRoot(), bundleDir, id], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`zombie probe failed (${code}): ${err}${out}`));
      else resolve(JSON.parse(out) as ZombieProbe);
    });
  });
}

/**
 * A shell command line running the runtime under test with `--root root`, usable from a hook
 * (whose environment is only the hook's `env`, so no PATH for `#!/usr/bin/env node`).
 */
export function runtimeShellCommand(root: string): string {
  const bin = runtimeBin();
  const head = readFileSync(bin).subarray(0, 64).toString('latin1');
  const interpreter = /^#!.*\bnode\b/.test(head) ? `${shQuote(process.execPath)} ` : '';
  return `${interpreter}${shQuote(bin)} --root ${shQuote(root)}`;
}
