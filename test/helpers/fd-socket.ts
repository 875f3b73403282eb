/**
 * The receiving end of `--console-socket` and `--pidfd-socket`: an AF_UNIX stream socket
 * that accepts one connection and takes one message (or, with `allMessages`, every message
 * until the sender closes) with file descriptors in SCM_RIGHTS, the way engines (conmon,
 * containerd's shim, runc's recvtty) do, and reports what the first descriptor is.
 *
 *   const rx = await receiveFd(dir, { kind: 'pty', input: 'exit 3\n' });
 *   rtOk(['exec', '-t', '--console-socket', rx.path, id, 'sh']);
 *   const got = await rx.result;   // { payload: '/dev/ptmx', output: '...' }
 *
 * Node cannot receive descriptors, so a small python3 program does it (python3 is one of
 * the packages scripts/setup.sh installs).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

const PROGRAM = String.raw`
import fcntl, json, os, re, select, socket, struct, sys
path, kind, wait_ms, data, all_messages = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].encode(), sys.argv[5] == "1"
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
print("listening", flush=True)
srv.settimeout(wait_ms / 1000)
conn, _ = srv.accept()
conn.settimeout(wait_ms / 1000)
messages, fds = [], []
while True:
    msg, got, _, _ = socket.recv_fds(conn, 4096, 8)
    if not msg and not got:
        break
    messages.append(msg.decode(errors="replace"))
    fds.extend(got)
    if not all_messages:
        break
out = {"payload": messages[0] if messages else "", "messages": messages, "fds": len(fds), "target": None}
if fds:
    fd = fds[0]
    out["target"] = os.readlink("/proc/self/fd/%d" % fd)
    info = open("/proc/self/fdinfo/%d" % fd).read()
    m = re.search(r"^Pid:\s+(-?\d+)", info, re.M)
    if m:
        out["pid"] = int(m.group(1))
    if kind == "pidfd":
        ready, _, _ = select.select([fd], [], [], wait_ms / 1000)
        out["exited"] = bool(ready)
    elif kind == "pty":
        st = os.fstat(fd)
        ptn = bytearray(4)
        fcntl.ioctl(fd, 0x80045430, ptn, True)  # TIOCGPTN: the pty's number in its devpts
        out.update({"dev": st.st_dev, "rdev": st.st_rdev, "ptn": struct.unpack("I", ptn)[0]})
        if data:
            os.write(fd, data)
        buf = b""
        while True:
            ready, _, _ = select.select([fd], [], [], wait_ms / 1000)
            if not ready:
                out["timedOut"] = True
                break
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
        out["output"] = buf.decode(errors="replace")
print(json.dumps(out), flush=True)
`;

export interface ReceivedFd {
  /** The (first) message's payload ("/dev/ptmx" for a console, "pidfd" for a pidfd). */
  payload: string;
  /** The payload of each message (only the first unless `allMessages`). */
  messages: string[];
  /** How many descriptors came with them. */
  fds: number;
  /** readlink of the first descriptor (/dev/ptmx or /dev/pts/ptmx for a pty master, anon_inode:[pidfd]). */
  target: string | null;
  /** The Pid: line of the first descriptor's fdinfo: for a pidfd, the pid it refers to. */
  pid?: number;
  /** For a pidfd: the process exited within the wait. */
  exited?: boolean;
  /** For a pty master: st_dev (the devpts instance it came from), st_rdev, and its number (TIOCGPTN). */
  dev?: number;
  rdev?: number;
  ptn?: number;
  /** For a pty master: everything read from it until the terminal closed. */
  output?: string;
  timedOut?: boolean;
}

export interface FdReceiver {
  /** The socket's path (pass it as --console-socket / --pidfd-socket). */
  path: string;
  /** What arrived; rejects when the receiver failed (e.g. nobody connected in time). */
  result: Promise<ReceivedFd>;
  /** Stop the receiver if it is still waiting. */
  close(): void;
}

export interface ReceiveOptions {
  /** 'pty': write `input` to the master and read it until it closes; 'pidfd': wait for the process to exit. */
  kind: 'pty' | 'pidfd' | 'any';
  input?: string;
  /** How long to wait for the connection and for the process (default 10 s). */
  waitMs?: number;
  /** Socket file name inside `dir` (default "fd.sock"). */
  name?: string;
  /** Read messages until the sender closes the connection (to count them), not just the first. */
  allMessages?: boolean;
}

/** Listen on `<dir>/<name>`; resolves once the socket accepts connections. */
export async function receiveFd(dir: string, opts: ReceiveOptions): Promise<FdReceiver> {
  const sockPath = path.join(dir, opts.name ?? 'fd.sock');
  const waitMs = opts.waitMs ?? 10_000;
  const child = spawn('python3', ['-c', PROGRAM, sockPath, opts.kind, String(waitMs), opts.input ?? '', opts.allMessages ? '1' : '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const listening = new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.startsWith('listening\n')) resolve();
    });
    child.once('exit', () => reject(new Error(`fd receiver exited before listening: ${err}`)));
  });
  const result = new Promise<ReceivedFd>((resolve, reject) => {
    child.once('exit', (code) => {
      const line = out.split('\n').filter((l) => l.startsWith('{')).pop();
      if (code === 0 && line) resolve(JSON.parse(line) as ReceivedFd);
      else reject(new Error(`fd receiver failed (status ${code}): ${err.trim()}`));
    });
  });
  result.catch(() => {}); // observed by the caller when it awaits
  await listening;
  return { path: sockPath, result, close: () => child.kill('SIGKILL') };
}
