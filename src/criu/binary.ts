// Which criu runs, and whether it works on this kernel: `criu check` is CRIU's own answer
// (Debian 12's criu 3.17 fails it on 6.x kernels: "Unexpected rt vDSO area bounds").
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { RuntimeError } from '../util/errors.js';

/** The oldest CRIU ts-runc drives: external PID namespaces and the status-ready notification. */
export const CRIU_MIN_VERSION = { major: 3, minor: 15 } as const;

/** CRIU is missing, too old, or does not work on this machine. */
export class CriuUnavailableError extends RuntimeError {}

/** CRIU failed a request, died, or answered what cannot be read. */
export class CriuError extends RuntimeError {}

function isExecutableFile(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** `--criu PATH` as given (a bare name is looked up in $PATH), else "criu" from $PATH; null when absent. */
export function locateCriu(given: string | undefined, envPath = process.env.PATH ?? ''): string | null {
  const name = given && given !== '' ? given : 'criu';
  if (name.includes('/')) return isExecutableFile(name) ? path.resolve(name) : null;
  for (const dir of envPath.split(':')) {
    const candidate = path.join(dir || '.', name);
    if (isExecutableFile(candidate)) return path.resolve(candidate);
  }
  return null;
}

/** The criu to use; a clear error (runc's words) when there is none. */
export function requireCriu(given: string | undefined): string {
  const found = locateCriu(given);
  if (found) return found;
  const name = given && given !== '' ? given : 'criu';
  const why = name.includes('/') ? `${name}: no such executable file` : `exec: "${name}": executable file not found in $PATH`;
  throw new CriuUnavailableError(`CRIU version check failed: ${why} (checkpoint and restore need CRIU ${CRIU_MIN_VERSION.major}.${CRIU_MIN_VERSION.minor} or newer)`);
}

export interface CriuCheck {
  ok: boolean;
  /** Why not, in CRIU's words (its last error line). */
  reason: string;
}

/** The message of CRIU's last "Error (file:line): ..." line in `text`, if any. */
export function lastCriuError(text: string): string | null {
  let last: string | null = null;
  for (const line of text.split('\n')) {
    const m = /Error \([^)]*\):\s*(.*)$/.exec(line);
    if (m && m[1]) last = m[1].trim();
  }
  return last;
}

/** Run `criu check` (about 60 ms). */
export function checkCriu(bin: string): CriuCheck {
  const r = spawnSync(bin, ['check'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000, killSignal: 'SIGKILL' });
  if (r.error) return { ok: false, reason: r.error.message };
  if (r.status === 0) return { ok: true, reason: '' };
  const output = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  const lastLine = output.split('\n').map((l) => l.trim()).filter(Boolean).pop();
  return { ok: false, reason: lastCriuError(output) ?? lastLine ?? `exit status ${r.status ?? r.signal}` };
}

/** The reason `criu check` gives, as an error; null when criu passes it. */
export function criuCheckFailure(bin: string): CriuUnavailableError | null {
  const check = checkCriu(bin);
  return check.ok ? null : new CriuUnavailableError(`criu check failed (${bin}): ${check.reason}`);
}

/** `criu --version`: "Version: 4.2" -> [4, 2]; null when it does not say. */
export function cliVersion(bin: string): [number, number] | null {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000, killSignal: 'SIGKILL' });
  const m = /Version:\s*(\d+)\.(\d+)/.exec(r.stdout ?? '');
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/** Can checkpoint and restore work here: a criu new enough that passes `criu check`? */
export function criuWorks(given: string | undefined): boolean {
  const bin = locateCriu(given);
  if (!bin) return false;
  const v = cliVersion(bin);
  const { major, minor } = CRIU_MIN_VERSION;
  if (!v || v[0] < major || (v[0] === major && v[1] < minor)) return false;
  return checkCriu(bin).ok;
}
