// The instruction: the five fields of struct bpf_insn, the full 64-bit immediate of ld_imm64,
// and optional metadata (source line, a symbolic reference for the linker to resolve).

import { isLdImm64 } from "./opcodes.ts";

/** What a symbolic reference in an instruction points at, before the linker resolves it. */
export type SymbolRef =
  | { kind: "map"; name: string }
  | { kind: "map_value"; name: string; offset: number }
  | { kind: "func"; name: string }
  | { kind: "kfunc"; name: string }
  | { kind: "ksym"; name: string }
  | { kind: "kconfig"; name: string }
  | { kind: "label"; name: string };

export interface SourceLine {
  file: string;
  line: number;
  column: number;
  text: string;
}

export interface InsnMeta {
  ref?: SymbolRef;
  source?: SourceLine;
}

export interface Insn {
  /** The opcode byte (class | op | source, or class | size | mode). */
  op: number;
  dst: number;
  /** Source register; for ld_imm64 the pseudo source, for call the call kind. */
  src: number;
  /** Signed 16-bit offset. */
  off: number;
  /** Signed 32-bit immediate; for ld_imm64 the low half of imm64. */
  imm: number;
  /** ld_imm64 only: the full immediate, 0 ≤ imm64 < 2^64. */
  imm64?: bigint;
  meta?: InsnMeta;
}

/** Number of 8-byte slots an instruction occupies: ld_imm64 takes two. */
export function slots(insn: Insn): 1 | 2 {
  return isLdImm64(insn.op) ? 2 : 1;
}

/** The slot index of every instruction, plus the total slot count at the end. */
export function slotOffsets(insns: readonly Insn[]): number[] {
  const out = new Array<number>(insns.length + 1);
  let s = 0;
  for (let i = 0; i < insns.length; i++) {
    out[i] = s;
    s += slots(insns[i]);
  }
  out[insns.length] = s;
  return out;
}

export const U64_MASK = (1n << 64n) - 1n;

/** A 64-bit immediate as the signed value it represents. */
export function toSigned64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

export function hi32(v: bigint): number {
  return Number(BigInt.asIntN(32, v >> 32n));
}

export function lo32(v: bigint): number {
  return Number(BigInt.asIntN(32, v));
}

/** Build ld_imm64's imm64 from its two 32-bit halves. */
export function joinImm64(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}
