// Compare our CO-RE fix-ups for one object with libbpf's: its debug log (local and target specs,
// old/new values, poisoned slots, failures) and the instruction bytes it sent to BPF_PROG_LOAD.

import { expect } from "vitest";
import { encode, isLdImm64, slotOffsets } from "../../asm/index.ts";
import { applyObjectCore, type CoreFixup } from "../../btf/core/index.ts";
import type { ObjectSpec } from "../../src/elf/index.ts";
import { linkProgram, runningKernel } from "../../src/link/index.ts";
import type { LibbpfObject } from "./oracle.ts";

/** Compare our fix-ups for one object with what libbpf logged. */
export function compareLog(obj: ObjectSpec, fixups: CoreFixup[], lib: LibbpfObject): void {
  expect(lib.opened).toBe(true);
  const firstError = fixups.find((f) => f.outcome.kind === "error");
  // libbpf stops relocating at the first failure; compare up to it.
  const ours = firstError ? fixups.slice(0, fixups.indexOf(firstError) + 1) : fixups;
  expect(ours.map((f) => `${f.program}/${f.relo}`).sort()).toEqual([...lib.relos.keys()].sort());
  for (const f of ours) {
    const l = lib.relos.get(`${f.program}/${f.relo}`)!;
    const ctx = `${obj.name} ${f.program} relo #${f.relo}: ${l.lines.join(" | ")}`;
    if (f.outcome.kind === "error") {
      expect(l.failed, ctx).toBeDefined();
      continue;
    }
    expect(l.failed, ctx).toBeUndefined();
    expect(f.local.text, ctx).toBe(l.local);
    expect(f.target?.text, ctx).toBe(l.matching[0]);
    if (f.kind !== "type_id_local") expect(f.candidates.matched, ctx).toBe(l.matching.length);
    if (f.outcome.kind === "poison") {
      expect(Math.min(...l.poisoned), ctx).toBe(f.slot);
      expect(l.patches, ctx).toEqual([]);
    } else {
      expect(l.poisoned, ctx).toEqual([]);
      const want = [{ insn: f.slot, what: f.outcome.field, from: f.outcome.oldValue, to: f.outcome.newValue }];
      if (f.outcome.memSize) want.push({ insn: f.slot, what: "mem_sz", from: BigInt(f.outcome.memSize.old), to: BigInt(f.outcome.memSize.new) } as never);
      expect(l.patches, ctx).toEqual(want);
    }
  }
}

const kernel = runningKernel();

/** Our relocated and linked code must equal libbpf's at every CO-RE-relocated slot. */
export function compareInsns(obj: ObjectSpec, fixups: CoreFixup[], lib: LibbpfObject): number {
  if (fixups.some((f) => f.outcome.kind === "error")) return 0;
  const patched = applyObjectCore(obj, fixups);
  let compared = 0;
  for (const prog of patched.programs) {
    const theirs = lib.insns.get(prog.name.slice(0, 15));
    if (!theirs) continue;
    const linked = linkProgram(patched, prog, { kernel });
    const bytes = encode(linked.insns);
    const slots = slotOffsets(linked.insns);
    const startOf = new Map<string, number>([[prog.name, 0], ...linked.subprograms.map((s) => [s.name, slots[s.insn]] as const)]);
    for (const f of fixups) {
      const start = startOf.get(f.program);
      if (start === undefined || (f.program !== prog.name && !obj.subprograms.some((s) => s.name === f.program))) continue;
      const at = (start + f.slot) * 8;
      const fn = [...obj.programs, ...obj.subprograms].find((p) => p.name === f.program)!;
      const len = isLdImm64(fn.insns[f.insnIndex].op) ? 16 : 8;
      expect([...bytes.subarray(at, at + len)], `${prog.name} ${f.program} relo #${f.relo} slot ${f.slot}`).toEqual([...theirs.subarray(at, at + len)]);
      compared++;
    }
  }
  return compared;
}
