// User namespace id maps, written by the runtime into /proc/<pid>/{uid,gid}_map while the
// child waits in its new user namespace. setgroups is denied first when the runtime is
// unprivileged (the kernel requires it before an unprivileged gid_map write).
import fs from 'node:fs';
import type { Linux, LinuxIDMapping } from '../spec/types.js';
import { SystemError, describeFsError } from '../util/errors.js';

export function mapText(maps: readonly LinuxIDMapping[] | undefined): string {
  return (maps ?? []).map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

export function writeIdMaps(pid: number, linux: Linux, rootless: boolean): void {
  const write = (file: string, text: string) => {
    try {
      fs.writeFileSync(`/proc/${pid}/${file}`, text);
    } catch (err) {
      throw new SystemError(`write ${file} for the user namespace (${text.trim().replace(/\n/g, ', ')}): ${describeFsError(err)}`);
    }
  };
  if (rootless) write('setgroups', 'deny');
  write('uid_map', mapText(linux.uidMappings));
  write('gid_map', mapText(linux.gidMappings));
}
