// Listings beyond llvm-objdump's: the kernel syntax, JSON, and `disassemble`, which picks one for
// `tsbpf disasm`. Kept apart from asm/disasm.ts so the plain llvm listing loads no more than it uses.

import { decodeAt, INSN_SIZE } from "./decode.ts";
import { llvmListing, selectCode, sortedSymbols, type CodeSection, type Endian } from "./disasm.ts";
import type { Insn } from "./insn.ts";
import { printKernel } from "./print-kernel.ts";
import { printLlvm } from "./print-llvm.ts";

const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const hexBytes = (b: Uint8Array) => Array.from(b, (x) => HEX2[x]).join(" ");

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
    const r = decodeAt(sec.bytes, slot, { section: sec.name, ...(file !== undefined ? { file } : {}), ...(sec.bigEndian === true ? { bigEndian: true } : {}) });
    if (!r.ok) throw r.error;
    const at = slot * INSN_SIZE;
    while (k + 1 < syms.length && syms[k + 1].offset <= at) k++;
    out.push({ section: sec.name, symbol: syms[k]?.name ?? sec.name, index: slot, bytes: sec.bytes.subarray(at, at + r.slots * INSN_SIZE), insn: r.insn });
    slot += r.slots;
  }
  return out;
}

export type Syntax = "llvm" | "kernel";

/** The kernel-syntax listing: per section and symbol, "%4d: (xx) text" lines as bpftool prints them. */
export function kernelListingText(sections: readonly CodeSection[], file?: string): string {
  let out = "";
  for (const s of sections) {
    const list = listCode(s, file);
    if (list.length === 0) continue;
    out += `${out === "" ? "" : "\n"}Disassembly of section ${s.name}:\n`;
    let sym: string | undefined;
    for (const x of list) {
      if (x.symbol !== sym) out += `\n${(sym = x.symbol)}:\n`;
      out += String(x.index).padStart(4, " ") + ": " + printKernel(x.insn) + "\n";
    }
  }
  return out;
}

/** One instruction in `tsbpf disasm --json` output. */
export interface DisasmJsonEntry {
  section: string;
  symbol: string;
  index: number;
  /** The instruction's bytes as hex pairs separated by spaces. */
  bytes: string;
  text: string;
  op: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  /** ld_imm64 only: the 64-bit immediate as a decimal string (JSON numbers lose bits past 2^53). */
  imm64?: string;
}

export function listingJson(sections: readonly CodeSection[], syntax: Syntax, file?: string): DisasmJsonEntry[] {
  const out: DisasmJsonEntry[] = [];
  for (const s of sections) {
    for (const x of listCode(s, file)) {
      const { op, dst, src, off, imm, imm64 } = x.insn;
      const e: DisasmJsonEntry = {
        section: x.section, symbol: x.symbol, index: x.index, bytes: hexBytes(x.bytes),
        text: syntax === "llvm" ? printLlvm(x.insn) : printKernel(x.insn), op, dst, src, off, imm,
      };
      if (imm64 !== undefined) e.imm64 = imm64.toString();
      out.push(e);
    }
  }
  return out;
}

export interface DisasmOptions {
  /** File name as the user gave it: it heads llvm-objdump's output and names error positions. */
  file: string;
  /** Only this section (of an ELF object). */
  section?: string;
  syntax?: Syntax;
  json?: boolean;
  /** Byte order of raw input; an ELF object gives its own (and must agree if this is set). */
  endian?: Endian;
}

/**
 * What `tsbpf disasm` prints for a file's bytes. With the llvm syntax and no other option the
 * text equals `llvm-objdump-19 -d FILE`; raw (non-ELF) input is one section of instructions.
 */
export function disassemble(bytes: Uint8Array, o: DisasmOptions): string {
  const syntax = o.syntax ?? "llvm";
  if (syntax === "llvm" && !o.json) return new TextDecoder().decode(llvmListing(bytes, o.file, o.section, undefined, o.endian));
  const { sections } = selectCode(bytes, o.file, o.section, o.endian);
  if (o.json) return JSON.stringify(listingJson(sections, syntax, o.file), null, 1) + "\n";
  return kernelListingText(sections, o.file);
}
