// linux.cgroupsPath as runc treats it with the cgroupfs driver:
//   absolute ("/a/b")  relative to the root of each hierarchy;
//   relative ("a/b")   relative to the runtime's own cgroup in a v1 hierarchy, and to its
//                      parent on a pure v2 host (the runtime's own cgroup has processes, so
//                      it cannot give controllers to a child; its parent, in a user's
//                      delegated subtree, is the user's too);
//   absent             the container ID, relative like the above.
// The result is cleaned so ".." can never climb out of the hierarchy.
import path from 'node:path';
import { ConfigError } from '../../util/errors.js';

export interface CgroupPathSpec {
  /** Cleaned path as given (or the ID), absolute or relative. */
  inner: string;
  absolute: boolean;
}

export function cgroupPathSpec(cgroupsPath: string | undefined, id: string): CgroupPathSpec {
  const raw = cgroupsPath && cgroupsPath !== '' ? cgroupsPath : id;
  if (raw.includes(':') && !raw.startsWith('/')) {
    // "slice:prefix:name" is the systemd driver's syntax: a path here would be a mistake.
    throw new ConfigError('linux.cgroupsPath', `"${raw}" is a systemd cgroup path (slice:prefix:name): use --systemd-cgroup, or a path`);
  }
  const absolute = raw.startsWith('/');
  const cleaned = path.posix.normalize(`/${raw}`);
  return { inner: cleaned, absolute };
}

/** The container's path inside one hierarchy, given the runtime's own cgroup there. */
export function pathInHierarchy(spec: CgroupPathSpec, own: string | undefined, pureV2 = false): string {
  if (spec.absolute || !own) return spec.inner;
  return path.posix.join(pureV2 ? path.posix.dirname(own) : own, spec.inner);
}
