// Id-mapped bind mounts (config.md: mounts[].uidMappings/gidMappings, options idmap and
// ridmap), prepared in the runtime before the fork: a user namespace carrying the
// mappings (one per distinct mapping), and a detached clone of the source id-mapped
// through it (mount_setattr MOUNT_ATTR_IDMAP). The child moves the clone into place.
// Doing it here, in the host's user namespace, is what makes it work for containers
// with a user namespace of their own: id-mapping needs CAP_SYS_ADMIN over the file
// system's user namespace, usually the host's.
//
// A mount with idmap/ridmap and no mappings of its own uses the container's user
// namespace mappings; without those it is an error, as the spec requires.
import fs from 'node:fs';
import type { Linux, LinuxIDMapping, Mount } from '../spec/types.js';
import { ConfigError, SystemError, errorMessage } from '../util/errors.js';
import { mapText } from './idmap.js';
import { parseMountOptions } from './mounts.js';
import { native } from '../native/addon.js';

/** Why mount_setattr(MOUNT_ATTR_IDMAP) refused, in words. */
const IDMAP_ERRORS: Readonly<Record<string, string>> = {
  EINVAL: 'the file system does not support id-mapped mounts, or the source is already id-mapped',
  EPERM: 'not permitted (id-mapping needs CAP_SYS_ADMIN over the file system)',
  ENOSYS: 'the kernel does not support id-mapped mounts (Linux 5.12 or later is needed)',
  EOPNOTSUPP: 'the file system does not support id-mapped mounts',
};

interface IdmapRequest {
  /** rbind: the clone takes the submounts along. */
  rbind: boolean;
  /** ridmap: the mapping applies to the submounts too. */
  recursive: boolean;
  uid: readonly LinuxIDMapping[] | undefined;
  gid: readonly LinuxIDMapping[] | undefined;
}

/** The id-mapping a mount asks for, or null. */
export function idmapRequest(m: Mount, field: string): IdmapRequest | null {
  const o = parseMountOptions(m.options ?? [], `${field}.options`);
  const mapped = !!m.uidMappings?.length || !!m.gidMappings?.length;
  if (!o.idmap && !mapped) return null;
  // Mappings without either option: a plain (non-recursive) id-mapped mount.
  return { rbind: o.recursive, recursive: o.idmapRecursive, uid: m.uidMappings, gid: m.gidMappings };
}

/** Id-mapping is done for bind mounts only; refuse it elsewhere rather than ignore it. */
export function checkIdmapMounts(mounts: readonly Mount[] | undefined): void {
  (mounts ?? []).forEach((m, i) => {
    const field = `mounts[${i}]`;
    if (!idmapRequest(m, field)) return;
    const opts = m.options ?? [];
    const bind = m.type === 'bind' || opts.includes('bind') || opts.includes('rbind');
    if (!bind) throw new ConfigError(`${field}.options`, 'id-mapped mounts are only supported for bind mounts');
  });
}

export class IdmappedMounts {
  /** Every fd opened here (user namespaces, prepared mounts): close after the launch. */
  readonly fds: number[] = [];
  private readonly userns = new Map<string, number>();

  constructor(
    private readonly linux: Linux,
    /** The container has a user namespace whose mappings idmap without mappings may use. */
    private readonly hasUserns: boolean,
  ) {}

  /** MountContext.prepareBind: the fd of the id-mapped clone of `source`, or -1. */
  readonly prepare = (m: Mount, field: string, source: string): number => {
    const req = idmapRequest(m, field);
    if (!req) return -1;
    let { uid, gid } = req;
    if (!uid?.length && !gid?.length) {
      if (!this.hasUserns || !this.linux.uidMappings?.length) {
        throw new ConfigError(`${field}.options`, 'idmap without uidMappings and gidMappings needs a container user namespace with mappings');
      }
      uid = this.linux.uidMappings;
      gid = this.linux.gidMappings;
    }
    if (!uid?.length || !gid?.length) {
      throw new ConfigError(`${field}.${uid?.length ? 'gidMappings' : 'uidMappings'}`, 'an id-mapped mount needs both uidMappings and gidMappings');
    }
    const usernsFd = this.usernsFor(uid, gid, field);
    let tree: number;
    try {
      tree = native().idmappedTree(source, usernsFd, req.rbind, req.recursive);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      const why = IDMAP_ERRORS[code] ?? errorMessage(err);
      throw new SystemError(`${field}: cannot id-map ${source}: ${why}`, code);
    }
    this.fds.push(tree);
    return tree;
  };

  closeAll(): void {
    for (const fd of this.fds.splice(0)) fs.closeSync(fd);
    this.userns.clear();
  }

  private usernsFor(uid: readonly LinuxIDMapping[], gid: readonly LinuxIDMapping[], field: string): number {
    const uidText = mapText(uid);
    const gidText = mapText(gid);
    const key = `${uidText}|${gidText}`;
    let fd = this.userns.get(key);
    if (fd === undefined) {
      try {
        fd = native().usernsFd(uidText, gidText);
      } catch (err) {
        throw new SystemError(`${field}: cannot create a user namespace for the id-mapped mount: ${errorMessage(err)}`);
      }
      this.fds.push(fd);
      this.userns.set(key, fd);
    }
    return fd;
  }
}
