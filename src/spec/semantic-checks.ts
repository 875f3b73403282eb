// Rules on the fields of a document that JSON Schema does not express here (absolute
// paths, non-empty strings, the id range, NUL bytes): each looks at one field, or one
// object, without the host. Checks that relate fields to each other or to the host are the
// conversion's validator list (src/linux/specconv/validate.ts). These run on documents the
// schema may have rejected, so every access is guarded: a wrong type here is the schema's
// to report, not ours.

import { kWeakenConfig } from '../util/weaken.js';
import type { Segment } from './paths.js';

export interface SemanticProblem {
  path: Segment[];
  message: string;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const has = (o: Obj, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key) && o[key] !== undefined;

/** Hook lists of config.json, in lifecycle order. */
export const HOOK_NAMES = [
  'prestart',
  'createRuntime',
  'createContainer',
  'startContainer',
  'poststart',
  'poststop',
] as const;

/**
 * The highest id a process, file or mapping may use. 4294967295 is (uid_t)-1, which
 * setresuid(2), setresgid(2) and chown(2) read as "leave unchanged": a process asked to run
 * as it would keep the runtime's root.
 */
export const MAX_ID = 4294967294;

const ID_MESSAGE = `must be <= ${MAX_ID} (${MAX_ID + 1} is (uid_t)-1, "unchanged" to the kernel)`;

function idRule(v: unknown, path: Segment[], out: SemanticProblem[]): void {
  if (typeof v === 'number' && v > MAX_ID && !kWeakenConfig) out.push({ path, message: ID_MESSAGE });
}

/** An id mapping: its ids in range, and a range that ends inside it too. */
function idMappingRules(maps: unknown, at: Segment[], out: SemanticProblem[]): void {
  arr(maps).forEach((m, i) => {
    if (!isObj(m)) return;
    const here = [...at, i];
    idRule(m.containerID, [...here, 'containerID'], out);
    idRule(m.hostID, [...here, 'hostID'], out);
    if (typeof m.size !== 'number') return;
    if (m.size === 0) {
      out.push({ path: [...here, 'size'], message: 'must be greater than zero' });
      return;
    }
    for (const start of ['containerID', 'hostID'] as const) {
      const first = m[start];
      if (typeof first === 'number' && first <= MAX_ID && first + m.size - 1 > MAX_ID) {
        out.push({ path: [...here, 'size'], message: `${start} + size - 1 must be <= ${MAX_ID}` });
      }
    }
  });
}

/**
 * Every string that reaches the kernel is a C string: a NUL byte would cut it short there
 * ("/dev/pts\u0000" names /dev/pts). Refused in every string and member name, except under
 * the members listed in `skip` (annotations only travel as JSON).
 */
function nulRule(doc: unknown, out: SemanticProblem[], skip: ReadonlySet<string> = new Set()): void {
  if (kWeakenConfig) return;
  // Iterative: a document may be deep.
  const stack: { v: unknown; path: Segment[] }[] = [{ v: doc, path: [] }];
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\0')) out.push({ path, message: 'must not contain a NUL byte' });
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ v: item, path: [...path, i] }));
    } else if (isObj(v)) {
      for (const [key, item] of Object.entries(v)) {
        if (path.length === 0 && skip.has(key)) continue;
        if (key.includes('\0')) out.push({ path: [...path, key], message: 'key must not contain a NUL byte' });
        else stack.push({ v: item, path: [...path, key] });
      }
    }
  }
}

/** All problems of a whole config.json. */
export function checkConfig(doc: unknown): SemanticProblem[] {
  if (!isObj(doc)) return [];
  const out: SemanticProblem[] = [];
  nulRule(doc, out, new Set(['annotations']));

  if (isObj(doc.root) && doc.root.path === '') {
    out.push({ path: ['root', 'path'], message: 'must not be empty' });
  }

  arr(doc.mounts).forEach((m, i) => {
    if (!isObj(m)) return;
    if (m.destination === '') out.push({ path: ['mounts', i, 'destination'], message: 'must not be empty' });
    idMappingRules(m.uidMappings, ['mounts', i, 'uidMappings'], out);
    idMappingRules(m.gidMappings, ['mounts', i, 'gidMappings'], out);
  });

  if (isObj(doc.process)) out.push(...processRules(doc.process, ['process']));

  if (isObj(doc.hooks)) {
    for (const kind of HOOK_NAMES) {
      arr(doc.hooks[kind]).forEach((h, i) => {
        if (!isObj(h)) return;
        const at: Segment[] = ['hooks', kind, i];
        if (typeof h.path === 'string' && !h.path.startsWith('/')) {
          out.push({ path: [...at, 'path'], message: 'must be an absolute path' });
        }
        if (typeof h.timeout === 'number' && h.timeout <= 0) {
          out.push({ path: [...at, 'timeout'], message: 'must be greater than zero' });
        }
      });
    }
  }

  if (isObj(doc.linux)) out.push(...linuxRules(doc.linux));
  return out;
}

/** The rules of a process object alone, at `at` (['process'], or [] for exec's file). */
function processRules(proc: Obj, at: Segment[]): SemanticProblem[] {
  const out: SemanticProblem[] = [];
  if (typeof proc.cwd === 'string' && !proc.cwd.startsWith('/')) {
    out.push({ path: [...at, 'cwd'], message: 'must be an absolute path' });
  }
  // Only NAME=VALUE reaches execve as the program expects it (runc's prepareEnv). The entry
  // itself is not quoted: it may be a secret that lacks its '=' by a typo.
  arr(proc.env).forEach((e, i) => {
    if (typeof e !== 'string') return;
    const eq = e.indexOf('=');
    if (eq < 0) out.push({ path: [...at, 'env', i], message: "invalid environment variable: missing '='" });
    else if (eq === 0) out.push({ path: [...at, 'env', i], message: 'invalid environment variable: name cannot be empty' });
  });
  if (isObj(proc.user)) {
    idRule(proc.user.uid, [...at, 'user', 'uid'], out);
    idRule(proc.user.gid, [...at, 'user', 'gid'], out);
    arr(proc.user.additionalGids).forEach((g, i) => idRule(g, [...at, 'user', 'additionalGids', i], out));
  }
  return out;
}

/** Problems of a process document (exec's --process file, or one built from flags), at `at`. */
export function checkProcess(proc: unknown, at: Segment[]): SemanticProblem[] {
  if (!isObj(proc)) return [];
  const out: SemanticProblem[] = [];
  nulRule(proc, out);
  // Paths of nulRule are relative to the document.
  for (const p of out) p.path = [...at, ...p.path];
  return [...out, ...processRules(proc, at)];
}

/** Memory sizes where -1 means "unlimited" and other negative numbers mean nothing (the kernel refuses them). */
const MEMORY_SIZES = ['limit', 'reservation', 'swap', 'kernelTCP'] as const;

function resourcesRules(res: Obj, at: Segment[]): SemanticProblem[] {
  const out: SemanticProblem[] = [];
  if (isObj(res.memory)) {
    const memory = res.memory;
    for (const key of MEMORY_SIZES) {
      const v = memory[key];
      if ((typeof v === 'number' || typeof v === 'bigint') && v < -1) {
        out.push({ path: [...at, 'memory', key], message: 'must be -1 (unlimited) or a size in bytes' });
      }
    }
  }
  if (isObj(res.rdma)) {
    for (const [dev, limits] of Object.entries(res.rdma)) {
      if (isObj(limits) && !has(limits, 'hcaHandles') && !has(limits, 'hcaObjects')) {
        out.push({ path: [...at, 'rdma', dev], message: 'must set hcaHandles or hcaObjects' });
      }
    }
  }
  if (isObj(res.blockIO)) {
    arr(res.blockIO.weightDevice).forEach((w, i) => {
      if (isObj(w) && !has(w, 'weight') && !has(w, 'leafWeight')) {
        out.push({ path: [...at, 'blockIO', 'weightDevice', i], message: 'must set weight or leafWeight' });
      }
    });
  }
  return out;
}

/** Problems of a linux.resources document (update -r); paths are relative to it. */
export function checkResources(res: unknown): SemanticProblem[] {
  if (!isObj(res)) return [];
  const out: SemanticProblem[] = [];
  nulRule(res, out);
  return [...out, ...resourcesRules(res, [])];
}

function linuxRules(linux: Obj): SemanticProblem[] {
  const out: SemanticProblem[] = [];
  // config-linux.md: masked and read-only paths MUST be absolute.
  for (const key of ['maskedPaths', 'readonlyPaths'] as const) {
    arr(linux[key]).forEach((p, i) => {
      if (typeof p === 'string' && !p.startsWith('/')) out.push({ path: ['linux', key, i], message: 'must be an absolute path' });
    });
  }
  arr(linux.namespaces).forEach((ns, i) => {
    if (isObj(ns) && typeof ns.path === 'string' && ns.path !== '' && !ns.path.startsWith('/')) {
      out.push({ path: ['linux', 'namespaces', i, 'path'], message: 'must be an absolute path' });
    }
  });
  idMappingRules(linux.uidMappings, ['linux', 'uidMappings'], out);
  idMappingRules(linux.gidMappings, ['linux', 'gidMappings'], out);
  arr(linux.devices).forEach((d, i) => {
    if (!isObj(d)) return;
    idRule(d.uid, ['linux', 'devices', i, 'uid'], out);
    idRule(d.gid, ['linux', 'devices', i, 'gid'], out);
  });
  if (isObj(linux.resources)) out.push(...resourcesRules(linux.resources, ['linux', 'resources']));
  return out;
}
