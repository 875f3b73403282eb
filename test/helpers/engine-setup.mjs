// Engine set-up that the engine tests (test/engines/) and the benchmark (bench/lib/engines.mjs)
// share: the private config files of a containerd and a podman whose state all lives in one
// directory, and the removal of what engines leave behind (processes, cgroups). Plain JavaScript so that
// the benchmark (plain node) and the tests (tsx, types in engine-setup.d.mts) load the same
// file.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Write `<dir>/config.toml` for a containerd with its root, state, opt dir and sockets under
 * `dir` (gRPC on `sock`, ttrpc on `<sock>.ttrpc`); returns the file's path. CRI is off unless
 * `criLines` are given: then the CRI plugin is on, configured by those lines (TOML).
 */
export function writeContainerdConfig(dir, sock, criLines = undefined) {
  const config = path.join(dir, 'config.toml');
  writeFileSync(
    config,
    [
      'version = 2',
      `root = "${path.join(dir, 'root')}"`,
      `state = "${path.join(dir, 'state')}"`,
      ...(criLines ? [] : ['disabled_plugins = ["io.containerd.grpc.v1.cri"]']),
      '[grpc]',
      `  address = "${sock}"`,
      '[ttrpc]',
      `  address = "${sock}.ttrpc"`,
      '[debug]',
      `  address = "${path.join(dir, 'debug.sock')}"`,
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = "${path.join(dir, 'opt')}"`,
      ...(criLines ?? []),
      '',
    ].join('\n'),
  );
  return config;
}

/**
 * Write podman's containers.conf, registries.conf and storage.conf under `<dir>/conf` (storage
 * in `<dir>/storage`, run root `<dir>/run`, cgroupfs manager, no registries to search, and
 * `engineLines` added to [engine]); returns the environment variables that point podman at them.
 */
export function writePodmanConfig(dir, engineLines) {
  const conf = path.join(dir, 'conf');
  mkdirSync(conf, { recursive: true });
  const env = {
    CONTAINERS_CONF: path.join(conf, 'containers.conf'),
    CONTAINERS_REGISTRIES_CONF: path.join(conf, 'registries.conf'),
    CONTAINERS_STORAGE_CONF: path.join(conf, 'storage.conf'),
  };
  // This machine's hard nofile limit is 20000 and the bounding set lacks CAP_SYS_RESOURCE:
  // podman's default (1048576) could never be set, so ask for what can be.
  writeFileSync(
    env.CONTAINERS_CONF,
    [
      '[containers]',
      'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      ...engineLines,
      '',
    ].join('\n'),
  );
  writeFileSync(env.CONTAINERS_REGISTRIES_CONF, 'unqualified-search-registries = []\n');
  writeFileSync(
    env.CONTAINERS_STORAGE_CONF,
    `[storage]\ndriver = "overlay"\ngraphroot = "${path.join(dir, 'storage')}"\nrunroot = "${path.join(dir, 'run')}"\n`,
  );
  return env;
}

/**
 * Remove the cgroup `rel` and the empty cgroups below it (deepest first) under each of the
 * hierarchies mounted at `mounts`: the parents engines make for their containers
 * (/libpod_parent, /docker, /<namespace>) and leave behind. A cgroup that still has
 * processes (someone else's) stays.
 */
export function removeEmptyCgroupTree(mounts, rel) {
  for (const mp of mounts) {
    const top = path.join(mp, rel);
    if (!existsSync(top)) continue;
    const dirs = [];
    const walk = (d) => {
      dirs.push(d);
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
    };
    walk(top);
    for (const d of dirs.reverse()) {
      try {
        rmdirSync(d);
      } catch {
        // busy: processes still there
      }
    }
  }
}

/** Live (not zombie) processes other than this one: [pid, comm, cmdline] for each. */
export function processes() {
  const out = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3))) continue;
      out.push([Number(entry), readFileSync(`/proc/${entry}/comm`, 'utf8').trim(), readFileSync(`/proc/${entry}/cmdline`, 'utf8')]);
    } catch {
      // gone
    }
  }
  return out;
}

/**
 * SIGKILL the processes whose command line names `dir` — what an engine leaves running when
 * it is stopped with containers still up: shims, conmon, podman's cleanups — and wait (up to
 * a second) until they are gone.
 */
export function killProcessesNaming(dir) {
  const ours = () => processes().filter(([, , cmdline]) => cmdline.split('\0').some((a) => a.includes(dir)));
  for (let i = 0; i < 50; i++) {
    const left = ours();
    if (left.length === 0) return;
    for (const [pid] of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    sleep(20);
  }
}
