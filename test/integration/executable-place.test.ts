// Where the Bun executable finds the addon and the child programs: the addon in build/Release
// beside the executable's real path (through npm link's symlink), or in TSRUNC_NATIVE_DIR;
// tsrunc-child and tsrunc-init always beside the addon that was loaded, never elsewhere.
import { expect } from 'chai';
import { copyFileSync, linkSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { makeBundle } from '../helpers/bundle.js';
import { REPO_ROOT, makeTempDir } from '../helpers/context.js';
import { useLeakCheck } from '../helpers/leaks.js';
import { requireRoot } from '../helpers/privileges.js';
import { installedBin, rt, uniqueId } from '../helpers/runtime.js';

const PROGRAMS = ['tsrunc.node', 'tsrunc-child', 'tsrunc-init'];

describe('the executable finds its addon and the child programs', function () {
  useLeakCheck();
  let saved: string | undefined;

  beforeEach(function () {
    saved = process.env.TSRUNC_BIN;
    requireRoot(this);
    if (saved) this.skip(); // about ts-runc's own executable
  });
  afterEach(function () {
    if (saved === undefined) delete process.env.TSRUNC_BIN;
    else process.env.TSRUNC_BIN = saved;
  });

  /** `run` of a container that prints a word, by the executable at `bin`. */
  function runWith(bin: string, env: NodeJS.ProcessEnv = process.env) {
    process.env.TSRUNC_BIN = bin;
    const b = makeBundle({ args: ['echo', 'placed'] });
    return rt(['run', '--bundle', b.dir, uniqueId('place')], { env });
  }

  it("through a symlink (npm link's shape): build/Release from the executable's real path", function () {
    const link = path.join(makeTempDir('linked'), 'ts-runc');
    symlinkSync(installedBin(), link);
    const env = { ...process.env };
    delete env.TSRUNC_NATIVE_DIR;
    const r = runWith(link, env);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('placed\n');
  });

  it('moved elsewhere: TSRUNC_NATIVE_DIR names the addon, and the programs are the ones beside it', function () {
    const elsewhere = makeTempDir('moved');
    const bin = path.join(elsewhere, 'ts-runc');
    // The launcher and the Bun executable it starts (ts-runc-bun, beside it) move together.
    for (const [from, to] of [[installedBin(), bin], [`${installedBin()}-bun`, `${bin}-bun`]] as const) {
      try {
        linkSync(from, to);
      } catch {
        copyFileSync(from, to);
      }
    }
    const native = makeTempDir('native');
    for (const f of PROGRAMS) copyFileSync(path.join(REPO_ROOT, 'build/Release', f), path.join(native, f));
    const env = { ...process.env, TSRUNC_NATIVE_DIR: native };
    const ok = runWith(bin, env);
    expect(ok.status, ok.stderr).to.equal(0);
    expect(ok.stdout).to.equal('placed\n');

    // Without tsrunc-child there, the run fails naming the one it looked for: no other copy
    // (the checkout's build/Release) stands in.
    rmSync(path.join(native, 'tsrunc-child'));
    const missing = runWith(bin, env);
    expect(missing.status).to.not.equal(0);
    expect(missing.stderr).to.include(path.join(native, 'tsrunc-child'));
  });

  it('the launcher without its Bun executable beside it fails naming the one it looked for', function () {
    const bin = path.join(makeTempDir('lone'), 'ts-runc');
    copyFileSync(installedBin(), bin);
    const r = runWith(bin);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.include(`cannot execute ${bin}-bun`);
  });
});
