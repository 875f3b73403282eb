// The hand-written half of the plan serializer: the byte writer and the field checks the
// generated code (src/native/generated/protocol.ts) calls for every field. The layout rules
// here are mirrored by the child's validator (addon/child/plan.cc): allocations come one
// after the other, each 8-aligned, in the order the record walk visits them; strings go to
// a table after them, NUL-terminated.
import { RuntimeError } from '../util/errors.js';

/** A plan field the child cannot be given: missing, of the wrong type, or out of range. */
export class PlanEncodeError extends RuntimeError {
  /** Path of the field in the plan, e.g. `plan.mounts[3].dest`. */
  readonly field: string;
  constructor(field: string, reason: string) {
    super(`invalid plan: ${field} ${reason}`);
    this.field = field;
  }
}

const ALIGN = 8;
const NULL_REF = 0xffffffff;
const align8 = (n: number) => (n + ALIGN - 1) & ~(ALIGN - 1);

export class PlanWriter {
  private data: Buffer = Buffer.alloc(4096);
  private dataLen = 0;
  private strings: Buffer = Buffer.alloc(4096);
  private stringsLen = 0;

  constructor(
    private readonly headerSize: number,
    private readonly maxBytes: number,
    private readonly maxString: number,
  ) {}

  /** Zeroed space for `size` bytes after what came before; its absolute offset. */
  alloc(size: number): number {
    const start = align8(this.dataLen);
    this.data = grow(this.data, start + size);
    this.data.fill(0, this.dataLen, start + size);
    this.dataLen = start + size;
    if (this.headerSize + this.dataLen > this.maxBytes) throw new PlanEncodeError('plan', `is larger than ${this.maxBytes} bytes`);
    return this.headerSize + start;
  }

  private rel(at: number): number {
    return at - this.headerSize;
  }
  u16(at: number, v: number): void {
    this.data.writeUInt16LE(v, this.rel(at));
  }
  u32(at: number, v: number): void {
    this.data.writeUInt32LE(v, this.rel(at));
  }
  i32(at: number, v: number): void {
    this.data.writeInt32LE(v, this.rel(at));
  }
  u64(at: number, v: bigint): void {
    this.data.writeBigUInt64LE(v, this.rel(at));
  }

  /** A string-table entry: [offset in the table, byte length]. */
  private intern(s: string): [number, number] {
    const len = Buffer.byteLength(s, 'utf8');
    if (len > this.maxString) throw new PlanEncodeError('plan', `has a string of ${len} bytes (at most ${this.maxString})`);
    const off = this.stringsLen;
    this.strings = grow(this.strings, off + len + 1);
    this.strings.write(s, off, 'utf8');
    this.strings[off + len] = 0;
    this.stringsLen = off + len + 1;
    return [off, len];
  }

  str(at: number, s: string | null): void {
    const [off, len] = s === null ? [NULL_REF, 0] : this.intern(s);
    this.u32(at, off);
    this.u32(at + 4, len);
  }

  /** headroom + count + 1 slots; the reference names the first of `list`'s. */
  strv(at: number, list: readonly string[], headroom: number): void {
    const first = this.alloc((headroom + list.length + 1) * 8) + headroom * 8;
    list.forEach((s, i) => {
      const [off, len] = this.intern(s);
      this.u32(first + i * 8, off);
      this.u32(first + i * 8 + 4, len);
    });
    this.u32(at, first);
    this.u32(at + 4, list.length);
  }

  u32s(at: number, list: readonly number[]): void {
    const base = this.vec(at, list.length, 4);
    list.forEach((v, i) => this.u32(base + i * 4, v));
  }

  blob(at: number, bytes: Uint8Array): void {
    const base = this.alloc(bytes.length);
    this.data.set(bytes, this.rel(base));
    this.u32(at, base);
    this.u32(at + 4, bytes.length);
  }

  /** An array of `count` records of `size` bytes; its absolute offset. */
  vec(at: number, count: number, size: number): number {
    const base = this.alloc(count * size);
    this.u32(at, base);
    this.u32(at + 4, count);
    return base;
  }

  finish(writeHeader: (out: Buffer, size: number, stringsOff: number) => void): Buffer {
    const stringsOff = this.headerSize + align8(this.dataLen);
    const size = stringsOff + this.stringsLen;
    if (size > this.maxBytes) throw new PlanEncodeError('plan', `is larger than ${this.maxBytes} bytes`);
    const out = Buffer.alloc(size);
    this.data.copy(out, this.headerSize, 0, this.dataLen);
    this.strings.copy(out, stringsOff, 0, this.stringsLen);
    writeHeader(out, size, stringsOff);
    return out;
  }
}

function grow(buf: Buffer, need: number): Buffer {
  if (need <= buf.length) return buf;
  const bigger = Buffer.alloc(Math.max(need, buf.length * 2));
  buf.copy(bigger);
  return bigger;
}

const name = (path: string, key: string) => (path ? `${path}.${key}` : key);
const fail = (path: string, key: string, reason: string): never => {
  throw new PlanEncodeError(name(path, key), reason);
};
const need = (v: unknown, path: string, key: string) => {
  if (v === undefined) fail(path, key, 'is missing');
};
const U64_MAX = (1n << 64n) - 1n;

/** The checks the generated serializer applies to each field; each returns the value. */
export const check = {
  present<T>(v: T | undefined, path: string, key: string, nullable: boolean): T {
    if (v === undefined) fail(path, key, 'is missing');
    if (v === null && !nullable) fail(path, key, 'must not be null');
    return v as T;
  },
  bool(v: unknown, path: string, key: string): boolean {
    need(v, path, key);
    if (typeof v !== 'boolean') fail(path, key, 'must be a boolean');
    return v as boolean;
  },
  int(v: unknown, path: string, key: string, min: number, max: number): number {
    need(v, path, key);
    if (typeof v !== 'number' || !Number.isInteger(v)) fail(path, key, 'must be an integer');
    if ((v as number) < min || (v as number) > max) fail(path, key, `must be in ${min}..${max}, not ${v}`);
    return v as number;
  },
  u64(v: unknown, path: string, key: string): bigint {
    need(v, path, key);
    if (typeof v !== 'bigint') fail(path, key, 'must be a bigint');
    if ((v as bigint) < 0n || (v as bigint) > U64_MAX) fail(path, key, `must be in 0..${U64_MAX}, not ${v}`);
    return v as bigint;
  },
  str(v: unknown, path: string, key: string, nullable: boolean): string | null {
    need(v, path, key);
    if (v === null && nullable) return null;
    if (typeof v !== 'string') fail(path, key, nullable ? 'must be a string or null' : 'must be a string');
    if ((v as string).includes('\0')) fail(path, key, 'must not contain a NUL byte');
    return v as string;
  },
  strs(v: unknown, path: string, key: string): string[] {
    need(v, path, key);
    if (!Array.isArray(v)) fail(path, key, 'must be an array of strings');
    (v as unknown[]).forEach((s, i) => check.str(s, path, `${key}[${i}]`, false));
    return v as string[];
  },
  u32s(v: unknown, path: string, key: string, maxLen: number): number[] {
    const list = check.list(v, path, key, maxLen);
    list.forEach((n, i) => check.int(n, path, `${key}[${i}]`, 0, 0xffffffff));
    return list as number[];
  },
  blob(v: unknown, path: string, key: string, multipleOf: number, maxLen: number): Uint8Array {
    need(v, path, key);
    if (!(v instanceof Uint8Array)) fail(path, key, 'must be a Buffer');
    const len = (v as Uint8Array).length;
    if (len % multipleOf !== 0) fail(path, key, `must be a multiple of ${multipleOf} bytes, not ${len}`);
    if (len > maxLen) fail(path, key, `must be at most ${maxLen} bytes, not ${len}`);
    return v as Uint8Array;
  },
  list(v: unknown, path: string, key: string, maxLen: number): unknown[] {
    need(v, path, key);
    if (!Array.isArray(v)) fail(path, key, 'must be an array');
    if ((v as unknown[]).length > maxLen) fail(path, key, `must have at most ${maxLen} entries`);
    return v as unknown[];
  },
  tuple(v: unknown, path: string, key: string, n: number): unknown[] {
    need(v, path, key);
    if (!Array.isArray(v) || v.length !== n) fail(path, key, `must be an array of ${n}`);
    return v as unknown[];
  },
  record<T>(v: unknown, path: string, key: string): T {
    need(v, path, key);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(path, key, 'must be an object');
    return v as T;
  },
};
