// SELinux mount labels (linux.mountLabel) on the file systems the runtime mounts. Whether
// AppArmor and SELinux are enabled is a host fact (src/linux/specconv/host-facts.ts);
// process labels themselves are written by the child (addon/child/process.cc).
import type { MountPlan } from '../native/plan-types.js';

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
export function applyMountLabel(plans: Pick<MountPlan, 'bind' | 'fstype' | 'data'>[], label: string | undefined, selinuxEnabled: boolean): void {
  if (!label || !selinuxEnabled) return;
  for (const p of plans) {
    if (p.bind || !p.fstype || UNLABELLED_TYPES.has(p.fstype)) continue;
    p.data = withMountLabel(p.data, label);
  }
}
