// Instructions → bytes: struct bpf_insn, little-endian by default or big-endian (bpfeb) on request. Fields out of range are typed errors
// naming the instruction, never silently truncated.

import { TsbpfError } from "../src/errors.ts";
import { hi32, lo32, slots, type Insn } from "./insn.ts";
import { isLdImm64, opDesc } from "./opcodes.ts";
import { INSN_SIZE } from "./decode.ts";

function check(cond: boolean, i: number, msg: string, hint: string): void {
  if (!cond) throw new TsbpfError("ASM_ENCODE", msg, { insn: i }, hint);
}

export function encodedSize(insns: readonly Insn[]): number {
  let n = 0;
  for (const x of insns) n += slots(x);
  return n * INSN_SIZE;
}

/**
 * Encode into `out` at byte offset `at`; returns the number of bytes written. Big-endian swaps the
 * register nibbles (dst high, src low) and writes off and imm big-endian, as clang -target bpfeb does.
 */
export function encodeInto(insn: Insn, out: DataView, at: number, index = 0, bigEndian = false): number {
  const { op, dst, src, off, imm } = insn;
  check(Number.isInteger(op) && op >= 0 && op <= 0xff && opDesc(op) !== undefined, index, `unknown opcode ${op}`, "use an opcode from asm/opcodes.ts");
  check(Number.isInteger(dst) && dst >= 0 && dst <= 15, index, `dst register ${dst} out of range`, "registers are r0..r10");
  check(Number.isInteger(src) && src >= 0 && src <= 15, index, `src register ${src} out of range`, "registers are r0..r10");
  check(Number.isInteger(off) && off >= -0x8000 && off <= 0x7fff, index, `offset ${off} does not fit in 16 bits`, "offsets are signed 16-bit (-32768..32767); use gotol for longer jumps");
  let lo = imm;
  let hi = 0;
  if (isLdImm64(op)) {
    const v = insn.imm64 ?? BigInt(imm >>> 0);
    check(v >= -(1n << 63n) && v < 1n << 64n, index, `64-bit immediate ${v} out of range`, "ld_imm64 takes a value in [-2^63, 2^64)");
    lo = lo32(v);
    hi = hi32(v);
  } else {
    check(Number.isInteger(imm) && imm >= -0x80000000 && imm <= 0xffffffff, index, `immediate ${imm} does not fit in 32 bits`, "use ld_imm64 (lddw) for 64-bit constants");
    lo = imm | 0;
  }
  out.setUint8(at, op);
  const le = !bigEndian;
  out.setUint8(at + 1, le ? ((src & 0x0f) << 4) | (dst & 0x0f) : ((dst & 0x0f) << 4) | (src & 0x0f));
  out.setInt16(at + 2, off, le);
  out.setInt32(at + 4, lo, le);
  if (!isLdImm64(op)) return INSN_SIZE;
  out.setUint32(at + 8, 0, le);
  out.setInt32(at + 12, hi, le);
  return 2 * INSN_SIZE;
}

export function encode(insns: readonly Insn[], opts?: { bigEndian?: boolean }): Uint8Array {
  const bytes = new Uint8Array(encodedSize(insns));
  const dv = new DataView(bytes.buffer);
  const be = opts?.bigEndian === true;
  let at = 0;
  for (let i = 0; i < insns.length; i++) at += encodeInto(insns[i], dv, at, i, be);
  return bytes;
}
