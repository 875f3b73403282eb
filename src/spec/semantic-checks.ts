// Checks on config.json that JSON Schema cannot express (relations between fields, or rules
// runc enforces beyond the schema). They run on documents the schema may have rejected, so
// every access is guarded: a wrong type here is the schema's to report, not ours.

import type { Segment } from './paths.js';

export interface SemanticProblem {
  path: Segment[];
  message: string;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const has = (o: Obj, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key) && o[key] !== undefined;
const nonEmptyArray = (v: unknown): boolean => Array.isArray(v) && v.length > 0;

/** Hook lists of config.json, in lifecycle order. */
export const HOOK_NAMES = [
  'prestart',
  'createRuntime',
  'createContainer',
  'startContainer',
  'poststart',
  'poststop',
] as const;

/** All semantic problems of a whole config.json. */
export function checkConfig(doc: unknown): SemanticProblem[] {
  if (!isObj(doc)) return [];
  const out: SemanticProblem[] = [];

  if (isObj(doc.root) && doc.root.path === '') {
    out.push({ path: ['root', 'path'], message: 'must not be empty' });
  }

  arr(doc.mounts).forEach((m, i) => {
    if (!isObj(m)) return;
    if (m.destination === '') out.push({ path: ['mounts', i, 'destination'], message: 'must not be empty' });
    pairedMappings(m, ['mounts', i], 'uidMappings', 'gidMappings', out);
  });

  if (isObj(doc.process)) out.push(...checkProcess(doc.process, ['process']));

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

  if (isObj(doc.linux)) out.push(...checkLinux(doc.linux));
  return out;
}

/** Problems of a process object; `at` is where it sits (['process'], or [] for exec's file). */
export function checkProcess(proc: unknown, at: Segment[]): SemanticProblem[] {
  if (!isObj(proc)) return [];
  const out: SemanticProblem[] = [];
  if (typeof proc.cwd === 'string' && !proc.cwd.startsWith('/')) {
    out.push({ path: [...at, 'cwd'], message: 'must be an absolute path' });
  }
  const seen = new Set<string>();
  arr(proc.rlimits).forEach((r, i) => {
    if (!isObj(r) || typeof r.type !== 'string') return;
    if (seen.has(r.type)) out.push({ path: [...at, 'rlimits', i, 'type'], message: `duplicate ${r.type}` });
    seen.add(r.type);
  });
  return out;
}

/** Problems of a linux.resources object; `at` is where it sits. */
export function checkResources(res: unknown, at: Segment[]): SemanticProblem[] {
  if (!isObj(res)) return [];
  const out: SemanticProblem[] = [];
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

function checkLinux(linux: Obj): SemanticProblem[] {
  const out: SemanticProblem[] = [];
  // config-linux.md: masked and read-only paths MUST be absolute.
  for (const key of ['maskedPaths', 'readonlyPaths'] as const) {
    arr(linux[key]).forEach((p, i) => {
      if (typeof p === 'string' && !p.startsWith('/')) out.push({ path: ['linux', key, i], message: 'must be an absolute path' });
    });
  }
  const types = new Set<string>();
  arr(linux.namespaces).forEach((ns, i) => {
    if (!isObj(ns)) return;
    if (typeof ns.type === 'string') {
      if (types.has(ns.type)) {
        out.push({ path: ['linux', 'namespaces', i, 'type'], message: `duplicate ${ns.type} namespace` });
      }
      types.add(ns.type);
    }
    if (typeof ns.path === 'string' && ns.path !== '' && !ns.path.startsWith('/')) {
      out.push({ path: ['linux', 'namespaces', i, 'path'], message: 'must be an absolute path' });
    }
  });

  pairedMappings(linux, ['linux'], 'uidMappings', 'gidMappings', out);
  if (!types.has('user')) {
    // runc: "user namespaces not enabled, but user namespace mappings found".
    const field = nonEmptyArray(linux.uidMappings) ? 'uidMappings' : nonEmptyArray(linux.gidMappings) ? 'gidMappings' : '';
    if (field) out.push({ path: ['linux', field], message: 'requires a user namespace in linux.namespaces' });
  }

  if (isObj(linux.timeOffsets) && Object.keys(linux.timeOffsets).length > 0 && !types.has('time')) {
    out.push({ path: ['linux', 'timeOffsets'], message: 'requires a time namespace in linux.namespaces' });
  }

  if (isObj(linux.seccomp) && has(linux.seccomp, 'listenerMetadata') && !has(linux.seccomp, 'listenerPath')) {
    out.push({ path: ['linux', 'seccomp', 'listenerMetadata'], message: 'requires linux.seccomp.listenerPath' });
  }

  if (isObj(linux.resources)) out.push(...checkResources(linux.resources, ['linux', 'resources']));
  return out;
}

/** uidMappings and gidMappings come together or not at all. */
function pairedMappings(o: Obj, at: Segment[], uid: string, gid: string, out: SemanticProblem[]): void {
  const hasUid = Array.isArray(o[uid]);
  const hasGid = Array.isArray(o[gid]);
  if (hasUid && !hasGid) out.push({ path: [...at, gid], message: `is required when ${uid} is set` });
  if (hasGid && !hasUid) out.push({ path: [...at, uid], message: `is required when ${gid} is set` });
}
