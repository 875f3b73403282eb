// esbuild plugin: the ahead-of-time JSON Schema validators (src/spec/generated/*-validator.js,
// ~200 KB) go into their own file, dist/ts-runc-validators.cjs, loaded on first use. Only
// the commands that read a config (create, run, exec, update) pay for running them; state,
// start, kill, delete and list never load them. The bundle requires the file by a literal
// relative path: Node resolves it beside the bundle, and Bun's compiler embeds it in the
// executable as a module of its own, precompiled like the rest and run on first require.
import path from 'node:path';

export const VALIDATORS_FILE = 'ts-runc-validators.cjs';
const VALIDATOR = /[\\/]generated[\\/](config|state|features)-validator\.js$/;
const EXPORTS = ['validateConfig', 'validateProcess', 'validateResources', 'validateState', 'validateFeatures'];

/** Source of the separate validators bundle: every generated validator, re-exported. */
export function validatorsEntry(srcDir) {
  const gen = path.join(srcDir, 'spec/generated');
  return ['config', 'state', 'features'].map((n) => `export * from ${JSON.stringify(path.join(gen, `${n}-validator.js`))};`).join('\n');
}

export const lazyValidatorsPlugin = {
  name: 'tsrunc-lazy-validators',
  setup(build) {
    build.onResolve({ filter: /^\.\/ts-runc-validators\.cjs$/ }, (args) => ({ path: args.path, external: true }));
    build.onResolve({ filter: /-validator\.js$/ }, (args) => {
      const full = path.resolve(args.resolveDir, args.path);
      return VALIDATOR.test(full) ? { path: full, namespace: 'tsrunc-lazy-validator' } : undefined;
    });
    build.onLoad({ filter: /.*/, namespace: 'tsrunc-lazy-validator' }, () => ({
      // Each validator is a function whose .errors the caller reads after a call.
      contents: [
        'let m;',
        `const load = () => (m ??= require(${JSON.stringify(`./${VALIDATORS_FILE}`)}));`,
        'function wrap(name) {',
        '  const f = (doc) => { const v = load()[name]; const ok = v(doc); f.errors = v.errors; return ok; };',
        '  f.errors = null;',
        '  return f;',
        '}',
        ...EXPORTS.map((n) => `export const ${n} = wrap(${JSON.stringify(n)});`),
      ].join('\n'),
      loader: 'js',
    }));
  },
};
