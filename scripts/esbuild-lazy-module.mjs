// esbuild plugin factory: a module of the sources (and the libraries it imports) goes into
// its own bundle, dist/<file>, that the main bundle requires on the first call of one of its
// exported functions. Commands that never call it never load it. As with the validators
// (esbuild-lazy-validators.mjs), the require is by a literal relative path: Node resolves it
// beside the bundle, and Bun's compiler embeds it in the executable, precompiled, run on
// first require.
import path from 'node:path';

/**
 * @param {{ file: string, source: string, exports: string[] }} opts
 *   file: the separate bundle's name in dist/; source: the module's path below src/
 *   (e.g. "linux/systemd/dbus-wire.ts"); exports: its exported functions.
 */
export function lazyModulePlugin({ file, source, exports }) {
  const stem = path.basename(source).replace(/\.ts$/, '');
  const tail = source.replace(/\.ts$/, '').split('/');
  const isSource = (full) => {
    const parts = full.replace(/\.(js|ts)$/, '').split(path.sep);
    return tail.every((p, i) => parts[parts.length - tail.length + i] === p) && parts.at(-tail.length - 1) === 'src';
  };
  const namespace = `tsrunc-lazy-${stem}`;
  return {
    name: namespace,
    setup(build) {
      build.onResolve({ filter: new RegExp(`^\\./${file.replace(/[.]/g, '\\.')}$`) }, (args) => ({ path: args.path, external: true }));
      build.onResolve({ filter: new RegExp(`[\\\\/]${stem}\\.(js|ts)$`) }, (args) => {
        const full = path.resolve(args.resolveDir, args.path);
        return isSource(full) ? { path: full, namespace } : undefined;
      });
      build.onLoad({ filter: /.*/, namespace }, () => ({
        contents: [
          'let m;',
          `const load = () => (m ??= require(${JSON.stringify(`./${file}`)}));`,
          ...exports.map((n) => `export const ${n} = (...args) => load().${n}(...args);`),
        ].join('\n'),
        loader: 'js',
      }));
    },
  };
}
