// Section- and symbol-aware disassembly listings. `llvmObjdumpText` reproduces `llvm-objdump-19 -d`
// byte for byte: the file and section headers, one block per symbol, the `...` for zero runs,
// data dumps under object symbols, and `<sym+0x..>` after branches. asm/listing.ts gives the same
// code as structured entries (--json, the kernel syntax). Imports stay few: with its three imports
// this module (and src/jit-tier.ts, a JIT hint) is all that `tsbpf disasm` loads.

import { TsbpfError } from "../src/errors.ts";
import { readCodeSections } from "./elf-code.ts";
import { fieldsText, lastLlvmBranch, llvmDecodeAt } from "./print-llvm.ts";
import { belowTopTier, largeJob } from "../src/jit-tier.ts";

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
  /** The code is big-endian BPF (clang -target bpfeb); absent or false for the usual little-endian. */
  bigEndian?: boolean;
}

const TWO64 = 1n << 64n;
const HEXCH = Array.from("0123456789abcdef", (c) => c.charCodeAt(0));
const TAB = 9, NL = 10, SP = 32, COLON = 58;

/**
 * The listing is written as ASCII straight into a growing byte buffer: no multi-megabyte string to
 * flatten and encode at the end, and what goes to stdout is these bytes.
 */
/** Bun's Buffer methods that write a string at an offset, without write()'s encoding dispatch. */
interface BunBuffer extends Buffer {
  latin1Write?(s: string, offset: number): number;
  utf8Write?(s: string, offset: number): number;
}

function alloc(size: number): BunBuffer {
  return Buffer.allocUnsafe(size) as BunBuffer;
}

/** Receives each full chunk of a streamed listing; the chunk's memory is reused once it returns. */
export type ChunkSink = (chunk: Uint8Array) => void;

/** Chunk size of a streamed listing: small enough to stay in cache, large enough for few writes. */
const CHUNK = 1 << 16;

class Out {
  buf: BunBuffer;
  n = 0;
  /**
   * `expect`: a guess at the final size, so the buffer rarely has to grow. With a `sink`, the
   * buffer is one chunk, handed to the sink whenever it fills: fresh memory is dear here (each new
   * page faults), and a big listing would otherwise be built whole before it is written.
   */
  constructor(expect = 1 << 16, private readonly sink?: ChunkSink) {
    this.buf = alloc(sink ? CHUNK : expect);
  }
  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    if (this.sink && this.n > 0) {
      this.sink(this.buf.subarray(0, this.n));
      this.n = 0;
      if (k <= this.buf.length) return;
    }
    let size = this.buf.length * 2;
    while (size < this.n + k) size *= 2;
    const b = alloc(size);
    this.buf.copy(b, 0, 0, this.n);
    this.buf = b;
  }
  /** Text the printers make, ASCII by construction: copied natively, one byte per character. */
  ascii(s: string): void {
    this.room(s.length);
    const b = this.buf;
    this.n += b.latin1Write ? b.latin1Write(s, this.n) : b.write(s, this.n, "latin1");
  }
  /** Any text (symbol, section and file names), as UTF-8. */
  text(s: string): void {
    this.room(s.length * 3);
    const b = this.buf;
    this.n += b.utf8Write ? b.utf8Write(s, this.n) : b.write(s, this.n, "utf8");
  }
  bytes(x: Uint8Array): void {
    this.room(x.length);
    this.buf.set(x, this.n);
    this.n += x.length;
  }
  byte(c: number): void {
    this.room(1);
    this.buf[this.n++] = c;
  }
  /** "xx xx xx" for bytes[at, at+k). */
  hex(bytes: Uint8Array, at: number, k: number): void {
    this.room(3 * k);
    const b = this.buf;
    let n = this.n;
    for (let i = 0; i < k; i++) {
      if (i > 0) b[n++] = SP;
      const x = bytes[at + i];
      b[n++] = HEXCH[x >> 4];
      b[n++] = HEXCH[x & 15];
    }
    this.n = n;
  }
  /** A non-negative integer right-aligned in `width` columns (printf's %<width>d), digits written directly. */
  padded(v: number, width: number): void {
    let digits = 1;
    for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
    this.room(Math.max(width, digits));
    const b = this.buf;
    let n = this.n;
    for (let i = digits; i < width; i++) b[n++] = SP;
    n += digits;
    let x = v;
    for (let i = 1; i <= digits; i++) {
      b[n - i] = 48 + (x % 10);
      x = Math.floor(x / 10);
    }
    this.n = n;
  }
  result(): Uint8Array {
    return this.buf.subarray(0, this.n);
  }
}

/** Symbols in the order llvm-objdump sorts them: by offset, then name; stable otherwise. */
export function sortedSymbols(sec: CodeSection): CodeSymbol[] {
  const syms = [...sec.symbols].sort((a, b) => a.offset - b.offset || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // With no symbol at the start, llvm-objdump makes one up from the section name.
  if (syms.length === 0 || syms[0].offset !== 0) syms.unshift({ name: sec.name, offset: 0, kind: "func" });
  return syms;
}

/** " <sym+0x..>": the last symbol at or before `target` (a byte offset, possibly wrapped past 2^64). */
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

/** llvm-objdump's dump of bytes under a data symbol in a text section: 8 per line, hex and ASCII. */
function dataLines(out: Out, bytes: Uint8Array, start: number, end: number): void {
  for (let at = start; at < end; at += 8) {
    const n = Math.min(8, end - at);
    out.ascii(at.toString(16).padStart(8, " ") + ":");
    for (let i = 0; i < n; i++) {
      out.byte(SP);
      out.hex(bytes, at + i, 1);
    }
    out.ascii(" ".repeat(3 * (8 - n) + 9));
    for (let i = 0; i < n; i++) {
      const b = bytes[at + i];
      out.byte(b >= 0x20 && b <= 0x7e ? b : 0x2e);
    }
    out.byte(NL);
  }
}

/** Disassembly lines for bytes [start, end) of a section, decoding up to the section's end. */
function codeLines(out: Out, bytes: Uint8Array, start: number, end: number, syms: readonly CodeSymbol[]): void {
  let at = start;
  const size = bytes.length;
  while (at < end) {
    const b0 = bytes[at];
    // A run of 8 or more zero bytes prints as "..." and is skipped in steps of 4.
    if (b0 === 0) {
      let z = at;
      while (z < end && bytes[z] === 0) z++;
      if (z - at >= 8) {
        out.ascii("\t\t...\n");
        at += (z - at) & ~3;
        continue;
      }
    }
    out.padded(Math.floor(at / 8), 8);
    out.byte(COLON);
    out.byte(TAB);
    if (b0 !== 0x18 && size - at >= 8) {
      // The common case, without llvmDecodeAt's result object.
      const lo = bytes[at + 2] | (bytes[at + 3] << 8);
      const imm = bytes[at + 4] | (bytes[at + 5] << 8) | (bytes[at + 6] << 16) | (bytes[at + 7] << 24);
      const text = fieldsText(b0, bytes[at + 1] & 15, bytes[at + 1] >> 4, (lo << 16) >> 16, imm);
      out.hex(bytes, at, 8);
      out.byte(TAB);
      if (text === undefined) out.ascii("<unknown>");
      else {
        out.ascii(text);
        const branch = lastLlvmBranch();
        if (branch !== undefined && syms.length > 0) out.text(annotation(syms, at + 8 + branch * 8));
      }
      out.byte(NL);
      at += 8;
      continue;
    }
    const d = llvmDecodeAt(bytes, at);
    out.hex(bytes, at, d.size);
    out.byte(TAB);
    if (d.text === undefined) out.ascii("<unknown>");
    else {
      out.ascii(d.text);
      if (d.branch !== undefined && syms.length > 0) out.text(annotation(syms, at + d.size + d.branch * d.size));
    }
    out.byte(NL);
    at += d.size;
  }
}

/**
 * codeLines for big-endian code, kept apart so the little-endian loop stays as it is. LLVM reads the
 * register byte with dst in the high nibble and off, imm (and ld_imm64's upper half) big-endian;
 * the bytes still print in file order.
 */
function codeLinesBE(out: Out, bytes: Uint8Array, start: number, end: number, syms: readonly CodeSymbol[]): void {
  let at = start;
  const size = bytes.length;
  while (at < end) {
    const b0 = bytes[at];
    if (b0 === 0) {
      let z = at;
      while (z < end && bytes[z] === 0) z++;
      if (z - at >= 8) {
        out.ascii("\t\t...\n");
        at += (z - at) & ~3;
        continue;
      }
    }
    out.padded(Math.floor(at / 8), 8);
    out.byte(COLON);
    out.byte(TAB);
    let n = 1;
    let text: string | undefined;
    let branch: number | undefined;
    if (size - at >= 8) {
      n = 8;
      const dst = bytes[at + 1] >> 4;
      const src = bytes[at + 1] & 15;
      const off = ((bytes[at + 2] << 8) | bytes[at + 3]) << 16 >> 16;
      const imm = (bytes[at + 4] << 24) | (bytes[at + 5] << 16) | (bytes[at + 6] << 8) | bytes[at + 7];
      if (b0 !== 0x18) {
        text = fieldsText(b0, dst, src, off, imm);
        branch = text === undefined ? undefined : lastLlvmBranch();
      } else if (fieldsText(b0, dst, src, off, imm, 0n) !== undefined) {
        // As in llvmDecodeAt: a first half LLVM accepts with no room for the second costs one byte.
        if (size - at < 16) n = 1;
        else {
          n = 16;
          const hi = (bytes[at + 12] << 24) | (bytes[at + 13] << 16) | (bytes[at + 14] << 8) | bytes[at + 15];
          text = fieldsText(b0, dst, src, off, imm, (BigInt(hi >>> 0) << 32n) | BigInt(imm >>> 0));
        }
      }
    }
    out.hex(bytes, at, n);
    out.byte(TAB);
    if (text === undefined) out.ascii("<unknown>");
    else {
      out.ascii(text);
      if (branch !== undefined && syms.length > 0) out.text(annotation(syms, at + 8 + branch * 8));
    }
    out.byte(NL);
    at += n;
  }
}

const dec = new TextDecoder();

/** llvm-objdump-style lines for raw code with no symbols (and so no branch annotations). */
export function llvmRawText(bytes: Uint8Array, bigEndian = false): string {
  return dec.decode(llvmRawBytes(bytes, undefined, bigEndian));
}

// A listing line is about 45-60 bytes per 8-byte instruction.
const guess = (codeBytes: number) => 4096 + codeBytes * 7;

export function llvmRawBytes(bytes: Uint8Array, sink?: ChunkSink, bigEndian = false): Uint8Array {
  if (bytes.length > LARGE_CODE) largeJob();
  const out = new Out(guess(bytes.length), sink);
  (bigEndian ? codeLinesBE : codeLines)(out, bytes, 0, bytes.length, []);
  return out.result();
}

function sectionInto(out: Out, sec: CodeSection): void {
  const syms = sortedSymbols(sec);
  const size = sec.bytes.length;
  let printed = false;
  for (let i = 0; i < syms.length; ) {
    const start = syms[i].offset;
    let j = i;
    while (j < syms.length && syms[j].offset === start) j++;
    // Of the symbols at one address, only the last in sort order heads the block.
    const head = syms[j - 1];
    const end = j < syms.length ? Math.min(size, syms[j].offset) : size;
    i = j;
    if (start >= end) continue;
    if (!printed) out.text(`\nDisassembly of section ${sec.name}:\n`);
    printed = true;
    out.text(`\n${start.toString(16).padStart(16, "0")} <${head.name}>:\n`);
    if (head.kind === "object" || head.kind === "common") dataLines(out, sec.bytes, start, end);
    else if (sec.bigEndian === true) codeLinesBE(out, sec.bytes, start, end, syms);
    else codeLines(out, sec.bytes, start, end, syms);
  }
}

/** One section's "Disassembly of section" block as llvm-objdump -d prints it ("" if it prints nothing). */
export function llvmSectionText(sec: CodeSection): string {
  const out = new Out();
  sectionInto(out, sec);
  return dec.decode(out.result());
}

/** The whole of `llvm-objdump-19 -d FILE` for a BPF object (either byte order) with these code sections. */
export function llvmObjdumpText(fileName: string, sections: readonly CodeSection[]): string {
  return dec.decode(llvmObjdumpBytes(fileName, sections));
}

/** llvmObjdumpText as the bytes llvm-objdump writes. */
export function llvmObjdumpBytes(fileName: string, sections: readonly CodeSection[], sink?: ChunkSink): Uint8Array {
  if (sections.reduce((n, s) => n + s.bytes.length, 0) > LARGE_CODE) largeJob();
  const out = new Out(guess(sections.reduce((n, s) => n + s.bytes.length, 0)), sink);
  out.text(`\n${fileName}:\tfile format elf64-bpf\n`);
  for (const s of sections) sectionInto(out, s);
  return out.result();
}

/** True if these bytes start like an ELF file (anything else is taken as raw instructions). */
export function looksLikeElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

/** Byte order of raw input (an ELF object says its own). */
export type Endian = "little" | "big";

/**
 * The code of a file: an ELF object's executable sections, or one section "raw" holding all the
 * bytes in the byte order `endian` (little unless said). An ELF object whose byte order differs
 * from an explicit `endian` is a usage error rather than a silent choice of one.
 */
export function codeOfFile(bytes: Uint8Array, file?: string, endian?: Endian): { elf: boolean; sections: CodeSection[] } {
  if (!looksLikeElf(bytes)) {
    const raw: CodeSection = { name: "raw", bytes, symbols: [] };
    if (endian === "big") raw.bigEndian = true;
    return { elf: false, sections: [raw] };
  }
  if (endian !== undefined && bytes.length > 5 && (bytes[5] === 1 || bytes[5] === 2) && (bytes[5] === 2) !== (endian === "big")) {
    const is = bytes[5] === 2 ? "big" : "little";
    throw new TsbpfError("USAGE", `--endian ${endian}: ${file ?? "the input"} is a ${is}-endian ELF object`, { ...(file !== undefined ? { file } : {}), offset: 5 }, "an ELF object gives its own byte order; --endian is for raw input (drop it)");
  }
  return { elf: true, sections: readCodeSections(bytes, file) };
}


/** The code of a file, narrowed to one section when asked; a missing section is a usage error. */
export function selectCode(bytes: Uint8Array, file: string, section?: string, endian?: Endian): { elf: boolean; sections: CodeSection[] } {
  const code = codeOfFile(bytes, file, endian);
  if (section === undefined) return code;
  if (!code.elf) throw new TsbpfError("USAGE", `--section ${section}: ${file} is raw code, not an ELF object`, { file }, "raw input has no sections; drop --section");
  const sections = code.sections.filter((s) => s.name === section);
  if (sections.length === 0) {
    const names = code.sections.map((s) => s.name).join(", ") || "none";
    throw new TsbpfError("ELF_BAD_SECTION", `no code section named ${section}`, { file }, `code sections in this object: ${names}`);
  }
  return { elf: true, sections };
}

/**
 * `tsbpf disasm FILE [--section S]` in the llvm syntax: llvm-objdump -d's bytes for an object, bare
 * lines for raw code. With a `sink`, full chunks go to it as they are made and the rest is returned.
 */
export function llvmListing(bytes: Uint8Array, file: string, section?: string, sink?: ChunkSink, endian?: Endian): Uint8Array {
  const code = selectCode(bytes, file, section, endian);
  const raw = code.sections[0];
  return code.elf ? llvmObjdumpBytes(file, code.sections, sink) : llvmRawBytes(raw.bytes, sink, raw.bigEndian === true);
}

// One listing runs these too briefly to repay JavaScriptCore's top tier (src/jit-tier.ts), when
// it is long enough for that tier to be tried at all (8k instructions).
const LARGE_CODE = 1 << 16;
belowTopTier([Out], [codeLines, codeLinesBE, dataLines, annotation, sectionInto]);
