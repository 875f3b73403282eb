#!/usr/bin/env node
// A client of the QEMU guest agent, enough to run commands in the test guest:
//   qga.mjs SOCKET ping [SECONDS]             exit 0 when the agent answers
//   qga.mjs SOCKET exec SECONDS ARGV...       run ARGV in the guest; its stdout and stderr
//                                             are printed, and its exit status is ours
//                                             (124 when it outlives SECONDS)
// The agent speaks JSON over the socket; guest-sync-delimited (with a 0xff marker) first
// skips whatever a previous client left unread.
import net from 'node:net';

const [socketPath, op, secondsText, ...argv] = process.argv.slice(2);

class Agent {
  constructor(sock) {
    this.sock = sock;
    this.buf = '';
    this.waiters = [];
    sock.setEncoding('latin1');
    sock.on('data', (d) => {
      this.buf += d.replaceAll('\xff', '');
      this.drain();
    });
    sock.on('error', (e) => this.fail(e));
    sock.on('close', () => this.fail(new Error('the guest agent closed the connection')));
  }

  fail(err) {
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  /** Hand out complete JSON objects as they arrive. */
  drain() {
    for (;;) {
      const text = this.buf.trimStart();
      if (!text || !this.waiters.length) return;
      let end = -1;
      let depth = 0;
      let inString = false;
      for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (inString) {
          if (c === '\\') i++;
          else if (c === '"') inString = false;
        } else if (c === '"') inString = true;
        else if (c === '{') depth++;
        else if (c === '}' && --depth === 0) {
          end = i + 1;
          break;
        }
      }
      if (end < 0) return;
      this.buf = text.slice(end);
      this.waiters.shift().resolve(JSON.parse(text.slice(0, end)));
    }
  }

  next() {
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.drain();
    });
  }

  async call(execute, args) {
    this.sock.write(JSON.stringify(args ? { execute, arguments: args } : { execute }));
    for (;;) {
      const r = await this.next();
      if (r.error) throw new Error(`${execute}: ${r.error.desc ?? JSON.stringify(r.error)}`);
      if ('return' in r) return r.return;
    }
  }

  /** Whatever earlier clients left in the channel (answers, errors) is read and dropped. */
  async sync() {
    const id = Math.floor(Math.random() * 2 ** 31);
    this.sock.write(Buffer.concat([Buffer.from([0xff]), Buffer.from(JSON.stringify({ execute: 'guest-sync-delimited', arguments: { id } }))]));
    for (;;) if ((await this.next()).return === id) return;
  }
}

function connect(path, timeoutMs) {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(path);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('the guest agent did not answer'));
    }, timeoutMs);
    sock.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.once('connect', async () => {
      const agent = new Agent(sock);
      try {
        await agent.sync();
        clearTimeout(timer);
        resolve(agent);
      } catch (e) {
        clearTimeout(timer);
        sock.destroy();
        reject(e);
      }
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  if (op === 'ping') {
    const agent = await connect(socketPath, Number(secondsText ?? 2) * 1000);
    await agent.call('guest-ping');
    agent.sock.destroy();
    return 0;
  }
  if (op === 'exec' && argv.length) {
    const seconds = Number(secondsText);
    const agent = await connect(socketPath, 30_000);
    const { pid } = await agent.call('guest-exec', { path: argv[0], arg: argv.slice(1), 'capture-output': true });
    const deadline = Date.now() + (seconds + 30) * 1000;
    let delay = 50;
    let st;
    for (;;) {
      st = await agent.call('guest-exec-status', { pid });
      if (st.exited) break;
      if (Date.now() > deadline) {
        process.stderr.write(`qga: the guest command outlived ${seconds}s\n`);
        return 124;
      }
      await sleep(delay);
      delay = Math.min(delay * 1.5, 1000);
    }
    agent.sock.destroy();
    if (st['out-data']) process.stdout.write(Buffer.from(st['out-data'], 'base64'));
    if (st['err-data']) process.stderr.write(Buffer.from(st['err-data'], 'base64'));
    if (st['out-truncated'] || st['err-truncated']) process.stderr.write('qga: the guest agent truncated the output\n');
    return 'signal' in st ? 128 + st.signal : (st.exitcode ?? 255);
  }
  process.stderr.write('usage: qga.mjs SOCKET ping [SECONDS] | exec SECONDS ARGV...\n');
  return 2;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    if (op !== 'ping' || process.env.QGA_DEBUG) process.stderr.write(`qga: ${err.message}\n`);
    process.exit(op === 'ping' ? 1 : 125);
  },
);
