// Just enough ELF for a disassembler: the executable sections of an ELF64 object (either byte
// order: bpfel or bpfeb) and the symbols defined in them, read straight from the section headers and .symtab with every
// offset bounds-checked. `tsbpf disasm` uses this instead of src/elf (whose elfy dependency costs
// more start-up time than a whole small disassembly); test/asm/elf-code.test.ts holds the two equal.

import { TsbpfError, type ErrorCode } from "../src/errors.ts";
import type { CodeSection, CodeSymbol, SymbolKind } from "./disasm.ts";

const SHT_SYMTAB = 2;
const SHT_NOBITS = 8;
const SHF_EXECINSTR = 4n;
const STT_SECTION = 3;
const STT_FILE = 4;
const KIND: readonly SymbolKind[] = ["notype", "object", "func", "other", "other", "common"];

interface Shdr {
  name: number;
  type: number;
  flags: bigint;
  offset: number;
  size: number;
  link: number;
  entsize: number;
  at: number;
}

/** The code sections of an ELF object, in section-header order, with their symbols. */
export function readCodeSections(bytes: Uint8Array, file?: string): CodeSection[] {
  const fail = (code: ErrorCode, msg: string, offset: number, hint: string): never => {
    throw new TsbpfError(code, msg, { ...(file !== undefined ? { file } : {}), offset }, hint);
  };
  const len = bytes.length;
  if (len < 64) fail("ELF_BAD_HEADER", `file is ${len} bytes, shorter than an ELF64 header (64)`, 0, "this is not a complete ELF object; was it truncated?");
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) fail("ELF_BAD_HEADER", "bad ELF magic", 0, "not an ELF file");
  if (bytes[4] !== 2) fail("ELF_BAD_HEADER", `ELF class ${bytes[4]} is not ELFCLASS64`, 4, "BPF objects are 64-bit ELF");
  if (bytes[5] !== 1 && bytes[5] !== 2) fail("ELF_BAD_HEADER", `ELF data encoding ${bytes[5]} is neither ELFDATA2LSB (1) nor ELFDATA2MSB (2)`, 5, "the ident bytes are corrupt");
  // Every multi-byte field, headers and instructions alike, is in this byte order (bpfeb: big).
  const le = bytes[5] === 1;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, len);
  const machine = dv.getUint16(18, le);
  if (machine !== 247 && machine !== 0) fail("ELF_BAD_HEADER", `e_machine ${machine} is not EM_BPF (247)`, 18, "this object was built for another architecture");
  const shoff = dv.getBigUint64(40, le);
  const shentsize = dv.getUint16(58, le);
  const shnum = dv.getUint16(60, le);
  const shstrndx = dv.getUint16(62, le);
  if (shoff === 0n || shnum === 0) fail("ELF_BAD_HEADER", "the object has no section header table (or uses extended numbering)", 40, "a BPF object needs sections");
  if (shentsize !== 64) fail("ELF_BAD_HEADER", `e_shentsize ${shentsize} is not 64`, 58, "the header is corrupt");
  if (shoff + BigInt(shnum) * 64n > BigInt(len)) fail("ELF_BAD_HEADER", `section header table (offset ${shoff}, ${shnum} entries) runs past the end of the ${len}-byte file`, 40, "the file is truncated");
  if (shstrndx === 0 || shstrndx >= shnum) fail("ELF_BAD_HEADER", `e_shstrndx ${shstrndx} is not a section (there are ${shnum})`, 62, "the header is corrupt");

  const sh: Shdr[] = [];
  for (let i = 0; i < shnum; i++) {
    const at = Number(shoff) + i * 64;
    const type = dv.getUint32(at + 4, le);
    const off = dv.getBigUint64(at + 24, le);
    const size = dv.getBigUint64(at + 32, le);
    if (type !== SHT_NOBITS && type !== 0 && off + size > BigInt(len)) {
      fail("ELF_BAD_SECTION", `section ${i}: contents (offset ${off}, size ${size}) run past the end of the ${len}-byte file`, at + 24, "the file is truncated or the section header is corrupt");
    }
    sh.push({
      name: dv.getUint32(at, le), type, flags: dv.getBigUint64(at + 8, le), offset: Number(off),
      size: type === SHT_NOBITS ? 0 : Number(size), link: dv.getUint32(at + 40, le), entsize: Number(dv.getBigUint64(at + 56, le)), at,
    });
  }
  const str = (table: Shdr, off: number, what: string, at: number): string => {
    if (off >= table.size) fail("ELF_BAD_SECTION", `${what}: name offset ${off} is outside its ${table.size}-byte string table`, at, "the string table or the entry is corrupt");
    const start = table.offset + off;
    const end = bytes.indexOf(0, start);
    if (end < 0 || end >= table.offset + table.size) fail("ELF_BAD_SECTION", `${what}: name at offset ${off} is not NUL-terminated inside its string table`, at, "the string table is corrupt");
    return nameText(bytes, start, end);
  };
  const shstr = sh[shstrndx];
  const names = sh.map((s, i) => (i === 0 ? "" : str(shstr, s.name, `section ${i}`, s.at)));

  const symbols = new Map<number, CodeSymbol[]>();
  const symtab = sh.find((s) => s.type === SHT_SYMTAB);
  if (symtab) {
    if (symtab.link >= shnum) fail("ELF_BAD_SECTION", `.symtab links to string table ${symtab.link}, not a section`, symtab.at + 40, "the section header is corrupt");
    const strtab = sh[symtab.link];
    const n = Math.floor(symtab.size / 24);
    for (let k = 1; k < n; k++) {
      const at = symtab.offset + k * 24;
      const nameOff = dv.getUint32(at, le);
      const type = bytes[at + 4] & 0xf;
      const shndx = dv.getUint16(at + 6, le);
      if (nameOff === 0 || type === STT_SECTION || type === STT_FILE || shndx === 0 || shndx >= shnum) continue;
      const name = str(strtab, nameOff, `symbol ${k}`, at);
      if (name === "") continue;
      const value = dv.getBigUint64(at + 8, le);
      let list = symbols.get(shndx);
      if (!list) symbols.set(shndx, (list = []));
      list.push({ name, offset: value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value), kind: KIND[type] ?? "other" });
    }
  }
  const out: CodeSection[] = [];
  for (let i = 1; i < shnum; i++) {
    const s = sh[i];
    if ((s.flags & SHF_EXECINSTR) === 0n || s.type === SHT_NOBITS) continue;
    const sec: CodeSection = { name: names[i], bytes: bytes.subarray(s.offset, s.offset + s.size), symbols: symbols.get(i) ?? [] };
    if (!le) sec.bigEndian = true;
    out.push(sec);
  }
  return out;
}

const utf8 = new TextDecoder();

/** A name's bytes as text: ASCII directly, anything else as UTF-8 (written back out unchanged). */
function nameText(bytes: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i++) {
    if (bytes[i] >= 0x80) return utf8.decode(bytes.subarray(start, end));
    s += String.fromCharCode(bytes[i]);
  }
  return s;
}
