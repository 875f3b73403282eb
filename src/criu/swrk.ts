// A conversation with `criu swrk 3`: CRIU's RPC service on a SOCK_SEQPACKET socket it
// inherits as fd 3, one protobuf message per packet (as runc's criuSwrk). A request is
// answered by NOTIFY messages (each acknowledged, a file descriptor attached to some) and
// then one final response. CRIU opens the images and work directories through
// /proc/<our pid>/fd/N, so their fds stay in this process; descriptors CRIU itself must
// hold (restore's inherit_fd) are given to it from fd 4 on.
import { type StdioNull, spawn } from 'node:child_process';
import fs from 'node:fs';
import { POLLIN, type Packet, native } from '../native/addon.js';
import { errorMessage } from '../util/errors.js';
import { decodeResponse, encodeRequest } from './codec.js';
import { CRIU_MIN_VERSION, CriuError, CriuUnavailableError } from './binary.js';
import type { CriuFeatures, CriuReq, CriuResp, CriuVersion } from './generated/rpc.js';

/** Largest response accepted (runc reads into 40 KiB; CRIU's answers are far smaller). */
const MAX_RESPONSE = 64 * 1024;
/** How long CRIU may take to exit once the conversation is over. */
const EXIT_TIMEOUT_MS = 30_000;

export interface Notification {
  script: string;
  pid: number;
  /** A descriptor CRIU attached (orphan-pts-master), or -1: the handler's to close. */
  fd: number;
}

export type NotifyHandler = (n: Notification) => void;

export interface SwrkOptions {
  /** criu's stdin, stdout and stderr: our fds, or 'ignore' for /dev/null. */
  stdio?: readonly [number | StdioNull, number | StdioNull, number | StdioNull];
  /** More descriptors for criu, at fd 4, 5, ... (inherit_fd). */
  extraFds?: readonly number[];
}

export class CriuSession {
  private sock: number;
  private exited = false;

  private constructor(
    readonly bin: string,
    readonly pid: number,
    private pidfd: number,
    sock: number,
  ) {
    this.sock = sock;
  }

  static start(bin: string, opts: SwrkOptions = {}): CriuSession {
    const addon = native();
    const [ours, theirs] = addon.socketPair(true);
    let child;
    try {
      child = spawn(bin, ['swrk', '3'], {
        stdio: [...(opts.stdio ?? ['ignore', 'ignore', 'ignore']), theirs, ...(opts.extraFds ?? [])],
      });
    } finally {
      // Only criu holds its end: if it dies, our reads see EOF instead of waiting forever.
      addon.closeFd(theirs);
    }
    // A failed start is reported below (no pid); the event loop must not crash on it later.
    child.on('error', () => {});
    if (child.pid === undefined) {
      addon.closeFd(ours);
      throw new CriuUnavailableError(`cannot start ${bin} swrk`);
    }
    // Waited for through a pidfd (close()), not by the event loop: nothing keeps it alive.
    child.unref();
    return new CriuSession(bin, child.pid, addon.pidfdOpen(child.pid), ours);
  }

  private send(req: CriuReq): void {
    const data = encodeRequest(req);
    try {
      fs.writeSync(this.sock, data);
    } catch (err) {
      throw new CriuError(`criu: send ${req.type} request: ${errorMessage(err)}`);
    }
  }

  private receive(what: string): { resp: CriuResp; fd: number } {
    let packet: Packet;
    try {
      packet = native().recvPacket(this.sock, MAX_RESPONSE);
    } catch (err) {
      // ECONNRESET: criu died with our request unread.
      const gone = (err as NodeJS.ErrnoException).code === 'ECONNRESET';
      throw new CriuError(`criu: ${what}: ${gone ? 'criu exited without answering' : errorMessage(err)}`);
    }
    const { data, fd, truncated } = packet;
    if (truncated) {
      if (fd >= 0) native().closeFd(fd);
      throw new CriuError(`criu: ${what}: response larger than ${MAX_RESPONSE} bytes`);
    }
    if (data.length === 0) throw new CriuError(`criu: ${what}: criu exited without answering`);
    try {
      return { resp: decodeResponse(data), fd };
    } catch (err) {
      if (fd >= 0) native().closeFd(fd);
      throw new CriuError(`criu: ${what}: bad response: ${errorMessage(err)}`);
    }
  }

  /**
   * Send a request and return CRIU's final response (successful or not). Notifications
   * go to `onNotify` and are acknowledged; when it throws, the conversation ends there:
   * CRIU sees the socket close, gives up (a dump resumes the tasks, a restore kills what
   * it made), and the error is rethrown once criu has exited.
   */
  request(req: CriuReq, onNotify?: NotifyHandler): CriuResp {
    this.send(req);
    for (;;) {
      const { resp, fd } = this.receive(req.type);
      if (resp.type !== 'NOTIFY') {
        if (fd >= 0) native().closeFd(fd);
        return resp;
      }
      const n: Notification = { script: resp.notify?.script ?? '', pid: resp.notify?.pid ?? 0, fd };
      try {
        onNotify?.(n);
      } catch (err) {
        this.close();
        throw err;
      } finally {
        if (!onNotify && fd >= 0) native().closeFd(fd);
      }
      this.send({ type: 'NOTIFY', notify_success: true });
    }
  }

  /** CRIU's version; the session stays open for the next request. */
  version(): CriuVersion {
    const resp = this.request({ type: 'VERSION', keep_open: true });
    if (!resp.success || !resp.version) throw new CriuUnavailableError(`CRIU version check failed: ${this.bin} gave no version`);
    return resp.version;
  }

  /** CRIU's version, refused when older than ts-runc needs. */
  requireVersion(): CriuVersion {
    const v = this.version();
    const { major, minor } = CRIU_MIN_VERSION;
    if (v.major_number < major || (v.major_number === major && v.minor_number < minor)) {
      throw new CriuUnavailableError(
        `CRIU ${v.major_number}.${v.minor_number} (${this.bin}) is too old: checkpoint and restore need CRIU ${major}.${minor} or newer`,
      );
    }
    return v;
  }

  /** Which of `wanted` this CRIU and kernel support (FEATURE_CHECK); the session stays open. */
  features(wanted: CriuFeatures): CriuFeatures {
    const resp = this.request({ type: 'FEATURE_CHECK', keep_open: true, features: wanted });
    if (!resp.success) throw new CriuError(`CRIU feature check failed (${this.bin})`);
    return resp.features ?? {};
  }

  /** End the conversation and reap criu (killed if it lingers). Idempotent. */
  close(): void {
    if (this.sock >= 0) {
      native().closeFd(this.sock);
      this.sock = -1;
    }
    if (this.exited) return;
    this.exited = true;
    const addon = native();
    try {
      const [ready] = addon.poll([[this.pidfd, POLLIN]], EXIT_TIMEOUT_MS);
      if (!ready) addon.pidfdSendSignal(this.pidfd, 9);
      addon.waitPidfd(this.pidfd, false);
    } catch {
      // already reaped
    } finally {
      fs.closeSync(this.pidfd);
    }
  }
}
