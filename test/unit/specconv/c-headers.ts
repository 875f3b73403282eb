// The system's C headers as an oracle for ts-runc's tables of kernel numbers: the
// constants a table carries are compared with what the headers define. Only the simple
// forms the headers use are read: `#define NAME value`, `NAME = value,` in an enum, and
// enum members without a value (counted on from the previous one). Values are integer
// literals (decimal, hex, U/L suffixes) or `(1 << n)`.
import { existsSync, readFileSync } from 'node:fs';

function evaluate(expr: string): bigint | undefined {
  const e = expr.trim().replace(/^\((.*)\)$/, '$1').trim();
  const literal = /^(0x[0-9a-f]+|\d+)[ul]*$/i.exec(e);
  if (literal) return BigInt(literal[1]!);
  const shift = /^(\d+)[ul]*\s*<<\s*(\d+)$/i.exec(e);
  if (shift) return BigInt(shift[1]!) << BigInt(shift[2]!);
  return undefined;
}

/** NAME -> value of every constant the files define in a form read here. */
export function cConstants(...files: string[]): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/.*$/gm, '');
    for (const m of text.matchAll(/^\s*#\s*define\s+([A-Za-z_]\w*)[ \t]+([^\n]+)$/gm)) {
      const v = evaluate(m[2]!);
      if (v !== undefined && !out.has(m[1]!)) out.set(m[1]!, v);
    }
    for (const body of text.matchAll(/enum\s*\w*\s*\{([^}]*)\}/g)) {
      let next = 0n;
      for (const member of body[1]!.split(',')) {
        const mm = /^\s*([A-Za-z_]\w*)\s*(?:=\s*(.+?))?\s*$/s.exec(member);
        if (!mm) continue;
        const v = mm[2] === undefined ? next : evaluate(mm[2]);
        if (v === undefined) continue;
        if (!out.has(mm[1]!)) out.set(mm[1]!, v);
        next = v + 1n;
      }
    }
  }
  return out;
}

/** The first of `files` that exists, or undefined (the test then skips with the reason). */
export function header(...files: string[]): string | undefined {
  return files.find((f) => existsSync(f));
}
