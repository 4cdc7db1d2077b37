// CO-RE for a whole ObjectSpec: parse its .BTF.ext, compute the fix-ups of every function against
// a target BTF, and (separately) return a copy of the ObjectSpec with them applied — before the
// linker appends subprograms, as libbpf does.

import type { ObjectSpec, ProgramSpec } from "../../src/elf/index.ts";
import type { Btf } from "../btf.ts";
import { parseBtfExt, type BtfExt } from "../ext.ts";
import { applyCoreFixups, checkFixups } from "./apply.ts";
import { computeCoreFixups, type RelocateOptions } from "./relocate.ts";
import type { CoreFixup } from "./types.ts";

/** The object's parsed .BTF.ext, if it has CO-RE relocations to do. */
export function objectExt(obj: ObjectSpec): BtfExt | undefined {
  if (!obj.btf || !obj.btfExt) return undefined;
  return parseBtfExt(obj.btfExt.bytes, obj.btf, { fileOffset: obj.btfExt.fileOffset });
}

/** Every CO-RE fix-up of the object (programs and .text subprograms) against `target`. */
export function objectCoreFixups(obj: ObjectSpec, target: Btf, opts: RelocateOptions = {}): CoreFixup[] {
  const ext = objectExt(obj);
  if (!ext || !obj.btf || ext.coreRelos.length === 0) return [];
  return computeCoreFixups(obj.btf, ext, [...obj.programs, ...obj.subprograms], target, opts);
}

function patchFunction(fn: ProgramSpec, fixups: readonly CoreFixup[]): ProgramSpec {
  const mine = fixups.filter((f) => f.program === fn.name && f.section === fn.section);
  if (mine.length === 0) return fn;
  const p = applyCoreFixups(fn.insns, mine);
  return { ...fn, insns: p.insns, relocations: fn.relocations.map((r) => ({ ...r, insn: p.newIndex[r.insn] })) };
}

/** A copy of the object with the fix-ups written into its functions. Throws CORE_RELO if any fails. */
export function applyObjectCore(obj: ObjectSpec, fixups: readonly CoreFixup[]): ObjectSpec {
  checkFixups(fixups);
  return { ...obj, programs: obj.programs.map((p) => patchFunction(p, fixups)), subprograms: obj.subprograms.map((p) => patchFunction(p, fixups)) };
}
