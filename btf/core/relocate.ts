// Compute every CO-RE fix-up of an object: walk the .BTF.ext CO-RE records section by section
// (libbpf's order, which matters because candidate lists narrow as relocations resolve), find the
// function each instruction belongs to, resolve against the target BTF and decide the patch.
// Nothing is modified here; btf/core/apply.ts writes the list into the code.

import { TsbpfError } from "../../src/errors.ts";
import { slotOffsets, type Insn } from "../../asm/index.ts";
import type { Btf } from "../btf.ts";
import type { BtfExt, CoreRelo } from "../ext.ts";
import { resolveRelo, type Resolved } from "./calc.ts";
import { findCandidates } from "./candidates.ts";
import { patchInsn } from "./patch.ts";
import { formatSpec, isEnumvalKind, isFieldKind, parseLocalSpec, typeLabel } from "./spec.ts";
import type { CoreFixup, CoreOutcome, CoreSpec, SpecView } from "./types.ts";

/** The part of a ProgramSpec the CO-RE pass needs (src/elf's ProgramSpec satisfies it). */
export interface CoreFunction {
  name: string;
  /** ELF section name (without libbpf's leading '?'). */
  section: string;
  /** Byte offset of the function in its section. */
  offset: number;
  insns: readonly Insn[];
  /** libbpf skips relocations of programs it will not load. */
  autoload: boolean;
  /** .text subprograms are relocated whenever present (libbpf loads them with their callers). */
  subprogram: boolean;
}

export interface RelocateOptions {
  /** Also resolve relocations of programs that would not be loaded (SEC("?…")), for reports. */
  includeDisabled?: boolean;
}

function view(spec: CoreSpec): SpecView {
  const t = spec.btf.type(spec.rootId);
  const v: SpecView = { typeId: spec.rootId, type: typeLabel(t), text: formatSpec(spec) };
  if (isFieldKind(spec.kind)) v.bitOffset = spec.bitOffset;
  return v;
}

function poisonReason(relo: CoreRelo, r: Resolved): string {
  const what = isFieldKind(relo.kind) ? "field" : isEnumvalKind(relo.kind) ? "enum value" : "type";
  if (r.found === 0) return `no type named like '${r.local.btf.nameOf(relo.typeId)}' of a compatible kind in the target BTF`;
  return `${what} not found in any of ${r.found} candidate${r.found === 1 ? "" : "s"}`;
}

interface Located {
  fn: CoreFunction;
  insnIndex: number;
  slot: number;
}

/** Which function holds section slot `slot` of section `section`. */
function locator(functions: readonly CoreFunction[]): (section: string, slot: number) => Located | undefined | "mid-insn" {
  const bySection = new Map<string, { fn: CoreFunction; start: number; slots: number[] }[]>();
  for (const fn of functions) {
    const l = bySection.get(fn.section) ?? [];
    l.push({ fn, start: fn.offset / 8, slots: slotOffsets(fn.insns) });
    bySection.set(fn.section, l);
  }
  return (section, slot) => {
    for (const f of bySection.get(section.replace(/^\?/, "")) ?? []) {
      const rel = slot - f.start;
      if (rel < 0 || rel >= f.slots[f.fn.insns.length]) continue;
      let lo = 0;
      let hi = f.fn.insns.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (f.slots[mid] <= rel) lo = mid;
        else hi = mid - 1;
      }
      if (f.slots[lo] !== rel) return "mid-insn";
      return { fn: f.fn, insnIndex: lo, slot: rel };
    }
    return undefined;
  };
}

/** The line_info record covering section slot `slot` (the last one at or before it). */
function sourceLookup(ext: BtfExt): (section: string, slot: number) => CoreFixup["source"] {
  const bySection = new Map(ext.lineInfo.map((s) => [s.section, [...s.records].sort((a, b) => a.insn - b.insn)] as const));
  return (section, slot) => {
    const recs = bySection.get(section);
    if (!recs) return undefined;
    let best: (typeof recs)[number] | undefined;
    for (const r of recs) {
      if (r.insn > slot) break;
      best = r;
    }
    return best ? { file: best.fileName, line: best.lineNum, column: best.column, text: best.line } : undefined;
  };
}

/** Compute the CO-RE fix-ups of an object's functions against `target` (e.g. the kernel's BTF). */
export function computeCoreFixups(localBtf: Btf, ext: BtfExt, functions: readonly CoreFunction[], target: Btf, opts: RelocateOptions = {}): CoreFixup[] {
  const out: CoreFixup[] = [];
  const locate = locator(functions);
  const sourceOf = sourceLookup(ext);
  const cache = new Map<number, { ids: number[] }>();
  for (const sec of ext.coreRelos) {
    sec.records.forEach((relo, i) => {
      const at = locate(sec.section, relo.insn);
      // libbpf ignores relocations of eliminated (overridden weak) code.
      if (at === undefined) return;
      const base = { section: sec.section.replace(/^\?/, ""), relo: i, kind: relo.kind, accessStr: relo.accessStr };
      const localView: SpecView = { typeId: relo.typeId, type: localBtf.has(relo.typeId) ? typeLabel(localBtf.type(relo.typeId)) : `[${relo.typeId}]`, text: "" };
      if (at === "mid-insn") {
        out.push({ ...base, program: "", insnIndex: -1, slot: relo.insn, local: localView, candidates: { found: 0, matched: 0 }, outcome: { kind: "error", message: `relocation at section slot ${relo.insn} points into the middle of an ld_imm64` } });
        return;
      }
      if (!at.fn.autoload && !at.fn.subprogram && !opts.includeDisabled) return;
      const source = sourceOf(sec.section, relo.insn);
      const where = { ...base, program: at.fn.name, insnIndex: at.insnIndex, slot: at.slot, ...(source ? { source } : {}) };
      try {
        let cands: { ids: number[] } | undefined;
        if (relo.kind !== "type_id_local") {
          cands = cache.get(relo.typeId);
          if (!cands) {
            if (localBtf.nameOf(relo.typeId) === "") throw new TsbpfError("CORE_RELO", `target candidate search failed for [${relo.typeId}] ${localView.type}: anonymous types have no candidates`);
            cands = { ids: findCandidates(localBtf, relo.typeId, target) };
            cache.set(relo.typeId, cands);
          }
        }
        const r = resolveRelo(relo, localBtf, target, cands, at.slot);
        const outcome: CoreOutcome = patchInsn(at.fn.insns[at.insnIndex], r.result, poisonReason(relo, r));
        out.push({ ...where, local: view(r.local), ...(r.target ? { target: view(r.target) } : {}), candidates: { found: r.found, matched: r.matched }, outcome });
      } catch (e) {
        if (!(e instanceof TsbpfError)) throw e;
        // Show the local side when it parses: the failure is then about the target.
        let local = localView;
        try {
          local = view(parseLocalSpec(localBtf, relo));
        } catch {
          // the access itself is malformed; the bare view names the type and access string
        }
        out.push({ ...where, local, candidates: { found: 0, matched: 0 }, outcome: { kind: "error", message: e.message } });
      }
    });
  }
  return out;
}
