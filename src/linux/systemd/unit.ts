// linux.cgroupsPath as the systemd cgroup driver reads it (runc's docs/systemd.md):
//   "slice:prefix:name"   unit <prefix>-<name>.scope in <slice> (a name ending in .slice is
//                         a slice unit itself, and the prefix is ignored);
//   empty slice           system.slice (user.slice for a rootless container);
//   "-" as the slice      the root slice;
//   absent / ""           ":ts-runc:<container id>", i.e. system.slice/ts-runc-<id>.scope.
// Slices nest by dashes: a-b.slice lives in a.slice, so its cgroup is /a.slice/a-b.slice.
import { ConfigError } from '../../util/errors.js';

const FIELD = 'linux.cgroupsPath';

/** runc's scope prefix is "runc"; ours names the runtime that made the unit. */
export const DEFAULT_PREFIX = 'ts-runc';

export interface SystemdUnit {
  /** The unit to create: "<prefix>-<name>.scope", or "<name>.slice". */
  name: string;
  type: 'scope' | 'slice';
  /** The slice the unit goes in (Slice= for a scope, Wants= for a slice). */
  slice: string;
  /** The unit's cgroup, relative to the cgroup2 root (before any user manager's own). */
  cgroup: string;
}

/** Characters systemd accepts in a unit name (unit-name.c VALID_CHARS, less "@"). */
const UNIT_CHARS = /^[A-Za-z0-9:_.\\-]+$/;
const MAX_UNIT_NAME = 255;

/** "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" -> "/". */
export function expandSlice(slice: string): string {
  const bad = (why: string) => new ConfigError(FIELD, `invalid slice name "${slice}": ${why}`);
  if (!slice.endsWith('.slice') || slice.length <= '.slice'.length) throw bad('must end in .slice');
  if (slice.includes('/')) throw bad('must not contain "/"');
  if (!UNIT_CHARS.test(slice)) throw bad('has characters systemd does not allow in a unit name');
  const base = slice.slice(0, -'.slice'.length);
  if (base === '-') return '/';
  let path = '';
  let prefix = '';
  for (const part of base.split('-')) {
    if (part === '') throw bad('empty component ("--", or a leading or trailing "-")');
    path += `/${prefix}${part}.slice`;
    prefix += `${part}-`;
  }
  return path;
}

/** The unit and cgroup a container gets from its cgroupsPath. */
export function systemdUnit(cgroupsPath: string | undefined, id: string, rootless: boolean): SystemdUnit {
  const given = cgroupsPath && cgroupsPath !== '' ? cgroupsPath : `:${DEFAULT_PREFIX}:${id}`;
  const parts = given.split(':');
  if (parts.length !== 3) {
    throw new ConfigError(FIELD, `expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "${given}" instead`);
  }
  const [sliceGiven, prefix, unitBase] = parts as [string, string, string];
  const slice = sliceGiven === '' ? (rootless ? 'user.slice' : 'system.slice') : sliceGiven;
  const sliceDir = expandSlice(slice);
  if (unitBase === '') throw new ConfigError(FIELD, `"${given}": the name (after the second ":") is empty`);
  const isSlice = unitBase.endsWith('.slice');
  const name = isSlice ? unitBase : `${prefix}-${unitBase}.scope`;
  if (!UNIT_CHARS.test(name) || name.length > MAX_UNIT_NAME) {
    throw new ConfigError(FIELD, `"${name}" is not a valid systemd unit name (letters, digits and ":_.\\-", at most ${MAX_UNIT_NAME})`);
  }
  // A slice unit sits where its own name says (a-b.slice is in a.slice), not in `slice`.
  const cgroup = isSlice ? expandSlice(name) : `${sliceDir === '/' ? '' : sliceDir}/${name}`;
  return { name, type: isSlice ? 'slice' : 'scope', slice, cgroup };
}
