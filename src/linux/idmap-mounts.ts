// Id-mapped bind mounts (config.md: mounts[].uidMappings/gidMappings, options idmap and
// ridmap), prepared in the runtime before the fork: a user namespace carrying the
// mappings (one per distinct mapping), and a detached clone of the source id-mapped
// through it (mount_setattr MOUNT_ATTR_IDMAP). The child moves the clone into place.
// Doing it here, in the host's user namespace, is what makes it work for containers
// with a user namespace of their own: id-mapping needs CAP_SYS_ADMIN over the file
// system's user namespace, usually the host's.
//
// A mount with idmap/ridmap and no mappings of its own uses the container's user
// namespace mappings; without those it is an error (the "mounts" validator).
import type { Linux } from '../spec/types.js';
import { SystemError, errorMessage } from '../util/errors.js';
import { native } from '../native/addon.js';
import { mapText } from './idmap.js';
import type { MountView } from './mounts.js';
import type { IdmapTree } from './specconv/draft.js';

/** Why mount_setattr(MOUNT_ATTR_IDMAP) refused, in words. */
const IDMAP_ERRORS: Readonly<Record<string, string>> = {
  EINVAL: 'the file system does not support id-mapped mounts, or the source is already id-mapped',
  EPERM: 'not permitted (id-mapping needs CAP_SYS_ADMIN over the file system)',
  ENOSYS: 'the kernel does not support id-mapped mounts (Linux 5.12 or later is needed)',
  EOPNOTSUPP: 'the file system does not support id-mapped mounts',
};

/** The mount asks for id-mapping: an idmap/ridmap option, or mappings of its own. */
export function wantsIdmap(v: MountView): boolean {
  return v.options.idmap || !!v.mount.uidMappings?.length || !!v.mount.gidMappings?.length;
}

/**
 * The id-mapped tree a (validated) bind mount asks for, or null: its own mappings, else
 * the container's user namespace mappings.
 */
export function idmapTree(v: MountView, linux: Linux): IdmapTree | null {
  if (!wantsIdmap(v) || v.source === null) return null;
  const own = !!v.mount.uidMappings?.length;
  return {
    source: v.source,
    uidMap: mapText(own ? v.mount.uidMappings : linux.uidMappings),
    gidMap: mapText(own ? v.mount.gidMappings : linux.gidMappings),
    // Mappings without either option: a plain (non-recursive) id-mapped mount.
    rbind: v.options.recursive,
    recursive: v.options.idmapRecursive,
    field: v.field,
  };
}

/** Makes the trees of one plan; every fd it opens goes into `fds` (the caller closes them). */
export class IdmapTrees {
  private readonly userns = new Map<string, number>();

  constructor(private readonly fds: number[]) {}

  make(tree: IdmapTree): number {
    const usernsFd = this.usernsFor(tree);
    let fd: number;
    try {
      fd = native().idmappedTree(tree.source, usernsFd, tree.rbind, tree.recursive);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      const why = IDMAP_ERRORS[code] ?? errorMessage(err);
      throw new SystemError(`${tree.field}: cannot id-map ${tree.source}: ${why}`, code);
    }
    this.fds.push(fd);
    return fd;
  }

  /** A detached clone of a bind source, not mapped (MountDraft.detach); `dest` names it in errors. */
  clone(source: string, rbind: boolean, dest: string): number {
    let fd: number;
    try {
      fd = native().idmappedTree(source, -1, rbind, false);
    } catch (err) {
      throw new SystemError(`mount ${source} to ${dest}: cannot open the bind source: ${errorMessage(err)}`, (err as NodeJS.ErrnoException).code ?? '');
    }
    this.fds.push(fd);
    return fd;
  }

  private usernsFor(tree: IdmapTree): number {
    const key = `${tree.uidMap}|${tree.gidMap}`;
    let fd = this.userns.get(key);
    if (fd === undefined) {
      try {
        fd = native().usernsFd(tree.uidMap, tree.gidMap);
      } catch (err) {
        throw new SystemError(`${tree.field}: cannot create a user namespace for the id-mapped mount: ${errorMessage(err)}`);
      }
      this.fds.push(fd);
      this.userns.set(key, fd);
    }
    return fd;
  }
}
