// Uprobe targets: the file offset of a function symbol in a host ELF binary or shared library
// (any machine, unlike src/elf which reads BPF objects). The kernel's uprobe PMU wants a file
// offset: the symbol's virtual address mapped back through the PT_LOAD segment that holds it.

import { readFileSync } from "node:fs";
import { TsbpfError } from "../errors.ts";

export interface HostSymbol {
  name: string;
  /** st_value: the virtual address. */
  value: bigint;
  size: bigint;
  /** STT_* type (2 = FUNC, 10 = GNU_IFUNC). */
  type: number;
}

interface Segment {
  vaddr: bigint;
  offset: bigint;
  filesz: bigint;
}

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const PT_LOAD = 1;

function bad(file: string, msg: string, offset: number): never {
  throw new TsbpfError("LOAD_BAD_INPUT", `${file}: ${msg}`, { file, offset }, "uprobes need an ELF64 little-endian executable or shared library");
}

/** Symbols (.symtab and .dynsym) and loadable segments of a 64-bit little-endian ELF file. */
export function readHostElf(file: string): { symbols: HostSymbol[]; segments: Segment[] } {
  let b: Uint8Array;
  try {
    b = readFileSync(file);
  } catch (e) {
    throw new TsbpfError("LOAD_BAD_INPUT", `cannot read ${file}: ${(e as Error).message}`, { file }, "give the path of an executable or shared library");
  }
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < 64 || b[0] !== 0x7f || b[1] !== 0x45 || b[2] !== 0x4c || b[3] !== 0x46) bad(file, "not an ELF file", 0);
  if (b[4] !== 2 || b[5] !== 1) bad(file, "not a 64-bit little-endian ELF file", 4);
  const within = (off: bigint, size: bigint): boolean => off >= 0n && off + size <= BigInt(b.length);
  const phoff = dv.getBigUint64(32, true), shoff = dv.getBigUint64(40, true);
  const phentsize = dv.getUint16(54, true), phnum = dv.getUint16(56, true);
  const shentsize = dv.getUint16(58, true), shnum = dv.getUint16(60, true);
  if (!within(phoff, BigInt(phnum * phentsize))) bad(file, "program headers lie outside the file", 32);
  if (!within(shoff, BigInt(shnum * shentsize)) || (shnum > 0 && shentsize < 64)) bad(file, "section headers lie outside the file", 40);
  const segments: Segment[] = [];
  for (let i = 0; i < phnum; i++) {
    const h = Number(phoff) + i * phentsize;
    if (dv.getUint32(h, true) !== PT_LOAD) continue;
    segments.push({ offset: dv.getBigUint64(h + 8, true), vaddr: dv.getBigUint64(h + 16, true), filesz: dv.getBigUint64(h + 32, true) });
  }
  const shdr = (i: number) => {
    const h = Number(shoff) + i * shentsize;
    return { type: dv.getUint32(h + 4, true), offset: dv.getBigUint64(h + 24, true), size: dv.getBigUint64(h + 32, true), link: dv.getUint32(h + 40, true), entsize: dv.getBigUint64(h + 56, true) };
  };
  const symbols: HostSymbol[] = [];
  for (let i = 0; i < shnum; i++) {
    const s = shdr(i);
    if (s.type !== SHT_SYMTAB && s.type !== SHT_DYNSYM) continue;
    if (s.link >= shnum) bad(file, `symbol table ${i} links to a missing string table`, Number(shoff) + i * shentsize + 40);
    const str = shdr(s.link);
    if (!within(s.offset, s.size) || !within(str.offset, str.size) || s.entsize < 24n) bad(file, `symbol table ${i} lies outside the file`, Number(shoff) + i * shentsize);
    const strStart = Number(str.offset), strEnd = strStart + Number(str.size);
    for (let off = Number(s.offset); off + 24 <= Number(s.offset + s.size); off += Number(s.entsize)) {
      const nameOff = dv.getUint32(off, true);
      if (nameOff === 0 || strStart + nameOff >= strEnd) continue;
      let end = strStart + nameOff;
      while (end < strEnd && b[end] !== 0) end++;
      const name = new TextDecoder("latin1").decode(b.subarray(strStart + nameOff, end));
      symbols.push({ name, type: b[off + 4] & 0xf, value: dv.getBigUint64(off + 8, true), size: dv.getBigUint64(off + 16, true) });
    }
  }
  return { symbols, segments };
}

/** The file offset of function `func` (+ `extra` bytes) in `file`, for a uprobe. */
export function uprobeOffset(file: string, func: string, extra = 0n): bigint {
  const { symbols, segments } = readHostElf(file);
  // Versioned dynamic names ("malloc@@GLIBC_2.2.5") match their base name, as libbpf allows.
  const hits = symbols.filter((s) => (s.name === func || s.name.split("@")[0] === func) && s.value !== 0n && (s.type === 2 || s.type === 10 || s.type === 0));
  if (hits.length === 0) {
    throw new TsbpfError("LOAD_BAD_INPUT", `${file}: no function symbol '${func}'`, { file }, "list its symbols with `nm -D` (shared libraries) or `nm`; stripped binaries keep only .dynsym");
  }
  const addr = hits[0].value;
  const seg = segments.find((g) => addr >= g.vaddr && addr < g.vaddr + g.filesz);
  // Without program headers (a relocatable file) the address already is a section-relative offset.
  if (!seg) {
    if (segments.length === 0) return addr + extra;
    throw new TsbpfError("LOAD_BAD_INPUT", `${file}: symbol '${func}' at 0x${addr.toString(16)} lies in no loadable segment`, { file }, "the binary's program headers do not map this function");
  }
  return addr - seg.vaddr + seg.offset + extra;
}
