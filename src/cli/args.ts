// A small command-line parser with runc's (urfave/cli) conventions: "-f", "--flag",
// "-flag", "--flag=value", "--flag value", boolean flags with an optional "=false",
// repeatable string flags, "--" ending flags. Kept dependency-free for start-up time.
import { UsageError } from '../util/errors.js';

export type FlagType = 'bool' | 'string' | 'int' | 'strings';

export interface FlagSpec {
  name: string;
  aliases?: string[];
  type: FlagType;
  usage: string;
  /** Shown in help and used when the flag is absent. */
  default?: string | number | boolean;
  /** Value placeholder in help. */
  value?: string;
}

export type FlagValues = Record<string, string | number | boolean | string[] | undefined>;

export interface Parsed {
  flags: FlagValues;
  args: string[];
}

function lookupFlag(specs: readonly FlagSpec[], name: string): FlagSpec | undefined {
  return specs.find((s) => s.name === name || s.aliases?.includes(name));
}

function parseBool(text: string, name: string): boolean {
  if (/^(1|t|true)$/i.test(text)) return true;
  if (/^(0|f|false)$/i.test(text)) return false;
  throw new UsageError(`invalid boolean value "${text}" for flag --${name}`);
}

/**
 * Parse argv against flag specs. `stopAtFirstArg` gives Go's flag semantics (options end
 * at the first positional argument: needed by `exec ID cmd --its-own-flags`); otherwise
 * flags may also follow positional arguments, as people type them.
 */
export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[], stopAtFirstArg = false): Parsed {
  const flags: FlagValues = {};
  const args: string[] = [];
  for (const s of specs) if (s.default !== undefined) flags[s.name] = s.default;
  let i = 0;
  let flagsDone = false;
  while (i < argv.length) {
    const a = argv[i++] as string;
    if (flagsDone || a === '-' || !a.startsWith('-')) {
      args.push(a);
      if (stopAtFirstArg) flagsDone = true;
      continue;
    }
    if (a === '--') {
      flagsDone = true;
      continue;
    }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const inline = eq >= 0 ? body.slice(eq + 1) : undefined;
    const spec = lookupFlag(specs, name);
    if (!spec) throw new UsageError(`flag provided but not defined: -${name}`);
    if (spec.type === 'bool') {
      flags[spec.name] = inline === undefined ? true : parseBool(inline, spec.name);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (i >= argv.length) throw new UsageError(`flag needs an argument: -${name}`);
      value = argv[i++] as string;
    }
    if (spec.type === 'int') {
      if (!/^-?\d+$/.test(value)) throw new UsageError(`invalid value "${value}" for flag -${name}: parse error`);
      flags[spec.name] = Number(value);
    } else if (spec.type === 'strings') {
      const prev = flags[spec.name];
      flags[spec.name] = [...(Array.isArray(prev) ? prev : []), value];
    } else {
      flags[spec.name] = value;
    }
  }
  return { flags, args };
}

/** Typed accessors for handlers. */
export const flag = {
  str(f: FlagValues, name: string): string | undefined {
    const v = f[name];
    return typeof v === 'string' ? v : undefined;
  },
  bool(f: FlagValues, name: string): boolean {
    return f[name] === true;
  },
  int(f: FlagValues, name: string, dflt = 0): number {
    const v = f[name];
    return typeof v === 'number' ? v : dflt;
  },
  list(f: FlagValues, name: string): string[] {
    const v = f[name];
    return Array.isArray(v) ? v : [];
  },
};

export function formatFlags(specs: readonly FlagSpec[]): string {
  const rows = specs.map((s) => {
    const names = [s.name, ...(s.aliases ?? [])].map((n) => (n.length === 1 ? `-${n}` : `--${n}`)).join(', ');
    const value = s.type === 'bool' ? '' : ` ${s.value ?? 'value'}`;
    const dflt = s.default !== undefined && s.type !== 'bool' ? ` (default: "${s.default}")` : '';
    return [`${names}${value}`, `${s.usage}${dflt}`] as const;
  });
  const width = Math.max(0, ...rows.map((r) => r[0].length)) + 3;
  return rows.map(([l, r]) => `   ${l.padEnd(width)}${r}`).join('\n');
}
