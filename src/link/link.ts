// Link one program: append the .text subprograms it calls (transitively, in libbpf's
// depth-first order), then compute every fix-up — call and callback offsets, map and data
// references, kfunc calls, ksym and kconfig loads — as a list, and apply the list to a copy.

// Direct module imports keep start-up small (see src/elf/object.ts).
import { joinImm64, hi32, lo32, slotOffsets, type Insn } from "../../asm/insn.ts";
import { CALL_SRC, CLASS, JMP_OP, PSEUDO, isLdImm64 } from "../../asm/opcodes.ts";
import type { Btf, BtfExt, FuncInfo, LineInfo } from "../../btf/index.ts";
import type { KsymExtern, ObjectSpec, ProgramSpec } from "../elf/index.ts";
import { typesAreCompat } from "../../btf/core/compat.ts";
import { skipMods } from "../elf/btf-util.ts";
import { TsbpfError } from "../errors.ts";

const CALL_OP = CLASS.JMP | JMP_OP.call;
/** libbpf's POISON_CALL_KFUNC_BASE: an unresolved weak kfunc call becomes a helper call to this + extern index. */
export const POISON_CALL_KFUNC_BASE = 2002000000;

/** One change to one instruction of the linked program. */
export interface Fixup {
  /** Index into the linked program's instructions. */
  insn: number;
  what: "call" | "func_addr" | "map" | "map_value" | "kconfig" | "ksym_typed" | "ksym_addr" | "kfunc" | "kfunc_poison" | "core";
  /** The fields before and after (only those that change). */
  old: Partial<Pick<Insn, "op" | "src" | "dst" | "off" | "imm" | "imm64">>;
  new: Partial<Pick<Insn, "op" | "src" | "dst" | "off" | "imm" | "imm64">>;
  /** The symbol or map it concerns. */
  target: string;
}

export interface KernelSymbols {
  /** Kernel BTF, for kfunc and typed-ksym ids. */
  btf?: Btf;
  /** Address of a kernel symbol (from /proc/kallsyms), for typeless ksyms. */
  address?: (name: string) => bigint | undefined;
}

export interface LinkOptions {
  kernel?: KernelSymbols;
  /** The object's parsed .BTF.ext, for func_info and line_info of the linked program. */
  ext?: BtfExt;
}

export interface LinkedProgram {
  program: ProgramSpec;
  insns: Insn[];
  fixups: Fixup[];
  /** Subprograms in the order they were appended, with their first instruction index. */
  subprograms: { name: string; insn: number }[];
  /** BTF func_info and line_info for the linked code (`insn` = slot index), when ext was given. */
  funcInfo: FuncInfo[];
  lineInfo: LineInfo[];
}

interface Placed {
  fn: ProgramSpec;
  /** First instruction index and first slot of this function in the linked program. */
  insn: number;
  slot: number;
}

/** The .text function whose code covers section slot `slot`. */
function subprogAt(obj: ObjectSpec, slot: number): ProgramSpec | undefined {
  return obj.subprograms.find((s) => {
    const start = s.offset / 8;
    return slot >= start && slot < start + slotOffsets(s.insns)[s.insns.length];
  });
}

/** Lay out main + subprograms and compute the call/callback fix-ups (libbpf's bpf_object__reloc_code). */
function layout(obj: ObjectSpec, main: ProgramSpec, fixups: Fixup[]): Placed[] {
  const placed: Placed[] = [{ fn: main, insn: 0, slot: 0 }];
  let nextInsn = main.insns.length;
  let nextSlot = slotOffsets(main.insns)[main.insns.length];
  const where = new Map<ProgramSpec, Placed>([[main, placed[0]]]);
  const visit = (p: Placed, depth: number): void => {
    if (depth > 4096) throw new TsbpfError("LINK_UNRESOLVED", `prog '${main.name}': subprogram call chain too deep`, { insn: p.insn }, "the object is corrupt");
    const slots = slotOffsets(p.fn.insns);
    const byInsn = new Map(p.fn.relocations.map((r) => [r.insn, r] as const));
    for (let i = 0; i < p.fn.insns.length; i++) {
      const insn = p.fn.insns[i];
      const relo = byInsn.get(i);
      const isCall = insn.op === CALL_OP && insn.src === CALL_SRC.PSEUDO_CALL;
      const isFuncAddr = isLdImm64(insn.op) && relo?.kind === "subprog_addr";
      if (!isCall && !isFuncAddr) continue;
      if (relo?.kind === "extern_call") continue;
      if (relo && relo.kind !== "call" && relo.kind !== "subprog_addr") {
        throw new TsbpfError("LINK_UNRESOLVED", `prog '${p.fn.name}': unexpected relo for insn #${i}, type ${relo.kind}`, { insn: i }, "the object is corrupt");
      }
      let target: number;
      if (relo?.kind === "call") target = relo.symOffset / 8 + insn.imm + 1;
      else if (relo?.kind === "subprog_addr") target = (relo.symOffset + insn.imm) / 8;
      else target = p.fn.offset / 8 + slots[i] + insn.imm + 1; // same-section static call, no relocation
      const sub = subprogAt(obj, target);
      if (!sub) {
        throw new TsbpfError("LINK_UNRESOLVED", `prog '${p.fn.name}': no .text section found yet sub-program call exists`, { insn: p.insn + i }, "the call target is not a .text function");
      }
      let sp = where.get(sub);
      if (!sp) {
        sp = { fn: sub, insn: nextInsn, slot: nextSlot };
        nextInsn += sub.insns.length;
        nextSlot += slotOffsets(sub.insns)[sub.insns.length];
        placed.push(sp);
        where.set(sub, sp);
        visit(sp, depth + 1);
      }
      const imm = sp.slot - (p.slot + slots[i]) - 1;
      if (isCall) {
        fixups.push({ insn: p.insn + i, what: "call", old: { imm: insn.imm }, new: { imm }, target: sub.name });
      } else {
        fixups.push({ insn: p.insn + i, what: "func_addr", old: { src: insn.src, imm64: insn.imm64 ?? 0n }, new: { src: PSEUDO.FUNC, imm64: joinImm64(imm, hi32(insn.imm64 ?? 0n)) }, target: sub.name });
      }
    }
  };
  visit(placed[0], 0);
  return placed;
}

/** Data fix-ups (libbpf's bpf_object__relocate_data), against map indices rather than fds. */
function dataFixups(obj: ObjectSpec, main: ProgramSpec, placed: Placed[], opts: LinkOptions, fixups: Fixup[]): void {
  const kconfigMap = obj.maps.findIndex((m) => m.kind === "kconfig");
  for (const p of placed) {
    for (const r of p.fn.relocations) {
      const insn = p.fn.insns[r.insn];
      const at = p.insn + r.insn;
      const old64 = insn.imm64 ?? 0n;
      const ld = (what: Fixup["what"], src: number, lo: number, hi: number, target: string) =>
        fixups.push({ insn: at, what, old: { src: insn.src, imm64: old64 }, new: { src, imm64: joinImm64(lo, hi) }, target });
      switch (r.kind) {
        case "map":
          ld("map", PSEUDO.MAP_IDX, r.map, hi32(old64), obj.maps[r.map].realName);
          break;
        case "data":
          ld("map_value", PSEUDO.MAP_IDX_VALUE, r.map, (lo32(old64) + r.symOffset) | 0, obj.maps[r.map].realName);
          break;
        case "extern_ld": {
          const e = obj.externs[r.extern];
          if (e.kind === "kconfig") {
            ld("kconfig", PSEUDO.MAP_IDX_VALUE, kconfigMap, e.dataOffset, e.name);
          } else {
            const k = resolveKsym(obj, main, e, opts, at);
            // A kfunc's address (bpf_ksym_exists) loads like a typed ksym: by BTF id when found.
            if (e.ksymType !== "typeless" && k.btfId !== undefined) ld("ksym_typed", PSEUDO.BTF_ID, k.btfId, 0, e.name);
            else ld("ksym_addr", insn.src, lo32(k.addr ?? 0n), hi32(k.addr ?? 0n), e.name);
          }
          break;
        }
        case "extern_call": {
          const e = obj.externs[r.extern];
          if (e.kind !== "ksym") throw new TsbpfError("LINK_UNRESOLVED", `prog '${main.name}': call to .kconfig extern '${e.name}'`, { insn: at }, "only kfuncs (__ksym functions) can be called");
          const k = resolveKsym(obj, main, e, opts, at);
          if (k.btfId !== undefined) {
            fixups.push({ insn: at, what: "kfunc", old: { src: insn.src, imm: insn.imm, off: insn.off }, new: { src: CALL_SRC.KFUNC_CALL, imm: k.btfId, off: 0 }, target: e.name });
          } else {
            fixups.push({ insn: at, what: "kfunc_poison", old: { src: insn.src, dst: insn.dst, imm: insn.imm, off: insn.off }, new: { src: 0, dst: 0, off: 0, imm: POISON_CALL_KFUNC_BASE + r.extern }, target: e.name });
          }
          break;
        }
        case "call":
        case "subprog_addr":
          break;
      }
    }
  }
}

/**
 * A kernel symbol's BTF id (kfuncs, typed ksyms) or address (typeless ksyms), with libbpf's type
 * check: the object's declaration must be compatible with the kernel's (bpf_core_types_are_compat).
 * An incompatible __weak kfunc counts as absent; an incompatible variable is an error.
 */
function resolveKsym(obj: ObjectSpec, main: ProgramSpec, e: KsymExtern, opts: LinkOptions, insn: number): { btfId?: number; addr?: bigint } {
  const k = opts.kernel;
  const { name, ksymType: type, weak } = e;
  if (type === "typeless") {
    const addr = k?.address?.(name);
    if (addr !== undefined) return { addr };
  } else if (k?.btf) {
    const kb = k.btf;
    const kind = type === "func" ? "func" : "var";
    const id = kb.idsByName(name).find((i) => kb.kindOf(i) === kind);
    if (id !== undefined) {
      const local = obj.btf;
      if (!local) return { btfId: id };
      if (type === "func") {
        const lf = local.typeAs(e.btfId, "func");
        const kf = kb.typeAs(id, "func");
        if (lf && kf && typesAreCompat(local, lf.type, kb, kf.type)) return { btfId: id };
        if (weak) return {};
        throw new TsbpfError("LINK_UNRESOLVED", `prog '${main.name}': extern (func ksym) '${name}': func_proto [${lf?.type}] incompatible with vmlinux [${kf?.type}]`, { insn },
          "the kfunc's declaration must match the kernel's prototype (regenerate vmlinux.h or fix the extern)");
      }
      const kv = kb.typeAs(id, "var");
      const target = kv ? skipMods(kb, kv.type) : undefined;
      if (target && typesAreCompat(local, e.btfId, kb, target.id)) return { btfId: id };
      throw new TsbpfError("LINK_UNRESOLVED", `prog '${main.name}': extern (var ksym) '${name}': incompatible types, expected [${e.btfId}] ${local.nameOf(e.btfId)}, but kernel has [${target?.id}] ${target?.name ?? ""}`, { insn },
        "declare the ksym with the kernel's type");
    }
  }
  if (weak) return {};
  throw new TsbpfError("LINK_UNRESOLVED", `prog '${main.name}': extern '${name}' not found in the kernel`, { insn },
    k ? `the kernel has no ${type === "func" ? "kfunc" : "symbol"} '${name}'; declare it __weak to make it optional` : "link with the kernel's BTF (and /proc/kallsyms for typeless ksyms)");
}

/** Apply fix-ups to a copy of the instructions. */
export function applyFixups(insns: readonly Insn[], fixups: readonly Fixup[]): Insn[] {
  const out = insns.map((i) => ({ ...i }));
  for (const f of fixups) {
    const insn = out[f.insn];
    Object.assign(insn, f.new);
    if (f.new.imm64 !== undefined) insn.imm = lo32(f.new.imm64);
  }
  return out;
}

/** The instructions of main followed by its subprograms, unmodified. */
function concat(placed: Placed[]): Insn[] {
  const out: Insn[] = [];
  for (const p of placed) out.push(...p.fn.insns);
  return out;
}

/**
 * func_info and line_info of each placed function, moved to its place in the linked program
 * (libbpf's reloc_prog_func_and_line_info): main first, then subprograms in append order.
 */
function extInfo(placed: Placed[], ext: BtfExt | undefined): { funcInfo: FuncInfo[]; lineInfo: LineInfo[] } {
  const funcInfo: FuncInfo[] = [];
  const lineInfo: LineInfo[] = [];
  if (!ext) return { funcInfo, lineInfo };
  for (const p of placed) {
    const start = p.fn.offset / 8;
    const end = start + slotOffsets(p.fn.insns)[p.fn.insns.length];
    const move = <T extends { insn: number }>(secs: { section: string; records: T[] }[], out: T[]) => {
      for (const sec of secs) {
        if (sec.section !== p.fn.elfSection) continue;
        for (const r of sec.records) if (r.insn >= start && r.insn < end) out.push({ ...r, insn: p.slot + r.insn - start });
      }
    };
    move(ext.funcInfo, funcInfo);
    move(ext.lineInfo, lineInfo);
  }
  return { funcInfo, lineInfo };
}

/** Compute the fix-ups for one program (nothing is changed). */
export function computeFixups(obj: ObjectSpec, main: ProgramSpec, opts: LinkOptions = {}): { insns: Insn[]; fixups: Fixup[]; placed: { name: string; insn: number }[]; funcInfo: FuncInfo[]; lineInfo: LineInfo[] } {
  const fixups: Fixup[] = [];
  const placed = layout(obj, main, fixups);
  dataFixups(obj, main, placed, opts, fixups);
  fixups.sort((a, b) => a.insn - b.insn);
  return { insns: concat(placed), fixups, placed: placed.slice(1).map((p) => ({ name: p.fn.name, insn: p.insn })), ...extInfo(placed, opts.ext) };
}

/** Link one program: compute, then apply. Instructions get meta.source from line_info. */
export function linkProgram(obj: ObjectSpec, main: ProgramSpec, opts: LinkOptions = {}): LinkedProgram {
  const { insns, fixups, placed, funcInfo, lineInfo } = computeFixups(obj, main, opts);
  const out = applyFixups(insns, fixups);
  if (lineInfo.length > 0) {
    const slots = slotOffsets(out);
    const bySlot = new Map<number, number>();
    slots.forEach((s, i) => bySlot.set(s, i));
    for (const l of lineInfo) {
      const i = bySlot.get(l.insn);
      if (i === undefined || i >= out.length) continue;
      out[i] = { ...out[i], meta: { ...out[i].meta, source: { file: l.fileName, line: l.lineNum, column: l.column, text: l.line } } };
    }
  }
  return { program: main, insns: out, fixups, subprograms: placed, funcInfo, lineInfo };
}

/** CO-RE hook: the CO-RE helper computes these and hands them over; same apply step. */
export function applyCoreFixups(linked: LinkedProgram, core: readonly Fixup[]): LinkedProgram {
  return { ...linked, insns: applyFixups(linked.insns, core), fixups: [...linked.fixups, ...core] };
}


