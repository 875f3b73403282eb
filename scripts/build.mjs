#!/usr/bin/env node
// Build pipeline: schema artifacts (types + standalone validators), the plan protocol
// (scripts/gen-protocol.mjs) and CRIU's RPC schema -> type check -> bundle (esbuild) ->
// executable (Bun). One bundled CommonJS file keeps start-up fast: the runtime loads a
// single file instead of resolving a module graph on every invocation.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const run = (cmd, argv) => execFileSync(cmd, argv, { cwd: root, stdio: 'inherit' });
/** Weakening classes for the regression tests' builds (test/integration/cve/weak-build.ts). */
const weaken = new Set((process.env.TSRUNC_BUILD_WEAKEN ?? '').split(',').filter(Boolean));

run(process.execPath, [path.join(root, 'scripts/gen-schema-artifacts.mjs')]);
run(process.execPath, [path.join(root, 'scripts/gen-protocol.mjs')]);
run(process.execPath, [path.join(root, 'scripts/gen-criu-rpc.mjs')]);
if (!args.has('--no-typecheck')) {
  run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', '.']);
}
const esbuild = await import('esbuild');
const { builtinsPlugin } = await import('./esbuild-builtins.mjs');
const { lazyValidatorsPlugin, validatorsEntry, VALIDATORS_FILE } = await import('./esbuild-lazy-validators.mjs');
const { lazyCriuCodecPlugin, criuCodecEntry, CRIU_CODEC_FILE } = await import('./esbuild-lazy-criu.mjs');
const { lazyModulePlugin } = await import('./esbuild-lazy-module.mjs');
/** The D-Bus wire format (the D-Bus library): only the systemd cgroup driver loads it. */
const dbusWire = { file: 'ts-runc-systemd.cjs', source: 'linux/systemd/dbus-wire.ts', exports: ['encodeMessage', 'messageDecoder'] };
const { bunBinary, compileExecutable, compileLauncher } = await import('./bun.mjs');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
} catch {
  // not a git checkout
}
rmSync(path.join(root, 'dist'), { recursive: true, force: true }); // nothing of an older build's layout stays
/** What every bundle shares: one CommonJS file for Node, minified. */
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
};
await esbuild.build({
  ...common,
  entryPoints: { 'ts-runc-main': path.join(root, 'src/cli/main.ts') },
  outdir: path.join(root, 'dist'),
  outExtension: { '.js': '.cjs' },
  sourcemap: 'linked',
  define: {
    __TSRUNC_VERSION__: JSON.stringify(pkg.version),
    __TSRUNC_COMMIT__: JSON.stringify(commit),
    // Test builds only (src/util/weaken.ts): false in every normal build.
    __TSRUNC_WEAKEN_CONFIG__: JSON.stringify(weaken.has('config')),
  },
  logOverride: { 'empty-import-meta': 'silent' },
  plugins: [builtinsPlugin(path.join(root, 'src')), lazyValidatorsPlugin, lazyCriuCodecPlugin, lazyModulePlugin(dbusWire)],
});
// The validators, as their own file (see scripts/esbuild-lazy-validators.mjs).
await esbuild.build({
  ...common,
  stdin: { contents: validatorsEntry(path.join(root, 'src')), resolveDir: root, loader: 'js', sourcefile: 'validators-entry.js' },
  outfile: path.join(root, 'dist', VALIDATORS_FILE),
});
// The D-Bus wire format with the D-Bus library, as its own file (scripts/esbuild-lazy-module.mjs).
await esbuild.build({
  ...common,
  entryPoints: [path.join(root, 'src', dbusWire.source)],
  outfile: path.join(root, 'dist', dbusWire.file),
});
// CRIU's RPC codec with protobufjs, as its own file: only checkpoint and restore load it
// (see scripts/esbuild-lazy-criu.mjs).
await esbuild.build({
  ...common,
  entryPoints: [criuCodecEntry(path.join(root, 'src'))],
  outfile: path.join(root, 'dist', CRIU_CODEC_FILE),
});

// The manual pages (dist/man/*.8) and the bash completion (dist/completion/ts-runc), made
// from the command table like the help (src/cli/docs.ts); scripts/install-docs.sh installs them.
{
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsrunc-docs-'));
  try {
    const script = path.join(dir, 'gen-docs.cjs');
    await esbuild.build({
      ...common,
      stdin: {
        contents: `import { writeDocs } from ${JSON.stringify(path.join(root, 'src/cli/docs.ts'))};\nwriteDocs(process.argv[2]);`,
        resolveDir: root,
        loader: 'ts',
        sourcefile: 'gen-docs-entry.ts',
      },
      outfile: script,
      define: { __TSRUNC_VERSION__: JSON.stringify(pkg.version), __TSRUNC_COMMIT__: JSON.stringify(commit) },
      logOverride: { 'empty-import-meta': 'silent' },
    });
    run(process.execPath, [script, path.join(root, 'dist')]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The executable, dist/ts-runc-bun: the bundle compiled by the pinned Bun into one file with
// its bytecode (see scripts/bun.mjs, and docs/performance.md for why this beats Node and
// `bun` running the bundle), started by dist/ts-runc, a small static launcher that turns
// JavaScriptCore's JIT off (addon/stub/bun-launcher.c). Node still runs the same bundle:
// `node dist/ts-runc-main.cjs`.
const bun = bunBinary();
if (!bun) {
  throw new Error(`no pinned Bun for ${process.platform}-${process.arch} (the optional dependency @oven/bun-linux-x64 or @oven/bun-linux-aarch64; glibc only): run \`node dist/ts-runc-main.cjs\` instead`);
}
compileExecutable(bun, path.join(root, 'dist/ts-runc-main.cjs'), path.join(root, 'dist/ts-runc-bun'));
compileLauncher(path.join(root, 'dist/ts-runc'));

if (!existsSync(path.join(root, 'build/Release/tsrunc.node'))) {
  console.warn('note: the native addon is not built yet; run `npm run build:addon`');
}
