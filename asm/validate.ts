// The kernel's structural rules for each instruction (reserved fields zero, allowed offsets and
// immediates), as checked in kernel/bpf/verifier.c before any abstract interpretation. decode()
// accepts any instruction whose opcode and registers are valid; this says whether the kernel would.

import type { Insn } from "./insn.ts";
import { ATOMIC_IMM, CALL_SRC, JCOND_MAY_GOTO, MAX_REG, PSEUDO, opDesc } from "./opcodes.ts";

/** Why the kernel would refuse this instruction's encoding, or undefined if it is well-formed. */
export function reservedFieldProblem(insn: Insn): string | undefined {
  const d = opDesc(insn.op);
  if (!d) return `unknown opcode 0x${insn.op.toString(16)}`;
  const { dst, src, off, imm } = insn;
  if (dst > MAX_REG || src > MAX_REG) return "register out of range";
  switch (d.kind) {
    case "alu": {
      if (d.alu === "neg") return src || off || imm ? "BPF_NEG uses reserved fields" : undefined;
      if (d.source === "k" && src !== 0) return "BPF_ALU uses reserved fields";
      if (d.source === "x" && imm !== 0 && !(d.alu === "mov" && d.wide && off === 1)) return "BPF_ALU uses reserved fields";
      if (d.alu === "div" || d.alu === "mod") return off === 0 || off === 1 ? undefined : "BPF_ALU uses reserved fields";
      if (d.alu === "mov") {
        if (d.source === "k") return off === 0 ? undefined : "BPF_MOV uses reserved fields";
        const ok = d.wide ? [0, 1, 8, 16, 32] : [0, 8, 16];
        return ok.includes(off) ? undefined : "BPF_MOV uses reserved fields";
      }
      return off === 0 ? undefined : "BPF_ALU uses reserved fields";
    }
    case "end":
      if (src || off) return "BPF_END uses reserved fields";
      return imm === 16 || imm === 32 || imm === 64 ? undefined : "BPF_END uses reserved fields";
    case "jmp":
      if (d.source === "k" && src !== 0) return "BPF_JMP/JMP32 uses reserved fields";
      if (d.source === "x" && imm !== 0) return "BPF_JMP/JMP32 uses reserved fields";
      return undefined;
    case "ja":
      if (dst || src) return "BPF_JA uses reserved fields";
      return d.long ? (off ? "BPF_JA uses reserved fields" : undefined) : imm ? "BPF_JA uses reserved fields" : undefined;
    case "call":
      if (dst) return "BPF_CALL uses reserved fields";
      if (src === CALL_SRC.KFUNC_CALL) return undefined;
      if (src === CALL_SRC.HELPER || src === CALL_SRC.PSEUDO_CALL) return off ? "BPF_CALL uses reserved fields" : undefined;
      return "BPF_CALL uses reserved fields";
    case "callx":
      return "BPF_CALL uses reserved fields";
    case "exit":
      return dst || src || off || imm ? "BPF_EXIT uses reserved fields" : undefined;
    case "jcond":
      return src !== JCOND_MAY_GOTO || dst || imm ? "invalid may_goto" : undefined;
    case "lddw":
      if (off) return "invalid bpf_ld_imm64 insn";
      return src <= PSEUDO.MAP_IDX_VALUE ? undefined : "unrecognized bpf_ld_imm64 insn";
    case "ldabs":
    case "ldind":
      if (dst !== 0 || off !== 0) return "BPF_LD_[ABS|IND] uses reserved fields";
      if (d.kind === "ldabs" && src !== 0) return "BPF_LD_[ABS|IND] uses reserved fields";
      return undefined;
    case "ldx":
      return imm ? "BPF_LDX uses reserved fields" : undefined;
    case "st":
      return src ? "BPF_ST uses reserved fields" : undefined;
    case "stx":
      return imm ? "BPF_STX uses reserved fields" : undefined;
    case "atomic": {
      const a = ATOMIC_IMM.get(imm);
      if (!a) return `BPF_ATOMIC uses invalid atomic opcode ${imm.toString(16).padStart(2, "0")}`;
      if (!a.sizes.includes(d.size)) return "invalid atomic operand size";
      return undefined;
    }
  }
}
