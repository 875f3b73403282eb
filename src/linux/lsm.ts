// Linux security modules: is AppArmor / SELinux there to apply what the config asks for,
// and SELinux mount labels (linux.mountLabel) on the file systems the runtime mounts.
// Labels themselves are written by the child (addon/child/process.cc).
import fs from 'node:fs';
import type { MountPlan } from '../native/plan-types.js';

export type Lsm = 'apparmor' | 'selinux';

/** As runc decides it: securityfs shows AppArmor and the module says it is enabled. */
function apparmorEnabled(): boolean {
  try {
    if (!fs.existsSync('/sys/kernel/security/apparmor')) return false;
    return fs.readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').startsWith('Y');
  } catch {
    return false;
  }
}

function selinuxEnabled(): boolean {
  return fs.existsSync('/sys/fs/selinux/enforce');
}

export function lsmEnabled(kind: Lsm): boolean {
  return kind === 'apparmor' ? apparmorEnabled() : selinuxEnabled();
}

/** File systems that take no context= option (or are labelled by policy instead). */
const UNLABELLED_TYPES: ReadonlySet<string> = new Set(['proc', 'sysfs', 'cgroup', 'cgroup2', 'securityfs', 'debugfs']);

/** The mount data with the SELinux context option added (runc's FormatMountLabel). */
export function withMountLabel(data: string | null, label: string): string {
  const context = `context="${label}"`;
  return data ? `${data},${context}` : context;
}

/**
 * linux.mountLabel: every file system the runtime creates (tmpfs, devpts, mqueue...) gets
 * the context= option when SELinux is enabled. Without SELinux the label is ignored, as
 * runc does. Bind mounts keep the label of their source.
 */
export function applyMountLabel(plans: MountPlan[], label: string | undefined, enabled = selinuxEnabled()): void {
  if (!label || !enabled) return;
  for (const p of plans) {
    if (p.bind || !p.fstype || UNLABELLED_TYPES.has(p.fstype)) continue;
    p.data = withMountLabel(p.data, label);
  }
}
