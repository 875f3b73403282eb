// Annotations "org.systemd.property.<Name>": extra properties of the container's unit, as
// runc takes them. The value is GVariant text ("uint64 123", "'inactive-or-failed'", "true",
// "[1, 2]"); a name ending in a lowercase letter + "Sec" is turned into systemd's "USec"
// property, the number scaled to microseconds.
//
// Unlike runc, only properties that act on the container's own unit are accepted: resource
// control, its devices and IP accounting, and how it is stopped. The config must not reach
// the host (PIDs= would move host processes into the unit and stop them with it; Wants=,
// Conflicts= and the like start or stop host units; BPFProgram= and the IP filter paths
// open host files), so anything else is refused, naming the annotation.
import { ConfigError } from '../../util/errors.js';
import type { PropertyValue, UnitProperty } from './properties.js';

export const ANNOTATION_PREFIX = 'org.systemd.property.';

const ALLOWED_PREFIXES = ['CPU', 'Memory', 'IO', 'BlockIO', 'Tasks', 'Allowed', 'Startup', 'ManagedOOM', 'Device', 'IPAccounting', 'IPAddress'];
const ALLOWED_NAMES = new Set([
  'CollectMode', 'Description', 'OOMPolicy', 'KillMode', 'KillSignal', 'FinalKillSignal', 'SendSIGKILL', 'SendSIGHUP', 'WatchdogSignal',
  'TimeoutStopUSec', 'RuntimeMaxUSec', 'RuntimeRandomizedExtraUSec', 'CoredumpReceive', 'MemoryPressureWatch', 'MemoryPressureThresholdUSec',
]);

/** Bounds on what an annotation may hold. */
const MAX_VALUE_LENGTH = 4096;
const MAX_DEPTH = 4;

const TYPE_WORDS: Readonly<Record<string, string>> = {
  boolean: 'b', byte: 'y', int16: 'n', uint16: 'q', int32: 'i', uint32: 'u', int64: 'x', uint64: 't', double: 'd',
  string: 's', objectpath: 'o', signature: 'g',
};

const INT_RANGE: Readonly<Record<string, [bigint, bigint]>> = {
  y: [0n, 255n], n: [-32768n, 32767n], q: [0n, 65535n], i: [-(2n ** 31n), 2n ** 31n - 1n], u: [0n, 2n ** 32n - 1n],
  x: [-(2n ** 63n), 2n ** 63n - 1n], t: [0n, 2n ** 64n - 1n],
};

interface Parsed {
  type: string;
  value: PropertyValue;
}

/** A small GVariant text parser: typed and untyped numbers, booleans, strings, arrays. */
class Parser {
  private at = 0;

  constructor(
    private readonly text: string,
    private readonly fail: (why: string) => never,
  ) {}

  parse(): Parsed {
    const v = this.value(undefined, 0);
    this.space();
    if (this.at !== this.text.length) this.fail(`unexpected "${this.text.slice(this.at, this.at + 10)}"`);
    return v;
  }

  private space(): void {
    while (/\s/.test(this.text[this.at] ?? '')) this.at++;
  }

  private word(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.at));
    return m ? m[0] : '';
  }

  private value(want: string | undefined, depth: number): Parsed {
    if (depth > MAX_DEPTH) this.fail('nested too deeply');
    this.space();
    const c = this.text[this.at];
    if (c === '@') {
      const m = /^@(\S+)\s+/.exec(this.text.slice(this.at));
      if (!m) this.fail('"@" needs a type and a value');
      this.at += m[0].length;
      return this.value(m[1], depth);
    }
    const w = this.word();
    if (w && TYPE_WORDS[w] !== undefined) {
      this.at += w.length;
      return this.value(TYPE_WORDS[w], depth);
    }
    if (c === '[') return this.array(want, depth);
    if (c === "'" || c === '"') return this.coerce(want, { type: 's', value: this.string() });
    if (w === 'true' || w === 'false') {
      this.at += w.length;
      return this.coerce(want, { type: 'b', value: w === 'true' });
    }
    const num = /^[-+]?(\d+(\.\d*)?([eE][-+]?\d+)?|0x[0-9a-fA-F]+)/.exec(this.text.slice(this.at));
    if (num) {
      this.at += num[0].length;
      const isFloat = /[.eE]/.test(num[0]) && !num[0].startsWith('0x');
      return this.coerce(want, { type: isFloat ? 'd' : 'i', value: num[0] });
    }
    return this.fail(`cannot read a value at "${this.text.slice(this.at, this.at + 10)}"`);
  }

  private string(): string {
    const quote = this.text[this.at];
    let out = '';
    for (this.at++; this.at < this.text.length; this.at++) {
      const ch = this.text[this.at] as string;
      if (ch === quote) {
        this.at++;
        return out;
      }
      if (ch === '\\') {
        const next = this.text[++this.at] ?? '';
        out += { n: '\n', t: '\t', '\\': '\\', "'": "'", '"': '"' }[next] ?? next;
      } else {
        out += ch;
      }
    }
    return this.fail('unterminated string');
  }

  private array(want: string | undefined, depth: number): Parsed {
    if (want !== undefined && !want.startsWith('a')) this.fail(`an array where ${want} was asked`);
    const elem = want?.slice(1);
    this.at++;
    const items: Parsed[] = [];
    this.space();
    if (this.text[this.at] === ']') {
      this.at++;
    } else {
      for (;;) {
        items.push(this.value(elem ?? items[0]?.type, depth + 1));
        this.space();
        const ch = this.text[this.at++];
        if (ch === ']') break;
        if (ch !== ',') this.fail('expected "," or "]" in an array');
      }
    }
    // Every element after the first was read as the first's type.
    const type = elem ?? items[0]?.type;
    if (type === undefined) this.fail('an empty array needs a type ("@as []")');
    return { type: `a${type}`, value: items.map((i) => i.value) };
  }

  /** Give an untyped literal the type asked for (or its default: int32, double, ...). */
  private coerce(want: string | undefined, v: Parsed): Parsed {
    const type = want ?? v.type;
    if (type === 'b' || type === 's' || type === 'o' || type === 'g') {
      if (v.type !== (type === 'b' ? 'b' : 's')) this.fail(`a ${v.type === 'b' ? 'boolean' : 'number'} where ${type} was asked`);
      return { type, value: v.value };
    }
    if (v.type === 'b' || v.type === 's') this.fail(`a ${v.type === 'b' ? 'boolean' : 'string'} where a number was asked`);
    const text = String(v.value);
    if (type === 'd') return { type, value: Number(text) };
    const range = INT_RANGE[type];
    if (!range) this.fail(`type ${type} is not supported`);
    if (/[.eE]/.test(text) && !text.startsWith('0x')) this.fail(`${text} is not an integer`);
    const n = BigInt(text.replace(/^\+/, ''));
    if (n < range[0] || n > range[1]) this.fail(`${text} is out of range for ${type}`);
    return { type, value: type === 'x' || type === 't' ? n : Number(n) };
  }
}

/** runc's Sec -> USec: a number of seconds becomes an unsigned number of microseconds. */
function toUSec(v: Parsed, fail: (why: string) => never): Parsed {
  if (v.type === 'd') return { type: 't', value: BigInt(Math.round((v.value as number) * 1e6)) };
  if (!INT_RANGE[v.type]) fail('a "...Sec" property takes a number of seconds');
  const us = BigInt(v.value as number | bigint) * 1_000_000n;
  if (us < 0n) fail('a negative time');
  return { type: 't', value: us };
}

function allowed(name: string): boolean {
  return ALLOWED_NAMES.has(name) || ALLOWED_PREFIXES.some((p) => name.startsWith(p));
}

/** The unit properties the config's org.systemd.property.* annotations ask for. */
export function annotationProperties(annotations: Record<string, string> | undefined): UnitProperty[] {
  const out: UnitProperty[] = [];
  for (const [key, text] of Object.entries(annotations ?? {})) {
    if (!key.startsWith(ANNOTATION_PREFIX)) continue;
    const field = `annotations[${JSON.stringify(key)}]`;
    const fail = (why: string): never => {
      throw new ConfigError(field, why);
    };
    let name = key.slice(ANNOTATION_PREFIX.length);
    if (!/^[A-Za-z]{3,}$/.test(name)) fail('a systemd property name is letters only, at least 3');
    if (typeof text !== 'string' || text.length > MAX_VALUE_LENGTH) fail(`the value must be a string of at most ${MAX_VALUE_LENGTH} characters`);
    let value = new Parser(text, (why) => fail(`value ${JSON.stringify(text)}: ${why}`)).parse();
    if (/[a-z]Sec$/.test(name)) {
      name = `${name.slice(0, -3)}USec`;
      value = toUSec(value, fail);
    }
    if (!allowed(name)) fail(`${name} is not a property of the container's own unit (resource control, devices, IP accounting, stopping); ts-runc does not pass it to systemd`);
    out.push({ name, type: value.type, value: value.value });
  }
  return out;
}
