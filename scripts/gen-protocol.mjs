#!/usr/bin/env node
// Generates the plan and protocol code of both languages from addon/protocol/plan.json:
//
//   addon/generated/protocol.h        C++: wire records with layout checks, message and step ids
//   addon/generated/protocol_check.h  C++: the child's validator of a received plan
//   src/native/generated/protocol.ts  TypeScript: the plan types, the serializer, messages, steps
//
// Run by `npm run build` and before node-gyp (package.json "install", "build:addon"). Both
// sides embed a hash of the layout; the child refuses a plan made for another layout. A field
// renamed in plan.json renames it in both outputs, so the code that uses the old name stops
// compiling (tsc, g++) instead of reading a default.
//
//   node scripts/gen-protocol.mjs [--desc FILE] [--c-dir DIR] [--ts-dir DIR]
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Scalar wire types: size, C type and its range, TypeScript type, the values allowed. */
const SCALARS = {
  bool: { size: 4, c: 'uint32_t', cmin: 0, cmax: 0xffffffff, ts: 'boolean', min: 0, max: 1 },
  u16: { size: 2, c: 'uint16_t', cmin: 0, cmax: 0xffff, ts: 'number', min: 0, max: 0xffff },
  u32: { size: 4, c: 'uint32_t', cmin: 0, cmax: 0xffffffff, ts: 'number', min: 0, max: 0xffffffff },
  i32: { size: 4, c: 'int32_t', cmin: -0x80000000, cmax: 0x7fffffff, ts: 'number', min: -0x80000000, max: 0x7fffffff },
  u64: { size: 8, c: 'uint64_t', ts: 'bigint' },
  fd: { size: 4, c: 'int32_t', cmin: -0x80000000, cmax: 0x7fffffff, ts: 'number', min: -1, max: 0x7fffffff },
};
/** Out-of-line references: {u32 off, u32 len|count}. */
const REFS = {
  str: { c: 'Str', ts: 'string' },
  strs: { c: 'Strv', ts: 'string[]' },
  u32s: { c: 'Vec<uint32_t>', ts: 'number[]' },
  blob: { c: 'Blob', ts: 'Buffer' },
};
const FIXED_ARRAY = /^(fd|u32|i32)\[(\d+)\]$/;

const snake = (s) => s.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`);
const upperSnake = (s) => snake(s).toUpperCase();
const align = (n, a) => Math.ceil(n / a) * a;

function fnv1a64(text) {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

/** The resolved layout of every record: wire slots with offsets, field ids, the hash. */
export function layout(desc) {
  const byName = new Map(desc.records.map((r) => [r.name, r]));
  const done = new Map();
  const fieldIds = [];
  const fieldId = (rec, name) => {
    fieldIds.push({ record: rec.name, ts: rec.ts ?? rec.name, field: name });
    return fieldIds.length - 1;
  };

  function kindOf(f) {
    if (SCALARS[f.type]) return { kind: 'scalar', ...SCALARS[f.type] };
    if (REFS[f.type]) return { kind: 'ref', ...REFS[f.type] };
    const fixed = FIXED_ARRAY.exec(f.type);
    if (fixed) return { kind: 'fixed', elem: fixed[1], n: Number(fixed[2]), ...SCALARS[fixed[1]] };
    if (f.type.endsWith('[]')) {
      const inner = f.type.slice(0, -2);
      if (!byName.has(inner)) throw new Error(`${f.name}: unknown record ${inner}`);
      return { kind: 'list', record: inner };
    }
    if (byName.has(f.type)) return { kind: 'record', record: f.type };
    throw new Error(`${f.name}: unknown type ${f.type}`);
  }

  function resolve(name, stack = []) {
    if (done.has(name)) return done.get(name);
    if (stack.includes(name)) throw new Error(`record ${name} contains itself`);
    const rec = byName.get(name);
    const slots = [];
    let off = 0;
    let maxAlign = 4;
    let pads = 0;
    const place = (slot) => {
      const start = align(off, slot.align);
      if (start > off) slots.push({ role: 'pad', cname: `pad${pads++}_`, size: start - off, offset: off, align: 1 });
      slot.offset = start;
      slots.push(slot);
      off = start + slot.size;
      maxAlign = Math.max(maxAlign, slot.align);
    };
    const fields = [];
    for (const f of rec.fields) {
      const k = kindOf(f);
      const field = { ...k, ...f, cname: snake(f.name) };
      fields.push(field);
      field.id = fieldId(rec, f.name);
      if (f.nullable && (k.kind === 'scalar' || k.kind === 'record')) {
        field.hasSlot = { role: 'has', cname: `has_${field.cname}`, ctype: 'uint32_t', size: 4, align: 4, field };
        place(field.hasSlot);
      } else if (f.nullable && !(k.kind === 'ref' && f.type === 'str')) {
        throw new Error(`${rec.name}.${f.name}: only scalars, str and records may be nullable`);
      }
      let slot;
      if (k.kind === 'scalar') slot = { ctype: k.c, size: k.size, align: k.size };
      else if (k.kind === 'ref') slot = { ctype: k.c, size: 8, align: 4 };
      else if (k.kind === 'fixed') slot = { ctype: k.c, size: k.size * k.n, align: k.size, dims: k.n };
      else if (k.kind === 'list') {
        resolve(k.record, [...stack, name]);
        slot = { ctype: `Vec<${k.record}>`, size: 8, align: 4 };
      } else {
        const inner = resolve(k.record, [...stack, name]);
        slot = { ctype: k.record, size: inner.size, align: inner.align };
      }
      field.slot = { role: 'value', cname: field.cname, field, ...slot };
      place(field.slot);
    }
    const size = align(off, maxAlign);
    if (size > off) slots.push({ role: 'pad', cname: `pad${pads++}_`, size: size - off, offset: off, align: 1 });
    const out = { ...rec, fields, slots, size, align: maxAlign, layoutId: fieldId(rec, '(layout)') };
    done.set(name, out);
    return out;
  }
  for (const r of desc.records) resolve(r.name);
  const records = desc.records.map((r) => done.get(r.name));
  const messages = desc.messages.map((m, i) => ({ ...m, id: i + 1 }));
  const steps = desc.steps.map((s, i) => ({ ...s, id: i + 1 }));

  const canonical = [
    `magic=${desc.magic} version=${desc.version}`,
    ...records.map((r) => `${r.name}:${r.size}:${r.slots.map((s) => `${s.cname}/${s.ctype ?? 'pad'}@${s.offset}+${s.size}`).join(',')}`),
    ...messages.map((m) => `msg ${m.id} ${m.name}`),
    ...steps.map((s) => `step ${s.id} ${s.name}`),
  ].join('\n');
  return { desc, records, byName: done, messages, steps, fieldIds, hash: fnv1a64(canonical) };
}

function magicNumber(desc) {
  const b = Buffer.from(desc.magic, 'ascii');
  if (b.length !== 4) throw new Error('magic must be 4 ASCII characters');
  return b.readUInt32LE(0);
}

const hex = (n) => `0x${n.toString(16)}`;
const comment = (text, indent = '') => (text ? `${indent}// ${text}\n` : '');

// ---------------------------------------------------------------------------------------
// C++

function genHeader(L) {
  const { desc } = L;
  let o = `// GENERATED by scripts/gen-protocol.mjs from addon/protocol/plan.json: do not edit.
//
// The flat plan the runtime hands its child program, and the messages they exchange. Every
// record is plain data at a fixed offset; references ({off, len|count}) point into the same
// buffer (records, arrays, blobs) or into its string table (strings, NUL-terminated).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace tsr {
namespace proto {

constexpr uint32_t kMagic = ${hex(magicNumber(desc))}u;  // "${desc.magic}"
constexpr uint32_t kVersion = ${desc.version}u;
constexpr uint64_t kLayoutHash = ${hex(L.hash)}ull;
constexpr uint32_t kPlanBytesMax = ${desc.limits.planBytes}u;
constexpr uint32_t kStringBytesMax = ${desc.limits.stringBytes}u;
constexpr uint32_t kNullRef = 0xffffffffu;  // Str.off of a null string
constexpr uint32_t kNoIndex = 0xffffffffu;  // Msg.index when no plan entry applies
constexpr uint32_t kAllocAlign = 8;         // every record array, pointer array and blob

// A string in the string table: off is relative to the table, len excludes the NUL.
struct Str {
  uint32_t off;
  uint32_t len;
};
// A string list: off (absolute) names count+1 8-byte slots; the child turns them into a
// NULL-terminated pointer array in place.
struct Strv {
  uint32_t off;
  uint32_t count;
};
struct Blob {
  uint32_t off;
  uint32_t len;
};
template <typename T>
struct Vec {
  uint32_t off;
  uint32_t count;
};

enum class MsgType : uint32_t {
${L.messages.map((m) => `  ${m.name} = ${m.id},  // ${m.doc}`).join('\n')}
};

// Where the child was when it failed (Msg.step). Names and texts: src/native/generated/protocol.ts.
enum class Step : uint32_t {
${L.steps.map((s) => `  ${s.name} = ${s.id},  // ${s.text}`).join('\n')}
};

// Field ids, for a plan that fails validation (Msg.index of a PLAN_FIELD error).
enum class Field : uint32_t {
${L.fieldIds.map((f, i) => `  ${f.record}_${f.field === '(layout)' ? 'layout' : snake(f.field)} = ${i},`).join('\n')}
};
`;
  for (const r of L.records) {
    o += `\n${comment(r.doc)}struct ${r.name} {\n`;
    for (const s of r.slots) {
      if (s.role === 'pad') {
        o += `  uint8_t ${s.cname}[${s.size}];\n`;
        continue;
      }
      const f = s.field;
      const doc = s.role === 'has' ? '1: the next field is set, 0: null' : f.doc;
      if (s.dims) o += `  ${s.ctype} ${s.cname}[${s.dims}];${doc ? `  // ${doc}` : ''}\n`;
      else o += `  ${s.ctype} ${s.cname};${doc ? `  // ${doc}` : ''}\n`;
    }
    o += `};\nstatic_assert(sizeof(${r.name}) == ${r.size}, "layout of ${r.name}");\nstatic_assert(alignof(${r.name}) == ${r.align}, "alignment of ${r.name}");\n`;
    for (const s of r.slots) if (s.role !== 'pad') o += `static_assert(offsetof(${r.name}, ${s.cname}) == ${s.offset}, "${r.name}.${s.cname}");\n`;
  }
  o += `\n}  // namespace proto\n}  // namespace tsr\n`;
  return o;
}

function genCheck(L) {
  let o = `// GENERATED by scripts/gen-protocol.mjs from addon/protocol/plan.json: do not edit.
//
// The child's validation of a received plan, record by record, in the order the serializer
// wrote it: every reference must lie in the buffer at the next expected offset (so nothing
// overlaps), every string in the string table and NUL-terminated, every value in range,
// every padding byte zero. Included by addon/child/plan.h, which defines PlanChecker.
#pragma once

namespace tsr {
namespace proto {
`;
  // Forward declarations so records can check nested ones in any order.
  for (const r of L.records) if (!r.internal) o += `inline bool check(PlanChecker &c, ${r.name} &r);\n`;
  for (const r of L.records) {
    if (r.internal) continue;
    o += `\ninline bool check(PlanChecker &c, ${r.name} &r) {\n`;
    for (const s of r.slots) {
      if (s.role === 'pad') {
        o += `  if (!c.zero(r.${s.cname}, sizeof r.${s.cname}, Field::${r.name}_layout)) return false;\n`;
        continue;
      }
      if (s.role === 'has') {
        o += `  if (r.${s.cname} > 1) return c.fail(Field::${r.name}_${s.field.cname});\n`;
        continue;
      }
      const f = s.field;
      const id = `Field::${r.name}_${f.cname}`;
      const guard = f.nullable && f.hasSlot ? `r.${f.hasSlot.cname} && ` : '';
      if (f.kind === 'scalar' || f.kind === 'fixed') {
        const t = SCALARS[f.elem ?? f.type];
        const min = f.min ?? t.min;
        const max = f.max ?? t.max;
        const val = f.kind === 'fixed' ? `r.${f.cname}[i]` : `r.${f.cname}`;
        const conds = [];
        if (min !== undefined && min > t.cmin) conds.push(`${val} < ${min}`);
        if (max !== undefined && max < t.cmax) conds.push(`${val} > ${max}${max > 0x7fffffff ? 'u' : ''}`);
        if (conds.length && f.kind === 'fixed') o += `  for (int i = 0; i < ${f.n}; i++)\n    if (${conds.join(' || ')}) return c.fail(${id});\n`;
        else if (conds.length) o += `  if (${guard}(${conds.join(' || ')})) return c.fail(${id});\n`;
        if (f.nullable) o += `  if (!r.${f.hasSlot.cname} && r.${f.cname} != 0) return c.fail(${id});\n`;
      } else if (f.type === 'str') {
        o += `  if (!c.str(r.${f.cname}, ${f.nullable ? 'true' : 'false'}, ${id})) return false;\n`;
      } else if (f.type === 'strs') {
        o += `  if (!c.strv(r.${f.cname}, ${f.headroom ?? 0}, ${id})) return false;\n`;
      } else if (f.type === 'u32s') {
        o += `  if (!c.vec(r.${f.cname}, ${f.maxLen ?? 0xffffffff}u, ${id})) return false;\n`;
      } else if (f.type === 'blob') {
        o += `  if (!c.blob(r.${f.cname}, ${f.multipleOf ?? 1}u, ${f.maxLen ?? 0xffffffff}u, ${id})) return false;\n`;
      } else if (f.kind === 'list') {
        o += `  if (!c.vec(r.${f.cname}, ${f.maxLen ?? 0xffffffff}u, ${id})) return false;\n`;
        o += `  for (uint32_t i = 0; i < r.${f.cname}.count; i++)\n    if (!check(c, c.at(r.${f.cname}, i))) return false;\n`;
      } else if (f.kind === 'record') {
        if (f.nullable) o += `  if (!r.${f.hasSlot.cname}) {\n    if (!c.zero(&r.${f.cname}, sizeof r.${f.cname}, ${id})) return false;\n  } else if (!check(c, r.${f.cname})) {\n    return false;\n  }\n`;
        else o += `  if (!check(c, r.${f.cname})) return false;\n`;
      }
    }
    o += `  return true;\n}\n`;
  }
  // Every descriptor field, for the check that each one the plan names is open.
  o += `\n// Calls fn(fd, field) for every descriptor the plan names (>= 0).\n`;
  const withFds = L.records.filter((r) => !r.internal && hasFd(L, r.name));
  for (const r of withFds) o += `template <typename Fn> void for_each_fd(const ${r.name} &r, Fn &fn);\n`;
  for (const r of withFds) {
    o += `template <typename Fn>\nvoid for_each_fd(const ${r.name} &r, Fn &fn) {\n`;
    for (const f of r.fields) {
      const id = `Field::${r.name}_${f.cname}`;
      if (f.type === 'fd') {
        o += `  if (r.${f.cname} >= 0) fn(r.${f.cname}, ${id});\n`;
      } else if (f.kind === 'fixed' && f.elem === 'fd') {
        o += `  for (int i = 0; i < ${f.n}; i++)\n    if (r.${f.cname}[i] >= 0) fn(r.${f.cname}[i], ${id});\n`;
      } else if (f.kind === 'list' && hasFd(L, f.record)) {
        o += `  for (uint32_t i = 0; i < r.${f.cname}.count; i++) for_each_fd(plan_at(r.${f.cname}, i), fn);\n`;
      } else if (f.kind === 'record' && hasFd(L, f.record)) {
        o += `${f.nullable ? `  if (r.${f.hasSlot.cname})` : ''}  for_each_fd(r.${f.cname}, fn);\n`;
      }
    }
    o += `}\n`;
  }
  o += `\n}  // namespace proto\n}  // namespace tsr\n`;
  return o;
}

function hasFd(L, name, seen = new Set()) {
  if (seen.has(name)) return false;
  seen.add(name);
  const r = L.byName.get(name);
  return r.fields.some((f) => (f.type === 'fd' || (f.kind === 'fixed' && f.elem === 'fd') || ((f.kind === 'list' || f.kind === 'record') && hasFd(L, f.record, seen))));
}

// ---------------------------------------------------------------------------------------
// TypeScript

function tsTypeOf(L, f) {
  let t;
  if (f.kind === 'scalar') t = SCALARS[f.type].ts;
  else if (f.kind === 'ref') t = REFS[f.type].ts;
  else if (f.kind === 'fixed') t = `[${Array(f.n).fill(SCALARS[f.elem].ts).join(', ')}]`;
  else if (f.kind === 'list') t = `${tsName(L, f.record)}[]`;
  else t = tsName(L, f.record);
  return f.nullable ? `${t} | null` : t;
}
const tsName = (L, rec) => L.byName.get(rec).ts ?? rec;

function genTs(L) {
  const { desc } = L;
  const lines = [];
  const emit = (s = '') => lines.push(s);
  emit('// GENERATED by scripts/gen-protocol.mjs from addon/protocol/plan.json: do not edit.');
  emit('//');
  emit('// The plan the runtime hands its child program (types and serializer), the messages they');
  emit('// exchange and the child\'s step ids. The serializer checks every field (presence, type,');
  emit('// range, no NUL in strings) and throws PlanEncodeError naming it.');
  emit('/* eslint-disable */');
  emit("import { PlanWriter, PlanEncodeError, check as c } from '../plan-codec.js';");
  emit();
  emit(`export const PLAN_MAGIC = ${magicNumber(desc)};`);
  emit(`export const PLAN_VERSION = ${desc.version};`);
  emit(`export const LAYOUT_HASH = ${hex(L.hash)}n;`);
  emit(`export const PLAN_BYTES_MAX = ${desc.limits.planBytes};`);
  emit(`export const STRING_BYTES_MAX = ${desc.limits.stringBytes};`);
  emit(`/** Msg.index when no plan entry applies. */`);
  emit(`export const NO_INDEX = 0xffffffff;`);
  emit();
  emit('/** Message types of the runtime/child protocol. */');
  emit('export const MsgType = {');
  emit('  /** the socket closed (not a message) */');
  emit('  EOF: 0,');
  for (const m of L.messages) emit(`  /** ${m.doc} */\n  ${m.name}: ${m.id},`);
  emit('} as const;');
  emit();
  emit('/** Step ids the child reports failures with. */');
  emit('export const Step = {');
  for (const s of L.steps) emit(`  ${s.name}: ${s.id},`);
  emit('} as const;');
  emit('export type StepId = (typeof Step)[keyof typeof Step];');
  emit();
  emit('export interface StepInfo {');
  emit('  name: string;');
  emit('  /** What the child was doing, in words. */');
  emit('  text: string;');
  emit('  /** The config field the step applies, if one (e.g. "process.scheduler"). */');
  emit('  field?: string;');
  emit('  /** Where in the plan the message\'s index points (e.g. "mounts[i].dest"), if anywhere. */');
  emit('  subject?: string;');
  emit('}');
  emit('/** STEPS[id]: the step\'s name, text and subject. */');
  emit('export const STEPS: Readonly<Record<number, StepInfo>> = {');
  for (const s of L.steps) emit(`  ${s.id}: ${JSON.stringify({ name: s.name, text: s.text, ...(s.field ? { field: s.field } : {}), ...(s.subject ? { subject: s.subject } : {}) })},`);
  emit('};');
  emit();
  emit('/** Field ids (the index of a PLAN_FIELD error): "Record.field". */');
  emit(`export const FIELDS: readonly string[] = ${JSON.stringify(L.fieldIds.map((f) => `${f.ts}.${f.field}`))};`);
  emit();

  // Types
  for (const r of L.records) {
    if (r.internal) continue;
    if (r.doc) emit(`/** ${r.doc} */`);
    emit(`export interface ${r.ts ?? r.name} {`);
    for (const f of r.fields) {
      if (f.doc) emit(`  /** ${f.doc} */`);
      emit(`  ${f.name}${f.optional ? '?' : ''}: ${tsTypeOf(L, f)};`);
    }
    emit('}');
    emit();
  }

  // Sizes of the records the serializer allocates on their own.
  const allocated = new Set([desc.header, desc.root]);
  for (const r of L.records) for (const f of r.fields) if (f.kind === 'list') allocated.add(f.record);
  for (const r of L.records) if (allocated.has(r.name)) emit(`const SIZE_${r.name} = ${r.size};`);
  emit();

  // Serializer
  for (const r of L.records) {
    if (r.internal) continue;
    const T = r.ts ?? r.name;
    emit(`function put${r.name}(w: PlanWriter, at: number, v: ${T}, path: string): void {`);
    for (const f of r.fields) {
      const key = JSON.stringify(f.name);
      const off = f.slot.offset;
      let get = `v.${f.name}`;
      if (f.optional) get = `(v.${f.name} === undefined ? ${f.default === null ? 'null' : JSON.stringify(f.default)} : v.${f.name})`;
      const lim = () => {
        const t = SCALARS[f.elem ?? f.type];
        return `${f.min ?? t.min}, ${f.max ?? t.max}`;
      };
      const scalarPut = (target, value) => {
        if (f.type === 'bool') return `w.u32(${target}, ${value} ? 1 : 0)`;
        if (f.type === 'u64') return `w.u64(${target}, ${value})`;
        if (f.type === 'u16') return `w.u16(${target}, ${value})`;
        if (f.type === 'u32') return `w.u32(${target}, ${value})`;
        return `w.i32(${target}, ${value})`;
      };
      const scalarCheck = (value) => {
        if (f.type === 'bool') return `c.bool(${value}, path, ${key})`;
        if (f.type === 'u64') return `c.u64(${value}, path, ${key})`;
        return `c.int(${value}, path, ${key}, ${lim()})`;
      };
      if (f.kind === 'scalar') {
        if (f.nullable) {
          emit(`  { const x = c.present(${get}, path, ${key}, true); if (x !== null) { w.u32(at + ${f.hasSlot.offset}, 1); ${scalarPut(`at + ${off}`, scalarCheck('x'))}; } }`);
        } else {
          emit(`  ${scalarPut(`at + ${off}`, scalarCheck(get))};`);
        }
      } else if (f.kind === 'fixed') {
        emit(`  { const a = c.tuple(${get}, path, ${key}, ${f.n}); for (let i = 0; i < ${f.n}; i++) w.i32(at + ${off} + i * ${SCALARS[f.elem].size}, c.int(a[i], path, \`${f.name}[\${i}]\`, ${lim()})); }`);
      } else if (f.type === 'str') {
        emit(`  w.str(at + ${off}, c.str(${get}, path, ${key}, ${f.nullable ? 'true' : 'false'}));`);
      } else if (f.type === 'strs') {
        emit(`  w.strv(at + ${off}, c.strs(${get}, path, ${key}), ${f.headroom ?? 0});`);
      } else if (f.type === 'u32s') {
        emit(`  w.u32s(at + ${off}, c.u32s(${get}, path, ${key}, ${f.maxLen ?? 0xffffffff}));`);
      } else if (f.type === 'blob') {
        emit(`  w.blob(at + ${off}, c.blob(${get}, path, ${key}, ${f.multipleOf ?? 1}, ${f.maxLen ?? 0xffffffff}));`);
      } else if (f.kind === 'list') {
        emit(`  { const list = c.list(${get}, path, ${key}, ${f.maxLen ?? 0xffffffff}); const base = w.vec(at + ${off}, list.length, SIZE_${f.record});`);
        emit(`    for (let i = 0; i < list.length; i++) put${f.record}(w, base + i * SIZE_${f.record}, c.record(list[i], path, \`${f.name}[\${i}]\`), \`\${path}.${f.name}[\${i}]\`); }`);
      } else if (f.kind === 'record') {
        if (f.nullable) {
          emit(`  { const x = c.present(${get}, path, ${key}, true); if (x !== null) { w.u32(at + ${f.hasSlot.offset}, 1); put${f.record}(w, at + ${off}, c.record(x, path, ${key}), \`\${path}.${f.name}\`); } }`);
        } else {
          emit(`  put${f.record}(w, at + ${off}, c.record(${get}, path, ${key}), \`\${path}.${f.name}\`);`);
        }
      }
    }
    emit('}');
    emit();
  }
  const root = L.byName.get(desc.root);
  const header = L.byName.get(desc.header);
  const hoff = (name) => header.slots.find((s) => s.cname === snake(name)).offset;
  emit(`/** The plan as the bytes the child reads. Throws PlanEncodeError naming a bad field. */`);
  emit(`export function encodePlan(plan: ${root.ts}): Buffer {`);
  emit(`  const w = new PlanWriter(SIZE_${header.name}, PLAN_BYTES_MAX, STRING_BYTES_MAX);`);
  emit(`  const at = w.alloc(SIZE_${root.name});`);
  emit(`  put${root.name}(w, at, c.record(plan, '', 'plan'), 'plan');`);
  emit(`  return w.finish((out, size, stringsOff) => {`);
  emit(`    out.writeUInt32LE(PLAN_MAGIC, ${hoff('magic')});`);
  emit(`    out.writeUInt32LE(PLAN_VERSION, ${hoff('version')});`);
  emit(`    out.writeBigUInt64LE(LAYOUT_HASH, ${hoff('layoutHash')});`);
  emit(`    out.writeUInt32LE(size, ${hoff('size')});`);
  emit(`    out.writeUInt32LE(stringsOff, ${hoff('stringsOff')});`);
  emit('  });');
  emit('}');
  emit();

  // fds
  for (const r of L.records) {
    if (r.internal || !hasFd(L, r.name)) continue;
    emit(`function fds${r.name}(v: ${r.ts ?? r.name}, out: number[]): void {`);
    for (const f of r.fields) {
      const get = f.optional ? `(v.${f.name} ?? ${JSON.stringify(f.default)})` : `v.${f.name}`;
      if (f.type === 'fd') emit(`  if (${get} >= 0) out.push(${get});`);
      else if (f.kind === 'fixed' && f.elem === 'fd') emit(`  for (const fd of ${get}) if (fd >= 0) out.push(fd);`);
      else if (f.kind === 'list' && hasFd(L, f.record)) emit(`  for (const e of ${get}) fds${f.record}(e, out);`);
      else if (f.kind === 'record' && hasFd(L, f.record)) emit(`  ${f.nullable ? `if (${get}) ` : ''}fds${f.record}(${get}, out);`);
    }
    emit('}');
    emit();
  }
  emit(`/** Every descriptor the plan names (each must reach the child at its number). */`);
  emit(`export function planFds(plan: ${root.ts}): number[] {`);
  emit('  const out: number[] = [];');
  emit(`  fds${root.name}(plan, out);`);
  emit('  return out;');
  emit('}');
  emit();

  // Messages
  const msg = L.byName.get(desc.message);
  emit(`/** One protocol message (${msg.size} bytes on the socket). */`);
  emit('export interface WireMsg {');
  for (const f of msg.fields) emit(`  /** ${f.doc ?? ''} */\n  ${f.name}: number;`);
  emit('}');
  emit(`export const MSG_SIZE = ${msg.size};`);
  emit('export function decodeMsg(b: Buffer): WireMsg {');
  emit(`  if (b.length !== MSG_SIZE) throw new PlanEncodeError('message', \`is \${b.length} bytes, not \${MSG_SIZE}\`);`);
  emit('  return {');
  for (const s of msg.slots) if (s.role === 'value') emit(`    ${s.field.name}: b.read${s.ctype === 'int32_t' ? 'Int32LE' : 'UInt32LE'}(${s.offset}),`);
  emit('  };');
  emit('}');
  emit('export function encodeMsg(m: Partial<WireMsg> & { type: number }): Buffer {');
  emit('  const b = Buffer.alloc(MSG_SIZE);');
  for (const s of msg.slots) {
    if (s.role !== 'value') continue;
    const dflt = s.field.name === 'index' ? 'NO_INDEX' : '0';
    emit(`  b.write${s.ctype === 'int32_t' ? 'Int32LE' : 'UInt32LE'}(m.${s.field.name} ?? ${dflt}, ${s.offset});`);
  }
  emit('  return b;');
  emit('}');
  return `${lines.join('\n')}\n`;
}

export function generate(desc) {
  const L = layout(desc);
  return { L, protocolH: genHeader(L), checkH: genCheck(L), protocolTs: genTs(L) };
}

function writeIfChanged(file, text) {
  mkdirSync(path.dirname(file), { recursive: true });
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return;
  writeFileSync(file, text);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = args.indexOf(name);
    return i >= 0 ? path.resolve(args[i + 1]) : dflt;
  };
  const descFile = opt('--desc', path.join(ROOT, 'addon/protocol/plan.json'));
  const cDir = opt('--c-dir', path.join(ROOT, 'addon/generated'));
  const tsDir = opt('--ts-dir', path.join(ROOT, 'src/native/generated'));
  const out = generate(JSON.parse(readFileSync(descFile, 'utf8')));
  writeIfChanged(path.join(cDir, 'protocol.h'), out.protocolH);
  writeIfChanged(path.join(cDir, 'protocol_check.h'), out.checkH);
  writeIfChanged(path.join(tsDir, 'protocol.ts'), out.protocolTs);
}
