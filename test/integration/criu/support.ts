/**
 * Helpers of the checkpoint/restore tests (not a test itself). They need a CRIU that works
 * on this machine (scripts/install-criu.sh builds one): `requireCriu` skips with the reason
 * otherwise.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, cpSync, existsSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { type Bundle, type BundleOptions, type OciConfig, makeBundle } from '../../helpers/bundle.js';
import { CGROUP_PREFIX, makeTempDir, testCgroupPath, uniqueName } from '../../helpers/context.js';
import { cgroupMounts } from '../../helpers/leaks.js';
import { isRoot, skipWith } from '../../helpers/privileges.js';
import { type RtResult, describeResult, rt, rtOk, runtimeBin, testRoot, waitFor } from '../../helpers/runtime.js';
import { POLLIN, native } from '../../../src/native/addon.js';

/** The criu on PATH, if `criu check` passes (asked once per run). */
let criuVerdict: { bin: string | null; reason: string } | undefined;

function criuOnPath(): { bin: string | null; reason: string } {
  if (criuVerdict) return criuVerdict;
  const which = spawnSync('sh', ['-c', 'command -v criu'], { encoding: 'utf8' });
  const bin = which.status === 0 ? which.stdout.trim() : '';
  if (!bin) {
    criuVerdict = { bin: null, reason: 'needs CRIU: no criu on PATH (bash scripts/install-criu.sh builds one)' };
    return criuVerdict;
  }
  const check = spawnSync(bin, ['check'], { encoding: 'utf8', timeout: 60_000 });
  if (check.status !== 0) {
    const why = `${check.stdout}${check.stderr}`.split('\n').filter((l) => l.includes('Error')).pop() ?? `exit status ${check.status}`;
    criuVerdict = { bin: null, reason: `needs a working CRIU: \`${bin} check\` fails: ${why.trim()} (bash scripts/install-criu.sh builds one)` };
    return criuVerdict;
  }
  criuVerdict = { bin, reason: '' };
  return criuVerdict;
}

/** Skip unless root with a criu on PATH that passes `criu check`; returns its path. */
export function requireCriu(ctx: Mocha.Context): string {
  if (!isRoot()) skipWith(ctx, 'needs root');
  const { bin, reason } = criuOnPath();
  if (!bin) skipWith(ctx, reason);
  return bin;
}

/** Does this kernel track dirty memory (what --pre-dump needs)? CRIU's own answer. */
export function hasMemoryTracking(criu: string): boolean {
  return spawnSync(criu, ['check', '--feature', 'mem_dirty_track'], { stdio: 'ignore' }).status === 0;
}

/**
 * The counter: appends 1, 2, 3... to /tmp/count.log in its (writable) root filesystem every
 * 50 ms. Its stdio are dropped for the container's /dev/null first: rt() gives the runtime
 * files of the host, which CRIU could not save.
 */
export const COUNTER_ARGS = ['sh', '-c', 'exec </dev/null >/dev/null 2>&1; i=0; while :; do i=$((i+1)); echo $i >> /tmp/count.log; sleep 0.05; done'];

/** A bundle with a writable root filesystem (the tests read what containers write there). */
export function criuBundle(opts: BundleOptions = {}): Bundle {
  return makeBundle({
    args: COUNTER_ARGS,
    ...opts,
    mutate: (c) => {
      c.root!.readonly = false;
      opts.mutate?.(c);
    },
  });
}

/** A counter started with `run -d` that has counted past `past`. */
export async function runningCounter(opts: BundleOptions = {}, past = 2): Promise<{ b: Bundle; id: string }> {
  const b = criuBundle(opts);
  const id = uniqueName('cr');
  rtOk(['run', '-d', '--bundle', b.dir, id]);
  await countPast(b, past);
  return { b, id };
}

/** A new image directory's path (checkpoint makes it). */
export function newImageDir(): string {
  return path.join(makeTempDir('images'), 'img');
}

/** The numbers in a counter's log. */
export function counts(bundle: Bundle | string): number[] {
  const rootfs = typeof bundle === 'string' ? bundle : bundle.rootfs;
  const file = path.join(rootfs, 'tmp/count.log');
  if (!existsSync(file)) return [];
  // The last line may be half written.
  return readFileSync(file, 'utf8').split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
}

/** Wait until the counter has counted past `n`; returns its last number. */
export async function countPast(bundle: Bundle | string, n: number, timeoutMs = 10_000): Promise<number> {
  let last = 0;
  await waitFor(() => (last = counts(bundle).at(-1) ?? 0) > n, timeoutMs, { what: `the counter to pass ${n}` });
  return last;
}

/** 1, 2, 3... with no gap and no restart. */
export function expectContiguous(values: number[], what: string): void {
  values.forEach((v, i) => expect(v, `${what}: entry ${i} of ${values.join(',')}`).to.equal(i + 1));
}

/**
 * A copy of `bundle` in a new directory (root filesystem included), with its own cgroup
 * path and optional config changes: restore's target when the original still exists.
 */
export function copyBundle(bundle: Bundle, mutate?: (c: OciConfig) => void): Bundle {
  const dir = makeTempDir('bundle');
  cpSync(bundle.dir, dir, { recursive: true, verbatimSymlinks: true });
  const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as OciConfig;
  config.linux!.cgroupsPath = testCgroupPath(uniqueName('cg'));
  mutate?.(config);
  const copy: Bundle = {
    dir,
    rootfs: path.join(dir, 'rootfs'),
    configPath: path.join(dir, 'config.json'),
    config,
    writeConfig(m) {
      m?.(copy.config);
      writeFileSync(copy.configPath, `${JSON.stringify(copy.config, null, 2)}\n`);
    },
    cleanup() {},
  };
  copy.writeConfig();
  return copy;
}

/** Does the container's cgroup (by its cgroupsPath) exist in any hierarchy? */
export function cgroupExists(cgroupsPath: string): boolean {
  expect(cgroupsPath.startsWith(CGROUP_PREFIX), 'a test cgroup path').to.equal(true);
  return cgroupMounts().some((m) => existsSync(path.join(m, cgroupsPath)));
}

/** Assert the invocation failed and return its stderr's messages (runc's msg="..." unwrapped). */
export function failureMessage(r: RtResult): string {
  expect(r.status, describeResult(r)).to.be.a('number').and.not.equal(0);
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  return lines
    .map((line) => {
      const m = /level=\w+ msg="((?:[^"\\]|\\.)*)"/.exec(line);
      return m ? (JSON.parse(`"${m[1]}"`) as string) : line;
    })
    .join('\n');
}

/** `state <id>` status, or null when the container does not exist. */
export function statusOf(id: string): string | null {
  const r = rt(['state', id]);
  if (r.status !== 0) return null;
  return (JSON.parse(r.stdout) as { status: string }).status;
}

/**
 * A program standing in for criu, for the error cases: a node script answering
 * `--version`, `check` and `swrk` as told. `versionAnswer` is the hex of the protobuf
 * response to the VERSION request (empty: swrk exits without a word).
 */
export function fakeCriu(opts: { version: string; checkFails?: string; versionAnswer?: string }): string {
  const file = path.join(makeTempDir('fakecriu'), 'criu');
  const program = `#!${process.execPath}
const fs = require('fs');
const [cmd] = process.argv.slice(2);
if (cmd === '--version') { console.log('Version: ${opts.version}'); process.exit(0); }
if (cmd === 'check') {
  ${opts.checkFails ? `console.error(${JSON.stringify(`Error (criu/kerndat.c:1234): ${opts.checkFails}`)}); process.exit(1);` : "console.log('Looks good.'); process.exit(0);"}
}
if (cmd === 'swrk') {
  const answer = ${JSON.stringify(opts.versionAnswer ?? '')};
  if (!answer) process.exit(1);
  const buf = Buffer.alloc(65536);
  while (fs.readSync(3, buf) > 0) fs.writeSync(3, Buffer.from(answer, 'hex'));
  process.exit(0);
}
process.exit(2);
`;
  writeFileSync(file, program);
  chmodSync(file, 0o755);
  return file;
}

/**
 * The other end of a terminal: receives the pty master on a console socket and holds it
 * (the container's session would be hung up if the master closed), writes to it and reads
 * what comes back on request. A python3 program, as Node cannot receive descriptors.
 */
const TERMINAL_PEER = String.raw`
import json, os, select, socket, sys
path = sys.argv[1]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
print(json.dumps({"listening": True}), flush=True)
conn, _ = srv.accept()
msg, fds, _, _ = socket.recv_fds(conn, 4096, 4)
conn.close()
print(json.dumps({"payload": msg.decode(errors="replace"), "fds": len(fds)}), flush=True)
master = fds[0] if fds else -1
for line in sys.stdin:
    req = json.loads(line)
    if "write" in req:
        os.write(master, req["write"].encode())
    out = b""
    end = __import__("time").time() + req.get("readMs", 0) / 1000
    while True:
        left = end - __import__("time").time()
        if left <= 0:
            break
        r, _, _ = select.select([master], [], [], left)
        if not r:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    print(json.dumps({"output": out.decode(errors="replace")}), flush=True)
`;

export interface TerminalPeer {
  socketPath: string;
  /** Resolves with the console message's payload once the master has arrived. */
  received: Promise<{ payload: string; fds: number }>;
  /** Write `text` (if any) to the master, then collect what it says for `readMs`. */
  talk(text: string, readMs: number): Promise<string>;
  /** Close the master (the container's terminal hangs up) and end the program; resolves when it is gone. */
  close(): Promise<void>;
}

export async function startTerminalPeer(): Promise<TerminalPeer> {
  const socketPath = path.join(makeTempDir('console'), 'console.sock');
  const child: ChildProcessWithoutNullStreams = spawn('python3', ['-c', TERMINAL_PEER, socketPath], { stdio: ['pipe', 'pipe', 'pipe'] });
  const replies: ((v: Record<string, unknown>) => void)[] = [];
  let buffered = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buffered += d;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      replies.shift()?.(JSON.parse(line) as Record<string, unknown>);
    }
  });
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      replies.push(resolve);
      child.once('exit', () => reject(new Error(`terminal peer exited: ${err}`)));
    });
  const listening = next();
  const received = next() as Promise<{ payload: string; fds: number }>;
  received.catch(() => {});
  await listening;
  return {
    socketPath,
    received,
    async talk(text, readMs) {
      const reply = next();
      child.stdin.write(`${JSON.stringify(text ? { write: text, readMs } : { readMs })}\n`);
      return String((await reply).output);
    },
    close() {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin.end();
      child.kill('SIGKILL');
      return gone;
    },
  };
}

/**
 * Real pipes for a runtime's stdio (Node's 'pipe' stdio are sockets, which CRIU would not
 * hand over, and Node drops a child's stdin when it exits): the container inherits their
 * far ends; the test keeps these to talk to it.
 */
export class StdioPipes {
  /** The runtime's (so the container's) ends: stdin's read end, stdout's and stderr's write ends. */
  readonly theirs: [number, number, number];
  private readonly stdinW: number;
  private readonly outR: number;
  private readonly errR: number;
  private out = '';
  private err = '';

  constructor() {
    const addon = native();
    const [inR, inW] = addon.pipe();
    const [outR, outW] = addon.pipe();
    const [errR, errW] = addon.pipe();
    this.theirs = [inR, outW, errW];
    this.stdinW = inW;
    this.outR = outR;
    this.errR = errR;
  }

  /** Run the runtime to completion with these as its stdio (create, run -d, restore -d). */
  run(args: string[]): { status: number | null; stderr: string } {
    const r = spawnSync(runtimeBin(), ['--root', testRoot(), ...args], { stdio: [...this.theirs], timeout: 60_000, killSignal: 'SIGKILL' });
    return { status: r.status, stderr: this.drain(0).err };
  }

  /** Start the runtime with these as its stdio; resolves with its exit status. */
  start(args: string[]): Promise<number | null> {
    const child = spawn(runtimeBin(), ['--root', testRoot(), ...args], { stdio: [...this.theirs] });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null)));
    });
  }

  /** Give the far ends away (the container holds them now): EOF reaches us when it exits. */
  closeTheirs(): void {
    for (const fd of this.theirs) closeSync(fd);
  }

  write(text: string): void {
    writeSync(this.stdinW, text);
  }

  /** Read what stdout and stderr have for up to `ms`. */
  drain(ms: number): { out: string; err: string } {
    const addon = native();
    const buf = Buffer.alloc(65536);
    const deadline = Date.now() + ms;
    for (;;) {
      const [o, e] = addon.poll([[this.outR, POLLIN], [this.errR, POLLIN]], Math.max(0, deadline - Date.now()));
      if (!o && !e) break;
      if (o) {
        const n = readSync(this.outR, buf);
        if (n > 0) this.out += buf.toString('utf8', 0, n);
      }
      if (e) {
        const n = readSync(this.errR, buf);
        if (n > 0) this.err += buf.toString('utf8', 0, n);
      }
      if (Date.now() >= deadline) break;
    }
    return { out: this.out, err: this.err };
  }

  /** Wait until stdout says `text`. */
  async expectOut(text: string, timeoutMs = 5_000): Promise<void> {
    await waitFor(() => this.drain(50).out.includes(text), timeoutMs, { what: `"${text}" on stdout (so far: ${JSON.stringify(this.out)}, stderr ${JSON.stringify(this.err)})` });
  }

  close(): void {
    for (const fd of [this.stdinW, this.outR, this.errR]) {
      try {
        closeSync(fd);
      } catch {
        // closed
      }
    }
  }
}
