#!/usr/bin/env node
// Make a busybox OCI bundle, with the same root filesystem and base config as the tests'
// bundles (test/helpers/bundle.ts, loaded through tsx).
//
//   node scripts/make-sample-bundle.mjs DIR [ARG...]
//
// DIR is replaced if it exists. The container runs ARG... (default: echo "hello from ts-runc"),
// with terminal false and no cgroupsPath (the runtime's default cgroup).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { register } from 'tsx/esm/api';

register();
const { baseConfig, populateRootfs } = await import('../test/helpers/bundle.ts');
const { safeRemove } = await import('../test/helpers/context.ts');

const [dirArg, ...args] = process.argv.slice(2);
if (!dirArg) {
  console.error('usage: node scripts/make-sample-bundle.mjs DIR [ARG...]');
  process.exit(2);
}
const dir = path.resolve(dirArg);
safeRemove(dir);
mkdirSync(path.join(dir, 'rootfs'), { recursive: true, mode: 0o755 });
populateRootfs(path.join(dir, 'rootfs'));
const config = baseConfig();
config.process.args = args.length ? args : ['echo', 'hello from ts-runc'];
writeFileSync(path.join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
console.log(`bundle ready: ${dir} (runs: ${config.process.args.join(' ')})`);
