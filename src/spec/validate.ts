// Validation of OCI documents with the ahead-of-time (ajv standalone) validators generated
// from schemas/ by scripts/gen-schema-artifacts.mjs. No Ajv instance exists at run time.
//
// Every problem becomes one ConfigError naming the field in OCI dotted form, e.g.
// `linux.namespaces[1].type: must be one of pid, network, ...`. ajv's raw output is noisy
// (one error per failed alternative of a oneOf, an `if` error next to the real `then`
// error, ...); collapseErrors() reduces it to the single most useful line per field.

import { ConfigError } from '../util/errors.js';
import {
  validateConfig as ajvConfig,
  validateProcess as ajvProcess,
  validateResources as ajvResources,
  type AjvError,
  type StandaloneValidator,
} from './generated/config-validator.js';
import { validateFeatures as ajvFeatures } from './generated/features-validator.js';
import { validateState as ajvState } from './generated/state-validator.js';
import { patternMessages } from './generated/messages.js';
import { formatPath, isUnder, type Segment } from './paths.js';
import { checkConfig, checkProcess, checkResources, type SemanticProblem } from './semantic-checks.js';

/** One problem, its path already formatted. */
export interface Problem {
  path: string;
  message: string;
}

export interface ValidateOptions {
  /** Also run the field rules JSON Schema does not express (semantic-checks.ts). Default true. */
  semantic?: boolean;
}

/** Validate a parsed config.json. Returns every problem found; empty means valid. */
export function validateConfig(doc: unknown, opts: ValidateOptions = {}): ConfigError[] {
  return run(ajvConfig, doc, opts.semantic === false ? undefined : checkConfig);
}

/** Validate a process object on its own (exec --process file). Paths are relative to it. */
export function validateProcess(doc: unknown, opts: ValidateOptions = {}): ConfigError[] {
  return run(ajvProcess, doc, opts.semantic === false ? undefined : (d) => checkProcess(d, []));
}

/** Validate a linux.resources object on its own (update -r file). Paths are relative to it. */
export function validateResources(doc: unknown, opts: ValidateOptions = {}): ConfigError[] {
  return run(ajvResources, doc, opts.semantic === false ? undefined : checkResources);
}

/**
 * The field rules of a process that did not come from a file (exec's flags over the
 * config's process): the schema held for its parts already. `at` is where it sits.
 */
export function checkProcessFields(proc: unknown, at: Segment[]): ConfigError[] {
  return checkProcess(proc, at).map((p) => new ConfigError(formatPath(p.path), p.message));
}

/** Validate a state document (state output, hook stdin). */
export function validateState(doc: unknown): ConfigError[] {
  return run(ajvState, doc);
}

/** Validate a features document. */
export function validateFeatures(doc: unknown): ConfigError[] {
  return run(ajvFeatures, doc);
}

// ------------------------------------------------------------------ 64-bit integers

const MAX_UINT64 = 2n ** 64n - 1n;
const MIN_INT64 = -(2n ** 63n);
const MAX_INT64 = 2n ** 63n - 1n;
/** The double right above 2^63: fails int64's maximum (2^63 as a double) and passes uint64's. */
const ABOVE_INT64 = 2 ** 63 + 2 ** 11;

/**
 * What the schema validators (which know JSON numbers only) see for an integer read as a
 * bigint (json-exact.ts: beyond 2^53). A double near it would blur the 64-bit limits (2^64-1
 * and 2^64 are the same double), so the stand-in is chosen to fall on the same side of
 * every int64 and uint64 limit as the exact value.
 */
function standIn(v: bigint): number {
  if (v > MAX_UINT64) return 2 ** 65;
  if (v > MAX_INT64) return Math.max(Number(v), ABOVE_INT64);
  if (v < MIN_INT64) return -(2 ** 65);
  return Number(v);
}

/** `doc` with every bigint replaced by its stand-in (a copy only where there are bigints). */
function forSchema(doc: unknown): unknown {
  if (typeof doc === 'bigint') return standIn(doc);
  if (doc === null || typeof doc !== 'object') return doc;
  if (Array.isArray(doc)) {
    const items = doc.map(forSchema);
    return items.some((v, i) => v !== doc[i]) ? items : doc;
  }
  let copy: Record<string, unknown> | null = null;
  for (const [k, v] of Object.entries(doc)) {
    const w = forSchema(v);
    if (w === v) continue;
    copy ??= { ...doc };
    Object.defineProperty(copy, k, { value: w, writable: true, enumerable: true, configurable: true });
  }
  return copy ?? doc;
}

function run(
  validator: StandaloneValidator<unknown>,
  parsed: unknown,
  semantic?: (doc: unknown) => SemanticProblem[],
): ConfigError[] {
  const doc = forSchema(parsed);
  const problems = validator(doc) ? [] : collapseErrors(doc, validator.errors ?? []);
  if (semantic) {
    // A field the schema already rejected (or whose parent it rejected) is not reported again.
    const reported = problems.map((p) => p.path);
    for (const p of semantic(doc)) {
      const path = formatPath(p.path);
      if (!reported.some((r) => r === path || isUnder(path, r))) {
        problems.push({ path, message: p.message });
      }
    }
  }
  const seen = new Set<string>();
  const out: ConfigError[] = [];
  for (const p of problems) {
    const e = new ConfigError(p.path, p.message);
    if (seen.has(e.message)) continue;
    seen.add(e.message);
    out.push(e);
  }
  return out;
}

// ------------------------------------------------------------------ paths

/** Decode an ajv instancePath (JSON pointer), using the document to tell indices from keys. */
function pointerSegments(doc: unknown, pointer: string): Segment[] {
  if (pointer === '') return [];
  const segs: Segment[] = [];
  let node: unknown = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node) && /^(0|[1-9][0-9]*)$/.test(key)) {
      segs.push(Number(key));
      node = node[Number(key)];
    } else {
      segs.push(key);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return segs;
}

// ------------------------------------------------------------------ messages

interface Item {
  path: string;
  keyword: string;
  message: string;
  /** For `type` errors: the accepted types, merged across alternatives. */
  types?: string[];
  /** For `enum` errors: the accepted values, merged across alternatives. */
  values?: unknown[];
}

const ARTICLE: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

function typeMessage(types: string[]): string {
  const words = types.map((t) => ARTICLE[t] ?? t);
  return `must be ${words.length > 1 ? `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}` : words[0]}`;
}

function enumMessage(values: unknown[]): string {
  return `must be one of ${values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`;
}

/** Integer limits beyond 2^53 print badly as doubles; show the value the schema meant. */
function limitText(n: number): string {
  if (n === 2 ** 63) return '9223372036854775807';
  if (n === -(2 ** 63)) return '-9223372036854775808';
  if (n === 2 ** 64) return '18446744073709551615';
  return String(n);
}

function toItem(doc: unknown, e: AjvError): Item | undefined {
  const segs = pointerSegments(doc, e.instancePath);
  const p = e.params ?? {};
  // Errors about a member *name* (propertyNames) point at the member itself.
  if (e.propertyName !== undefined) {
    const path = formatPath([...segs, e.propertyName]);
    if (e.keyword === 'enum') return { path, keyword: 'key', message: `unknown key; ${enumMessage(p.allowedValues ?? [])}` };
    if (e.propertyName === '') return { path, keyword: 'key', message: 'key must not be empty' };
    return { path, keyword: 'key', message: 'key is not allowed' };
  }
  const path = formatPath(segs);
  switch (e.keyword) {
    case 'required':
      return { path: formatPath([...segs, String(p.missingProperty)]), keyword: 'required', message: 'is required' };
    case 'type': {
      const types = (Array.isArray(p.type) ? p.type : String(p.type).split(',')) as string[];
      return { path, keyword: 'type', message: typeMessage(types), types };
    }
    case 'enum':
      return { path, keyword: 'enum', message: enumMessage(p.allowedValues ?? []), values: [...(p.allowedValues ?? [])] };
    case 'const':
      return { path, keyword: 'enum', message: enumMessage([p.allowedValue]), values: [p.allowedValue] };
    case 'minimum':
      return { path, keyword: e.keyword, message: p.limit === 0 ? 'must not be negative' : `must be >= ${limitText(p.limit)}` };
    case 'exclusiveMinimum':
      return { path, keyword: e.keyword, message: p.limit === 0 ? 'must be greater than zero' : `must be > ${limitText(p.limit)}` };
    case 'maximum':
      return { path, keyword: e.keyword, message: `must be <= ${limitText(p.limit)}` };
    case 'exclusiveMaximum':
      return { path, keyword: e.keyword, message: `must be < ${limitText(p.limit)}` };
    case 'minItems':
      return { path, keyword: e.keyword, message: p.limit === 1 ? 'must be a non-empty array' : `must have at least ${p.limit} items` };
    case 'maxItems':
      return { path, keyword: e.keyword, message: `must have at most ${p.limit} items` };
    case 'minProperties':
      return { path, keyword: e.keyword, message: p.limit === 1 ? 'must not be empty' : `must have at least ${p.limit} members` };
    case 'pattern':
      return { path, keyword: e.keyword, message: patternMessages[p.pattern] ?? `must match the pattern ${p.pattern}` };
    case 'additionalProperties':
      return { path: formatPath([...segs, String(p.additionalProperty)]), keyword: e.keyword, message: 'is not allowed' };
    case 'anyOf':
    case 'oneOf':
      return {
        path,
        keyword: 'alternatives',
        message: Array.isArray(p.passingSchemas) ? 'matches more than one allowed form' : 'does not match any allowed form',
      };
    case 'if':
    case 'propertyNames':
      // `if` only says its `then` failed; `propertyNames` repeats the per-name error.
      return undefined;
    case 'not':
      return { path, keyword: e.keyword, message: 'is not allowed' };
    default:
      return { path, keyword: e.keyword, message: `is invalid (${e.keyword})` };
  }
}

/**
 * Reduce ajv's errors to one useful line per field:
 * - a failed alternative (oneOf/anyOf branch) that got further into the value wins over
 *   branches that failed at the value itself ("must be null" next to an error inside);
 * - at one field, a constraint error (enum, range, ...) wins over type errors from
 *   branches whose type did not even match; several type errors merge into one
 *   ("must be an object or null"), as do several enum lists;
 * - the generic "does not match any allowed form" is kept only when nothing better exists.
 */
export function collapseErrors(doc: unknown, errors: readonly AjvError[]): Problem[] {
  let items = errors.map((e) => toItem(doc, e)).filter((i): i is Item => i !== undefined);

  // 1. Type / alternative errors at a field that also has errors further inside it.
  items = items.filter(
    (i) => !((i.keyword === 'type' || i.keyword === 'alternatives') && items.some((o) => isUnder(o.path, i.path))),
  );

  // 2. Per field: prefer constraint errors; merge type and enum lists.
  const byPath = new Map<string, Item[]>();
  for (const i of items) {
    const list = byPath.get(i.path);
    if (list) list.push(i);
    else byPath.set(i.path, [i]);
  }
  const out: Problem[] = [];
  for (const [path, list] of byPath) {
    const specific = list.filter((i) => i.keyword !== 'type' && i.keyword !== 'alternatives');
    if (specific.length > 0) {
      const enums = specific.filter((i) => i.keyword === 'enum');
      const others = specific.filter((i) => i.keyword !== 'enum');
      if (enums.length > 0) {
        const values = [...new Set(enums.flatMap((i) => i.values ?? []))];
        out.push({ path, message: enumMessage(values) });
      }
      for (const i of others) out.push({ path, message: i.message });
      continue;
    }
    const typeItems = list.filter((i) => i.keyword === 'type');
    if (typeItems.length > 0) {
      const types = [...new Set(typeItems.flatMap((i) => i.types ?? []))];
      out.push({ path, message: typeMessage(types) });
      continue;
    }
    out.push({ path, message: list[0]!.message });
  }

  // 3. No duplicate lines.
  const seen = new Set<string>();
  return out.filter((p) => {
    const key = `${p.path}\0${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
