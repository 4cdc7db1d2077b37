// Instructions in the syntax `llvm-objdump-19 -d` prints for BPF, decided the way LLVM 19's BPF
// disassembler decides them: it reads some fields, ignores others, accepts r11, knows no 32-bit
// fetch atomics without +alu32, and calls what it cannot match `<unknown>`. Facts from running
// llvm-objdump-19 over every opcode and field pattern (test/asm/print-llvm.test.ts keeps them true).

import type { Insn } from "./insn.ts";
import { belowTopTier } from "../src/jit-tier.ts";

/** What llvm-objdump makes of the bytes at one position. */
export interface LlvmDecoded {
  /** Bytes consumed: 8, 16 for ld_imm64, 1 when fewer bytes remain than the instruction needs. */
  size: number;
  /** The instruction text, or undefined where llvm-objdump prints `<unknown>`. */
  text: string | undefined;
  /** For branches: the signed displacement in instructions (off or imm), counted after this one. */
  branch: number | undefined;
}

const ALU_SYM = ["+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "", "%=", "^=", "", "s>>="];
const JMP_SYM = ["", "==", ">", ">=", "&", "!=", "s>", "s>=", "", "", "<", "<=", "s<", "s<="];
const WIDTH = ["u32", "u16", "u8", "u64"];
const SX_WIDTH = ["s32", "s16", "s8", ""];

const R_NAMES = Array.from({ length: 12 }, (_, i) => `r${i}`);
const W_NAMES = Array.from({ length: 12 }, (_, i) => `w${i}`);

/** A number as LLVM's formatImm prints it with --print-imm-hex: `0x1f`, `-0x4`. */
export function llvmHex(v: number): string {
  if (v >= 0 && v < SMALL) return (HEX_POS[v] ??= "0x" + v.toString(16));
  if (v < 0 && v > -SMALL) return (HEX_NEG[-v] ??= "-0x" + (-v).toString(16));
  return v < 0 ? "-0x" + (-v).toString(16) : "0x" + v.toString(16);
}

// The texts of small numbers, made once: most immediates and offsets are small and repeat.
const SMALL = 4096;
const HEX_POS: (string | undefined)[] = new Array(SMALL);
const HEX_NEG: (string | undefined)[] = new Array(SMALL);

/** A signed 64-bit value the same way. */
export function llvmHex64(v: bigint): string {
  return v < 0n ? "-0x" + (-v).toString(16) : "0x" + v.toString(16);
}

function mem(base: string, off: number): string {
  return off >= 0 ? `(${base} + ${llvmHex(off)})` : `(${base} - ${llvmHex(-off)})`;
}

function target(off: number): string {
  return (off >= 0 ? "+" : "") + llvmHex(off);
}

// Branch displacement of the last instruction formatted, read right after a call of fieldsText.
let lastBranch: number | undefined;

/**
 * The text llvm-objdump prints for one instruction given its fields (imm64 only for ld_imm64,
 * where it is the full 64-bit value), or undefined for `<unknown>`.
 */
export function fieldsText(op: number, dst: number, src: number, off: number, imm: number, imm64?: bigint): string | undefined {
  lastBranch = undefined;
  const cls = op & 7;
  if (cls === 4 || cls === 7) return aluText(op, dst, src, off, imm, cls === 7);
  if (cls === 5 || cls === 6) return jmpText(op, dst, src, off, imm, cls === 5);
  // Only the register fields an instruction reads are checked (r0..r11 pass, r12..r15 fail).
  if (dst > 11 && cls !== 0) return undefined;
  if (src > 11 && (cls === 1 || cls === 3)) return undefined;
  const size = (op >> 3) & 3;
  const mode = op & 0xe0;
  switch (cls) {
    case 0: // BPF_LD
      if (op === 0x18) {
        if (off !== 0 || dst > 11) return undefined;
        const v = BigInt.asIntN(64, imm64 ?? BigInt(imm));
        // With a pseudo source LLVM shows only the first slot's imm, zero-extended.
        return src === 0 ? `${R_NAMES[dst]} = ${llvmHex64(v)} ll` : `ld_pseudo\t${R_NAMES[dst]}, ${llvmHex(src)}, ${llvmHex(imm >>> 0)}`;
      }
      if (size === 3) return undefined;
      if (mode === 0x20) return `r0 = *(${WIDTH[size]} *)skb[${llvmHex(imm)}]`;
      if (mode === 0x40) return src > 11 ? undefined : `r0 = *(${WIDTH[size]} *)skb[${R_NAMES[src]}]`;
      return undefined;
    case 1: // BPF_LDX
      if (mode === 0x60) return `${R_NAMES[dst]} = *(${WIDTH[size]} *)${mem(R_NAMES[src], off)}`;
      if (mode === 0x80 && size !== 3) return `${R_NAMES[dst]} = *(${SX_WIDTH[size]} *)${mem(R_NAMES[src], off)}`;
      return undefined;
    case 2: // BPF_ST
      return mode === 0x60 ? `*(${WIDTH[size]} *)${mem(R_NAMES[dst], off)} = ${llvmHex(imm)}` : undefined;
    default: // BPF_STX
      if (mode === 0x60) return `*(${WIDTH[size]} *)${mem(R_NAMES[dst], off)} = ${R_NAMES[src]}`;
      if (mode === 0xc0) return atomicText(size, dst, src, off, imm);
      return undefined;
  }
}

function atomicText(size: number, dst: number, src: number, off: number, imm: number): string | undefined {
  const addr = mem(R_NAMES[dst], off);
  const s = R_NAMES[src];
  // LLVM matches only bits 7..0 of imm; without +alu32 the only 32-bit atomic it knows is add.
  const hi = imm & 0xf0;
  const lo = imm & 0x0f;
  if (size === 0) return hi === 0 ? `lock *(u32 *)${addr} += ${s}` : undefined;
  if (size !== 3) return undefined;
  const name = hi === 0x00 ? "add" : hi === 0x40 ? "or" : hi === 0x50 ? "and" : hi === 0xa0 ? "xor" : undefined;
  if (name !== undefined) {
    if (lo === 1) return `${s} = atomic_fetch_${name}((u64 *)${addr}, ${s})`;
    return `lock *(u64 *)${addr} ${ALU_SYM[hi >> 4]} ${s}`;
  }
  if (lo !== 1) return undefined;
  if (hi === 0xe0) return `${s} = xchg_64(${R_NAMES[dst]}${off >= 0 ? " + " : " - "}${llvmHex(Math.abs(off))}, ${s})`;
  if (hi === 0xf0) return `r0 = cmpxchg_64(${R_NAMES[dst]}${off >= 0 ? " + " : " - "}${llvmHex(Math.abs(off))}, r0, ${s})`;
  return undefined;
}

function aluText(op: number, dst: number, src: number, off: number, imm: number, wide: boolean): string | undefined {
  const code = op >> 4;
  const x = (op & 8) !== 0;
  const names = wide ? R_NAMES : W_NAMES;
  if (dst > 11) return undefined;
  const d = names[dst];
  if (code === 0x8) return x ? undefined : `${d} = -${d}`; // neg reads dst only
  if (code === 0xd) {
    // BPF_END: imm must be exactly 16, 32 or 64; ALU64 with TO_BE does not exist.
    if (imm !== 16 && imm !== 32 && imm !== 64) return undefined;
    if (wide) return x ? undefined : `${R_NAMES[dst]} = bswap${imm} ${R_NAMES[dst]}`;
    return `${R_NAMES[dst]} = ${x ? "be" : "le"}${imm} ${R_NAMES[dst]}`;
  }
  if (code > 0xc) return undefined;
  if (x && src > 11) return undefined;
  const rhs = x ? names[src] : llvmHex(imm);
  if (code === 0xb) {
    if (!x) return off === 0 ? `${d} = ${rhs}` : undefined;
    if (off === 0) return `${d} = ${rhs}`;
    if (off === 8 || off === 16 || (off === 32 && wide)) return `${d} = (s${off})${rhs}`;
    if (off === 1 && wide) return `${d} = addr_space_cast(${rhs}, ${llvmHex((imm >>> 16) & 0xffff)}, ${llvmHex(imm & 0xffff)})`;
    return undefined;
  }
  if (code === 0x3 || code === 0x9) {
    if (off === 1) return `${d} s${ALU_SYM[code]} ${rhs}`;
  }
  return off === 0 ? `${d} ${ALU_SYM[code]} ${rhs}` : undefined;
}

function jmpText(op: number, dst: number, src: number, off: number, imm: number, wide: boolean): string | undefined {
  const code = op >> 4;
  const x = (op & 8) !== 0;
  if (code === 0x0) {
    if (x) return undefined;
    lastBranch = wide ? off : imm;
    return wide ? `goto ${target(off)}` : `gotol ${target(imm)}`;
  }
  if (code === 0x8) {
    if (!wide) return undefined;
    if (!x) return `call ${llvmHex(imm)}`;
    return dst > 11 ? undefined : `callx ${R_NAMES[dst]}`;
  }
  if (code === 0x9) return wide && !x && imm === 0 ? "exit" : undefined;
  if (code === 0xe) {
    if (!wide || x) return undefined;
    lastBranch = off;
    return `may_goto ${target(off)}`;
  }
  if (code > 0xd) return undefined;
  const names = wide ? R_NAMES : W_NAMES;
  if (dst > 11 || (x && src > 11)) return undefined;
  lastBranch = off;
  return `if ${names[dst]} ${JMP_SYM[code]} ${x ? names[src] : llvmHex(imm)} goto ${target(off)}`;
}

/** The branch displacement of the instruction fieldsText last formatted (undefined if not a branch). */
export function lastLlvmBranch(): number | undefined {
  return lastBranch;
}

/** Decode what llvm-objdump sees at byte `at` of `bytes` (which ends at `end`, the section end). */
export function llvmDecodeAt(bytes: Uint8Array, at: number, end: number = bytes.length): LlvmDecoded {
  if (end - at < 8) return { size: 1, text: undefined, branch: undefined };
  const op = bytes[at];
  const regs = bytes[at + 1];
  const off = (bytes[at + 2] | (bytes[at + 3] << 8)) << 16 >> 16;
  const imm = bytes[at + 4] | (bytes[at + 5] << 8) | (bytes[at + 6] << 16) | (bytes[at + 7] << 24);
  if (op === 0x18) {
    const first = fieldsText(op, regs & 15, regs >> 4, off, imm, 0n);
    if (first === undefined) return { size: 8, text: undefined, branch: undefined };
    // A first half LLVM accepts but with no room for the second: it gives up on a single byte.
    if (end - at < 16) return { size: 1, text: undefined, branch: undefined };
    const hi = bytes[at + 12] | (bytes[at + 13] << 8) | (bytes[at + 14] << 16) | (bytes[at + 15] << 24);
    const v = (BigInt(hi >>> 0) << 32n) | BigInt(imm >>> 0);
    return { size: 16, text: fieldsText(op, regs & 15, regs >> 4, off, imm, v), branch: undefined };
  }
  const text = fieldsText(op, regs & 15, regs >> 4, off, imm);
  return { size: 8, text, branch: text === undefined ? undefined : lastBranch };
}

/** One instruction as llvm-objdump prints it (its text column), `<unknown>` where LLVM 19 has no match. */
export function printLlvm(insn: Insn): string {
  return fieldsText(insn.op, insn.dst, insn.src, insn.off, insn.imm, insn.imm64) ?? "<unknown>";
}

/** The branch displacement (in instructions) llvm-objdump annotates for this instruction, if any. */
export function llvmBranch(insn: Insn): number | undefined {
  return fieldsText(insn.op, insn.dst, insn.src, insn.off, insn.imm, insn.imm64) === undefined ? undefined : lastBranch;
}

// One listing runs these too briefly to repay JavaScriptCore's top tier (src/jit-tier.ts).
belowTopTier([], [llvmDecodeAt, fieldsText, llvmHex, aluText, jmpText, atomicText, mem, target]);
