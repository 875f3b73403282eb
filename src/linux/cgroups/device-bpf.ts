// cgroup v2 has no devices.allow: access to device nodes is decided by an eBPF program of
// type BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup. This module turns the reduced rule
// list (device-rules.ts) into that program. The program is data first (one block of checks
// per exception) and then encoded to instructions; the addon only loads and attaches it.
//
// The kernel calls the program with r1 pointing at struct bpf_cgroup_dev_ctx:
//   u32 access_type  (access << 16) | device type
//   u32 major, minor
// and lets the access through when it returns 1.
import type { DeviceRule, DeviceState } from './device-rules.js';

/** Device types and access bits as the kernel passes them (include/uapi/linux/bpf.h). */
const BPF_DEVCG_DEV_BLOCK = 1;
const BPF_DEVCG_DEV_CHAR = 2;
const ACCESS_BITS: Readonly<Record<string, number>> = { m: 1, r: 2, w: 4 };
const ALL_ACCESS = 7;

/** One check of a block: when it fails, the block is skipped. */
export type Check =
  | { on: 'type'; equals: number }
  /** Every requested access bit is in mask (an allow exception matches only fully). */
  | { on: 'access'; within: number }
  /** Some requested access bit is in mask (a deny exception matches partially). */
  | { on: 'access'; overlaps: number }
  | { on: 'major'; equals: number }
  | { on: 'minor'; equals: number };

export interface Block {
  checks: Check[];
  /** Returned when every check holds. */
  verdict: 0 | 1;
}

export interface DeviceProgram {
  blocks: Block[];
  /** Returned when no block matched. */
  fallback: 0 | 1;
}

function accessMask(access: string): number {
  let m = 0;
  for (const c of access) m |= ACCESS_BITS[c] ?? 0;
  return m;
}

function blockFor(e: DeviceRule, defaultAllow: boolean): Block {
  const checks: Check[] = [{ on: 'type', equals: e.type === 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR }];
  const mask = accessMask(e.access);
  if (mask !== ALL_ACCESS) checks.push(defaultAllow ? { on: 'access', overlaps: mask } : { on: 'access', within: mask });
  if (e.major !== null) checks.push({ on: 'major', equals: e.major });
  if (e.minor !== null) checks.push({ on: 'minor', equals: e.minor });
  return { checks, verdict: defaultAllow ? 0 : 1 };
}

/** The program as data: one block per exception, then the default. */
export function deviceProgram(state: DeviceState): DeviceProgram {
  return {
    blocks: state.exceptions.map((e) => blockFor(e, state.defaultAllow)),
    fallback: state.defaultAllow ? 1 : 0,
  };
}

// ---- encoding -------------------------------------------------------------------------

export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

/** The few eBPF opcodes the program needs (BPF_CLASS | BPF_OP | BPF_SRC). */
const OP = {
  LDX_W: 0x61, // dst = *(u32 *)(src + off)
  MOV64_X: 0xbf, // dst = src
  MOV64_K: 0xb7, // dst = imm
  AND64_K: 0x57, // dst &= imm
  RSH64_K: 0x77, // dst >>= imm
  JNE_K: 0x55, // if dst != imm goto pc + off
  JEQ_K: 0x15, // if dst == imm goto pc + off
  EXIT: 0x95,
} as const;

const R0 = 0;
const R1 = 1;
/** Registers the prologue fills. */
const R_TYPE = 2;
const R_ACCESS = 3;
const R_MAJOR = 4;
const R_MINOR = 5;

const insn = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ code, dst, src, off, imm });

const PROLOGUE: readonly Insn[] = [
  insn(OP.LDX_W, R_TYPE, R1, 0), // access_type
  insn(OP.MOV64_X, R_ACCESS, R_TYPE),
  insn(OP.AND64_K, R_TYPE, 0, 0, 0xffff),
  insn(OP.RSH64_K, R_ACCESS, 0, 0, 16),
  insn(OP.LDX_W, R_MAJOR, R1, 4),
  insn(OP.LDX_W, R_MINOR, R1, 8),
];

/** Jumps to the end of the block are emitted with off = SKIP and fixed once its size is known. */
const SKIP = -1;

function checkInsns(c: Check): Insn[] {
  switch (c.on) {
    case 'type':
      return [insn(OP.JNE_K, R_TYPE, 0, SKIP, c.equals)];
    case 'major':
      return [insn(OP.JNE_K, R_MAJOR, 0, SKIP, c.equals)];
    case 'minor':
      return [insn(OP.JNE_K, R_MINOR, 0, SKIP, c.equals)];
    case 'access':
      // r1 is free after the prologue: use it as scratch.
      if ('within' in c) return [insn(OP.MOV64_X, R1, R_ACCESS), insn(OP.AND64_K, R1, 0, 0, ~c.within & ALL_ACCESS), insn(OP.JNE_K, R1, 0, SKIP, 0)];
      return [insn(OP.MOV64_X, R1, R_ACCESS), insn(OP.AND64_K, R1, 0, 0, c.overlaps), insn(OP.JEQ_K, R1, 0, SKIP, 0)];
  }
}

function blockInsns(b: Block): Insn[] {
  const out = [...b.checks.flatMap(checkInsns), insn(OP.MOV64_K, R0, 0, 0, b.verdict), insn(OP.EXIT)];
  return out.map((i, at) => (i.off === SKIP ? { ...i, off: out.length - at - 1 } : i));
}

export function encodeProgram(p: DeviceProgram): Insn[] {
  return [...PROLOGUE, ...p.blocks.flatMap(blockInsns), insn(OP.MOV64_K, R0, 0, 0, p.fallback), insn(OP.EXIT)];
}

/** struct bpf_insn, 8 bytes each: code, dst:4|src:4, s16 off, s32 imm (little-endian). */
function toBytes(insns: readonly Insn[]): Buffer {
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach((i, n) => {
    buf.writeUInt8(i.code, n * 8);
    buf.writeUInt8(((i.src & 0xf) << 4) | (i.dst & 0xf), n * 8 + 1);
    buf.writeInt16LE(i.off, n * 8 + 2);
    buf.writeInt32LE(i.imm, n * 8 + 4);
  });
  return buf;
}

/** The loadable program for reduced device rules. */
export function deviceProgramBytes(state: DeviceState): Buffer {
  return toBytes(encodeProgram(deviceProgram(state)));
}
