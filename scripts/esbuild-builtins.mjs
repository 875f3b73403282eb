// esbuild plugin: how the bundle reaches Node's built-in modules.
//
// Start-up time matters (every runtime operation is a new process), and two things esbuild
// does by default cost milliseconds before any of our code runs:
//   - `import fs from 'node:fs'` compiles to `__toESM(require("node:fs"))` at every import
//     site, each copying every property of the module (31 copies of fs in our bundle);
//   - every built-in any module imports is loaded when the bundle starts, though most
//     commands never touch child_process, tty, net (via tty), v8, os...
// So each built-in becomes one small ESM module inside the bundle: the cheap, always-used
// ones (EAGER) are required once and re-exported as they are; the rest load on first use,
// behind a proxy for the default export and wrapper functions for named ones.
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const EAGER = new Set(['node:fs', 'node:path']);
const IDENT = /^[A-Za-z_$][\w$]*$/;

/** Names the sources import by name from each built-in (`import { spawnSync } from ...`). */
function namedImports(dir) {
  const found = new Map();
  const visit = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) visit(p);
      else if (p.endsWith('.ts')) {
        for (const m of readFileSync(p, 'utf8').matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'(node:[^']+)'/g)) {
          const names = found.get(m[2]) ?? new Set();
          for (const n of m[1].split(',')) {
            const name = n.trim().split(/\s+as\s+/)[0]?.trim();
            if (name && !name.startsWith('type ')) names.add(name);
          }
          found.set(m[2], names);
        }
      }
    }
  };
  visit(dir);
  return found;
}

function moduleSource(spec, wanted) {
  const real = require(spec);
  const names = Object.keys(real).filter((n) => n !== 'default' && IDENT.test(n) && wanted.has(n));
  const req = `require(${JSON.stringify(spec)})`;
  if (EAGER.has(spec)) {
    // Only plain data properties: a getter (fs.promises) must stay lazy.
    const plain = names.filter((n) => 'value' in (Object.getOwnPropertyDescriptor(real, n) ?? {}));
    return [`const m = ${req};`, 'export default m;', ...plain.map((n) => `export const ${n} = m.${n};`)].join('\n');
  }
  const fns = names.filter((n) => typeof (Object.getOwnPropertyDescriptor(real, n) ?? {}).value === 'function');
  return [
    'let m;',
    `const load = () => (m ??= ${req});`,
    'export default new Proxy({}, {',
    '  get: (_t, k) => load()[k],',
    '  has: (_t, k) => k in load(),',
    '  ownKeys: () => Reflect.ownKeys(load()),',
    '  getOwnPropertyDescriptor: (_t, k) => Object.getOwnPropertyDescriptor(load(), k),',
    '});',
    ...fns.map((n) => `export function ${n}(...a) { return load().${n}(...a); }`),
  ].join('\n');
}

export const builtinsPlugin = (srcDir) => ({
  name: 'tsrunc-builtins',
  setup(build) {
    const imports = namedImports(srcDir);
    build.onResolve({ filter: /^node:/ }, (args) =>
      args.namespace === 'tsrunc-builtin' ? { path: args.path, external: true } : { path: args.path, namespace: 'tsrunc-builtin' },
    );
    build.onLoad({ filter: /.*/, namespace: 'tsrunc-builtin' }, (args) => ({
      contents: moduleSource(args.path, imports.get(args.path) ?? new Set()),
      loader: 'js',
    }));
  },
});
