// Section- and symbol-aware disassembly listings. `llvmObjdumpText` reproduces `llvm-objdump-19 -d`
// byte for byte: the file and section headers, one block per symbol, the `...` for zero runs,
// data dumps under object symbols, and `<sym+0x..>` after branches. `listCode` gives the same code
// as structured entries (for --json and the kernel syntax).

import { decodeAt, INSN_SIZE } from "./decode.ts";
import type { Insn } from "./insn.ts";
import { TsbpfError } from "../src/errors.ts";
import { readCodeSections } from "./elf-code.ts";
import { llvmDecodeAt } from "./print-llvm.ts";

/** ELF symbol types as the listing cares about them. */
export type SymbolKind = "func" | "object" | "common" | "notype" | "other";

/** A named position inside a code section (from the ELF symbol table, or made up for raw code). */
export interface CodeSymbol {
  name: string;
  /** Byte offset inside the section (st_value in a relocatable object). */
  offset: number;
  kind: SymbolKind;
}

/** An executable section and the symbols defined in it. */
export interface CodeSection {
  name: string;
  bytes: Uint8Array;
  /** Symbols defined in this section, in symbol-table order; sections, files and nameless ones left out. */
  symbols: readonly CodeSymbol[];
}

const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const TWO64 = 1n << 64n;

/** Symbols in the order llvm-objdump sorts them: by offset, then name; stable otherwise. */
function sortedSymbols(sec: CodeSection): CodeSymbol[] {
  const syms = [...sec.symbols].sort((a, b) => a.offset - b.offset || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // With no symbol at the start, llvm-objdump makes one up from the section name.
  if (syms.length === 0 || syms[0].offset !== 0) syms.unshift({ name: sec.name, offset: 0, kind: "func" });
  return syms;
}

/** The last symbol at or before `target` (a byte offset, possibly past 2^53 after wrapping). */
function annotation(syms: readonly CodeSymbol[], target: number): string {
  let disp: string;
  let sym: CodeSymbol;
  if (target < 0) {
    // llvm-objdump computes the target in uint64: a jump before the start wraps past every symbol.
    sym = syms[syms.length - 1];
    disp = (TWO64 + BigInt(target) - BigInt(sym.offset)).toString(16);
  } else {
    let lo = 0;
    let hi = syms.length; // first symbol with offset > target
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (syms[mid].offset <= target) lo = mid + 1;
      else hi = mid;
    }
    sym = syms[lo - 1];
    const d = target - sym.offset;
    disp = d === 0 ? "" : d.toString(16);
  }
  return disp === "" ? ` <${sym.name}>` : ` <${sym.name}+0x${disp}>`;
}

function hexBytes(bytes: Uint8Array, at: number, n: number): string {
  let s = HEX2[bytes[at]];
  for (let i = 1; i < n; i++) s += " " + HEX2[bytes[at + i]];
  return s;
}

/** llvm-objdump's dump of bytes under a data symbol in a text section: 8 per line, hex and ASCII. */
function dataLines(bytes: Uint8Array, start: number, end: number): string {
  let out = "";
  for (let at = start; at < end; at += 8) {
    const n = Math.min(8, end - at);
    let hex = "";
    let ascii = "";
    for (let i = 0; i < n; i++) {
      const b = bytes[at + i];
      hex += " " + HEX2[b];
      ascii += b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : ".";
    }
    out += at.toString(16).padStart(8, " ") + ":" + hex + " ".repeat(3 * (8 - n) + 9) + ascii + "\n";
  }
  return out;
}

/** Disassembly lines for bytes [start, end) of a section, decoding up to the section's end. */
function codeLines(bytes: Uint8Array, start: number, end: number, syms: readonly CodeSymbol[]): string {
  let out = "";
  let at = start;
  while (at < end) {
    // A run of 8 or more zero bytes prints as "..." and is skipped in steps of 4.
    if (bytes[at] === 0) {
      let z = at;
      while (z < end && bytes[z] === 0) z++;
      if (z - at >= 8) {
        out += "\t\t...\n";
        at += (z - at) & ~3;
        continue;
      }
    }
    const d = llvmDecodeAt(bytes, at);
    let line = String(Math.floor(at / INSN_SIZE)).padStart(8, " ") + ":\t" + hexBytes(bytes, at, d.size) + "\t";
    if (d.text === undefined) line += "<unknown>";
    else {
      line += d.text;
      if (d.branch !== undefined && syms.length > 0) line += annotation(syms, at + d.size + d.branch * d.size);
    }
    out += line + "\n";
    at += d.size;
  }
  return out;
}

/** llvm-objdump-style lines for raw code with no symbols (and so no branch annotations). */
export function llvmRawText(bytes: Uint8Array): string {
  return codeLines(bytes, 0, bytes.length, []);
}

/** One section's "Disassembly of section" block as llvm-objdump -d prints it ("" if it prints nothing). */
export function llvmSectionText(sec: CodeSection): string {
  const syms = sortedSymbols(sec);
  const size = sec.bytes.length;
  let out = "";
  for (let i = 0; i < syms.length; ) {
    const start = syms[i].offset;
    let j = i;
    while (j < syms.length && syms[j].offset === start) j++;
    // Of the symbols at one address, only the last in sort order heads the block.
    const head = syms[j - 1];
    const end = j < syms.length ? Math.min(size, syms[j].offset) : size;
    i = j;
    if (start >= end) continue;
    if (out === "") out = `\nDisassembly of section ${sec.name}:\n`;
    out += `\n${start.toString(16).padStart(16, "0")} <${head.name}>:\n`;
    out += head.kind === "object" || head.kind === "common" ? dataLines(sec.bytes, start, end) : codeLines(sec.bytes, start, end, syms);
  }
  return out;
}

/** The whole of `llvm-objdump-19 -d FILE` for a little-endian BPF object with these code sections. */
export function llvmObjdumpText(fileName: string, sections: readonly CodeSection[]): string {
  let out = `\n${fileName}:\tfile format elf64-bpf\n`;
  for (const s of sections) out += llvmSectionText(s);
  return out;
}

/** One decoded instruction of a listing, with where it came from. */
export interface ListedInsn {
  section: string;
  /** The symbol whose block holds the instruction (the section name where none does). */
  symbol: string;
  /** Slot index inside the section (ld_imm64 counts two). */
  index: number;
  bytes: Uint8Array;
  insn: Insn;
}

/**
 * Decode a section's instructions with tsbpf's own decoder, tagging each with its symbol.
 * Throws TsbpfError(ASM_DECODE) naming the section and slot at the first invalid instruction.
 */
export function listCode(sec: CodeSection, file?: string): ListedInsn[] {
  const syms = sortedSymbols(sec).filter((s) => s.kind !== "object" && s.kind !== "common");
  const out: ListedInsn[] = [];
  const total = Math.ceil(sec.bytes.length / INSN_SIZE);
  let k = 0;
  for (let slot = 0; slot < total; ) {
    const r = decodeAt(sec.bytes, slot, { section: sec.name, ...(file !== undefined ? { file } : {}) });
    if (!r.ok) throw r.error;
    const at = slot * INSN_SIZE;
    while (k + 1 < syms.length && syms[k + 1].offset <= at) k++;
    out.push({ section: sec.name, symbol: syms[k]?.name ?? sec.name, index: slot, bytes: sec.bytes.subarray(at, at + r.slots * INSN_SIZE), insn: r.insn });
    slot += r.slots;
  }
  return out;
}

/** True if these bytes start like an ELF file (anything else is taken as raw instructions). */
export function looksLikeElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

/** The code of a file: an ELF object's executable sections, or one section "raw" holding all the bytes. */
export function codeOfFile(bytes: Uint8Array, file?: string): { elf: boolean; sections: CodeSection[] } {
  if (!looksLikeElf(bytes)) return { elf: false, sections: [{ name: "raw", bytes, symbols: [] }] };
  return { elf: true, sections: readCodeSections(bytes, file) };
}


/** The code of a file, narrowed to one section when asked; a missing section is a usage error. */
export function selectCode(bytes: Uint8Array, file: string, section?: string): { elf: boolean; sections: CodeSection[] } {
  const code = codeOfFile(bytes, file);
  if (section === undefined) return code;
  if (!code.elf) throw new TsbpfError("USAGE", `--section ${section}: ${file} is raw code, not an ELF object`, { file }, "raw input has no sections; drop --section");
  const sections = code.sections.filter((s) => s.name === section);
  if (sections.length === 0) {
    const names = code.sections.map((s) => s.name).join(", ") || "none";
    throw new TsbpfError("ELF_BAD_SECTION", `no code section named ${section}`, { file }, `code sections in this object: ${names}`);
  }
  return { elf: true, sections };
}

/** `tsbpf disasm FILE [--section S]` in the llvm syntax: llvm-objdump -d's text for an object, bare lines for raw code. */
export function llvmListing(bytes: Uint8Array, file: string, section?: string): string {
  const code = selectCode(bytes, file, section);
  return code.elf ? llvmObjdumpText(file, code.sections) : llvmRawText(code.sections[0].bytes);
}
