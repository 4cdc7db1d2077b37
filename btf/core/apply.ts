// Write computed CO-RE fix-ups into code: each function's instructions are copied and patched;
// a poisoned ld_imm64 becomes two poison calls (it spans two slots, and libbpf poisons both so
// the verifier does not trip over an empty second half), which shifts later instruction indices.

import { TsbpfError } from "../../src/errors.ts";
import type { Insn } from "../../asm/index.ts";
import { isLdImm64 } from "../../asm/index.ts";
import { POISON_CHANGE } from "./patch.ts";
import type { CoreFixup } from "./types.ts";

/** Instructions after patching, and the old→new index map (poisoned ld_imm64s add one index). */
export interface Patched {
  insns: Insn[];
  /** newIndex[i] = index of old instruction i in `insns`. */
  newIndex: number[];
}

/** Throw the first relocation that libbpf would fail the load on. */
export function checkFixups(fixups: readonly CoreFixup[]): void {
  const bad = fixups.find((f) => f.outcome.kind === "error");
  if (bad && bad.outcome.kind === "error") {
    throw new TsbpfError("CORE_RELO", `prog '${bad.program}': relo #${bad.relo}: ${bad.outcome.message}`, { section: bad.section, insn: bad.insnIndex }, "the target kernel's types do not fit this relocation; guard the access with bpf_core_field_exists()/bpf_core_type_exists() or a ___flavor");
  }
}

/** Apply one function's fix-ups (all with `program` = this function) to a copy of its instructions. */
export function applyCoreFixups(insns: readonly Insn[], fixups: readonly CoreFixup[]): Patched {
  checkFixups(fixups);
  const byIndex = new Map<number, CoreFixup>();
  for (const f of fixups) byIndex.set(f.insnIndex, f);
  const out: Insn[] = [];
  const newIndex: number[] = new Array(insns.length);
  insns.forEach((insn, i) => {
    newIndex[i] = out.length;
    const f = byIndex.get(i);
    if (!f) {
      out.push(insn);
      return;
    }
    const meta = insn.meta ? { meta: insn.meta } : {};
    if (f.outcome.kind === "poison") {
      const call: Insn = { op: POISON_CHANGE.op!, dst: 0, src: 0, off: 0, imm: POISON_CHANGE.imm!, ...meta };
      out.push(call);
      if (isLdImm64(insn.op)) out.push({ op: call.op, dst: 0, src: 0, off: 0, imm: call.imm });
      return;
    }
    if (f.outcome.kind === "patch") out.push({ ...insn, ...f.outcome.change });
  });
  return { insns: out, newIndex };
}
