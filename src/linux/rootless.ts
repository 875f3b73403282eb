// What running without privileges over the host changes, decided from the runtime's own
// identity as runc decides it (rootless_linux.go, `--rootless auto`):
//
//   euid != 0                    rootless: state under $XDG_RUNTIME_DIR/ts-runc, id maps
//                                through newuidmap/newgidmap, cgroups only where delegated
//   euid 0 in a user namespace   (rootless podman, `unshare -r`) rootless cgroups, except
//                                with --systemd-cgroup under a system-wide systemd
//   euid 0 on the host           not rootless
//
// Nothing here reads a file unless the answer needs it: the start-up path of every command
// goes through stateRoot().
import fs from 'node:fs';
import os from 'node:os';
import { SystemError, UsageError } from '../util/errors.js';

/** /proc/self/uid_map of a process in the initial user namespace. */
const INITIAL_UID_MAP = /^\s*0\s+0\s+4294967295\s*$/;

/** A user namespace other than the host's (runc's userns.RunningInUserNS). */
export function runningInUserNamespace(uidMap = readOr('/proc/self/uid_map', '')): boolean {
  return uidMap.trim() !== '' && !INITIAL_UID_MAP.test(uidMap);
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

/** The host id a namespace id maps to, from a uid_map/gid_map text; null when unmapped. */
export function hostIdOf(id: number, mapText: string): number | null {
  for (const line of mapText.split('\n')) {
    const [inside, outside, size] = line.trim().split(/\s+/).map(Number);
    if (inside === undefined || outside === undefined || size === undefined || Number.isNaN(size)) continue;
    if (id >= inside && id < inside + size) return outside + (id - inside);
  }
  return null;
}

/**
 * The user whose systemd serves a rootless runtime: the uid in the `user@UID.service` (or
 * `user-UID.slice`) of its own cgroup, as sd_bus_creds_get_owner_uid derives it (runc asks
 * `busctl --user status` for the same value). 0 when the runtime is not under a user's
 * systemd (a system-wide systemd inside a user namespace).
 */
export function cgroupOwnerUid(procSelfCgroup = readOr('/proc/self/cgroup', '')): number {
  const unified = /^0::(.*)$/m.exec(procSelfCgroup)?.[1] ?? procSelfCgroup;
  const m = /\/user@(\d+)\.service(?:\/|$)/.exec(unified) ?? /\/user-(\d+)\.slice(?:\/|$)/.exec(unified);
  return m ? Number(m[1]) : 0;
}

/** The uid the host (a user bus's daemon) knows this process by: its euid mapped out of any user namespace. */
export function hostUid(euid = process.geteuid?.() ?? 0, uidMap = readOr('/proc/self/uid_map', '')): number {
  return hostIdOf(euid, uidMap) ?? euid;
}

/** `--rootless` as runc parses it: a Go boolean, or "auto" (the default). */
export function parseRootlessFlag(value: string | undefined): boolean | 'auto' {
  if (value === undefined || value === '' || value === 'auto') return 'auto';
  if (/^(1|t|true)$/i.test(value)) return true;
  if (/^(0|f|false)$/i.test(value)) return false;
  throw new UsageError(`invalid --rootless value "${value}": use true, false or auto`);
}

export interface RootlessFacts {
  euid: number;
  /** Read lazily: only root needs to know. */
  inUserNamespace: () => boolean;
  /** The user of the systemd that would serve --systemd-cgroup (see cgroupOwnerUid). */
  systemdOwnerUid: () => number;
}

let ownUserns: boolean | undefined;
/** This process runs in a user namespace (read once). */
export function runtimeInUserNamespace(): boolean {
  ownUserns ??= runningInUserNamespace();
  return ownUserns;
}

export function hostRootlessFacts(): RootlessFacts {
  return {
    euid: process.geteuid?.() ?? 0,
    inUserNamespace: runtimeInUserNamespace,
    systemdOwnerUid: () => cgroupOwnerUid(),
  };
}

/**
 * runc's shouldUseRootlessCgroupManager: with `--rootless auto`, cgroup permission errors
 * are the runtime's to work around whenever it is not root on the host. Under a user
 * namespace with --systemd-cgroup, the systemd answering decides: a user's (rootless) or
 * a system-wide one running inside the namespace (not rootless).
 */
export function rootlessCgroups(flag: boolean | 'auto', systemdCgroup: boolean, facts: RootlessFacts): boolean {
  if (flag !== 'auto') return flag;
  if (facts.euid !== 0) return true;
  if (!facts.inUserNamespace()) return false;
  return systemdCgroup ? facts.systemdOwnerUid() !== 0 : true;
}

/** The directory for container state, as runc chooses /run/runc or $XDG_RUNTIME_DIR/runc. */
export type StateRoot =
  | { root: string; /** under $XDG_RUNTIME_DIR: made 0700 and sticky (not pruned) */ private: boolean }
  | { error: string };

export const SYSTEM_STATE_ROOT = '/run/ts-runc';

/**
 * The default --root. Root keeps /run/ts-runc (even with XDG_RUNTIME_DIR=/run/user/0, for
 * compatibility, as runc does); anyone else uses $XDG_RUNTIME_DIR/ts-runc, and without it
 * there is no place of theirs for the state: an error naming the fix, when state is needed.
 */
export function stateRoot(env: NodeJS.ProcessEnv, facts: Pick<RootlessFacts, 'euid' | 'inUserNamespace'>): StateRoot {
  const xdg = env.XDG_RUNTIME_DIR ?? '';
  const honourXdg = xdg !== '' && (facts.euid !== 0 || (facts.inUserNamespace() && env.USER !== 'root'));
  if (honourXdg) {
    if (!xdg.startsWith('/')) return { error: `XDG_RUNTIME_DIR must be an absolute path, not "${xdg}": fix it, or pass --root DIR` };
    return { root: `${xdg.replace(/\/+$/, '')}/ts-runc`, private: true };
  }
  if (facts.euid !== 0) {
    return {
      error:
        `rootless: XDG_RUNTIME_DIR is not set, so there is no directory of this user (uid ${facts.euid}) for container state: ` +
        'set it (pam_systemd sets /run/user/$UID on login; or any directory of yours on a tmpfs), or pass --root DIR',
    };
  }
  return { root: SYSTEM_STATE_ROOT, private: false };
}

/**
 * Why the kernel refused this user a new user namespace, and the setting that allows it,
 * from the errno of unshare(CLONE_NEWUSER) and the sysctls that decide it.
 */
export function userNamespaceRefusal(errno: number, read: (file: string) => string | null = (f) => readOr(f, '') || null): string | null {
  const value = (file: string) => read(file)?.trim() ?? null;
  const { ENOSPC, EPERM, EACCES } = os.constants.errno;
  if (errno === ENOSPC) {
    const max = value('/proc/sys/user/max_user_namespaces');
    return max === '0'
      ? 'user namespaces are disabled (user.max_user_namespaces = 0): allow them with `sysctl -w user.max_user_namespaces=15000`'
      : `the limit on user namespaces is reached (user.max_user_namespaces = ${max ?? '?'}): raise it with sysctl, or in a parent user namespace`;
  }
  if (errno !== EPERM && errno !== EACCES) return null;
  if (value('/proc/sys/kernel/unprivileged_userns_clone') === '0') {
    return 'unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0): allow them with `sysctl -w kernel.unprivileged_userns_clone=1`';
  }
  if (value('/proc/sys/kernel/apparmor_restrict_unprivileged_userns') === '1') {
    return (
      'AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1): ' +
      'allow them with `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`, or give ts-runc an AppArmor profile with `userns,`'
    );
  }
  return null;
}

/** Refuse a state root that cannot be had, at the first command that needs one. */
export function requireStateRoot(root: StateRoot): { root: string; private: boolean } {
  if ('error' in root) throw new SystemError(root.error);
  return root;
}
