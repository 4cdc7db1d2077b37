// Label resolution shared by the text assembler and the builder: every instruction whose meta.ref
// names a label (jumps, bpf-to-bpf calls, ld_imm64 of a function) gets its relative offset, with
// range checks; an undefined label or an out-of-range jump is a TsbpfError at the instruction.

import { TsbpfError, type ErrorCode, type Where } from "../src/errors.ts";
import { slotOffsets, type Insn } from "./insn.ts";
import { CALL_SRC, PSEUDO, opDesc } from "./opcodes.ts";

export interface ResolveOptions {
  /** Where instruction i came from, for error messages (default: its meta.source, else its index). */
  where?: (i: number) => Where;
  code?: ErrorCode;
  /**
   * Names a `call NAME` / ld_imm64 func may leave unresolved (helpers, externs); any other
   * unknown name is an error. Undefined: all such names stay symbolic for the linker.
   */
  isExternal?: (name: string) => boolean;
  /** The only instructions that may carry a reference (ascending indices), when the caller knows them. */
  only?: readonly number[];
  /** slotOffsets(insns), when the caller has it. */
  slots?: readonly number[];
}

function defaultWhere(insns: readonly Insn[], i: number): Where {
  const s = insns[i].meta?.source;
  return s ? { file: s.file, line: s.line, column: s.column, insn: i } : { insn: i };
}

/**
 * Resolve label references. `labels` maps a name to the index (in `insns`) of the instruction it
 * precedes; insns.length means "the end". Returns new instructions; the input is not modified.
 */
export function resolveLabels(insns: readonly Insn[], labels: ReadonlyMap<string, number>, opts: ResolveOptions = {}): Insn[] {
  const offs = opts.slots ?? slotOffsets(insns);
  const code = opts.code ?? "ASM_SYNTAX";
  const where = opts.where ?? ((i: number) => defaultWhere(insns, i));
  const out = insns.slice();
  const n = opts.only?.length ?? insns.length;
  for (let k = 0; k < n; k++) {
    const i = opts.only ? opts.only[k] : k;
    const insn = insns[i];
    const ref = insn.meta?.ref;
    if (!ref || (ref.kind !== "label" && ref.kind !== "func")) continue;
    const target = labels.get(ref.name);
    if (target === undefined) {
      if (ref.kind === "func") {
        continue;
      }
      throw new TsbpfError(code, `undefined label '${ref.name}'`, where(i), "define it with 'NAME:' before an instruction");
    }
    out[i] = resolveRef(insn, ref.name, offs[target] - offs[i + 1], () => where(i), code);
  }
  return out;
}

/**
 * The instruction `insn` (carrying a label or func reference named `name`) with the reference
 * resolved to `rel` slots from the next instruction; its meta keeps only the source line.
 */
export function resolveRef(insn: Insn, name: string, rel: number, where: () => Where, code: ErrorCode = "ASM_SYNTAX"): Insn {
  const d = opDesc(insn.op);
  const next: Insn = { ...insn };
  const meta = { ...insn.meta };
  delete meta.ref;
  if (meta.source) next.meta = meta;
  else delete next.meta;
  if (d?.kind === "call") {
    next.src = CALL_SRC.PSEUDO_CALL;
    next.imm = rel;
  } else if (d?.kind === "lddw") {
    next.src = PSEUDO.FUNC;
    next.imm = rel;
    next.imm64 = BigInt(rel >>> 0);
  } else if (d?.kind === "ja" && d.long) {
    next.imm = rel;
  } else if (d?.kind === "jmp" || d?.kind === "ja" || d?.kind === "jcond") {
    if (rel < -32768 || rel > 32767) {
      throw new TsbpfError(code, `jump to '${name}' spans ${rel} instructions, beyond the 16-bit offset range -32768..32767`, where(),
        d.kind === "ja" ? "use 'gotol' for long unconditional jumps" : "invert the condition and jump over a 'gotol'");
    }
    next.off = rel;
  } else {
    throw new TsbpfError(code, `a label cannot be used by this instruction`, where());
  }
  return next;
}
