// ELF bytes → ObjectSpec: functions (programs and .text subprograms) with decoded instructions
// and classified relocations, maps, externs, license and version — what libbpf's
// bpf_object__open collects, with no syscall. Linking happens later, in src/link.

// Direct module imports (not the folders' index files) keep start-up small: the asm index pulls in
// the disassembler and its helper-name table, the btf index the dumpers.
import { decodeAt } from "../../asm/decode.ts";
import type { Insn, SymbolRef } from "../../asm/insn.ts";
import { CALL_SRC, CLASS, JMP_OP, isLdImm64 } from "../../asm/opcodes.ts";
import type { Btf } from "../../btf/index.ts";
import { parseBtf } from "../../btf/parse.ts";
import { TsbpfError, type Where } from "../errors.ts";
import { debugSections } from "./dwarf-sections.ts";
import { collectExterns, kconfigSize } from "./externs.ts";
import { ET_REL, SHF, SHN, SHT, STB, STT, parseElf, type ElfFile, type ElfSection, type ElfSymbol } from "./file.ts";
import { btfMaps, dataKind, dataMap, legacyMaps, mapInitialisers } from "./maps.ts";
import { classifySection } from "./sections.ts";
import { collectStructOpsRelos, structOpsMaps } from "./struct-ops.ts";
import type { CodeRelocation, DataSection, MapSpec, ObjectSpec, ProgramSpec } from "./spec.ts";

export interface LoadObjectOptions {
  /** File name, for errors and for the object name (basename up to the first '.'). */
  file?: string;
  /** Override libbpf's object name (it prefixes global-data map names). */
  name?: string;
}

const CALL_OP = CLASS.JMP | JMP_OP.call;

/** libbpf's object name: the file's basename cut at its first '.', at most 63 characters. */
export function objectName(file: string | undefined): string {
  if (!file) return "";
  const base = file.slice(file.lastIndexOf("/") + 1).slice(0, 63);
  const dot = base.indexOf(".");
  return dot >= 0 ? base.slice(0, dot) : base;
}

/** Read a clang-built BPF object into an ObjectSpec. Bad input throws TsbpfError only. */
export function loadObject(bytes: Uint8Array, opts: LoadObjectOptions = {}): ObjectSpec {
  const file = opts.file;
  const elf = parseElf(bytes, file !== undefined ? { file } : {});
  const at = (offset: number, section?: string): Where => ({ ...(file !== undefined ? { file } : {}), offset, ...(section !== undefined ? { section } : {}) });
  if (elf.elfType !== ET_REL) throw new TsbpfError("ELF_UNSUPPORTED", `e_type ${elf.elfType} is not ET_REL (a relocatable object)`, at(16), "BPF objects are what `clang -c` writes");
  if (elf.symtabIndex === 0) throw new TsbpfError("ELF_BAD_SECTION", "no symbol table; was the object stripped?", at(0), "libbpf needs .symtab to find programs and maps");
  const name = opts.name ?? objectName(file);
  const warnings: string[] = [];

  let license = "";
  let kernelVersion = 0;
  const lic = elf.section("license");
  if (lic && lic.type === SHT.PROGBITS) {
    const nul = lic.data.indexOf(0);
    license = new TextDecoder().decode(lic.data.subarray(0, nul < 0 ? lic.data.length : nul));
  }
  const ver = elf.section("version");
  if (ver && ver.type === SHT.PROGBITS) {
    if (ver.size !== 4) throw new TsbpfError("ELF_BAD_SECTION", `'version' section is ${ver.size} bytes, not 4`, at(ver.headerOffset, "version"), "the kernel version is one u32");
    kernelVersion = new DataView(ver.data.buffer, ver.data.byteOffset, 4).getUint32(0, true);
  }

  let btf: Btf | undefined;
  const btfSec = elf.section(".BTF");
  if (btfSec && btfSec.type === SHT.PROGBITS) btf = parseBtf(btfSec.data, { fileOffset: btfSec.offset, ...(file !== undefined ? { file } : {}) });
  const extSec = elf.section(".BTF.ext");
  const btfExt = extSec && extSec.type === SHT.PROGBITS ? { bytes: extSec.data, fileOffset: extSec.offset } : undefined;

  // Maps, in libbpf's order: BTF-defined, then global data by section index, then .kconfig.
  const maps: MapSpec[] = [];
  const legacy = elf.section("maps");
  if (legacy && legacy.type === SHT.PROGBITS) maps.push(...legacyMaps(elf, legacy, file));
  const mapsSec = elf.section(".maps");
  if (mapsSec && mapsSec.type === SHT.PROGBITS) {
    const layouts = btfMaps(elf, btf, mapsSec, file);
    mapInitialisers(elf, mapsSec, layouts, file);
    maps.push(...layouts.map((l) => l.map));
  }
  // Sections libbpf gives meaning we do not model yet: say so rather than drop them silently.
  for (const sec of elf.sections) {
    const n = sec.name.replace(/^\?/, "");
    if (n === ".addr_space.1") warnings.push(`section '${sec.name}': arena globals are not read yet`);
    else if (n === ".jumptables") warnings.push(`section '${sec.name}': jump tables (gotox) are not read yet`);
  }
  const dataSections: DataSection[] = [];
  for (const sec of elf.sections) {
    const kind = dataKind(sec);
    if (!kind) continue;
    dataSections.push({ name: sec.name, index: sec.index, map: maps.length });
    maps.push(dataMap(name, sec, kind, btf));
  }
  const externs = collectExterns(elf, btf, file);
  const kcfgSize = kconfigSize(externs);
  if (kcfgSize > 0) maps.push(dataMap(name, elf.sections[elf.symtabIndex], "kconfig", btf, kcfgSize));
  maps.push(...structOpsMaps(elf, btf, file));

  // Functions: every STT_FUNC symbol in an executable section.
  const textIndex = elf.sections.find((s) => s.name === ".text" && s.type === SHT.PROGBITS && (s.flags & BigInt(SHF.EXECINSTR)) !== 0n)?.index ?? 0;
  const programs: ProgramSpec[] = [];
  const subprograms: ProgramSpec[] = [];
  const ctx: Ctx = { elf, file, maps, externs, textIndex, warnings, at };
  for (const sec of elf.sections) {
    if (sec.type !== SHT.PROGBITS || (sec.flags & BigInt(SHF.EXECINSTR)) === 0n || sec.size === 0) continue;
    const funcs = sectionFunctions(ctx, sec, license, kernelVersion);
    for (const f of funcs) (f.subprogram ? subprograms : programs).push(f);
  }
  collectStructOpsRelos(elf, btf, maps, [...programs, ...subprograms], file);
  const debug = debugSections(elf);
  return { name, programs, subprograms, maps, externs, dataSections, ...(btf ? { btf } : {}), ...(btfExt ? { btfExt } : {}), ...(debug ? { debug } : {}), license, kernelVersion, warnings };
}

interface Ctx {
  elf: ElfFile;
  file: string | undefined;
  maps: MapSpec[];
  externs: ObjectSpec["externs"];
  textIndex: number;
  warnings: string[];
  at: (offset: number, section?: string) => Where;
}

/** Decode one executable section and split it into its functions, with relocations attached. */
function sectionFunctions(ctx: Ctx, sec: ElfSection, license: string, kernelVersion: number): ProgramSpec[] {
  const { elf, file, at } = ctx;
  if (sec.size % 8 !== 0) throw new TsbpfError("ELF_BAD_SECTION", `code section '${sec.name}' is ${sec.size} bytes, not a multiple of 8`, at(sec.headerOffset + 32, sec.name), "BPF instructions are 8 bytes");
  // Decode the whole section; slot → instruction index, for symbols and relocations.
  const insns: Insn[] = [];
  const slotToInsn = new Int32Array(sec.size / 8).fill(-1);
  for (let slot = 0; slot < sec.size / 8; ) {
    const r = decodeAt(sec.data, slot, { fileOffset: sec.offset, section: sec.name, ...(file !== undefined ? { file } : {}) });
    if (!r.ok) throw r.error;
    slotToInsn[slot] = insns.length;
    insns.push(r.insn);
    slot += r.slots;
  }
  const info = classifySection(sec.name);
  const isText = sec.index === ctx.textIndex;
  if (!isText && !info.def) ctx.warnings.push(`section '${sec.name}': unrecognized program section name; program type left unspecified`);

  const funcs = elf.symbols.filter((s) => s.shndx === sec.index && s.type === STT.FUNC);
  const out: { spec: ProgramSpec; first: number; end: number; startSlot: number; endSlot: number }[] = [];
  for (const sym of funcs) {
    const off = Number(sym.value);
    const size = Number(sym.size);
    const where = at(sym.fileOffset, sec.name);
    if (off + size > sec.size) throw new TsbpfError("OBJ_BAD_PROGRAM", `program '${sym.name}' at offset ${off} crosses section boundary`, where, "the symbol table is corrupt");
    if (off % 8 !== 0 || size % 8 !== 0 || size === 0) throw new TsbpfError("OBJ_BAD_PROGRAM", `program '${sym.name}': offset ${off} / size ${size} are not whole instructions`, where, "the symbol table is corrupt");
    if (!isText && sym.bind === STB.LOCAL) throw new TsbpfError("OBJ_BAD_PROGRAM", `sec '${sec.name}': program '${sym.name}' is static and not supported`, where, "make entry programs global, or move static functions to .text (drop SEC())");
    const first = slotToInsn[off / 8];
    const end = off + size === sec.size ? insns.length : slotToInsn[(off + size) / 8];
    if (first < 0 || end < 0) throw new TsbpfError("OBJ_BAD_PROGRAM", `program '${sym.name}' starts or ends inside an ld_imm64 instruction`, where, "the symbol table is corrupt");
    if (out.some((o) => off / 8 < o.endSlot && o.startSlot < (off + size) / 8)) throw new TsbpfError("OBJ_BAD_PROGRAM", `program '${sym.name}' overlaps another function in '${sec.name}'`, where, "the symbol table is corrupt");
    const spec: ProgramSpec = {
      name: sym.name, section: info.section, elfSection: sec.name, sectionIndex: sec.index, offset: off,
      insns: insns.slice(first, end), relocations: [],
      type: isText ? 0 : info.progType, expectedAttachType: isText ? 0 : info.expectedAttachType, attachTo: isText ? "" : info.attachTo,
      progFlags: isText ? 0 : info.progFlags, sectionFlags: isText ? [] : info.flags, autoload: isText ? false : info.autoload,
      global: sym.bind !== STB.LOCAL, subprogram: isText, license, kernelVersion,
    };
    out.push({ spec, first, end, startSlot: off / 8, endSlot: (off + size) / 8 });
  }
  out.sort((a, b) => a.startSlot - b.startSlot);

  for (const r of elf.relocationsFor(sec.index)) {
    const where = at(r.fileOffset, sec.name);
    if (r.offset % 8 !== 0) throw new TsbpfError("ELF_BAD_RELOCATION", `invalid offset 0x${r.offset.toString(16)} for relocation in '${sec.name}'`, where, "code relocations point at instruction starts");
    const slot = r.offset / 8;
    const owner = out.find((o) => slot >= o.startSlot && slot < o.endSlot);
    if (!owner) {
      ctx.warnings.push(`sec '${sec.name}': relocation at instruction slot ${slot} is outside every program; skipped`);
      continue;
    }
    const idx = slotToInsn[slot];
    if (idx < 0) throw new TsbpfError("ELF_BAD_RELOCATION", `relocation at offset ${r.offset} in '${sec.name}' points into the middle of an ld_imm64`, where, "the relocation section is corrupt");
    const sym = elf.symbols[r.symbol];
    const relo = classify(ctx, owner.spec, idx - owner.first, sym, where);
    owner.spec.relocations.push(relo);
    const ref = refFor(ctx, relo, owner.spec.insns[relo.insn]);
    if (ref) owner.spec.insns[relo.insn] = { ...owner.spec.insns[relo.insn], meta: { ...owner.spec.insns[relo.insn].meta, ref } };
  }
  for (const o of out) o.spec.relocations.sort((a, b) => a.insn - b.insn);
  return out.map((o) => o.spec);
}

/** What a relocation refers to (libbpf's bpf_program__record_reloc). */
function classify(ctx: Ctx, prog: ProgramSpec, insnIdx: number, sym: ElfSymbol, where: Where): CodeRelocation {
  const { elf, maps, externs, textIndex } = ctx;
  const insn = prog.insns[insnIdx];
  const symName = sym.type === STT.SECTION && sym.name === "" ? (elf.sections[sym.shndx]?.name ?? "") : sym.name;
  const isCall = insn.op === CALL_OP;
  const bad = (msg: string, hint: string) => new TsbpfError("ELF_BAD_RELOCATION", `prog '${prog.name}': ${msg}`, { ...where, insn: insnIdx }, hint);
  if (!isCall && !isLdImm64(insn.op)) throw bad(`invalid relo against '${symName}' for insns[${insnIdx}].code 0x${insn.op.toString(16)}`, "relocations apply to calls and 64-bit immediate loads only");
  const isExtern = sym.shndx === SHN.UNDEF && (sym.bind === STB.GLOBAL || sym.bind === STB.WEAK) && sym.type === STT.NOTYPE;
  if (isExtern) {
    const e = externs.findIndex((x) => x.symbol === sym.index);
    if (e < 0) throw bad(`extern relo failed to find extern for '${symName}' (${sym.index})`, "the extern has no BTF description");
    return isCall ? { kind: "extern_call", insn: insnIdx, symbol: symName, extern: e } : { kind: "extern_ld", insn: insnIdx, symbol: symName, extern: e };
  }
  if (isCall) {
    if (insn.src !== CALL_SRC.PSEUDO_CALL) throw bad("incorrect bpf_call opcode", "a relocated call must be a bpf-to-bpf call (src_reg 1)");
    if (sym.shndx === 0 || sym.shndx !== textIndex) throw bad(`bad call relo against '${symName}' in section '${elf.sections[sym.shndx]?.name ?? sym.shndx}'`, "subprograms must live in .text (functions without SEC())");
    if (sym.value % 8n !== 0n) throw bad(`bad call relo against '${symName}' at offset ${sym.value}`, "the symbol table is corrupt");
    return { kind: "call", insn: insnIdx, symbol: symName, symOffset: Number(sym.value) };
  }
  if (sym.shndx === 0 || sym.shndx >= SHN.LORESERVE) throw bad(`invalid relo against '${symName}' in special section 0x${sym.shndx.toString(16)}; forgot to initialize global var?..`, "initialise global variables or declare them extern with __kconfig/__ksym");
  const isSubprog = sym.shndx === textIndex && (sym.type === STT.FUNC || (sym.type === STT.SECTION && sym.bind === STB.LOCAL));
  if (isSubprog) {
    if (sym.value % 8n !== 0n || insn.imm % 8 !== 0) throw bad(`bad subprog addr relo against '${symName}' at offset ${sym.value}+${insn.imm}`, "the object is corrupt");
    return { kind: "subprog_addr", insn: insnIdx, symbol: symName, symOffset: Number(sym.value) };
  }
  const target = elf.sections[sym.shndx];
  const mapIdx = maps.findIndex((m) => (m.kind === "btf" || m.kind === "legacy") && m.sectionIndex === sym.shndx && m.sectionOffset === Number(sym.value));
  if (target.name === ".maps" || target.name === "maps") {
    if (mapIdx < 0) throw bad(`map relo failed to find map for section '${target.name}', off ${sym.value}`, "the symbol does not start a map definition");
    return { kind: "map", insn: insnIdx, symbol: symName, map: mapIdx };
  }
  const dataIdx = maps.findIndex((m) => (m.kind === "data" || m.kind === "rodata" || m.kind === "bss") && m.sectionIndex === sym.shndx);
  if (dataIdx < 0) throw bad(`bad data relo against section '${target.name}'`, "only .data*, .rodata*, .bss* and map sections can be referenced");
  return { kind: "data", insn: insnIdx, symbol: symName, map: dataIdx, symOffset: Number(sym.value) };
}

/** The symbolic reference a relocation puts in the instruction's metadata. */
function refFor(ctx: Ctx, r: CodeRelocation, insn: Insn): SymbolRef | undefined {
  switch (r.kind) {
    case "map": return { kind: "map", name: ctx.maps[r.map].realName };
    case "data": return { kind: "map_value", name: ctx.maps[r.map].realName, offset: insn.imm + r.symOffset };
    case "call": case "subprog_addr": return { kind: "func", name: r.symbol };
    case "extern_call": return { kind: "kfunc", name: r.symbol };
    case "extern_ld": {
      const e = ctx.externs[r.extern];
      return { kind: e.kind === "kconfig" ? "kconfig" : "ksym", name: e.name };
    }
  }
}

