// User namespace id maps, written by the runtime into /proc/<pid>/{uid,gid}_map while the
// child waits in its new user namespace.
//
// Root writes them directly. A runtime without privileges (euid != 0) may write only the
// map of its own id, one id long, and for the gid map only after denying setgroups; any
// other map goes through the setuid helpers newuidmap/newgidmap (shadow's uidmap
// package), which allow the user's own id and the subordinate ranges /etc/subuid and
// /etc/subgid give them. That is runc's way too (nsexec's update_uidmap and the mapping
// tools), decided here before the child exists so that a map that cannot be written is a
// config error naming the fix, not a failure halfway through create.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Linux, LinuxIDMapping } from '../spec/types.js';
import { ConfigError, SystemError, describeFsError } from '../util/errors.js';
import { hostIdOf } from './rootless.js';

/** What an owner the container's root cannot take over looks like to fchown: left as it is (crun). */
const STDIO_CHOWN_TOLERATED = new Set(['EPERM', 'EINVAL', 'EROFS', 'EBADF']);

/**
 * The runtime's stdio, which the container's process inherits, given to the host ids of
 * the container's root before its new user namespace exists (crun's maybe_chown_std_streams
 * before the namespace): inside, a file owned by an id the namespace does not map can no
 * longer be given to the process's user, who then cannot reopen it through /proc/self/fd.
 * Devices and terminals stay as they are; an owner the runtime cannot change is left to
 * the container's process, as crun leaves it.
 */
export function giveStdioToMappedRoot(linux: Linux): void {
  const uid = hostIdOf(0, mapText(linux.uidMappings));
  const gid = hostIdOf(0, mapText(linux.gidMappings));
  if (uid === null || gid === null || (uid === 0 && gid === 0)) return;
  for (let fd = 0; fd < 3; fd++) {
    try {
      const st = fs.fstatSync(fd);
      if (st.isCharacterDevice() || st.isBlockDevice() || (st.uid === uid && st.gid === gid)) continue;
      fs.fchownSync(fd, uid, gid);
    } catch (err) {
      if (STDIO_CHOWN_TOLERATED.has((err as NodeJS.ErrnoException).code ?? '')) continue;
      throw new SystemError(`chown stdio fd ${fd} to the container's root (${uid}:${gid}): ${describeFsError(err)}`);
    }
  }
}

export function mapText(maps: readonly LinuxIDMapping[] | undefined): string {
  return (maps ?? []).map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

/** A run of host ids [start, start + count). */
export interface IdRange {
  start: number;
  count: number;
}

/** One kind of id (uid or gid) as an unprivileged runtime may map it. */
export interface IdAuthority {
  /** The runtime's own id (euid or egid). */
  own: number;
  /** The user's subordinate ranges; null where /etc/sub?id is not the authority (NSS subid). */
  subordinate: IdRange[] | null;
  /** newuidmap / newgidmap on $PATH, or null. */
  tool: string | null;
}

/** What an unprivileged runtime may map (host facts; null for a privileged runtime). */
export interface IdMapFacts {
  /** Login name of the euid (for /etc/subuid entries and messages), null when it has none. */
  user: string | null;
  uid: IdAuthority;
  gid: IdAuthority;
}

/** How each map is written: by the runtime itself, or by a mapping tool (its path). */
export interface IdMapWriting {
  uidTool: string | null;
  gidTool: string | null;
  /** Write "deny" to setgroups first (an unprivileged gid_map write requires it). */
  denySetgroups: boolean;
}

/** The one map an unprivileged process may write itself: its own id, one long. */
export function isOwnIdOnly(maps: readonly LinuxIDMapping[] | undefined, own: number): boolean {
  return maps?.length === 1 && maps[0]!.hostID === own && maps[0]!.size === 1;
}

/** How a new user namespace's maps get written; privileged (facts null): directly. */
export function planIdMapWriting(linux: Linux, facts: IdMapFacts | null): IdMapWriting {
  if (!facts) return { uidTool: null, gidTool: null, denySetgroups: false };
  const ownUid = isOwnIdOnly(linux.uidMappings, facts.uid.own);
  const ownGid = isOwnIdOnly(linux.gidMappings, facts.gid.own);
  return {
    uidTool: ownUid ? null : (facts.uid.tool ?? 'newuidmap'),
    gidTool: ownGid ? null : (facts.gid.tool ?? 'newgidmap'),
    // newgidmap decides setgroups itself (it allows it when subordinate gids are mapped).
    denySetgroups: ownGid,
  };
}

/** Is [start, start + count) inside the union of `ranges` (shadow's have_range)? */
export function rangeCovered(start: number, count: number, ranges: readonly IdRange[]): boolean {
  let at = start;
  const end = start + count;
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  for (const r of sorted) {
    if (r.start <= at && at < r.start + r.count) at = r.start + r.count;
    if (at >= end) return true;
  }
  return at >= end;
}

const KIND = {
  uid: { maps: 'uidMappings', tool: 'newuidmap', file: '/etc/subuid', flag: '--add-subuids' },
  gid: { maps: 'gidMappings', tool: 'newgidmap', file: '/etc/subgid', flag: '--add-subgids' },
} as const;

const showRange = (r: IdRange) => `${r.start}-${r.start + r.count - 1}`;

/**
 * Every mapping an unprivileged runtime could not have written: ids the user has no
 * subordinate range for, or no mapping tool. Each error names the entry and the fix.
 */
export function idMapProblems(linux: Linux, facts: IdMapFacts): ConfigError[] {
  const out: ConfigError[] = [];
  const who = facts.user ? `user ${facts.user} (uid ${facts.uid.own})` : `uid ${facts.uid.own}`;
  for (const kind of ['uid', 'gid'] as const) {
    const k = KIND[kind];
    const maps = linux[k.maps] ?? [];
    const auth = facts[kind];
    if (maps.length === 0 || isOwnIdOnly(maps, auth.own)) continue;
    if (!auth.tool) {
      out.push(new ConfigError(`linux.${k.maps}`, `mapping ${kind}s other than this user's own (${auth.own}) needs ${k.tool}, which is not in $PATH: install it (Debian and Ubuntu: apt-get install uidmap; Fedora: shadow-utils)`));
      continue;
    }
    if (!auth.subordinate) continue; // NSS answers for the tool: it has the last word
    maps.forEach((m, i) => {
      if (m.size === 1 && m.hostID === auth.own) return;
      if (rangeCovered(m.hostID, m.size, auth.subordinate!)) return;
      const want = showRange({ start: m.hostID, count: m.size });
      const has = auth.subordinate!.length ? `it has ${auth.subordinate!.map(showRange).join(', ')}` : 'it has none';
      const name = facts.user ?? String(auth.own);
      out.push(
        new ConfigError(
          `linux.${k.maps}[${i}]`,
          `host ${kind}s ${want} are not subordinate ${kind}s of ${who} in ${k.file} (${has}): map those, or give the user the range (usermod ${k.flag} ${want} ${name})`,
        ),
      );
    });
  }
  return out;
}

/** Entries `name:start:count` (or `uid:start:count`) of /etc/subuid or /etc/subgid for this user. */
export function parseSubordinateIds(text: string, user: string | null, uid: number): IdRange[] {
  const out: IdRange[] = [];
  for (const line of text.split('\n')) {
    const [owner, start, count] = line.trim().split(':');
    if (!owner || owner.startsWith('#') || start === undefined || count === undefined) continue;
    if (owner !== user && owner !== String(uid)) continue;
    const s = Number(start);
    const c = Number(count);
    if (Number.isSafeInteger(s) && Number.isSafeInteger(c) && s >= 0 && c > 0) out.push({ start: s, count: c });
  }
  return out;
}

/** The first executable `name` on $PATH (runc resolves the mapping tools the same way). */
export function findOnPath(name: string, envPath = process.env.PATH ?? ''): string | null {
  for (const dir of envPath.split(':')) {
    if (!dir.startsWith('/')) continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return null;
}

/** nsswitch.conf names a `subid` service other than files: /etc/sub?id are not the authority. */
function subidFromNss(): boolean {
  try {
    const line = /^\s*subid:\s*(.*)$/m.exec(fs.readFileSync('/etc/nsswitch.conf', 'utf8'))?.[1]?.trim();
    return !!line && line !== 'files';
  } catch {
    return false;
  }
}

function readSubordinate(file: string, user: string | null, uid: number): IdRange[] | null {
  try {
    return parseSubordinateIds(fs.readFileSync(file, 'utf8'), user, uid);
  } catch {
    return [];
  }
}

/** What this (unprivileged) runtime may map, read from the host. */
export function readIdMapFacts(): IdMapFacts {
  const uid = process.geteuid?.() ?? 0;
  const gid = process.getegid?.() ?? 0;
  let user: string | null = null;
  try {
    user = os.userInfo().username || null;
  } catch {
    // a uid without a passwd entry
  }
  const nss = subidFromNss();
  return {
    user,
    uid: { own: uid, subordinate: nss ? null : readSubordinate(KIND.uid.file, user, uid), tool: findOnPath(KIND.uid.tool) },
    gid: { own: gid, subordinate: nss ? null : readSubordinate(KIND.gid.file, user, uid), tool: findOnPath(KIND.gid.tool) },
  };
}

/** newuidmap PID inside outside count ...: its own words on failure. */
function runTool(tool: string, pid: number, maps: readonly LinuxIDMapping[], field: string): void {
  const args = [String(pid), ...maps.flatMap((m) => [String(m.containerID), String(m.hostID), String(m.size)])];
  const r = spawnSync(tool, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  if (r.error) throw new SystemError(`${field}: run ${tool}: ${describeFsError(r.error)}`);
  if (r.status !== 0) {
    const said = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split('\n').join('; ');
    throw new SystemError(`${field}: ${tool} ${args.join(' ')} failed (${r.signal ? `signal ${r.signal}` : `exit status ${r.status}`})${said ? `: ${said}` : ''}`);
  }
}

/** The user namespace of `pid` denies setgroups(2) (a rootless one mapping only its own gid). */
export function setgroupsDenied(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/setgroups`, 'utf8').trim() === 'deny';
  } catch {
    return false;
  }
}

export function writeIdMaps(pid: number, linux: Linux, how: IdMapWriting): void {
  const write = (file: string, text: string) => {
    try {
      fs.writeFileSync(`/proc/${pid}/${file}`, text);
    } catch (err) {
      throw new SystemError(`write ${file} for the user namespace (${text.trim().replace(/\n/g, ', ')}): ${describeFsError(err)}`);
    }
  };
  if (how.uidTool) runTool(how.uidTool, pid, linux.uidMappings ?? [], 'linux.uidMappings');
  else write('uid_map', mapText(linux.uidMappings));
  if (how.denySetgroups) write('setgroups', 'deny');
  if (how.gidTool) runTool(how.gidTool, pid, linux.gidMappings ?? [], 'linux.gidMappings');
  else write('gid_map', mapText(linux.gidMappings));
}
