/**
 * Pieces of the CVE regression tests: an "attacker" container that runs shell snippets on
 * request (a process inside a container, with a container's privileges, is who these
 * attacks start from), the host pid of a container's process as seen in another pid
 * namespace, and a console-socket receiver that reports what it got.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Bundle, type OciConfig, makeBundle } from '../../helpers/bundle.js';
import { makeTempDir } from '../../helpers/context.js';
import { rt, rtOk, state, uniqueId, waitFor } from '../../helpers/runtime.js';

/**
 * A detached container whose shell executes the snippets the test drops into its /shared
 * directory (a bind of a bundle directory) and writes back their output: the attacker's
 * side of a race, without `exec`.
 */
export class Attacker {
  readonly bundle: Bundle;
  readonly id = uniqueId('attacker');
  readonly shared: string;
  private seq = 0;

  constructor(mutate?: (c: OciConfig) => void) {
    const loop =
      'i=1; while :; do while [ ! -f /shared/req.$i ]; do usleep 20000; done; ' +
      'sh /shared/req.$i > /shared/resp.$i.tmp 2>&1; mv /shared/resp.$i.tmp /shared/resp.$i; i=$((i+1)); done';
    this.bundle = makeBundle({
      args: ['sh', '-c', loop],
      mutate: (c) => {
        c.mounts!.push({ destination: '/shared', type: 'bind', source: 'shared', options: ['rbind', 'rw'] });
        mutate?.(c);
      },
    });
    this.shared = path.join(this.bundle.dir, 'shared');
    mkdirSync(this.shared);
  }

  start(): void {
    rtOk(['run', '--detach', '--bundle', this.bundle.dir, this.id]);
  }

  /** Host pid of the attacker's init. */
  get pid(): number {
    return state(this.id).pid!;
  }

  /** Run a snippet inside the attacker container; its combined output. */
  async run(snippet: string, timeoutMs = 10_000): Promise<string> {
    this.seq += 1;
    const req = path.join(this.shared, `req.${this.seq}`);
    writeFileSync(`${req}.tmp`, snippet);
    renameSync(`${req}.tmp`, req);
    const resp = path.join(this.shared, `resp.${this.seq}`);
    await waitFor(() => existsSync(resp), timeoutMs, { what: `the attacker to run: ${snippet}` });
    return readFileSync(resp, 'utf8');
  }

  stop(): void {
    rt(['delete', '--force', this.id]);
  }
}

/** The last NSpid of a process: its pid in the innermost pid namespace it is in. */
export function innermostPid(hostPid: number): number {
  const m = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${hostPid}/status`, 'utf8'));
  const ids = m?.[1]?.trim().split(/\s+/) ?? [];
  return Number(ids[ids.length - 1]);
}

const CONSOLE_PY = String.raw`
import fcntl, json, os, select, socket, struct, sys
path = sys.argv[1]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
print("listening", flush=True)
srv.settimeout(20)
conn, _ = srv.accept()
msg, fds, _, _ = socket.recv_fds(conn, 4096, 4)
fd = fds[0]
st = os.fstat(fd)
buf = bytearray(4)
fcntl.ioctl(fd, 0x80045430, buf, True)  # TIOCGPTN: the pty's number in its devpts
out = {"payload": msg.decode(), "dev": st.st_dev, "rdev": st.st_rdev, "ptn": struct.unpack("I", buf)[0]}
text = b""
while True:
    ready, _, _ = select.select([fd], [], [], 10)
    if not ready:
        break
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    text += chunk
out["output"] = text.decode(errors="replace")
print(json.dumps(out), flush=True)
`;

export interface ConsoleSeen {
  payload: string;
  /** st_dev of the master: the devpts instance it came from. */
  dev: number;
  rdev: number;
  /** The pty number (TIOCGPTN). */
  ptn: number;
  output: string;
}

/** A --console-socket receiver that reports where the master came from and what it read. */
export async function consoleReceiver(): Promise<{ path: string; result: Promise<ConsoleSeen>; child: ChildProcess }> {
  const dir = makeTempDir('console');
  const sock = path.join(dir, 'console.sock');
  const child = spawn('python3', ['-c', CONSOLE_PY, sock], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  await waitFor(() => out.includes('listening'), 10_000, { what: 'the console receiver to listen' });
  const result = new Promise<ConsoleSeen>((resolve, reject) => {
    child.once('exit', () => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line));
      else reject(new Error(`console receiver: ${err}`));
    });
  });
  return { path: sock, result, child };
}
