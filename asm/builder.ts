// A typed builder for writing BPF programs in TypeScript: mov64(R0, 0), jeq(R1, 0, "out"),
// label("out"), exit(); build() resolves labels with range checks and returns Insn[], keeping
// symbolic map/function references in meta.ref for the linker.
// Registers are Reg objects (R0..R10); a plain number or bigint operand is always an immediate.

import { TsbpfError } from "../src/errors.ts";
import type { Insn, SymbolRef } from "./insn.ts";
import {
  ALU_OP, ATOMIC, CALL_SRC, CLASS, JMP_OP, MODE, PSEUDO, SIZE, SIZE_CODE, SRC,
  type AluOp, type JmpCond, type PseudoSource, type Size,
} from "./opcodes.ts";
import { resolveLabels } from "./assemble-labels.ts";

export class Reg {
  constructor(readonly n: number) {}
  toString(): string {
    return `r${this.n}`;
  }
}
export const R0 = new Reg(0), R1 = new Reg(1), R2 = new Reg(2), R3 = new Reg(3), R4 = new Reg(4), R5 = new Reg(5);
export const R6 = new Reg(6), R7 = new Reg(7), R8 = new Reg(8), R9 = new Reg(9), R10 = new Reg(10);
/** The frame pointer. */
export const FP = R10;

/** A label marker in a builder program; it occupies no slot. */
export interface Label {
  label: string;
}
export type Item = Insn | Label;
/** A jump target: a label name or a relative offset in slots. */
export type Target = string | number;
export type Operand = Reg | number;

function isLabel(x: Item): x is Label {
  return (x as Label).label !== undefined;
}

function bad(message: string, hint?: string): never {
  throw new TsbpfError("ASM_ENCODE", message, {}, hint);
}

function reg(r: Reg): number {
  if (!(r instanceof Reg) || !Number.isInteger(r.n) || r.n < 0 || r.n > 10) bad(`invalid register ${String(r)}`, "use R0..R10");
  return r.n;
}
function imm32(v: number): number {
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff) bad(`immediate ${v} does not fit in 32 bits`, "use ldImm64 for 64-bit constants");
  return v | 0;
}
function off16(v: number): number {
  if (!Number.isInteger(v) || v < -32768 || v > 32767) bad(`offset ${v} does not fit in 16 bits`, "offsets are signed 16-bit: -32768..32767");
  return v;
}

function ins(op: number, dst: number, src: number, off: number, imm: number, ref?: SymbolRef): Insn {
  const i: Insn = { op, dst, src, off, imm };
  if (ref) i.meta = { ref };
  return i;
}

// --- ALU ----------------------------------------------------------------------------------------

function alu(wide: boolean, op: AluOp, dst: Reg, src: Operand, off = 0): Insn {
  const cls = wide ? CLASS.ALU64 : CLASS.ALU;
  if (src instanceof Reg) return ins(cls | ALU_OP[op] | SRC.X, reg(dst), reg(src), off, 0);
  return ins(cls | ALU_OP[op] | SRC.K, reg(dst), 0, off, imm32(src));
}

export const mov64 = (d: Reg, s: Operand) => alu(true, "mov", d, s);
export const add64 = (d: Reg, s: Operand) => alu(true, "add", d, s);
export const sub64 = (d: Reg, s: Operand) => alu(true, "sub", d, s);
export const mul64 = (d: Reg, s: Operand) => alu(true, "mul", d, s);
export const div64 = (d: Reg, s: Operand) => alu(true, "div", d, s);
export const sdiv64 = (d: Reg, s: Operand) => alu(true, "div", d, s, 1);
export const mod64 = (d: Reg, s: Operand) => alu(true, "mod", d, s);
export const smod64 = (d: Reg, s: Operand) => alu(true, "mod", d, s, 1);
export const or64 = (d: Reg, s: Operand) => alu(true, "or", d, s);
export const and64 = (d: Reg, s: Operand) => alu(true, "and", d, s);
export const xor64 = (d: Reg, s: Operand) => alu(true, "xor", d, s);
export const lsh64 = (d: Reg, s: Operand) => alu(true, "lsh", d, s);
export const rsh64 = (d: Reg, s: Operand) => alu(true, "rsh", d, s);
export const arsh64 = (d: Reg, s: Operand) => alu(true, "arsh", d, s);
export const neg64 = (d: Reg) => alu(true, "neg", d, 0);
export const mov32 = (d: Reg, s: Operand) => alu(false, "mov", d, s);
export const add32 = (d: Reg, s: Operand) => alu(false, "add", d, s);
export const sub32 = (d: Reg, s: Operand) => alu(false, "sub", d, s);
export const mul32 = (d: Reg, s: Operand) => alu(false, "mul", d, s);
export const div32 = (d: Reg, s: Operand) => alu(false, "div", d, s);
export const sdiv32 = (d: Reg, s: Operand) => alu(false, "div", d, s, 1);
export const mod32 = (d: Reg, s: Operand) => alu(false, "mod", d, s);
export const smod32 = (d: Reg, s: Operand) => alu(false, "mod", d, s, 1);
export const or32 = (d: Reg, s: Operand) => alu(false, "or", d, s);
export const and32 = (d: Reg, s: Operand) => alu(false, "and", d, s);
export const xor32 = (d: Reg, s: Operand) => alu(false, "xor", d, s);
export const lsh32 = (d: Reg, s: Operand) => alu(false, "lsh", d, s);
export const rsh32 = (d: Reg, s: Operand) => alu(false, "rsh", d, s);
export const arsh32 = (d: Reg, s: Operand) => alu(false, "arsh", d, s);
export const neg32 = (d: Reg) => alu(false, "neg", d, 0);

/** Sign-extending move: rD = (s8|s16|s32)rS. */
export function movsx64(d: Reg, s: Reg, bits: 8 | 16 | 32): Insn {
  if (![8, 16, 32].includes(bits)) bad(`movsx64 extends from 8, 16 or 32 bits, not ${bits}`);
  return alu(true, "mov", d, s, bits);
}
/** Sign-extending move: wD = (s8|s16)wS. */
export function movsx32(d: Reg, s: Reg, bits: 8 | 16): Insn {
  if (![8, 16].includes(bits)) bad(`movsx32 extends from 8 or 16 bits, not ${bits}`);
  return alu(false, "mov", d, s, bits);
}

function swap(op: number, d: Reg, bits: 16 | 32 | 64): Insn {
  if (![16, 32, 64].includes(bits)) bad(`byte swaps are 16, 32 or 64 bits, not ${bits}`);
  return ins(op, reg(d), 0, 0, bits);
}
/** Convert to big-endian (BPF_ALU | BPF_END | BPF_TO_BE). */
export const be = (d: Reg, bits: 16 | 32 | 64) => swap(CLASS.ALU | ALU_OP.end | SRC.X, d, bits);
/** Convert to little-endian (BPF_ALU | BPF_END | BPF_TO_LE). */
export const le = (d: Reg, bits: 16 | 32 | 64) => swap(CLASS.ALU | ALU_OP.end | SRC.K, d, bits);
/** Unconditional byte swap (BPF_ALU64 | BPF_END). */
export const bswap = (d: Reg, bits: 16 | 32 | 64) => swap(CLASS.ALU64 | ALU_OP.end, d, bits);

// --- memory -------------------------------------------------------------------------------------

function sizeCode(size: Size): number {
  const c = SIZE_CODE[size];
  if (c === undefined) bad(`access size ${size} is not 1, 2, 4 or 8`);
  return c;
}
/** dst = *(uN *)(src + off) */
export const ldx = (size: Size, d: Reg, s: Reg, off: number) => ins(CLASS.LDX | MODE.MEM | sizeCode(size), reg(d), reg(s), off16(off), 0);
/** dst = *(sN *)(src + off), sign-extending */
export function ldxs(size: 1 | 2 | 4, d: Reg, s: Reg, off: number): Insn {
  if (size === (8 as Size)) bad("there is no sign-extending 64-bit load");
  return ins(CLASS.LDX | MODE.MEMSX | sizeCode(size), reg(d), reg(s), off16(off), 0);
}
/** *(uN *)(dst + off) = src (register) or imm */
export function st(size: Size, d: Reg, off: number, v: Operand): Insn {
  if (v instanceof Reg) return ins(CLASS.STX | MODE.MEM | sizeCode(size), reg(d), reg(v), off16(off), 0);
  return ins(CLASS.ST | MODE.MEM | sizeCode(size), reg(d), 0, off16(off), imm32(v));
}
export const ldxb = (d: Reg, s: Reg, off: number) => ldx(1, d, s, off);
export const ldxh = (d: Reg, s: Reg, off: number) => ldx(2, d, s, off);
export const ldxw = (d: Reg, s: Reg, off: number) => ldx(4, d, s, off);
export const ldxdw = (d: Reg, s: Reg, off: number) => ldx(8, d, s, off);
export const ldxsb = (d: Reg, s: Reg, off: number) => ldxs(1, d, s, off);
export const ldxsh = (d: Reg, s: Reg, off: number) => ldxs(2, d, s, off);
export const ldxsw = (d: Reg, s: Reg, off: number) => ldxs(4, d, s, off);
export const stb = (d: Reg, off: number, v: Operand) => st(1, d, off, v);
export const sth = (d: Reg, off: number, v: Operand) => st(2, d, off, v);
export const stw = (d: Reg, off: number, v: Operand) => st(4, d, off, v);
export const stdw = (d: Reg, off: number, v: Operand) => st(8, d, off, v);

/** Atomic read-modify-write: lock *(uN *)(dst + off) op= src, or with fetch: src = old value. */
export function atomic(size: 4 | 8, op: "add" | "or" | "and" | "xor", d: Reg, off: number, s: Reg, fetch = false): Insn {
  const code = { add: ATOMIC.ADD, or: ATOMIC.OR, and: ATOMIC.AND, xor: ATOMIC.XOR }[op];
  if (code === undefined) bad(`unknown atomic operation ${op}`);
  if (size !== 4 && size !== 8) bad("atomic operations are 4 or 8 bytes wide");
  return ins(CLASS.STX | MODE.ATOMIC | sizeCode(size), reg(d), reg(s), off16(off), code | (fetch ? ATOMIC.FETCH : 0));
}
export const atomicAdd64 = (d: Reg, off: number, s: Reg) => atomic(8, "add", d, off, s);
export const atomicAdd32 = (d: Reg, off: number, s: Reg) => atomic(4, "add", d, off, s);
export const atomicFetchAdd64 = (d: Reg, off: number, s: Reg) => atomic(8, "add", d, off, s, true);
export const atomicFetchAdd32 = (d: Reg, off: number, s: Reg) => atomic(4, "add", d, off, s, true);
/** src = xchg(*(dst + off), src) */
export const xchg = (size: 4 | 8, d: Reg, off: number, s: Reg) => ins(CLASS.STX | MODE.ATOMIC | sizeCode(size), reg(d), reg(s), off16(off), ATOMIC.XCHG);
/** r0 = cmpxchg(*(dst + off), r0, src) */
export const cmpxchg = (size: 4 | 8, d: Reg, off: number, s: Reg) => ins(CLASS.STX | MODE.ATOMIC | sizeCode(size), reg(d), reg(s), off16(off), ATOMIC.CMPXCHG);
/** dst = load_acquire((uN *)(src + off)) */
export const loadAcquire = (size: Size, d: Reg, s: Reg, off: number) => ins(CLASS.STX | MODE.ATOMIC | sizeCode(size), reg(d), reg(s), off16(off), ATOMIC.LOAD_ACQ);
/** store_release((uN *)(dst + off), src) */
export const storeRelease = (size: Size, d: Reg, off: number, s: Reg) => ins(CLASS.STX | MODE.ATOMIC | sizeCode(size), reg(d), reg(s), off16(off), ATOMIC.STORE_REL);

/** r0 = *(uN *)skb[imm] (legacy packet access). */
export function ldAbs(size: 1 | 2 | 4, imm: number): Insn {
  if (size === (8 as Size)) bad("packet loads are 1, 2 or 4 bytes");
  return ins(CLASS.LD | MODE.ABS | sizeCode(size), 0, 0, 0, imm32(imm));
}
/** r0 = *(uN *)skb[src + imm] (legacy packet access). */
export function ldInd(size: 1 | 2 | 4, s: Reg, imm: number): Insn {
  if (size === (8 as Size)) bad("packet loads are 1, 2 or 4 bytes");
  return ins(CLASS.LD | MODE.IND | sizeCode(size), 0, reg(s), 0, imm32(imm));
}

// --- 64-bit immediates --------------------------------------------------------------------------

function lddw(d: Reg, src: number, v: bigint, ref?: SymbolRef): Insn {
  if (v < -(1n << 63n) || v >= 1n << 64n) bad(`64-bit immediate ${v} out of range`);
  const imm64 = BigInt.asUintN(64, v);
  const i = ins(CLASS.LD | MODE.IMM | SIZE.DW, reg(d), src, 0, Number(BigInt.asIntN(32, imm64)), ref);
  i.imm64 = imm64;
  return i;
}
/** dst = imm64 (two slots). */
export const ldImm64 = (d: Reg, v: bigint | number) => lddw(d, PSEUDO.NONE, BigInt(v));
/** ld_imm64 with an explicit pseudo source (BPF_PSEUDO_*) and raw immediate. */
export const ldPseudo = (d: Reg, src: PseudoSource, v: bigint | number) => lddw(d, src, BigInt(v));
/** dst = &map (resolved by the linker / loader). */
export const ldMap = (d: Reg, name: string) => lddw(d, PSEUDO.NONE, 0n, { kind: "map", name });
/** dst = &map_value + offset, e.g. a global variable in .data. */
export const ldMapValue = (d: Reg, name: string, offset = 0) => lddw(d, PSEUDO.NONE, BigInt(offset), { kind: "map_value", name, offset });
/** dst = address of the function at a label (BPF_PSEUDO_FUNC), e.g. for bpf_loop callbacks. */
export const ldFunc = (d: Reg, label: string) => lddw(d, PSEUDO.FUNC, 0n, { kind: "label", name: label });

// --- jumps and calls ----------------------------------------------------------------------------

function targetRef(t: Target): { off: number; ref?: SymbolRef } {
  if (typeof t === "string") return { off: 0, ref: { kind: "label", name: t } };
  return { off: t };
}

function jmp(wide: boolean, cond: JmpCond, d: Reg, s: Operand, t: Target): Insn {
  const cls = wide ? CLASS.JMP : CLASS.JMP32;
  const { off, ref } = targetRef(t);
  if (s instanceof Reg) return ins(cls | JMP_OP[cond] | SRC.X, reg(d), reg(s), off16(off), 0, ref);
  return ins(cls | JMP_OP[cond] | SRC.K, reg(d), 0, off16(off), imm32(s), ref);
}
type J = (d: Reg, s: Operand, t: Target) => Insn;
export const jeq: J = (d, s, t) => jmp(true, "jeq", d, s, t);
export const jne: J = (d, s, t) => jmp(true, "jne", d, s, t);
export const jgt: J = (d, s, t) => jmp(true, "jgt", d, s, t);
export const jge: J = (d, s, t) => jmp(true, "jge", d, s, t);
export const jlt: J = (d, s, t) => jmp(true, "jlt", d, s, t);
export const jle: J = (d, s, t) => jmp(true, "jle", d, s, t);
export const jsgt: J = (d, s, t) => jmp(true, "jsgt", d, s, t);
export const jsge: J = (d, s, t) => jmp(true, "jsge", d, s, t);
export const jslt: J = (d, s, t) => jmp(true, "jslt", d, s, t);
export const jsle: J = (d, s, t) => jmp(true, "jsle", d, s, t);
export const jset: J = (d, s, t) => jmp(true, "jset", d, s, t);
export const jeq32: J = (d, s, t) => jmp(false, "jeq", d, s, t);
export const jne32: J = (d, s, t) => jmp(false, "jne", d, s, t);
export const jgt32: J = (d, s, t) => jmp(false, "jgt", d, s, t);
export const jge32: J = (d, s, t) => jmp(false, "jge", d, s, t);
export const jlt32: J = (d, s, t) => jmp(false, "jlt", d, s, t);
export const jle32: J = (d, s, t) => jmp(false, "jle", d, s, t);
export const jsgt32: J = (d, s, t) => jmp(false, "jsgt", d, s, t);
export const jsge32: J = (d, s, t) => jmp(false, "jsge", d, s, t);
export const jslt32: J = (d, s, t) => jmp(false, "jslt", d, s, t);
export const jsle32: J = (d, s, t) => jmp(false, "jsle", d, s, t);
export const jset32: J = (d, s, t) => jmp(false, "jset", d, s, t);

/** goto target (16-bit offset). */
export function ja(t: Target): Insn {
  const { off, ref } = targetRef(t);
  return ins(CLASS.JMP | JMP_OP.ja, 0, 0, off16(off), 0, ref);
}
/** gotol target (32-bit offset, BPF_JMP32 | BPF_JA). */
export function gotol(t: Target): Insn {
  const { off, ref } = targetRef(t);
  return ins(CLASS.JMP32 | JMP_OP.ja, 0, 0, 0, imm32(off), ref);
}
/** may_goto target (BPF_JCOND). */
export function mayGoto(t: Target): Insn {
  const { off, ref } = targetRef(t);
  return ins(CLASS.JMP | JMP_OP.jcond, 0, 0, off16(off), 0, ref);
}
/**
 * call: a number is a helper id; a name is a label in this program (bpf-to-bpf call), else a
 * symbol left in meta.ref ({kind: "func"}) for the assembler/linker (helper name or extern).
 */
export function call(f: number | string): Insn {
  if (typeof f === "number") return ins(CLASS.JMP | JMP_OP.call, 0, CALL_SRC.HELPER, 0, imm32(f));
  return ins(CLASS.JMP | JMP_OP.call, 0, CALL_SRC.HELPER, 0, 0, { kind: "func", name: f });
}
/** Call a kernel function by BTF id (BPF_PSEUDO_KFUNC_CALL), or by name for the linker. */
export function kfuncCall(f: number | string): Insn {
  if (typeof f === "number") return ins(CLASS.JMP | JMP_OP.call, 0, CALL_SRC.KFUNC_CALL, 0, imm32(f));
  return ins(CLASS.JMP | JMP_OP.call, 0, CALL_SRC.KFUNC_CALL, 0, 0, { kind: "kfunc", name: f });
}
/** callx rN: indirect call through a register (the register goes in dst, as llvm encodes it). */
export const callx = (r: Reg) => ins(CLASS.JMP | JMP_OP.call | SRC.X, reg(r), 0, 0, 0);
export const exit = () => ins(CLASS.JMP | JMP_OP.exit, 0, 0, 0, 0);

export function label(name: string): Label {
  if (typeof name !== "string" || name.length === 0) bad("a label needs a name");
  return { label: name };
}

/**
 * Resolve labels and return the instructions. Jumps beyond their offset range, undefined and
 * duplicate labels are TsbpfError(ASM_ENCODE) naming the instruction index.
 */
export function build(items: readonly Item[]): Insn[] {
  const insns: Insn[] = [];
  const labels = new Map<string, number>();
  for (const it of items) {
    if (isLabel(it)) {
      if (labels.has(it.label)) bad(`label '${it.label}' is defined twice`);
      labels.set(it.label, insns.length);
    } else insns.push(it);
  }
  return resolveLabels(insns, labels, { code: "ASM_ENCODE" });
}
