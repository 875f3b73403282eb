// JSON whose integers keep their exact value. JSON.parse reads every number as a double, so
// an rlimit of 18446744073709551615 (RLIM_INFINITY) or a seccomp mask above 2^53 would
// silently become another number. Documents the runtime reads (json-input.ts) are parsed
// with JSON.parse as usual and, only when they hold an integer outside the safe range, read
// again here: such integers become bigints, every other value is what JSON.parse gives.
// toJson writes bigints back as plain numbers (the config snapshot, `events`).

export type Json = bigint | number | string | boolean | null | undefined | Json[] | { [key: string]: Json };

/** An integer literal of 16 or more digits: the only kind that can exceed 2^53 - 1. */
const LONG_INTEGER = /"(?:[^"\\]|\\.)*"|-?\d{16,}(?![.eE\d])/g;

/** Does `text` (valid JSON) hold an integer literal that a double cannot carry exactly? */
export function hasUnsafeInteger(text: string): boolean {
  LONG_INTEGER.lastIndex = 0;
  for (let m = LONG_INTEGER.exec(text); m; m = LONG_INTEGER.exec(text)) {
    if (m[0].charCodeAt(0) !== 0x22 && !Number.isSafeInteger(Number(m[0]))) return true;
  }
  return false;
}

// Tokens, as sticky expressions (the text is known to be valid JSON: no error paths).
const WS = /[ \t\n\r]*/y;
const TOKEN = /"(?:[^"\\]|\\.)*"|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null|[[\]{},:]/y;

function scalar(token: string): Json {
  const c = token.charCodeAt(0);
  if (c === 0x22) return JSON.parse(token) as string;
  if (token === 'true') return true;
  if (token === 'false') return false;
  if (token === 'null') return null;
  const n = Number(token);
  return Number.isSafeInteger(n) || !/^-?\d+$/.test(token) ? n : BigInt(token);
}

/** A member as JSON.parse makes it: an own data property, "__proto__" included. */
function setMember(obj: Record<string, Json>, key: string, value: Json): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

/**
 * Parse valid JSON text (JSON.parse has accepted it, and its depth is bounded), integers
 * outside the safe range as bigints. Iterative: no recursion to overflow.
 */
export function parseExact(text: string): Json {
  // Each open container, with the key its next value goes to (objects).
  const stack: { value: Json[] | Record<string, Json>; key: string | null }[] = [];
  let pos = 0;
  let root: Json;
  const next = (): string => {
    WS.lastIndex = pos;
    WS.test(text);
    TOKEN.lastIndex = WS.lastIndex;
    const m = TOKEN.exec(text)!;
    pos = TOKEN.lastIndex;
    return m[0];
  };
  const place = (v: Json): void => {
    const top = stack[stack.length - 1];
    if (!top) root = v;
    else if (Array.isArray(top.value)) top.value.push(v);
    else setMember(top.value, top.key!, v);
  };
  for (;;) {
    const t = next();
    if (t === '{' || t === '[') {
      const value: Json[] | Record<string, Json> = t === '{' ? {} : [];
      place(value);
      stack.push({ value, key: null });
    } else if (t === '}' || t === ']') {
      stack.pop();
    } else if (t === ',') {
      continue;
    } else {
      const top = stack[stack.length - 1];
      // In an object a string before ':' is a key.
      if (top && !Array.isArray(top.value) && top.key === null) {
        top.key = JSON.parse(t) as string;
        next(); // ':'
        continue;
      }
      place(scalar(t));
      if (top && !Array.isArray(top.value)) top.key = null;
    }
    if (stack.length === 0) return root;
    const top = stack[stack.length - 1]!;
    if (!Array.isArray(top.value) && (t === '}' || t === ']')) top.key = null;
  }
}

/** JSON with bigints as plain numbers and undefined members left out. */
export function toJson(v: Json): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(toJson).join(',')}]`;
  const members = Object.entries(v).filter(([, x]) => x !== undefined);
  return `{${members.map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`).join(',')}}`;
}
