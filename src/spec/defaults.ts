// The starter config.json written by `spec`: the same document `runc spec` (runc 1.1)
// writes, member for member and in the same order, except that ociVersion names the
// runtime-spec version ts-runc implements. It runs busybox-style images as is
// (`sh` on a terminal) and needs editing for anything else.

import type { Linux, Mount, Spec } from './generated/config.js';

/** The runtime-spec version ts-runc implements and writes. */
export const OCI_VERSION = '1.3.0';

/** A bundle's config (bundle.md); the state directory keeps its snapshot under the same name. */
export const CONFIG_FILE = 'config.json';

export interface DefaultSpecOptions {
  /** Rootless layout (`spec --rootless`): user namespace, no network namespace or device cgroup. */
  rootless: boolean;
  /** Host UID mapped to root in the rootless layout; defaults to the effective UID. */
  uid?: number;
  /** Host GID mapped to root in the rootless layout; defaults to the effective GID. */
  gid?: number;
  /** A cgroup namespace too: runc adds one on a pure cgroup v2 host. */
  cgroupns?: boolean;
}

const CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

const MASKED_PATHS = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/sys/firmware',
  '/proc/scsi',
];

const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

function mounts(rootless: boolean): Mount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc' },
    {
      destination: '/dev',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
    },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      // gid=5 (tty) may not be mapped inside a rootless user namespace.
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', ...(rootless ? [] : ['gid=5'])],
    },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    // Without its own network namespace a rootless container cannot mount a fresh sysfs.
    rootless
      ? { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
      : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
    },
  ];
}

function linux(opts: DefaultSpecOptions): Linux {
  const out = linuxBase(opts);
  if (opts.cgroupns) out.namespaces = [...(out.namespaces ?? []), { type: 'cgroup' }];
  return out;
}

function linuxBase(opts: DefaultSpecOptions): Linux {
  if (opts.rootless) {
    const uid = opts.uid ?? process.geteuid?.() ?? 0;
    const gid = opts.gid ?? process.getegid?.() ?? 0;
    return {
      uidMappings: [{ containerID: 0, hostID: uid, size: 1 }],
      gidMappings: [{ containerID: 0, hostID: gid, size: 1 }],
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'user' }],
      maskedPaths: [...MASKED_PATHS],
      readonlyPaths: [...READONLY_PATHS],
    };
  }
  return {
    resources: { devices: [{ allow: false, access: 'rwm' }] },
    namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
    maskedPaths: [...MASKED_PATHS],
    readonlyPaths: [...READONLY_PATHS],
  };
}

/** A fresh default spec (a new object each call; callers may modify it). */
export function defaultSpec(opts: DefaultSpecOptions): Spec {
  return {
    ociVersion: OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: [...CAPS],
        effective: [...CAPS],
        permitted: [...CAPS],
        ambient: [...CAPS],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts: mounts(opts.rootless),
    linux: linux(opts),
  };
}

/** Serialise a spec the way runc writes config.json: tab indentation, no final newline. */
export function serializeSpec(spec: Spec): string {
  return JSON.stringify(spec, null, '\t');
}
