// Map definitions: BTF-defined maps in `.maps` (libbpf's parse_btf_map_def rules), the legacy
// `maps` section (struct bpf_map_def), and the array maps that hold global data (.data, .rodata,
// .bss and their `.name` variants) named as libbpf's internal_map_name() names them.

import type { Btf, BtfMember, BtfStruct } from "../../btf/index.ts";
import { TsbpfError, type Where } from "../errors.ts";
import { findDatasec, sizeOf, skipMods } from "./btf-util.ts";
import { R_BPF, SHN, STT, type ElfFile, type ElfSection } from "./file.ts";
import type { MapSpec } from "./spec.ts";
import { MAP_TYPE } from "./uapi.ts";

export const BPF_F_RDONLY_PROG = 1 << 7;
export const BPF_F_MMAPABLE = 1 << 10;
/** Kernel limit on object names, NUL included (BPF_OBJ_NAME_LEN). */
export const BPF_OBJ_NAME_LEN = 16;

function mapError(msg: string, where: Where, hint: string): TsbpfError {
  return new TsbpfError("OBJ_BAD_MAP", msg, where, hint);
}

function blankMap(name: string, realName: string, kind: MapSpec["kind"], sectionIndex: number, sectionOffset: number): MapSpec {
  return {
    name, realName, kind, type: 0, keySize: 0, valueSize: 0, maxEntries: 0, flags: 0, numaNode: 0, pinning: 0,
    mapExtra: 0n, keyType: 0, valueType: 0, initSlots: [], frozen: false, sectionIndex, sectionOffset,
  };
}

/** `__uint(name, N)` is `int (*name)[N]`: a pointer to an array of N elements. */
function fieldInt(btf: Btf, m: BtfMember, mapName: string, where: Where): number {
  const t = skipMods(btf, m.type);
  if (!t || t.kind !== "ptr") throw mapError(`map '${mapName}': attr '${m.name}': expected PTR, got ${t?.kind ?? "nothing"}`, where, "declare map attributes with __uint() from bpf_helpers.h");
  const arr = btf.has(t.type) ? btf.type(t.type) : undefined;
  if (!arr || arr.kind !== "array") throw mapError(`map '${mapName}': attr '${m.name}': expected ARRAY, got ${arr?.kind ?? "nothing"}`, where, "declare map attributes with __uint() from bpf_helpers.h");
  return arr.nelems;
}

/** `__ulong(name, N)`: an enum whose one value is N, or the `__uint` form. */
function fieldLong(btf: Btf, m: BtfMember, mapName: string, where: Where): bigint {
  const t = skipMods(btf, m.type);
  if (t && (t.kind === "enum" || t.kind === "enum64") && t.values.length === 1) {
    const v = t.values[0].value;
    return typeof v === "bigint" ? BigInt.asUintN(64, v) : BigInt(v >>> 0);
  }
  return BigInt(fieldInt(btf, m, mapName, where));
}

/** Fill `spec` from the members of a map definition struct (libbpf's parse_btf_map_def). */
function parseBtfMapDef(btf: Btf, def: BtfStruct, spec: MapSpec, isInner: boolean, where: Where): void {
  const name = spec.realName;
  const setSize = (which: "keySize" | "valueSize", sz: number, what: string) => {
    if (spec[which] && spec[which] !== sz) throw mapError(`map '${name}': conflicting ${what} size ${spec[which]} != ${sz}`, where, `the map declares two different ${what} sizes`);
    spec[which] = sz;
  };
  def.members.forEach((m, i) => {
    switch (m.name) {
      case "type": spec.type = fieldInt(btf, m, name, where); break;
      case "max_entries": spec.maxEntries = fieldInt(btf, m, name, where); break;
      case "map_flags": spec.flags = fieldInt(btf, m, name, where); break;
      case "numa_node": spec.numaNode = fieldInt(btf, m, name, where); break;
      case "key_size": setSize("keySize", fieldInt(btf, m, name, where), "key"); break;
      case "value_size": setSize("valueSize", fieldInt(btf, m, name, where), "value"); break;
      case "key":
      case "value": {
        const t = btf.has(m.type) ? btf.type(m.type) : undefined;
        if (!t || t.kind !== "ptr") throw mapError(`map '${name}': ${m.name} spec is not PTR: ${t?.kind ?? "nothing"}`, where, `declare it with __type(${m.name}, T)`);
        const sz = sizeOf(btf, t.type);
        if (sz === undefined) throw mapError(`map '${name}': can't determine ${m.name} size for type [${t.type}]`, where, "the key/value type must have a size");
        if (m.name === "key") { setSize("keySize", sz, "key"); spec.keyType = t.type; }
        else { setSize("valueSize", sz, "value"); spec.valueType = t.type; }
        break;
      }
      case "values": {
        const isMapInMap = spec.type === MAP_TYPE.ARRAY_OF_MAPS || spec.type === MAP_TYPE.HASH_OF_MAPS;
        const isProgArray = spec.type === MAP_TYPE.PROG_ARRAY;
        if (isInner) throw mapError(`map '${name}': multi-level inner maps not supported`, where, "an inner map cannot itself hold maps");
        if (i !== def.members.length - 1) throw mapError(`map '${name}': 'values' member should be last`, where, "move __array(values, …) to the end of the definition");
        if (!isMapInMap && !isProgArray) throw mapError(`map '${name}': should be map-in-map or prog-array`, where, "only ARRAY_OF_MAPS, HASH_OF_MAPS and PROG_ARRAY take a 'values' initialiser");
        setSize("valueSize", 4, "value");
        const arr = btf.has(m.type) ? btf.type(m.type) : undefined;
        if (!arr || arr.kind !== "array" || arr.nelems !== 0) throw mapError(`map '${name}': values spec is not a zero-sized array`, where, "declare it with __array(values, …)");
        const p = skipMods(btf, arr.type);
        if (!p || p.kind !== "ptr") throw mapError(`map '${name}': values def is of unexpected kind ${p?.kind ?? "nothing"}`, where, "declare it with __array(values, …)");
        const target = skipMods(btf, p.type);
        if (isProgArray) {
          if (!target || target.kind !== "func_proto") throw mapError(`map '${name}': prog-array value def is of unexpected kind ${target?.kind ?? "nothing"}`, where, "a prog array's values are functions");
          break;
        }
        if (!target || target.kind !== "struct") throw mapError(`map '${name}': map-in-map inner def is of unexpected kind ${target?.kind ?? "nothing"}`, where, "a map-in-map's values are map definitions");
        const inner = blankMap(`${name}.inner`, `${name}.inner`, "btf", spec.sectionIndex, spec.sectionOffset);
        parseBtfMapDef(btf, target, inner, true, where);
        spec.inner = inner;
        break;
      }
      case "pinning": {
        if (isInner) throw mapError(`map '${name}': inner def can't be pinned`, where, "remove __uint(pinning, …) from the inner map");
        const v = fieldInt(btf, m, name, where);
        if (v !== 0 && v !== 1) throw mapError(`map '${name}': invalid pinning value ${v}`, where, "pinning is LIBBPF_PIN_NONE (0) or LIBBPF_PIN_BY_NAME (1)");
        spec.pinning = v;
        break;
      }
      case "map_extra": spec.mapExtra = fieldLong(btf, m, name, where); break;
      default:
        throw mapError(`map '${name}': unknown field '${m.name}'`, where, "libbpf (strict mode) refuses unknown map attributes");
    }
  });
  if (spec.type === MAP_TYPE.UNSPEC) throw mapError(`map '${name}': map type isn't specified`, where, "add __uint(type, BPF_MAP_TYPE_…)");
}

/** BTF-defined maps: one per VAR in the `.maps` DATASEC, at the offset its ELF symbol gives. */
export function btfMaps(elf: ElfFile, btf: Btf | undefined, sec: ElfSection, file?: string): BtfMapLayout[] {
  const where: Where = { file, section: sec.name, offset: sec.headerOffset };
  if (!btf) throw mapError("'.maps' section needs BTF, and the object has none", where, "compile with -g so clang emits .BTF");
  const ds = findDatasec(btf, ".maps");
  if (!ds) throw mapError("DATASEC '.maps' not found in BTF", where, "compile with -g so clang emits .BTF");
  const out: BtfMapLayout[] = [];
  for (const vi of ds.vars) {
    const v = btf.has(vi.type) ? btf.type(vi.type) : undefined;
    if (!v || v.kind !== "var") throw mapError(`'.maps' entry [${vi.type}] is not a VAR`, where, "the BTF is malformed");
    const sym = elf.symbols.find((s) => s.shndx === sec.index && s.name === v.name);
    if (!sym) throw mapError(`map '${v.name}': no ELF symbol in section '.maps'`, where, "the object's BTF and symbol table disagree");
    const def = skipMods(btf, v.type);
    if (!def || def.kind !== "struct") throw mapError(`map '${v.name}': unexpected def kind ${def?.kind ?? "nothing"}`, { ...where, offset: sym.fileOffset }, "a BTF map is a struct built with __uint/__type/__array");
    const off = Number(sym.value);
    if (off + def.size > sec.size) throw mapError(`map '${v.name}': definition at ${off} (+${def.size}) is past the end of '.maps'`, { ...where, offset: sym.fileOffset }, "the object is corrupt");
    const spec = blankMap(v.name, v.name, "btf", sec.index, off);
    parseBtfMapDef(btf, def, spec, false, { ...where, offset: sym.fileOffset });
    const values = def.members.find((m) => m.name === "values");
    out.push({ map: spec, size: def.size, ...(values ? { valuesOffset: values.bitOffset / 8 } : {}) });
  }
  return out;
}

/** Where a BTF map's definition sits in `.maps`, for matching `.rel.maps` initialisers. */
export interface BtfMapLayout {
  map: MapSpec;
  size: number;
  /** Byte offset of the `values` member inside the definition, if it has one. */
  valuesOffset?: number;
}

/** `.values = { [i] = &x }` initialisers: relocations in .rel.maps, one per 8-byte slot. */
export function mapInitialisers(elf: ElfFile, sec: ElfSection, layouts: BtfMapLayout[], file?: string): void {
  for (const r of elf.relocationsFor(sec.index)) {
    const where: Where = { file, offset: r.fileOffset, section: sec.name };
    if (r.type !== R_BPF.ABS64) throw new TsbpfError("ELF_BAD_RELOCATION", `.rel.maps: relocation type ${r.type} is not R_BPF_64_ABS64`, where, "map initialisers are 64-bit pointers");
    // A map's `values` array is zero-sized in BTF, so its slots run on to the next definition.
    const l = layouts.filter((x) => x.map.sectionOffset <= r.offset).sort((a, b) => b.map.sectionOffset - a.map.sectionOffset)[0];
    if (!l) throw mapError(`.rel.maps: relocation at offset ${r.offset} is outside every map definition`, where, "the object is corrupt");
    if (l.valuesOffset === undefined) throw mapError(`map '${l.map.realName}': initialiser relocation but no 'values' member`, where, "the object is corrupt");
    const rel = r.offset - l.map.sectionOffset - l.valuesOffset;
    if (rel < 0 || rel % 8 !== 0) throw mapError(`map '${l.map.realName}': initialiser relocation at offset ${r.offset} is not on an 8-byte slot of 'values'`, where, "the object is corrupt");
    const sym = elf.symbols[r.symbol];
    if (sym.type === STT.SECTION || sym.name === "" || sym.shndx === SHN.UNDEF) throw mapError(`map '${l.map.realName}': initialiser slot ${rel / 8} names an unknown symbol`, where, "values[] entries must be maps or programs defined in this object");
    l.map.initSlots.push({ slot: rel / 8, name: sym.name });
  }
}

/** Legacy `maps` section: struct bpf_map_def { type, key_size, value_size, max_entries, map_flags, … }. */
export function legacyMaps(elf: ElfFile, sec: ElfSection, file?: string): MapSpec[] {
  const syms = elf.symbolsIn(sec.index).filter((s) => s.type !== STT.SECTION && s.name !== "");
  const where: Where = { file, section: sec.name, offset: sec.headerOffset };
  if (syms.length === 0) return [];
  const defSize = Math.floor(sec.size / syms.length);
  if (sec.size % syms.length !== 0 || defSize < 20 || defSize % 4 !== 0) throw mapError(`legacy 'maps' section: ${sec.size} bytes for ${syms.length} maps is not a whole number of bpf_map_def records`, where, "each struct bpf_map_def is at least 20 bytes");
  const dv = new DataView(sec.data.buffer, sec.data.byteOffset, sec.data.byteLength);
  return syms.map((s) => {
    const off = Number(s.value);
    if (off % defSize !== 0 || off + defSize > sec.size) throw mapError(`legacy map '${s.name}' at offset ${off} is not on a ${defSize}-byte record boundary`, { ...where, offset: s.fileOffset }, "the object is corrupt");
    const spec = blankMap(s.name, s.name, "legacy", sec.index, off);
    spec.type = dv.getUint32(off, true);
    spec.keySize = dv.getUint32(off + 4, true);
    spec.valueSize = dv.getUint32(off + 8, true);
    spec.maxEntries = dv.getUint32(off + 12, true);
    spec.flags = dv.getUint32(off + 16, true);
    // Fields past struct bpf_map_def (iproute2's pinning, inner map ids…) must be zero: libbpf
    // (0.x, the last to read this section) refused "unrecognized, non-zero options".
    for (let b = off + 20; b < off + defSize; b++) {
      if (sec.data[b] !== 0) {
        throw mapError(`legacy map '${s.name}' has unrecognized, non-zero options (byte ${b - off} of its ${defSize}-byte definition)`,
          { ...where, offset: sec.offset + b }, "only type, key_size, value_size, max_entries and map_flags are understood; define the map in .maps with BTF instead");
      }
    }
    return spec;
  });
}

export type DataKind = "data" | "rodata" | "bss";

/** Which global-data map a section feeds, as libbpf's elf_collect classifies sections. */
export function dataKind(sec: ElfSection): DataKind | undefined {
  const n = sec.name;
  const is = (p: string) => n === p || n.startsWith(p + ".");
  if (sec.type === 1 /* PROGBITS */ && (sec.flags & 4n) === 0n && sec.size > 0) {
    if (is(".data")) return "data";
    if (is(".rodata")) return "rodata";
  }
  if (sec.type === 8 /* NOBITS */ && is(".bss") && sec.size > 0) return "bss";
  return undefined;
}

/** libbpf's internal_map_name(): object-name prefix + section name, ≤ 15 characters. */
export function internalMapName(objName: string, realName: string): string {
  let sfx = Math.max(7, realName.length);
  if (sfx >= BPF_OBJ_NAME_LEN) sfx = BPF_OBJ_NAME_LEN - 1;
  const custom = realName.indexOf(".", 1) >= 0;
  const pfx = custom ? 0 : Math.min(BPF_OBJ_NAME_LEN - sfx - 1, objName.length);
  const name = (objName.slice(0, pfx) + realName.slice(0, sfx)).slice(0, BPF_OBJ_NAME_LEN - 1);
  return name.replace(/[^A-Za-z0-9_.]/g, "_");
}

/** Largest global-data section we hold in memory; the kernel's array values are far smaller (KMALLOC_MAX_SIZE). */
export const MAX_DATA_SIZE = 1 << 30;

/** A global-data array map: one entry holding the whole section. */
export function dataMap(objName: string, sec: ElfSection, kind: DataKind | "kconfig", btf: Btf | undefined, size = sec.size, data?: Uint8Array): MapSpec {
  const realName = kind === "kconfig" ? ".kconfig" : sec.name;
  if (size > MAX_DATA_SIZE) throw mapError(`global data '${realName}' is ${size} bytes, more than any map can hold`, { section: sec.name, offset: sec.headerOffset + 32 }, "the section header is corrupt, or the variables are far too large");
  const spec = blankMap(internalMapName(objName, realName), realName, kind, sec.index, 0);
  spec.type = MAP_TYPE.ARRAY;
  spec.keySize = 4;
  spec.valueSize = size;
  spec.maxEntries = 1;
  spec.flags = kind === "rodata" || kind === "kconfig" ? BPF_F_RDONLY_PROG : 0;
  spec.frozen = kind === "rodata" || kind === "kconfig";
  const ds = btf ? findDatasec(btf, realName) : undefined;
  if (btf && ds) {
    spec.valueType = ds.id;
    // mmap()-able when some variable in it is visible to user space (libbpf's map_is_mmapable):
    // externs become "allocated globals" there, so a .kconfig map always qualifies.
    const visible = kind === "kconfig" || ds.vars.some((v) => {
      const t = btf.has(v.type) ? btf.type(v.type) : undefined;
      return t?.kind === "var" && t.linkage !== "static";
    });
    if (visible) spec.flags |= BPF_F_MMAPABLE;
  }
  spec.data = kind === "bss" || kind === "kconfig" ? new Uint8Array(size) : (data ?? sec.data).slice();
  return spec;
}

