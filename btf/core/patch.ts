// Turn a relocation result into the change to its instruction (libbpf's bpf_core_patch_insn):
// ALU/ALU64 immediates, LDX/ST/STX offsets (with a load/store size change where the field's size
// changed), ld_imm64 immediates, or the poison call. Checks that the instruction holds the value
// the local BTF implies, as libbpf does, and reports a mismatch as an error.

import { CLASS, JMP_OP, SIZE, isLdImm64, type Insn } from "../../asm/index.ts";
import type { CoreOutcome, InsnChange, ReloResult } from "./types.ts";
import { POISON_HELPER_ID } from "./types.ts";

const CALL_OP = CLASS.JMP | JMP_OP.call;
const SHRT_MAX = 0x7fffn;
const SIZE_BYTES: Record<number, number> = { [SIZE.DW]: 8, [SIZE.W]: 4, [SIZE.H]: 2, [SIZE.B]: 1 };
const BYTES_SIZE: Record<number, number> = { 8: SIZE.DW, 4: SIZE.W, 2: SIZE.H, 1: SIZE.B };

/** The call libbpf writes over an instruction whose relocation cannot be satisfied. */
export const POISON_CHANGE: InsnChange = Object.freeze({ op: CALL_OP, dst: 0, src: 0, off: 0, imm: POISON_HELPER_ID });

const u64 = (v: number): bigint => BigInt.asUintN(64, BigInt(v));

/** The outcome for one instruction; `poisonReason` explains a poison request from the calculation. */
export function patchInsn(insn: Insn, res: ReloResult, poisonReason: string): CoreOutcome {
  const cls = insn.op & 0x07;
  if (res.poison) return { kind: "poison", reason: poisonReason };
  const { origVal, newVal } = res;
  switch (cls) {
    case CLASS.ALU:
    case CLASS.ALU64: {
      if ((insn.op & 0x08) !== 0) return { kind: "error", message: `insn (ALU/ALU64) uses a register source, not an immediate` };
      if (res.validate && u64(insn.imm) !== origVal) return { kind: "error", message: `unexpected insn (ALU/ALU64) value: got ${insn.imm >>> 0}, exp ${origVal} -> ${newVal}` };
      return { kind: "patch", field: "imm", oldValue: u64(insn.imm), newValue: newVal, change: { imm: Number(BigInt.asIntN(32, newVal)) } };
    }
    case CLASS.LDX:
    case CLASS.ST:
    case CLASS.STX: {
      if (res.validate && u64(insn.off) !== origVal) return { kind: "error", message: `unexpected insn (LDX/ST/STX) value: got ${insn.off & 0xffff}, exp ${origVal} -> ${newVal}` };
      if (newVal > SHRT_MAX) return { kind: "error", message: `insn (LDX/ST/STX) value too big: ${newVal}` };
      if (res.failMemszAdjust) {
        return { kind: "poison", oldValue: u64(insn.off), reason: "accesses field incorrectly: make sure you are accessing pointers, unsigned integers, or fields of matching type and size" };
      }
      const change: InsnChange = { off: Number(newVal) };
      let memSize: { old: number; new: number } | undefined;
      if (res.newSize !== res.origSize) {
        const have = SIZE_BYTES[insn.op & 0x18];
        if (have !== res.origSize) return { kind: "error", message: `insn (LDX/ST/STX) unexpected mem size: got ${have}, exp ${res.origSize}` };
        const sz = BYTES_SIZE[res.newSize];
        if (sz === undefined) return { kind: "error", message: `insn (LDX/ST/STX) invalid new mem size: ${res.newSize}` };
        change.op = (insn.op & 0xe0) | sz | cls;
        memSize = { old: res.origSize, new: res.newSize };
      }
      return { kind: "patch", field: "off", oldValue: u64(insn.off), newValue: newVal, change, ...(memSize ? { memSize } : {}) };
    }
    case CLASS.LD: {
      if (!isLdImm64(insn.op) || insn.src !== 0 || insn.off !== 0) return { kind: "error", message: `insn (LDIMM64) has unexpected form` };
      const imm = insn.imm64 ?? u64(insn.imm);
      if (res.validate && imm !== origVal) return { kind: "error", message: `unexpected insn (LDIMM64) value: got ${imm}, exp ${origVal} -> ${newVal}` };
      return { kind: "patch", field: "imm64", oldValue: imm, newValue: newVal, change: { imm64: newVal, imm: Number(BigInt.asIntN(32, newVal)) } };
    }
    default:
      return { kind: "error", message: `trying to relocate unrecognized insn, code:0x${insn.op.toString(16)}, src:0x${insn.src.toString(16)}, dst:0x${insn.dst.toString(16)}, off:0x${(insn.off & 0xffff).toString(16)}, imm:0x${(insn.imm >>> 0).toString(16)}` };
  }
}
