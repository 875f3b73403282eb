/**
 * The child program (addon/child/) on the recording system-call layer
 * (test/native/sys_record.cc): a host binary built from the same sources, run on a plan
 * without root; every system call it makes comes back as one record.
 *
 *   const run = runChild(plan, { paths: { '/bin/true': 'exe' } });
 *   run.calls.findIndex((c) => c.call === 'pivot_root')
 *
 * The binary is built with g++ on first use (native-build.ts).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodePlan } from '../../src/native/generated/protocol.js';
import type { SpawnPlan } from '../../src/native/plan-types.js';
import { makeTempDir } from './context.js';
import { cachedBinary } from './native-build.js';

/** One system call of the child, as the recording layer wrote it. */
export interface ChildCall {
  call: string;
  args: (string | number | null)[];
  /** The path the call acted on, resolved in the scripted file system. */
  path?: string;
  ret: number;
  /** sendmsg on the sync socket: the protocol message. */
  msg?: { type: number; step: number; err: number; pid: number; index: number };
  withFd?: boolean;
  /** execveat: the arguments and environment. */
  argv?: string[];
  envp?: string[];
  /** move_mount: where the mount came from. */
  from?: string;
}

export interface ChildRunOptions {
  /** Scripted paths: dir | file | file:CONTENT | exe | fifo | chr:MAJ:MIN | link:TARGET | missing. */
  paths?: Record<string, string>;
  /** CALL[:ARG0][#N]=ERRNO: make that call fail (prctl:47#2=1: the second PR_CAP_AMBIENT). */
  fail?: string[];
  /** Descriptors F_GETFD and fstat report as not open. */
  closed?: number[];
  /** clone3 returns a pid: the run follows stage 1 after its fork instead of stage 2. */
  cloneParent?: boolean;
  /** The runtime is gone by the time stage 1 looks twice. */
  runtimeGone?: boolean;
}

export interface ChildRun {
  calls: ChildCall[];
  status: number | null;
  stderr: string;
}

const CHILD_SOURCES = ['main', 'plan', 'report', 'fds', 'inroot', 'stage1', 'stage2', 'rootfs', 'console', 'process', 'network'];

/** Build (or reuse) the harness binary; its path. */
export function childHarness(): string {
  return cachedBinary(
    'child-harness',
    'g++',
    ['-std=gnu++17', '-O0', '-D_GNU_SOURCE', '-Wall', '-Werror', '-Wno-unused-parameter', '-Wno-missing-field-initializers'],
    [...CHILD_SOURCES.map((s) => `addon/child/${s}.cc`), 'test/native/sys_record.cc', 'test/native/harness.cc'],
    ['addon/child', 'addon/common', 'addon/generated', 'test/native'],
  );
}

/** Run the child on plan bytes (encodePlan's, or deliberately broken ones). */
export function runChildBytes(bytes: Buffer, opts: ChildRunOptions = {}): ChildRun {
  const file = path.join(makeTempDir('plan'), 'plan');
  writeFileSync(file, bytes);
  const args = [file];
  for (const [p, kind] of Object.entries(opts.paths ?? {})) args.push('--path', `${p}=${kind}`);
  for (const f of opts.fail ?? []) args.push('--fail', f);
  for (const fd of opts.closed ?? []) args.push('--closed', String(fd));
  if (opts.cloneParent) args.push('--clone-parent');
  if (opts.runtimeGone) args.push('--runtime-gone');
  const r = spawnSync(childHarness(), args, { encoding: 'utf8', timeout: 30_000 });
  const calls = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ChildCall);
  return { calls, status: r.status, stderr: r.stderr };
}

export function runChild(plan: SpawnPlan, opts: ChildRunOptions = {}): ChildRun {
  return runChildBytes(encodePlan(plan), opts);
}
