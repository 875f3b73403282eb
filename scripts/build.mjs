#!/usr/bin/env node
// Build pipeline: schema artifacts (types + standalone validators) -> type check -> bundle.
// One bundled CommonJS file per entry point keeps start-up fast: Node reads and compiles a
// single file instead of resolving a module graph on every runtime invocation.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const run = (cmd, argv) => execFileSync(cmd, argv, { cwd: root, stdio: 'inherit' });

run(process.execPath, [path.join(root, 'scripts/gen-schema-artifacts.mjs')]);
if (!args.has('--no-typecheck')) {
  run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', '.']);
}
const esbuild = await import('esbuild');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
} catch {
  // not a git checkout
}
await esbuild.build({
  entryPoints: { 'ts-runc': path.join(root, 'src/cli/main.ts') },
  outdir: path.join(root, 'dist'),
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  sourcemap: 'linked',
  legalComments: 'none',
  banner: { js: '#!/usr/bin/env node' },
  define: { __TSRUNC_VERSION__: JSON.stringify(pkg.version), __TSRUNC_COMMIT__: JSON.stringify(commit) },
  logOverride: { 'empty-import-meta': 'silent' },
  logLevel: 'warning',
});
chmodSync(path.join(root, 'dist/ts-runc.cjs'), 0o755);
if (!existsSync(path.join(root, 'build/Release/tsrunc.node'))) {
  console.warn('note: the native addon is not built yet; run `npm run build:addon`');
}
