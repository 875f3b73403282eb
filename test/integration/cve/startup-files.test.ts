// Files in the working directory must not configure the runtime. Engines start ts-runc in
// directories it does not control (a bundle, a shim's work dir), and a standalone Bun
// executable by default reads `.env` (environment variables) and `bunfig.toml` (which can
// preload any script, as root) from its working directory at start-up. The wall: the
// executable is compiled with every start-up autoload off (scripts/bun.mjs).
//
// Weakened build: TSRUNC_WEAKEN=autoload compiles the same bundle with Bun's defaults.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bunBinary, compileExecutable } from '../../../scripts/bun.mjs';
import { REPO_ROOT, makeTempDir } from '../../helpers/context.js';
import { installedBin, runtimeBin } from '../../helpers/runtime.js';
import { requestedWeakening } from './weak-build.js';

describe('start-up files in the working directory (.env, bunfig.toml)', function () {
  this.timeout(120_000);
  let bin: string;
  let env: NodeJS.ProcessEnv = process.env;

  before(function () {
    bin = runtimeBin();
    if (!requestedWeakening().includes('autoload')) return;
    const bun = bunBinary();
    if (!bun) this.skip();
    const dir = makeTempDir('weak-autoload');
    bin = path.join(dir, 'ts-runc');
    compileExecutable(bun!, path.join(path.dirname(installedBin()), 'ts-runc-main.cjs'), bin, { weakenAutoload: true });
    env = { ...process.env, TSRUNC_NATIVE_DIR: path.join(REPO_ROOT, 'build/Release') };
    console.log(`      (weakened executable: Bun's start-up autoloads on -> ${bin})`);
  });

  /** `list` run with `cwd` as its working directory. */
  function listIn(cwd: string) {
    const r = spawnSync(bin, ['--root', makeTempDir('root'), 'list'], { cwd, env, encoding: 'utf8', timeout: 30_000 });
    expect(r.status, `${r.stderr}`).to.equal(0);
    return r;
  }

  it('a .env file there sets nothing in the runtime (TSRUNC_TRACE=1 in it prints no trace)', function () {
    const cwd = makeTempDir('dotenv');
    writeFileSync(path.join(cwd, '.env'), 'TSRUNC_TRACE=1\n');
    const r = listIn(cwd);
    expect(r.stdout).to.match(/^ID\s+PID\s+STATUS/);
    expect(r.stderr, 'trace lines on stderr: the .env was loaded').to.not.match(/ ms .*main$/m);
  });

  it('a bunfig.toml there preloads nothing', function () {
    const cwd = makeTempDir('bunfig');
    const marker = path.join(cwd, 'preloaded');
    writeFileSync(path.join(cwd, 'preload.js'), `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`);
    writeFileSync(path.join(cwd, 'bunfig.toml'), 'preload = ["./preload.js"]\n');
    listIn(cwd);
    expect(existsSync(marker), 'the preload script ran').to.equal(false);
  });
});
