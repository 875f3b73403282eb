/**
 * Throwaway OCI bundles for tests: a busybox root filesystem plus a `config.json`.
 *
 *   const b = makeBundle({ args: ['echo', 'hi'] });
 *   rtOk(['run', '--bundle', b.dir, uniqueId()]);
 *   b.cleanup();            // optional: bundles made in a test are removed after it anyway
 *
 * The root filesystem is built once per test run (a template) and copied per bundle, so a
 * bundle costs a few milliseconds. `populateRootfs` and `baseConfig` are also used by
 * scripts/make-sample-bundle.mjs.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { defaultSpec } from '../../src/spec/defaults.js';
import { makeTempDir, mountsUnder, safeRemove, testCgroupPath, uniqueName } from './context.js';

/** The static busybox the root filesystems are made from (Debian's busybox-static). */
export const BUSYBOX = '/bin/busybox';

/**
 * The parts of an OCI runtime config that tests touch, loosely typed: tests deliberately
 * write odd and invalid values too, so nothing here is closed.
 */
export interface OciConfig {
  ociVersion: string;
  process?: {
    terminal?: boolean;
    user?: { uid: number; gid: number; umask?: number; additionalGids?: number[] };
    args?: string[];
    env?: string[];
    cwd?: string;
    capabilities?: Record<string, string[]>;
    rlimits?: { type: string; hard: number; soft: number }[];
    noNewPrivileges?: boolean;
    [key: string]: unknown;
  };
  root?: { path: string; readonly?: boolean };
  hostname?: string;
  mounts?: { destination: string; type?: string; source?: string; options?: string[] }[];
  hooks?: Record<string, { path: string; args?: string[]; env?: string[]; timeout?: number }[]>;
  annotations?: Record<string, string>;
  /** Wide and poked at everywhere by tests, so left open. */
  linux?: Record<string, any>;
  [key: string]: unknown;
}

/**
 * A fresh copy of the config `runc spec` writes (src/spec/defaults.ts, which the `spec`
 * command's tests hold to runc's output), except `terminal: false`; args stay ["sh"].
 * No cgroupsPath, a read-only rootfs, pid/network/ipc/uts/mount namespaces.
 */
export function baseConfig(): OciConfig {
  const config = defaultSpec({ rootless: false }) as OciConfig;
  config.process!.terminal = false;
  return config;
}

/**
 * Fill `dir` (which must exist) with a busybox root filesystem: a private COPY of
 * /bin/busybox (never a hard link: a container could write through it to the host binary),
 * a symlink in /bin for every applet, /etc/passwd and /etc/group with root and nobody
 * (65534), and the empty directories /tmp (1777), /root (0700), /proc, /dev, /sys.
 */
export function populateRootfs(dir: string): void {
  for (const sub of ['bin', 'etc', 'tmp', 'proc', 'dev', 'sys', 'root']) mkdirSync(path.join(dir, sub), { recursive: true });
  chmodSync(path.join(dir, 'tmp'), 0o1777);
  chmodSync(path.join(dir, 'root'), 0o700);
  const busybox = path.join(dir, 'bin/busybox');
  copyFileSync(BUSYBOX, busybox);
  chmodSync(busybox, 0o755);
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n');
  for (const applet of applets) {
    if (applet && applet !== 'busybox' && !applet.includes('/')) symlinkSync('busybox', path.join(dir, 'bin', applet));
  }
  writeFileSync(
    path.join(dir, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  );
  writeFileSync(path.join(dir, 'etc/group'), 'root:x:0:\nnobody:x:65534:\n');
}

let template: string | undefined;
/** The run's template root filesystem, built on first use. */
function templateRootfs(): string {
  if (!template) {
    const rootfs = path.join(makeTempDir('template', { runScoped: true }), 'rootfs');
    mkdirSync(rootfs, { mode: 0o755 });
    populateRootfs(rootfs);
    template = rootfs;
  }
  return template;
}

export interface BundleOptions {
  /** process.args (default ["sh"]). */
  args?: string[];
  /** process.env (default: runc spec's PATH and TERM). */
  env?: string[];
  /** process.terminal (default false). */
  terminal?: boolean;
  /**
   * linux.cgroupsPath. Default: a unique path under the run's test prefix
   * (`/tsrunc-test-<runId>/<name>`) so the leak checker can see it; `null` leaves it out.
   */
  cgroupsPath?: string | null;
  /** Last word on the config, called before config.json is written. */
  mutate?: (config: OciConfig) => void;
}

export interface Bundle {
  /** The bundle directory (pass it as `--bundle`). */
  dir: string;
  /** `<dir>/rootfs`. */
  rootfs: string;
  /** `<dir>/config.json`. */
  configPath: string;
  /** The config as last written to config.json. */
  config: OciConfig;
  /** Apply `mutator` (if any) to `config` and write config.json again. */
  writeConfig(mutator?: (config: OciConfig) => void): void;
  /**
   * Remove the bundle. Mounts left inside it (a runtime bug) are detached, never deleted
   * through, and reported by throwing after the removal.
   */
  cleanup(): void;
}

/** Create a throwaway bundle in a fresh temp dir (see BundleOptions for the defaults). */
export function makeBundle(opts: BundleOptions = {}): Bundle {
  const dir = makeTempDir('bundle');
  const rootfs = path.join(dir, 'rootfs');
  const configPath = path.join(dir, 'config.json');
  cpSync(templateRootfs(), rootfs, { recursive: true, verbatimSymlinks: true });

  const config = baseConfig();
  const proc = config.process!;
  if (opts.args) proc.args = [...opts.args];
  if (opts.env) proc.env = [...opts.env];
  if (opts.terminal !== undefined) proc.terminal = opts.terminal;
  const cgroupsPath = opts.cgroupsPath === undefined ? testCgroupPath(uniqueName('cg')) : opts.cgroupsPath;
  if (cgroupsPath !== null) config.linux!.cgroupsPath = cgroupsPath;
  opts.mutate?.(config);

  const bundle: Bundle = {
    dir,
    rootfs,
    configPath,
    config,
    writeConfig(mutator) {
      mutator?.(bundle.config);
      writeFileSync(configPath, `${JSON.stringify(bundle.config, null, 2)}\n`);
    },
    cleanup() {
      const leaked = mountsUnder(dir);
      safeRemove(dir);
      if (leaked.length > 0) throw new Error(`bundle ${dir} still had mounts (detached): ${leaked.join(', ')}`);
    },
  };
  bundle.writeConfig();
  return bundle;
}

/**
 * A bundle with the config `spec --rootless` writes for the user `ids` (root mapped to its
 * own uid and gid), no cgroupsPath, terminal off, running `args`; `mutate` has the last word.
 */
export function makeRootlessBundle(ids: { uid: number; gid: number }, args: string[], mutate?: (c: OciConfig) => void): Bundle {
  const spec = defaultSpec({ rootless: true, uid: ids.uid, gid: ids.gid }) as OciConfig;
  return makeBundle({
    cgroupsPath: null,
    mutate: (c) => {
      c.mounts = spec.mounts;
      c.linux = spec.linux;
      c.process!.args = args;
      mutate?.(c);
    },
  });
}
