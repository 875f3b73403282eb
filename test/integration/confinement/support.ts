/**
 * Shared pieces of the confinement and CVE tests: a busybox script in a fresh container,
 * /proc/self/status parsing, and a seccomp notify agent (python3: it needs recv_fds and the
 * SECCOMP_IOCTL_NOTIF_* ioctls, which Node cannot do).
 *
 * Everything goes through the runtime under test (TSRUNC_BIN or dist/ts-runc), so the
 * tests can be pointed at runc to check them against the reference.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Bundle, type OciConfig, makeBundle } from '../../helpers/bundle.js';
import { makeTempDir } from '../../helpers/context.js';
import { type RtResult, describeResult, rt, uniqueId, waitFor } from '../../helpers/runtime.js';

export { keyValues } from '../linux/support.js';

/** A bundle whose process is `sh -c <script>`. */
export function shBundle(script: string, mutate?: (config: OciConfig) => void): Bundle {
  return makeBundle({ args: ['sh', '-c', script], mutate });
}

/** `run` the bundle in the foreground under a fresh id. */
export function runBundle(bundle: Bundle, runFlags: string[] = []): RtResult {
  return rt(['run', ...runFlags, '--bundle', bundle.dir, uniqueId()]);
}

export function runSh(script: string, mutate?: (config: OciConfig) => void): RtResult {
  return runBundle(shBundle(script, mutate));
}

/** Like runSh, but the container must exit 0; returns its stdout. */
export function runShOk(script: string, mutate?: (config: OciConfig) => void): string {
  const r = runSh(script, mutate);
  if (r.status !== 0 || r.error) throw new Error(`container failed: ${describeResult(r)}`);
  return r.stdout;
}

/** The `Name:\tvalue` lines of a /proc/<pid>/status text. */
export function procStatus(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s*(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!.trim();
  }
  return out;
}

/** A capability mask from capability numbers. */
export function capMask(numbers: readonly number[]): bigint {
  return numbers.reduce((m, n) => m | (1n << BigInt(n)), 0n);
}

/** Parse a CapXxx hex field. */
export const hexMask = (s: string | undefined): bigint => BigInt(`0x${s ?? '0'}`);

/**
 * The one error line on stderr (and nothing else: runc's style for refusals), as its
 * message: the msg="..." of a logfmt line unescaped, or the line itself.
 */
export function oneLineError(r: RtResult): string {
  const lines = r.stderr.trim().split('\n');
  if (lines.length !== 1) throw new Error(`expected one line on stderr, got ${lines.length}: ${describeResult(r)}`);
  const m = /msg="((?:[^"\\]|\\.)*)"/.exec(lines[0]!);
  return m ? m[1]!.replace(/\\(.)/g, '$1') : lines[0]!;
}

// ---------------------------------------------------------------------------------------
// A seccomp notify agent
// ---------------------------------------------------------------------------------------

/**
 * The agent: accepts one connection on the listener socket, takes the container process
 * state and the fd from it (SCM_RIGHTS), and answers every notification with the
 * configured errno (or lets the call continue with `continue`). Before answering it
 * writes `<pid>\n` of the notifying process to <out>.notified and, with `hold`, waits for
 * <out>.release to appear. It writes a JSON summary to <out> when the filter's last user
 * is gone (or after 20 s without one).
 */
const AGENT_PY = String.raw`
import socket, sys, json, struct, fcntl, select, os, time
path, out, mode = sys.argv[1], sys.argv[2], sys.argv[3]
hold = len(sys.argv) > 4 and sys.argv[4] == 'hold'
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(4)
open(out + '.ready', 'w').close()
conn, _ = srv.accept()
msg, fds, flags, addr = socket.recv_fds(conn, 1 << 20, 8)
data = msg
while True:
    chunk = conn.recv(1 << 20)
    if not chunk:
        break
    data += chunk
conn.close()
RECV, SEND = 0xC0502100, 0xC0182101
CONTINUE = 1
fd = fds[0] if fds else -1
handled = []
if fd >= 0:
    while True:
        p = select.poll()
        p.register(fd, select.POLLIN)
        ev = p.poll(20000)
        if not ev:
            break
        if not ev[0][1] & select.POLLIN:
            break
        buf = bytearray(80)
        try:
            fcntl.ioctl(fd, RECV, buf, True)
        except OSError:
            break
        nid, pid, _fl, nr = struct.unpack_from('<QIIi', buf, 0)
        handled.append(nr)
        with open(out + '.notified', 'a') as f:
            f.write('%d\n' % pid)
        if hold:
            while not os.path.exists(out + '.release'):
                time.sleep(0.02)
        if mode == 'continue':
            resp = struct.pack('<QqiI', nid, 0, 0, CONTINUE)
        else:
            resp = struct.pack('<QqiI', nid, 0, -int(mode), 0)
        try:
            fcntl.ioctl(fd, SEND, bytearray(resp), True)
        except OSError:
            pass
# Written whole under another name, then renamed: the test polls for the file and must
# never read it half-written.
with open(out + '.tmp', 'w') as f:
    json.dump({'state': json.loads(data.decode()), 'nfds': len(fds), 'handled': handled}, f)
os.rename(out + '.tmp', out)
`;

export interface SeccompAgent {
  socketPath: string;
  /** Where the summary lands. */
  outPath: string;
  /** Host pids of the processes whose calls were notified so far. */
  notified(): number[];
  /** Let a held notification be answered. */
  release(): void;
  /** Wait for the summary (the agent exits when the filter has no users left). */
  result(timeoutMs?: number): Promise<{ state: Record<string, any>; nfds: number; handled: number[] }>;
  /** Kill the agent if it still runs, and wait until it has gone (the leak check looks right after). */
  stop(): Promise<void>;
}

/** Start the agent; `answer` is an errno to fail notified calls with, or 'continue'. */
export async function startSeccompAgent(answer: number | 'continue', opts: { hold?: boolean } = {}): Promise<SeccompAgent> {
  const dir = makeTempDir('agent');
  const script = path.join(dir, 'agent.py');
  writeFileSync(script, AGENT_PY);
  const socketPath = path.join(dir, 'agent.sock');
  const outPath = path.join(dir, 'agent.json');
  const child: ChildProcess = spawn('python3', [script, socketPath, outPath, String(answer), opts.hold ? 'hold' : ''], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  await waitFor(() => existsSync(`${outPath}.ready`), 10_000, { what: 'the seccomp agent to listen' });
  return {
    socketPath,
    outPath,
    notified: () =>
      existsSync(`${outPath}.notified`)
        ? readFileSync(`${outPath}.notified`, 'utf8').split('\n').filter(Boolean).map(Number)
        : [],
    release: () => writeFileSync(`${outPath}.release`, ''),
    async result(timeoutMs = 25_000) {
      await waitFor(() => existsSync(outPath), timeoutMs, { what: `the seccomp agent's summary (stderr: ${stderr})` });
      return JSON.parse(readFileSync(outPath, 'utf8'));
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
