// Every JSON document the runtime reads (config.json, --process files, `update -r`, its own
// state) comes through here, bounded: only a regular file (or standard input, where the
// command line allows it), at most MAX_JSON_BYTES, nested at most MAX_JSON_DEPTH deep.
// Errors name the file and a line and column, never any of its content: a config.json
// symlinked to a secret must not print the secret's first bytes.
import fs from 'node:fs';
import { FileError } from './errors.js';
import { hasUnsafeInteger, parseExact } from './json-exact.js';
import { sleepMs } from './sleep.js';

/** Far above any real config (runc's has no explicit limit; its parser reads it whole). */
export const MAX_JSON_BYTES = 16 * 1024 * 1024;
/** A config is nested about 7 deep; deeper documents overflow recursive consumers. */
export const MAX_JSON_DEPTH = 256;

/** What is being read: a path, or standard input (`-` for update -r). */
export type JsonSource = { file: string } | { stdin: true };

function sourceName(src: JsonSource): string {
  return 'file' in src ? src.file : 'standard input';
}

/** Reads after the first one (standard input, a file that grew): this much at a time. */
const CHUNK = 64 * 1024;

/**
 * Read at most `limit` + 1 bytes of an open fd: a file that grows past the limit is refused
 * too. `expected` (a regular file's size) sizes the first read, so that a regular file
 * takes one read and a small one to see its end.
 */
function readBounded(fd: number, name: string, limit: number, expected = CHUNK): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const want = total === 0 ? expected + 1 : total === expected ? 1 : CHUNK;
    const buf = Buffer.allocUnsafe(Math.min(want, limit + 1 - total));
    let n: number;
    try {
      n = fs.readSync(fd, buf, 0, buf.length, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
        // Standard input in non-blocking mode: wait for it.
        sleepMs(5);
        continue;
      }
      throw FileError.fromFs(err, 'read', name);
    }
    if (n === 0) break;
    chunks.push(buf.subarray(0, n));
    total += n;
    if (total > limit) throw new FileError(name, `larger than ${limit} bytes`);
  }
  return Buffer.concat(chunks, total);
}

/**
 * The text of a regular file (symlinks followed: a symlinked config.json is legal) or of
 * standard input. O_NONBLOCK so that opening a FIFO does not wait for a writer; it is then
 * refused by the type check like any other non-regular file.
 */
export function readBoundedText(src: JsonSource, limit = MAX_JSON_BYTES): string {
  if (!('file' in src)) return readBounded(0, sourceName(src), limit).toString('utf8');
  let fd: number;
  try {
    fd = fs.openSync(src.file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    throw FileError.fromFs(err, 'open', src.file);
  }
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) throw new FileError(src.file, 'is a directory');
    if (!st.isFile()) throw new FileError(src.file, 'not a regular file');
    if (st.size > limit) throw new FileError(src.file, `larger than ${limit} bytes`);
    return readBounded(fd, src.file, limit, st.size).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** Read and parse a bounded JSON document. */
export function readJson(src: JsonSource): unknown {
  return parseJsonText(readBoundedText(src), sourceName(src));
}

/**
 * Parse JSON text, bounded in depth; `name` (a path) is what errors call it. The usual case
 * costs a depth scan and JSON.parse; the full check runs only to explain a failure. Integers
 * a double cannot carry exactly (rlimits of 2^64-1, seccomp masks) come back as bigints
 * (json-exact.ts), every other number as a number.
 */
export function parseJsonText(text: string, name: string): unknown {
  const tooDeep = mayNestDeeperThan(text, MAX_JSON_DEPTH) ? depthExceededAt(text, MAX_JSON_DEPTH) : -1;
  let problem: JsonProblem | null = tooDeep < 0 ? null : { reason: `nested deeper than ${MAX_JSON_DEPTH} levels`, pos: tooDeep };
  if (!problem) {
    try {
      const value: unknown = JSON.parse(text);
      return holdsUnsafeMagnitude(value) && hasUnsafeInteger(text) ? parseExact(text) : value;
    } catch {
      problem = checkJson(text, MAX_JSON_DEPTH) ?? { reason: 'not valid', pos: 0 };
    }
  }
  throw new FileError(name, `invalid JSON: ${problem.reason} at ${lineColumn(text, problem.pos)}`);
}

/**
 * Can `text` nest deeper than `max` at all? Not with at most `max` opening brackets (those in
 * strings counted too). Counted with indexOf, at most max + 1 times: the regular expression
 * scans below run in JavaScriptCore's regexp interpreter (the JIT is off), ~0.2-0.4 ms for
 * a state.json or config.json, and most documents are decided here without them.
 */
function mayNestDeeperThan(text: string, max: number): boolean {
  let n = 0;
  for (const open of ['[', '{']) {
    for (let i = text.indexOf(open); i >= 0; i = text.indexOf(open, i + 1)) if (++n > max) return true;
  }
  return false;
}

/**
 * Does a parsed value hold a number beyond +-(2^53 - 1)? Only then can its text hold an
 * integer literal a double cannot carry (hasUnsafeInteger decides which it was): a walk of
 * the value, cheaper than scanning every character of the text.
 */
function holdsUnsafeMagnitude(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length) {
    const v = pending.pop();
    if (typeof v === 'number') {
      if (!(v <= Number.MAX_SAFE_INTEGER && v >= -Number.MAX_SAFE_INTEGER)) return true;
    } else if (Array.isArray(v)) {
      for (const item of v) pending.push(item);
    } else if (typeof v === 'object' && v !== null) {
      for (const key in v) pending.push((v as Record<string, unknown>)[key]);
    }
  }
  return false;
}

/** Where nesting first goes deeper than `max` (strings skipped), or -1. */
function depthExceededAt(text: string, max: number): number {
  // test(), not exec(): no match object per token (this runs on every command's input).
  const re = /"(?:[^"\\]|\\.)*"|[[\]{}]/g;
  let depth = 0;
  while (re.test(text)) {
    // The match's last character: a quote ends a string, else it is the bracket itself.
    const c = text.charCodeAt(re.lastIndex - 1);
    if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return re.lastIndex - 1;
    } else if (c !== 0x22) {
      depth--;
    }
  }
  return -1;
}

/** Why the string at `pos` is not one, and where exactly. */
function badString(text: string, pos: number): JsonProblem {
  STRING_START.lastIndex = pos;
  STRING_START.test(text);
  const at = STRING_START.lastIndex;
  if (at >= text.length) return { reason: 'unexpected end of input in a string', pos: at };
  return { reason: text.charCodeAt(at) < 0x20 ? 'control character in a string' : 'invalid escape in a string', pos: at };
}

function lineColumn(text: string, pos: number): string {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  return `line ${line}, column ${pos - before.lastIndexOf('\n')}`;
}

// Tokens, as sticky expressions: the engine's own regex matcher does the per-character work.
const WS = /[ \t\n\r]*/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
/** The longest valid start of a string (STRING without its closing quote): where a bad one goes wrong. */
const STRING_START = new RegExp(STRING.source.slice(0, -1), 'y');
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERAL = /true|false|null/y;

interface JsonProblem {
  reason: string;
  pos: number;
}

/**
 * Check JSON syntax and nesting depth without building anything (iteratively: no recursion
 * to overflow). Returns the first problem with its offset, or null. JSON.parse then builds
 * the value; this check is what gives errors a position without quoting the input.
 */
export function checkJson(text: string, maxDepth: number): JsonProblem | null {
  const stack: number[] = []; // 0x7b '{' or 0x5b '['
  let pos = 0;
  const skip = () => {
    WS.lastIndex = pos;
    WS.exec(text);
    pos = WS.lastIndex;
  };
  const match = (re: RegExp): boolean => {
    re.lastIndex = pos;
    if (!re.test(text)) return false;
    pos = re.lastIndex;
    return true;
  };
  const fail = (reason: string): JsonProblem => ({ reason: pos >= text.length ? 'unexpected end of input' : reason, pos });
  const badKey = () => (text.charCodeAt(pos) === 0x22 ? badString(text, pos) : fail('expected a property name'));
  // Each turn reads one value, then the punctuation after it.
  for (;;) {
    skip();
    const c = text.charCodeAt(pos);
    if (c === 0x7b || c === 0x5b) {
      if (stack.length >= maxDepth) return { reason: `nested deeper than ${maxDepth} levels`, pos };
      stack.push(c);
      pos++;
      skip();
      const close = c === 0x7b ? 0x7d : 0x5d;
      if (text.charCodeAt(pos) === close) {
        pos++;
        stack.pop();
      } else if (c === 0x7b) {
        if (!match(STRING)) return badKey();
        skip();
        if (text.charCodeAt(pos) !== 0x3a) return fail("expected ':' after a property name");
        pos++;
        continue;
      } else {
        continue;
      }
    } else if (c === 0x22) {
      if (!match(STRING)) return badString(text, pos);
    } else if (!match(NUMBER) && !match(LITERAL)) {
      return fail('unexpected character');
    }
    // After a value: close containers, or a comma and the next value.
    for (;;) {
      skip();
      const top = stack[stack.length - 1];
      if (top === undefined) {
        return pos === text.length ? null : { reason: 'unexpected character after the document', pos };
      }
      const p = text.charCodeAt(pos);
      if (p === (top === 0x7b ? 0x7d : 0x5d)) {
        pos++;
        stack.pop();
        continue;
      }
      if (p !== 0x2c) return fail(top === 0x7b ? "expected ',' or '}'" : "expected ',' or ']'");
      pos++;
      if (top === 0x7b) {
        skip();
        if (!match(STRING)) return badKey();
        skip();
        if (text.charCodeAt(pos) !== 0x3a) return fail("expected ':' after a property name");
        pos++;
      }
      break;
    }
  }
}
