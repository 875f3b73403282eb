#!/usr/bin/env node
// Build pipeline: schema artifacts (types + standalone validators) and the plan protocol
// (scripts/gen-protocol.mjs) -> type check -> bundle.
// One bundled CommonJS file per entry point keeps start-up fast: Node reads and compiles a
// single file instead of resolving a module graph on every runtime invocation.
import { execFileSync } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const run = (cmd, argv) => execFileSync(cmd, argv, { cwd: root, stdio: 'inherit' });

run(process.execPath, [path.join(root, 'scripts/gen-schema-artifacts.mjs')]);
run(process.execPath, [path.join(root, 'scripts/gen-protocol.mjs')]);
if (!args.has('--no-typecheck')) {
  run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', '.']);
}
const esbuild = await import('esbuild');
const { builtinsPlugin } = await import('./esbuild-builtins.mjs');
const { lazyValidatorsPlugin, validatorsEntry, VALIDATORS_FILE } = await import('./esbuild-lazy-validators.mjs');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
} catch {
  // not a git checkout
}
await esbuild.build({
  entryPoints: { 'ts-runc-main': path.join(root, 'src/cli/main.ts') },
  outdir: path.join(root, 'dist'),
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  legalComments: 'none',
  define: { __TSRUNC_VERSION__: JSON.stringify(pkg.version), __TSRUNC_COMMIT__: JSON.stringify(commit) },
  logOverride: { 'empty-import-meta': 'silent' },
  logLevel: 'warning',
  plugins: [builtinsPlugin(path.join(root, 'src')), lazyValidatorsPlugin],
});
// The validators, as their own file (see scripts/esbuild-lazy-validators.mjs).
await esbuild.build({
  stdin: { contents: validatorsEntry(path.join(root, 'src')), resolveDir: root, loader: 'js', sourcefile: 'validators-entry.js' },
  outfile: path.join(root, 'dist', VALIDATORS_FILE),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
});

// The executable: a small loader (scripts/bin-loader.cjs) that runs the bundles from V8
// code caches. The shebang names this node by absolute path (engines may run the runtime
// with a minimal PATH) and drops NODE_EXTRA_CA_CERTS (see the loader's comment).
const bin = path.join(root, 'dist/ts-runc.cjs');
const shebang = `#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS ${process.execPath}\n`;
writeFileSync(bin, shebang + readFileSync(path.join(root, 'scripts/bin-loader.cjs'), 'utf8'));
chmodSync(bin, 0o755);

// Code caches: V8 caches only what it compiled, so run the CLI through the paths commands
// take and let the loader write the cache at each exit (each run starts from the last
// cache, so it accumulates). As root with the addon built, that is a real throwaway
// container's lifecycle (run; create, state, start, delete; create, delete --force) whose
// program is a copy of tsrunc-init that exits at once; otherwise argument parsing, `list`
// and config validation (a create that stops at the missing rootfs).
const scratch = mkdtempSync(path.join(os.tmpdir(), 'tsrunc-build-'));
try {
  for (const f of ['ts-runc-main.cjs.light.cache', 'ts-runc-main.cjs.full.cache', `${VALIDATORS_FILE}.cache`]) {
    rmSync(path.join(root, 'dist', f), { force: true });
  }
  const env = { ...process.env, TSRUNC_WRITE_CODE_CACHE: '1' };
  const runCli = (args) => spawnSync(process.execPath, [bin, '--root', path.join(scratch, 'root'), ...args], { env, stdio: 'ignore' });
  runCli(['list']);
  runCli(['spec', '--bundle', scratch]);
  runCli(['create', '--bundle', scratch, 'code-cache']);
  const stub = path.join(root, 'build/Release/tsrunc-init');
  if (process.getuid?.() === 0 && existsSync(stub) && existsSync(path.join(root, 'build/Release/tsrunc.node'))) {
    mkdirSync(path.join(scratch, 'rootfs'));
    copyFileSync(stub, path.join(scratch, 'rootfs/init'));
    chmodSync(path.join(scratch, 'rootfs/init'), 0o755);
    const config = JSON.parse(readFileSync(path.join(scratch, 'config.json'), 'utf8'));
    config.process.terminal = false;
    config.process.args = ['/init', '-1', '/nonexistent', 'x'];
    writeFileSync(path.join(scratch, 'config.json'), JSON.stringify(config));
    const id = `code-cache-${process.pid}`;
    runCli(['run', '--bundle', scratch, `${id}-run`]);
    runCli(['create', '--bundle', scratch, id]);
    runCli(['state', id]);
    runCli(['start', id]);
    runCli(['delete', '--force', id]);
    runCli(['create', '--bundle', scratch, id]);
    runCli(['kill', id, 'KILL']);
    runCli(['delete', '--force', id]);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

if (!existsSync(path.join(root, 'build/Release/tsrunc.node'))) {
  console.warn('note: the native addon is not built yet; run `npm run build:addon`');
}
