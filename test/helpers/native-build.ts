/**
 * Test programs compiled from C/C++ at test time (test/native/), cached in $TMPDIR under a
 * hash of their inputs, so a suite pays for the compiler once per change of the sources.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './context.js';

/**
 * The binary `name` built by `compiler args... -o OUT sources...`; the cache key covers every
 * file in `hashDirs` (relative to the repository) besides the arguments.
 */
export function cachedBinary(name: string, compiler: string, args: string[], sources: string[], hashDirs: string[]): string {
  const hash = createHash('sha256');
  hash.update([compiler, ...args, ...sources].join('\0'));
  for (const dir of hashDirs) {
    for (const f of readdirSync(path.join(REPO_ROOT, dir)).sort()) {
      hash.update(`${dir}/${f}`);
      hash.update(readFileSync(path.join(REPO_ROOT, dir, f)));
    }
  }
  const dir = path.join(os.tmpdir(), `tsrunc-${name}-${hash.digest('hex').slice(0, 12)}`);
  const bin = path.join(dir, name);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.${process.pid}`;
  execFileSync(compiler, [...args, '-o', tmp, ...sources.map((s) => path.join(REPO_ROOT, s))], {
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 300_000,
  });
  renameSync(tmp, bin);
  return bin;
}

/** test/native/proc-probe.c, static (it runs inside busybox containers too). */
export function procProbe(): string {
  return cachedBinary('proc-probe', 'gcc', ['-static', '-O2', '-Wall'], ['test/native/proc-probe.c'], ['test/native']);
}
