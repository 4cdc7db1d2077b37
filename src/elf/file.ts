// ElfFile: a validated view of a BPF ELF object. elfy parses the header and the section header
// table; we check every field it does not (EM_BPF, sizes, bounds, string offsets) and read the
// symbol table and relocation sections ourselves. Bad bytes become TsbpfError with a file offset.

import elfy, { type ElfyFile } from "elfy";
import { TsbpfError, type ErrorCode } from "../errors.ts";

/** Section types (SHT_* in elf.h) that a BPF object uses. */
export const SHT = {
  NULL: 0, PROGBITS: 1, SYMTAB: 2, STRTAB: 3, RELA: 4, NOBITS: 8, REL: 9, SYMTAB_SHNDX: 18,
  LLVM_ADDRSIG: 0x6fff4c03,
} as const;

/** Section flags (SHF_*). */
export const SHF = { WRITE: 0x1, ALLOC: 0x2, EXECINSTR: 0x4, COMPRESSED: 0x800 } as const;

/** Symbol types (ELF64_ST_TYPE). */
export const STT = { NOTYPE: 0, OBJECT: 1, FUNC: 2, SECTION: 3, FILE: 4 } as const;

/** Symbol bindings (ELF64_ST_BIND). */
export const STB = { LOCAL: 0, GLOBAL: 1, WEAK: 2 } as const;

/** Symbol visibility (ELF64_ST_VISIBILITY). */
export const STV = { DEFAULT: 0, INTERNAL: 1, HIDDEN: 2, PROTECTED: 3 } as const;

/** Special section indices. */
export const SHN = { UNDEF: 0, LORESERVE: 0xff00, ABS: 0xfff1, COMMON: 0xfff2, XINDEX: 0xffff } as const;

/** BPF relocation types (llvm/BinaryFormat/ELFRelocs/BPF.def). */
export const R_BPF = {
  NONE: 0, R64_64: 1, ABS64: 2, ABS32: 3, NODYLD32: 4, R64_32: 10,
} as const;

export const EM_BPF = 247;
export const ET_REL = 1;

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const REL_SIZE = 16;
const RELA_SIZE = 24;

/** Bytes a relocation of each type patches, counted from r_offset (the instruction start for code). */
const RELOC_WIDTH: Readonly<Record<number, number>> = {
  [R_BPF.NONE]: 0,
  [R_BPF.R64_64]: 16,
  [R_BPF.ABS64]: 8,
  [R_BPF.ABS32]: 4,
  [R_BPF.NODYLD32]: 4,
  [R_BPF.R64_32]: 8,
};

export interface ElfSection {
  index: number;
  name: string;
  /** sh_name: offset of the name in the section-name string table. */
  nameOffset: number;
  type: number;
  flags: bigint;
  addr: bigint;
  /** sh_offset: where the contents start in the file. */
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: bigint;
  entsize: bigint;
  /** File offset of this section's header. */
  headerOffset: number;
  /** The contents; empty for SHT_NOBITS (which occupies no file bytes). */
  data: Uint8Array;
}

export interface ElfSymbol {
  index: number;
  /** The raw st_name string: empty for section symbols, whose name is their section's. */
  name: string;
  nameOffset: number;
  /** st_value: in a relocatable object, the offset inside section `shndx`. */
  value: bigint;
  size: bigint;
  type: number;
  bind: number;
  visibility: number;
  /** st_shndx: a section index, or SHN_UNDEF / SHN_ABS / SHN_COMMON. */
  shndx: number;
  /** File offset of the symbol's table entry. */
  fileOffset: number;
}

export interface ElfRelocation {
  /** r_offset: byte offset inside the target section. */
  offset: number;
  type: number;
  /** Index into ElfFile.symbols. */
  symbol: number;
  /** RELA only; 0 for REL, which BPF objects use. */
  addend: bigint;
  /** File offset of the relocation entry. */
  fileOffset: number;
  /** The .rel* section this entry came from. */
  relSection: number;
}

export interface ElfFileOptions {
  /** File name for error positions. */
  file?: string;
}

export class ElfFile {
  readonly bytes: Uint8Array;
  readonly file: string | undefined;
  /** e_type: ET_REL (1) for what clang -c produces. */
  readonly elfType: number;
  readonly machine: number;
  readonly sections: readonly ElfSection[];
  /** The whole .symtab, index 0 (the null symbol) included; empty if there is none. */
  readonly symbols: readonly ElfSymbol[];
  /** Index of the .symtab section, or 0. */
  readonly symtabIndex: number;
  private readonly relocs: ReadonlyMap<number, readonly ElfRelocation[]>;
  private byName: Map<string, ElfSection> | undefined;

  constructor(
    bytes: Uint8Array,
    file: string | undefined,
    hdr: { elfType: number; machine: number },
    sections: ElfSection[],
    symtabIndex: number,
    symbols: ElfSymbol[],
    relocs: Map<number, ElfRelocation[]>,
  ) {
    this.bytes = bytes;
    this.file = file;
    this.elfType = hdr.elfType;
    this.machine = hdr.machine;
    this.sections = sections;
    this.symtabIndex = symtabIndex;
    this.symbols = symbols;
    this.relocs = relocs;
  }

  /** The first section with this name. */
  section(name: string): ElfSection | undefined {
    if (!this.byName) {
      this.byName = new Map();
      for (const s of this.sections) if (!this.byName.has(s.name)) this.byName.set(s.name, s);
    }
    return this.byName.get(name);
  }

  /** Relocations that patch section `index`, in file order (from every .rel* section targeting it). */
  relocationsFor(index: number): readonly ElfRelocation[] {
    return this.relocs.get(index) ?? [];
  }

  /** Indices of sections that have relocations. */
  relocatedSections(): number[] {
    return [...this.relocs.keys()];
  }

  /** Symbols defined in section `index`, sorted by value (stable: table order among equals). */
  symbolsIn(index: number): ElfSymbol[] {
    return this.symbols.filter((s) => s.shndx === index && s.index !== 0).sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : a.index - b.index));
  }
}

/** Parse and validate an ELF64 little-endian BPF object. */
export function parseElf(input: Uint8Array, opts: ElfFileOptions = {}): ElfFile {
  const file = opts.file;
  const fail = (code: ErrorCode, msg: string, offset: number, hint: string, section?: string): never => {
    throw new TsbpfError(code, msg, { ...(file !== undefined ? { file } : {}), offset, ...(section !== undefined ? { section } : {}) }, hint);
  };
  const bytes = input;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = bytes.length;

  // The header: checked before elfy sees it, so elfy only ever parses a table that fits the file.
  if (len < EHDR_SIZE) fail("ELF_BAD_HEADER", `file is ${len} bytes, shorter than an ELF64 header (64)`, 0, "this is not a complete ELF object; was it truncated?");
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    fail("ELF_BAD_HEADER", "bad ELF magic", 0, "not an ELF file: BPF objects come from `clang -target bpf -c`");
  }
  if (bytes[4] !== 2) fail("ELF_BAD_HEADER", `ELF class ${bytes[4]} is not ELFCLASS64`, 4, "BPF objects are 64-bit ELF");
  if (bytes[5] === 2) fail("ELF_UNSUPPORTED", "big-endian ELF (bpfeb) is not supported", 5, "build with -target bpf (little-endian on this machine) or -target bpfel");
  if (bytes[5] !== 1) fail("ELF_BAD_HEADER", `ELF data encoding ${bytes[5]} is not ELFDATA2LSB`, 5, "the ident bytes are corrupt");
  if (bytes[6] !== 1) fail("ELF_BAD_HEADER", `ELF ident version ${bytes[6]} is not EV_CURRENT (1)`, 6, "the ident bytes are corrupt");
  const elfType = dv.getUint16(16, true);
  const machine = dv.getUint16(18, true);
  // libbpf also accepts EM_NONE, which very old LLVM wrote.
  if (machine !== EM_BPF && machine !== 0) fail("ELF_BAD_HEADER", `e_machine ${machine} is not EM_BPF (247)`, 18, "this object was built for another architecture; compile with clang -target bpf");
  if (dv.getUint32(20, true) !== 1) fail("ELF_BAD_HEADER", `e_version ${dv.getUint32(20, true)} is not 1`, 20, "the header is corrupt");
  const phoff = dv.getBigUint64(32, true);
  const shoff = dv.getBigUint64(40, true);
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  const shentsize = dv.getUint16(58, true);
  const shnum = dv.getUint16(60, true);
  const shstrndx = dv.getUint16(62, true);
  if (phnum !== 0 && (phoff === 0n || phoff + BigInt(phnum) * BigInt(phentsize) > BigInt(len))) {
    fail("ELF_BAD_HEADER", `program header table (offset ${phoff}, ${phnum} × ${phentsize} bytes) lies outside the ${len}-byte file`, 32, "the file is truncated or its header is corrupt");
  }
  if (shoff === 0n || shnum === 0) {
    fail(shnum === 0 && shoff !== 0n ? "ELF_UNSUPPORTED" : "ELF_BAD_HEADER", shoff === 0n ? "the object has no section header table" : "e_shnum is 0 (extended section numbering is not supported)", 40, "a BPF object needs sections; was it stripped of them?");
  }
  if (shentsize !== SHDR_SIZE) fail("ELF_BAD_HEADER", `e_shentsize ${shentsize} is not 64`, 58, "the header is corrupt");
  if (shoff + BigInt(shnum) * BigInt(SHDR_SIZE) > BigInt(len)) {
    fail("ELF_BAD_HEADER", `section header table (offset ${shoff}, ${shnum} entries) runs past the end of the ${len}-byte file`, 40, "the file is truncated");
  }
  if (shstrndx === SHN.XINDEX) fail("ELF_UNSUPPORTED", "e_shstrndx is SHN_XINDEX (extended numbering)", 62, "objects with more than 65279 sections are not supported");
  if (shstrndx === 0 || shstrndx >= shnum) fail("ELF_BAD_HEADER", `e_shstrndx ${shstrndx} is not a section (there are ${shnum})`, 62, "the header is corrupt");
  const shOff = Number(shoff);

  // Every section's extent is checked before elfy resolves names through the string table.
  const shstrHdr = shOff + shstrndx * SHDR_SIZE;
  const shstrType = dv.getUint32(shstrHdr + 4, true);
  if (shstrType !== SHT.STRTAB) fail("ELF_BAD_SECTION", `section ${shstrndx} (e_shstrndx) has type ${shstrType}, not SHT_STRTAB`, shstrHdr + 4, "the section-name table is corrupt");
  for (let i = 0; i < shnum; i++) {
    const h = shOff + i * SHDR_SIZE;
    const type = dv.getUint32(h + 4, true);
    const off = dv.getBigUint64(h + 24, true);
    const size = dv.getBigUint64(h + 32, true);
    if (type !== SHT.NOBITS && type !== SHT.NULL && off + size > BigInt(len)) {
      fail("ELF_BAD_SECTION", `section ${i}: contents (offset ${off}, size ${size}) run past the end of the ${len}-byte file`, h + 24, "the file is truncated or the section header is corrupt");
    }
    if (type === SHT.NOBITS && size > 0xffffffffn) {
      fail("ELF_BAD_SECTION", `section ${i}: SHT_NOBITS size ${size} is larger than 4 GiB`, h + 32, "the section header is corrupt");
    }
  }

  let parsed: ElfyFile;
  try {
    parsed = elfy.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    return fail("ELF_BAD_HEADER", `ELF header could not be parsed: ${e instanceof Error ? e.message : String(e)}`, 0, "the header or section header table is corrupt");
  }
  if (parsed.body.sections.length !== shnum) fail("ELF_BAD_HEADER", `elfy read ${parsed.body.sections.length} sections, the header says ${shnum}`, 60, "the section header table is corrupt");

  const shstr = parsed.body.sections[shstrndx];
  const shstrData = bytes.subarray(shstr.off, shstr.off + shstr.size);
  const sections: ElfSection[] = [];
  for (let i = 0; i < shnum; i++) {
    const h = shOff + i * SHDR_SIZE;
    const e = parsed.body.sections[i];
    const nameOffset = dv.getUint32(h, true);
    const type = dv.getUint32(h + 4, true);
    const name = i === 0 ? "" : readString(shstrData, nameOffset, () => fail("ELF_BAD_SECTION", `section ${i}: name offset ${nameOffset} is outside the ${shstrData.length}-byte section-name table or unterminated`, h, "the section header or .shstrtab is corrupt"));
    if (i !== 0 && name !== e.name) fail("ELF_BAD_SECTION", `section ${i}: name mismatch`, h, "the section-name table is corrupt");
    const offset = e.off;
    const size = e.size;
    sections.push({
      index: i,
      name,
      nameOffset,
      type,
      flags: dv.getBigUint64(h + 8, true),
      addr: dv.getBigUint64(h + 16, true),
      offset,
      size,
      link: e.link,
      info: e.info,
      // elfy reads these two at the wrong offsets for ELF64, so they come from the raw header.
      addralign: dv.getBigUint64(h + 48, true),
      entsize: dv.getBigUint64(h + 56, true),
      headerOffset: h,
      data: type === SHT.NOBITS || type === SHT.NULL ? new Uint8Array(0) : bytes.subarray(offset, offset + size),
    });
  }

  // The symbol table.
  const symtabs = sections.filter((s) => s.type === SHT.SYMTAB);
  if (symtabs.length > 1) fail("ELF_BAD_SECTION", `${symtabs.length} symbol tables; a relocatable object has one`, symtabs[1].headerOffset + 4, "the object is corrupt");
  const symbols: ElfSymbol[] = [];
  const symtab = symtabs[0];
  if (symtab) {
    const at = (o: number) => symtab.headerOffset + o;
    if (symtab.entsize !== BigInt(SYM_SIZE)) fail("ELF_BAD_SECTION", `.symtab entry size ${symtab.entsize} is not ${SYM_SIZE}`, at(56), "the symbol table header is corrupt", symtab.name);
    if (symtab.size % SYM_SIZE !== 0) fail("ELF_BAD_SECTION", `.symtab size ${symtab.size} is not a multiple of ${SYM_SIZE}`, at(32), "the symbol table is truncated", symtab.name);
    if (symtab.link === 0 || symtab.link >= shnum || sections[symtab.link].type !== SHT.STRTAB) {
      fail("ELF_BAD_SECTION", `.symtab sh_link ${symtab.link} is not a string table`, at(40), "the symbol table header is corrupt", symtab.name);
    }
    const strtab = sections[symtab.link].data;
    const count = symtab.size / SYM_SIZE;
    for (let k = 0; k < count; k++) {
      const o = symtab.offset + k * SYM_SIZE;
      const nameOff = dv.getUint32(o, true);
      const info = bytes[o + 4];
      const other = bytes[o + 5];
      const shndx = dv.getUint16(o + 6, true);
      const value = dv.getBigUint64(o + 8, true);
      const size = dv.getBigUint64(o + 16, true);
      const name = readString(strtab, nameOff, () => fail("ELF_BAD_SYMBOL", `symbol ${k}: name offset ${nameOff} is outside the ${strtab.length}-byte string table or unterminated`, o, "the symbol table or its string table is corrupt", symtab.name));
      if (shndx === SHN.XINDEX) fail("ELF_UNSUPPORTED", `symbol ${k} (${name}): SHN_XINDEX section indices are not supported`, o + 6, "objects with more than 65279 sections are not supported");
      if (shndx !== SHN.UNDEF && shndx < SHN.LORESERVE) {
        if (shndx >= shnum) fail("ELF_BAD_SYMBOL", `symbol ${k} (${name}): section index ${shndx} does not exist (there are ${shnum})`, o + 6, "the symbol table is corrupt", symtab.name);
        if (value > BigInt(sections[shndx].size)) fail("ELF_BAD_SYMBOL", `symbol ${k} (${name}): value ${value} is past the end of section ${sections[shndx].name} (${sections[shndx].size} bytes)`, o + 8, "the symbol table is corrupt", symtab.name);
      } else if (shndx !== SHN.UNDEF && shndx !== SHN.ABS && shndx !== SHN.COMMON) {
        fail("ELF_BAD_SYMBOL", `symbol ${k} (${name}): reserved section index 0x${shndx.toString(16)}`, o + 6, "the symbol table is corrupt", symtab.name);
      }
      symbols.push({ index: k, name, nameOffset: nameOff, value, size, type: info & 0xf, bind: info >> 4, visibility: other & 0x3, shndx, fileOffset: o });
    }
  }

  // Relocation sections: each names the symbol table (sh_link) and the section it patches (sh_info).
  const relocs = new Map<number, ElfRelocation[]>();
  for (const rs of sections) {
    if (rs.type !== SHT.REL && rs.type !== SHT.RELA) continue;
    const isRela = rs.type === SHT.RELA;
    const entSize = isRela ? RELA_SIZE : REL_SIZE;
    const at = (o: number) => rs.headerOffset + o;
    if (rs.entsize !== BigInt(entSize)) fail("ELF_BAD_SECTION", `${rs.name}: entry size ${rs.entsize} is not ${entSize}`, at(56), "the relocation section header is corrupt", rs.name);
    if (rs.size % entSize !== 0) fail("ELF_BAD_SECTION", `${rs.name}: size ${rs.size} is not a multiple of ${entSize}`, at(32), "the relocation section is truncated", rs.name);
    if (!symtab || rs.link !== symtab.index) fail("ELF_BAD_SECTION", `${rs.name}: sh_link ${rs.link} is not the symbol table`, at(40), "the relocation section header is corrupt", rs.name);
    if (rs.info === 0 || rs.info >= shnum) fail("ELF_BAD_SECTION", `${rs.name}: sh_info ${rs.info} is not a section`, at(44), "the relocation section header is corrupt", rs.name);
    const target = sections[rs.info];
    if (target.type === SHT.NOBITS && rs.size > 0) fail("ELF_BAD_SECTION", `${rs.name}: relocates ${target.name}, which has no file contents`, at(44), "the relocation section header is corrupt", rs.name);
    const list = relocs.get(target.index) ?? [];
    // Offsets into a compressed section (clang -gz debug info) count in its uncompressed bytes:
    // ch_size of the Elf64_Chdr that starts the section.
    let limit = BigInt(target.size);
    if ((target.flags & BigInt(SHF.COMPRESSED)) !== 0n && target.size >= 24 && target.offset + 24 <= len) limit = dv.getBigUint64(target.offset + 8, true);
    const n = rs.size / entSize;
    for (let k = 0; k < n; k++) {
      const o = rs.offset + k * entSize;
      const rOffset = dv.getBigUint64(o, true);
      const symIdx = dv.getUint32(o + 12, true);
      const type = dv.getUint32(o + 8, true);
      const addend = isRela ? dv.getBigInt64(o + 16, true) : 0n;
      const width = RELOC_WIDTH[type];
      if (width === undefined) fail("ELF_BAD_RELOCATION", `${rs.name} entry ${k}: unknown BPF relocation type ${type}`, o + 8, "the known types are R_BPF_64_64 (1), R_BPF_64_ABS64 (2), R_BPF_64_ABS32 (3), R_BPF_64_NODYLD32 (4), R_BPF_64_32 (10)", rs.name);
      if (symIdx >= symbols.length) fail("ELF_BAD_RELOCATION", `${rs.name} entry ${k}: symbol index ${symIdx} is past the end of the ${symbols.length}-entry symbol table`, o + 12, "the relocation section is corrupt", rs.name);
      if (rOffset + BigInt(width) > limit) fail("ELF_BAD_RELOCATION", `${rs.name} entry ${k}: offset ${rOffset} (+${width} bytes) is past the end of ${target.name} (${limit} bytes)`, o, "the relocation section is corrupt", rs.name);
      list.push({ offset: Number(rOffset), type, symbol: symIdx, addend, fileOffset: o, relSection: rs.index });
    }
    relocs.set(target.index, list);
  }

  return new ElfFile(bytes, file, { elfType, machine }, sections, symtab?.index ?? 0, symbols, relocs);
}

const utf8 = new TextDecoder("utf-8");

/** The NUL-terminated string at `off` in a string table; `bad()` if it is out of range or unterminated. */
export function readString(table: Uint8Array, off: number, bad: () => never): string {
  if (off >= table.length) {
    if (off === 0 && table.length === 0) return "";
    return bad();
  }
  const end = table.indexOf(0, off);
  if (end < 0) return bad();
  return utf8.decode(table.subarray(off, end));
}
