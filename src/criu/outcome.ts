// Why CRIU could not do what was asked, in one line: missing kernel features named with
// the flag that needs them, and failures with CRIU's own last errors (or, when criu does
// not work on this machine at all, `criu check`'s reason).
import { CriuError, CriuUnavailableError, criuCheckFailure } from './binary.js';
import type { CriuFeatures, CriuResp } from './generated/rpc.js';
import { criuLogErrors } from './images.js';
import type { CriuSession } from './swrk.js';

/** The CRIU features an operation needs, each with the flag that asked for it. */
export type FeatureNeeds = { [F in keyof CriuFeatures]?: string };

/** What each feature is, for the error when it is missing. */
const FEATURE_NEEDS: Record<keyof CriuFeatures, string> = {
  mem_track:
    'memory dirty tracking (soft-dirty page bits), which this kernel does not offer: pre-dumps and incremental checkpoints cannot work here; checkpoint without --pre-dump and --parent-path',
  lazy_pages: 'userfaultfd, which this kernel (or CRIU) does not offer',
  pidfd_store: 'a pidfd store',
};

/** Ask CRIU (FEATURE_CHECK) and refuse, naming the flag, when a needed feature is missing. */
export function requireFeatures(session: CriuSession, needs: FeatureNeeds): void {
  const wanted = Object.keys(needs) as (keyof CriuFeatures)[];
  if (wanted.length === 0) return;
  const have = session.features(Object.fromEntries(wanted.map((f) => [f, true])));
  for (const feature of wanted) {
    if (have[feature] !== true) {
      throw new CriuUnavailableError(`${needs[feature]} needs ${FEATURE_NEEDS[feature]} (CRIU feature check: ${feature} is not available)`);
    }
  }
}

/** The error for a request CRIU answered with success=false: its last logged errors. */
export function criuFailure(what: string, resp: CriuResp, logFile: string): CriuError {
  const errors = criuLogErrors(logFile);
  const why = errors.length ? errors.join('; ') : (resp.cr_errmsg?.trim() || `errno ${resp.cr_errno ?? 0}`);
  return new CriuError(`${what} failed: criu: ${why} (log: ${logFile})`);
}

/**
 * Run the CRIU part of an operation. When criu fails, `criu check` is asked: a criu that
 * does not work on this machine at all (too old for the kernel, say) is the real reason.
 */
export function explainCriuFailures<T>(bin: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof CriuError) throw criuCheckFailure(bin) ?? err;
    throw err;
  }
}
