// esbuild plugin: CRIU's RPC codec (src/criu/codec.ts with protobufjs and the message
// schema) goes into its own file, dist/ts-runc-criu.cjs, loaded on first use. Only
// checkpoint and restore load it; no other command reads or compiles a byte of protobufjs.
import path from 'node:path';

export const CRIU_CODEC_FILE = 'ts-runc-criu.cjs';
const CODEC = /[\\/]src[\\/]criu[\\/]codec\.(js|ts)$/;
const EXPORTS = ['encodeRequest', 'decodeResponse'];

/** Entry point of the separate bundle. */
export function criuCodecEntry(srcDir) {
  return path.join(srcDir, 'criu/codec.ts');
}

export const lazyCriuCodecPlugin = {
  name: 'tsrunc-lazy-criu-codec',
  setup(build) {
    build.onResolve({ filter: /codec\.js$/ }, (args) => {
      const full = path.resolve(args.resolveDir, args.path);
      return CODEC.test(full) ? { path: full, namespace: 'tsrunc-lazy-criu' } : undefined;
    });
    build.onLoad({ filter: /.*/, namespace: 'tsrunc-lazy-criu' }, () => ({
      // Beside the running bundle: dist/ for the bundle Node runs (__dirname), and for the Bun
      // executable the directory of its real path, as src/native/addon.ts finds build/ (in a
      // Bun executable __dirname is where the bundle was when it was compiled).
      contents: [
        "import path from 'node:path';",
        'let m;',
        'const dir = () => (globalThis.Bun?.isStandaloneExecutable ? path.dirname(process.execPath) : __dirname);',
        `const load = () => (m ??= require(path.join(dir(), ${JSON.stringify(CRIU_CODEC_FILE)})));`,
        ...EXPORTS.map((n) => `export const ${n} = (...args) => load().${n}(...args);`),
      ].join('\n'),
      loader: 'js',
    }));
  },
};
