// The pinned Bun and how ts-runc's executable is compiled with it (scripts/build.mjs; the
// autoload regression test builds a deliberately weakened copy with the same function).
//
// Bun comes from npm as its platform package (@oven/bun-linux-x64, -aarch64: exact
// versions in package.json's optionalDependencies, so `npm ci` installs the one for this
// machine from the lockfile). Not the `bun` package: its postinstall script only copies the
// platform binary into place and would need allowing in npm's allowScripts. The x64 binary
// is the same file as the -baseline package's in 1.4.5 (same checksum), so one package
// serves CPUs with and without AVX2.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const PLATFORM_PACKAGES = { x64: '@oven/bun-linux-x64', arm64: '@oven/bun-linux-aarch64' };

/** The pinned Bun binary for this machine, or null when there is none (another arch, musl). */
export function bunBinary() {
  const pkg = process.platform === 'linux' ? PLATFORM_PACKAGES[process.arch] : undefined;
  if (!pkg) return null;
  try {
    const bin = path.join(path.dirname(require.resolve(`${pkg}/package.json`)), 'bin/bun');
    return existsSync(bin) ? bin : null;
  } catch {
    return null; // optional dependency not installed for this platform
  }
}

/**
 * How much later than usual JavaScriptCore moves code from its interpreter to a JIT tier
 * (a scale on the tier-up thresholds). A command runs for milliseconds: compiling its
 * code costs more than it returns, and the JIT's memory is most of the difference between
 * a command's peak RSS and Bun's own (create: 43 -> 39 MiB). A loop that runs long enough
 * (a terminal relay, `events`) still reaches the JIT.
 */
const JIT_POLICY = 100;

/**
 * Compile `entry` (the esbuild bundle) into a single executable at `outfile`: the Bun
 * runtime with the bundle precompiled to bytecode.
 *
 * A standalone Bun executable by default reads `.env` and `bunfig.toml` from its working
 * directory at start-up: `.env` sets environment variables, and bunfig.toml can preload
 * any script. Engines run the runtime in directories it does not control, so both are off,
 * and so are tsconfig.json and package.json (off by default today), in case that changes.
 * `weakenAutoload` keeps Bun's defaults, for the regression test that shows why.
 */
export function compileExecutable(bun, entry, outfile, { weakenAutoload = false } = {}) {
  const autoload = weakenAutoload
    ? []
    : ['--no-compile-autoload-dotenv', '--no-compile-autoload-bunfig', '--no-compile-autoload-tsconfig', '--no-compile-autoload-package-json'];
  execFileSync(bun, ['build', '--compile', '--bytecode', `--compile-jit-policy=${JIT_POLICY}`, ...autoload, '--outfile', outfile, entry], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** The launcher's source (addon/stub/bun-launcher.c: why it exists is said there). */
const LAUNCHER_SOURCE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../addon/stub/bun-launcher.c');

/** Freestanding and static, as tsrunc-init is built (binding.gyp): no loader, no libc start-up. */
const LAUNCHER_FLAGS = ['-Os', '-static', '-nostdlib', '-fno-stack-protector', '-fno-builtin', '-fno-asynchronous-unwind-tables', '-fno-pie',
  '-fno-tree-loop-distribute-patterns', '-no-pie', '-Wl,--build-id=none', '-Wl,-z,noexecstack', '-s', '-Wall', '-Wextra'];

/**
 * The installed shape of a compiled program: `outfile` is the launcher, which executes
 * `${outfile}-bun` (the Bun executable, compileExecutable) with the JIT off.
 */
export function compileLauncher(outfile) {
  execFileSync(process.env.CC || 'cc', [...LAUNCHER_FLAGS, '-o', outfile, LAUNCHER_SOURCE], { stdio: ['ignore', 'ignore', 'inherit'] });
}
