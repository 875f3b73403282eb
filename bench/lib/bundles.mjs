// The benchmark's bundles: one busybox root filesystem on tmpfs, shared read-only by every
// container (config.json names it by absolute path), and one small bundle directory per
// container holding only its config.json — so each container can have its own cgroup
// (`/tsrunc-bench-<run>/<id>` in every hierarchy, easy to find and remove) while a
// container costs one file write to prepare.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dockerShapedProfile } from './seccomp-profile.mjs';

const BUSYBOX = '/bin/busybox';

/** Host ids the confined variant maps container root onto (any unused range works as root). */
const ID_MAP = [{ containerID: 0, hostID: 200000, size: 65536 }];

/**
 * Config variants, as edits of the runtime's default (`runc spec`) config:
 *   plain       — the default: pid, network, ipc, uts, mount namespaces; no seccomp.
 *   confined    — every namespace (user with uid/gid mappings, cgroup, time too) and the
 *                 Docker-shaped seccomp profile.
 *   confined-notime — the same without the time namespace (runc 1.1 has no time namespace).
 */
const VARIANTS = {
  plain: () => {},
  confined: (c) => confine(c, true),
  'confined-notime': (c) => confine(c, false),
};

function confine(config, withTime) {
  const have = new Set(config.linux.namespaces.map((n) => n.type));
  for (const type of ['pid', 'network', 'ipc', 'uts', 'mount', 'user', 'cgroup', ...(withTime ? ['time'] : [])]) {
    if (!have.has(type)) config.linux.namespaces.push({ type });
  }
  config.linux.uidMappings = ID_MAP;
  config.linux.gidMappings = ID_MAP;
  config.linux.seccomp = dockerShapedProfile();
}

export class Bundles {
  /**
   * @param {string} dir the run's work dir (on tmpfs)
   * @param {string} cgroupPrefix e.g. "/tsrunc-bench-<run>"
   * @param {{stamp: string}} helpers built helper binaries to put in the root filesystem
   * @param {string[][]} specCommands commands that print a default config in a bundle dir (tried in order)
   */
  constructor(dir, cgroupPrefix, helpers, specCommands) {
    this.dir = dir;
    this.cgroupPrefix = cgroupPrefix;
    this.rootfs = path.join(dir, 'rootfs');
    this.bundlesDir = path.join(dir, 'bundles');
    mkdirSync(this.bundlesDir, { recursive: true });
    populateRootfs(this.rootfs, helpers);
    this.base = defaultConfig(path.join(dir, 'spec'), specCommands);
  }

  /** The config of container `id` running `args` in `variant`. */
  config(id, args, variant = 'plain') {
    const config = structuredClone(this.base);
    // What `runc spec` writes; crun 1.8 refuses any ociVersion but 1.0.x.
    config.ociVersion = '1.0.2-dev';
    config.process.terminal = false;
    config.process.args = args;
    config.root = { path: this.rootfs, readonly: true };
    config.linux.cgroupsPath = `${this.cgroupPrefix}/${id}`;
    const edit = VARIANTS[variant];
    if (!edit) throw new Error(`unknown bundle variant ${variant}`);
    edit(config);
    return config;
  }

  /** Write the bundle of container `id`; returns the bundle directory. */
  make(id, args, variant = 'plain') {
    const dir = path.join(this.bundlesDir, id);
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify(this.config(id, args, variant)));
    return dir;
  }
}

/** The default config, as the first spec command that works writes it. */
function defaultConfig(dir, specCommands) {
  mkdirSync(dir, { recursive: true });
  const problems = [];
  for (const argv of specCommands) {
    try {
      execFileSync(argv[0], [...argv.slice(1), 'spec', '--bundle', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
      return JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
    } catch (err) {
      problems.push(`${argv[0]}: ${String(err.stderr ?? err.message).trim().split('\n')[0]}`);
    }
  }
  throw new Error(`no runtime could write a default config (${problems.join('; ')})`);
}

/**
 * A busybox root filesystem: a private copy of the static busybox with a symlink per applet,
 * /stamp (the start-latency program), passwd and group, and the usual empty directories.
 * Everything world-readable and traversable, so a container whose root is mapped to an
 * unprivileged host id can use it.
 */
function populateRootfs(rootfs, helpers) {
  for (const sub of ['bin', 'etc', 'tmp', 'proc', 'dev', 'sys', 'root', 'run']) mkdirSync(path.join(rootfs, sub), { recursive: true });
  chmodSync(path.join(rootfs, 'tmp'), 0o1777);
  copyFileSync(BUSYBOX, path.join(rootfs, 'bin/busybox'));
  chmodSync(path.join(rootfs, 'bin/busybox'), 0o755);
  for (const applet of execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n')) {
    if (applet && applet !== 'busybox' && !applet.includes('/')) symlinkSync('busybox', path.join(rootfs, 'bin', applet));
  }
  copyFileSync(helpers.stamp, path.join(rootfs, 'stamp'));
  chmodSync(path.join(rootfs, 'stamp'), 0o755);
  writeFileSync(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  writeFileSync(path.join(rootfs, 'etc/group'), 'root:x:0:\nnobody:x:65534:\n');
}
