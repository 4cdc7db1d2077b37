// Write a relocatable ELF64 little-endian EM_BPF object from a plain description of its sections,
// symbols and relocations, laid out the way llvm-mc/clang lay theirs out: .strtab first, each
// section followed by its .rel<name>, .symtab last; locals before globals in the symbol table.

import { TsbpfError } from "../errors.ts";

export const EM_BPF = 247;
/** BPF relocation types (llvm/BinaryFormat/ELFRelocs/BPF.def). */
export const R_BPF = { NONE: 0, R_64_64: 1, ABS64: 2, ABS32: 3, NODYLD32: 4, R_64_32: 10 } as const;

export type SymbolType = "notype" | "object" | "func" | "section" | "file";
export type SymbolBind = "local" | "global" | "weak";

export interface ObjReloc {
  /** Byte offset in the section. */
  offset: number;
  type: number;
  /** The symbol's name, or for a section symbol the section's name with `section: true`. */
  symbol: string;
  section?: boolean;
}

export interface ObjSection {
  name: string;
  /** SHT_PROGBITS (1) or SHT_NOBITS (8) for .bss-like sections. */
  type: "progbits" | "nobits";
  flags: { alloc: boolean; write: boolean; exec: boolean };
  align: number;
  bytes: Uint8Array;
  /** For nobits: the size it reserves. */
  size?: number;
  relocs: ObjReloc[];
}

export interface ObjSymbol {
  name: string;
  /** Section name; undefined for an undefined (extern) symbol. */
  section?: string;
  value: number;
  size: number;
  type: SymbolType;
  bind: SymbolBind;
}

export interface ObjFile {
  sections: ObjSection[];
  symbols: ObjSymbol[];
  /** Optional source file name for an STT_FILE symbol. */
  file?: string;
}

const SHT = { NULL: 0, PROGBITS: 1, SYMTAB: 2, STRTAB: 3, REL: 9, NOBITS: 8 } as const;
const SHF = { WRITE: 1, ALLOC: 2, EXECINSTR: 4, INFO_LINK: 0x40 } as const;
const STT: Record<SymbolType, number> = { notype: 0, object: 1, func: 2, section: 3, file: 4 };
const STB: Record<SymbolBind, number> = { local: 0, global: 1, weak: 2 };
const SHN_ABS = 0xfff1;

class StrTab {
  private parts: string[] = [""];
  private size = 1;
  private index = new Map<string, number>([["", 0]]);
  add(s: string): number {
    const hit = this.index.get(s);
    if (hit !== undefined) return hit;
    const off = this.size;
    this.parts.push(s);
    this.size += Buffer.byteLength(s) + 1;
    this.index.set(s, off);
    return off;
  }
  bytes(): Uint8Array {
    return new Uint8Array(Buffer.from(this.parts.join("\0") + "\0"));
  }
}

interface Header {
  name: number;
  type: number;
  flags: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  align: number;
  entsize: number;
  data?: Uint8Array;
}

function bad(message: string, hint?: string): never {
  throw new TsbpfError("ELF_BAD_SECTION", message, {}, hint);
}

/** Serialize an ObjFile. Relocations naming unknown symbols or sections are typed errors. */
export function writeElf(obj: ObjFile): Uint8Array {
  const parts = writeElfParts(obj);
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The object as consecutive pieces (ELF header, section contents with their padding, section
 * header table): what writeElf joins. Written one after another they make the file, without a
 * copy of the (possibly large) section contents.
 */
export function writeElfParts(obj: ObjFile): Uint8Array[] {
  const shstr = new StrTab();
  const headers: Header[] = [{ name: 0, type: SHT.NULL, flags: 0, offset: 0, size: 0, link: 0, info: 0, align: 0, entsize: 0 }];
  const strtabIdx = headers.length;
  headers.push({ name: shstr.add(".strtab"), type: SHT.STRTAB, flags: 0, offset: 0, size: 0, link: 0, info: 0, align: 1, entsize: 0 });

  const secIndex = new Map<string, number>();
  const relHeaders: { hdr: number; sec: ObjSection }[] = [];
  for (const s of obj.sections) {
    if (secIndex.has(s.name)) bad(`section '${s.name}' appears twice`);
    const flags = (s.flags.alloc ? SHF.ALLOC : 0) | (s.flags.write ? SHF.WRITE : 0) | (s.flags.exec ? SHF.EXECINSTR : 0);
    secIndex.set(s.name, headers.length);
    headers.push({
      name: shstr.add(s.name), type: s.type === "nobits" ? SHT.NOBITS : SHT.PROGBITS, flags, offset: 0,
      size: s.type === "nobits" ? (s.size ?? 0) : s.bytes.length, link: 0, info: 0, align: s.align, entsize: 0, data: s.type === "nobits" ? undefined : s.bytes,
    });
    if (s.relocs.length > 0) {
      relHeaders.push({ hdr: headers.length, sec: s });
      headers.push({ name: shstr.add(".rel" + s.name), type: SHT.REL, flags: SHF.INFO_LINK, offset: 0, size: 0, link: 0, info: secIndex.get(s.name)!, align: 8, entsize: 16 });
    }
  }
  const symtabIdx = headers.length;
  headers.push({ name: shstr.add(".symtab"), type: SHT.SYMTAB, flags: 0, offset: 0, size: 0, link: strtabIdx, info: 0, align: 8, entsize: 24 });

  // Symbols: null, file, section symbols that relocations use, other locals, then globals.
  const strtab = shstr; // one string table for section and symbol names, as llvm-mc does
  const usedSections = new Set<string>();
  for (const s of obj.sections) for (const r of s.relocs) if (r.section) usedSections.add(r.symbol);
  type Row = { name: number; info: number; shndx: number; value: number; size: number };
  const rows: Row[] = [{ name: 0, info: 0, shndx: 0, value: 0, size: 0 }];
  if (obj.file !== undefined) rows.push({ name: strtab.add(obj.file), info: STT.file, shndx: SHN_ABS, value: 0, size: 0 });
  const secSym = new Map<string, number>();
  for (const name of obj.sections.map((s) => s.name)) {
    if (!usedSections.has(name)) continue;
    secSym.set(name, rows.length);
    rows.push({ name: 0, info: STT.section, shndx: secIndex.get(name)!, value: 0, size: 0 });
  }
  for (const r of usedSections) if (!secIndex.has(r)) bad(`relocation against unknown section '${r}'`);
  const symIdx = new Map<string, number>();
  const ordered = [...obj.symbols.filter((s) => s.bind === "local"), ...obj.symbols.filter((s) => s.bind !== "local")];
  const firstGlobal = rows.length + obj.symbols.filter((s) => s.bind === "local").length;
  for (const s of ordered) {
    if (symIdx.has(s.name)) bad(`symbol '${s.name}' is defined twice`);
    let shndx = 0;
    if (s.section !== undefined) {
      const i = secIndex.get(s.section);
      if (i === undefined) bad(`symbol '${s.name}' is in unknown section '${s.section}'`);
      shndx = i;
    }
    symIdx.set(s.name, rows.length);
    rows.push({ name: strtab.add(s.name), info: (STB[s.bind] << 4) | STT[s.type], shndx, value: s.value, size: s.size });
  }
  headers[symtabIdx].info = firstGlobal;

  const symBytes = new Uint8Array(rows.length * 24);
  const sdv = new DataView(symBytes.buffer);
  rows.forEach((r, i) => {
    const at = i * 24;
    sdv.setUint32(at, r.name, true);
    sdv.setUint8(at + 4, r.info);
    sdv.setUint8(at + 5, 0);
    sdv.setUint16(at + 6, r.shndx, true);
    sdv.setBigUint64(at + 8, BigInt(r.value), true);
    sdv.setBigUint64(at + 16, BigInt(r.size), true);
  });
  headers[symtabIdx].data = symBytes;
  headers[symtabIdx].size = symBytes.length;

  for (const { hdr, sec } of relHeaders) {
    const b = new Uint8Array(sec.relocs.length * 16);
    const dv = new DataView(b.buffer);
    sec.relocs.forEach((r, i) => {
      const sym = r.section ? secSym.get(r.symbol) : symIdx.get(r.symbol);
      if (sym === undefined) bad(`relocation in '${sec.name}' at offset ${r.offset} names unknown symbol '${r.symbol}'`);
      dv.setBigUint64(i * 16, BigInt(r.offset), true);
      dv.setBigUint64(i * 16 + 8, (BigInt(sym) << 32n) | BigInt(r.type), true);
    });
    headers[hdr].data = b;
    headers[hdr].size = b.length;
    headers[hdr].link = symtabIdx;
  }
  const strBytes = strtab.bytes();
  headers[strtabIdx].data = strBytes;
  headers[strtabIdx].size = strBytes.length;

  // Layout: ELF header, section contents in header order (aligned), then the section header table.
  let off = 64;
  for (let i = 1; i < headers.length; i++) {
    const h = headers[i];
    if (h.type === SHT.NOBITS) {
      h.offset = off;
      continue;
    }
    const a = Math.max(1, h.align);
    off = Math.ceil(off / a) * a;
    h.offset = off;
    off += h.data?.length ?? 0;
  }
  const shoff = Math.ceil(off / 8) * 8;
  const out = new Uint8Array(64);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2 /* ELFCLASS64 */, 1 /* LSB */, 1 /* EV_CURRENT */, 0 /* SYSV */], 0);
  dv.setUint16(16, 1, true); // ET_REL
  dv.setUint16(18, EM_BPF, true);
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, 0n, true);
  dv.setBigUint64(32, 0n, true);
  dv.setBigUint64(40, BigInt(shoff), true);
  dv.setUint32(48, 0, true);
  dv.setUint16(52, 64, true);
  dv.setUint16(54, 0, true);
  dv.setUint16(56, 0, true);
  dv.setUint16(58, 64, true);
  dv.setUint16(60, headers.length, true);
  dv.setUint16(62, strtabIdx, true);
  const parts: Uint8Array[] = [out];
  let end = 64;
  const pad = (to: number) => {
    if (to > end) parts.push(new Uint8Array(to - end));
    end = to;
  };
  const table = new Uint8Array(headers.length * 64);
  const tv = new DataView(table.buffer);
  headers.forEach((h, i) => {
    if (h.data && h.type !== SHT.NOBITS && h.data.length > 0) {
      pad(h.offset);
      parts.push(h.data);
      end += h.data.length;
    }
    const at = i * 64;
    tv.setUint32(at, h.name, true);
    tv.setUint32(at + 4, h.type, true);
    tv.setBigUint64(at + 8, BigInt(h.flags), true);
    tv.setBigUint64(at + 16, 0n, true);
    tv.setBigUint64(at + 24, BigInt(h.offset), true);
    tv.setBigUint64(at + 32, BigInt(h.size), true);
    tv.setUint32(at + 40, h.link, true);
    tv.setUint32(at + 44, h.info, true);
    tv.setBigUint64(at + 48, BigInt(h.align), true);
    tv.setBigUint64(at + 56, BigInt(h.entsize), true);
  });
  pad(shoff);
  parts.push(table);
  return parts;
}
