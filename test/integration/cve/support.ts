/**
 * Pieces of the CVE regression tests: an "attacker" container that runs shell snippets on
 * request (a process inside a container, with a container's privileges, is who these
 * attacks start from), the host pid of a container's process as seen in another pid
 * namespace.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Bundle, type OciConfig, makeBundle } from '../../helpers/bundle.js';
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
