// Test helpers for the llvm-objdump differential tests: write code sections (raw bytes plus
// symbols) as a .s of `.byte` lines, assemble it with llvm-mc-19 into a relocatable ELF, and run
// llvm-objdump-19 -d over it once. The returned object path lets us run our side on the same file.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CodeSection } from "../../../asm/disasm.ts";
import { run } from "../../support/env.ts";

/** A scratch directory removed by `dispose()`. */
export interface Scratch {
  dir: string;
  dispose(): void;
}

export function scratch(prefix = "tsbpf-objdump-"): Scratch {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

function byteLines(bytes: Uint8Array, from: number, to: number): string {
  let out = "";
  for (let at = from; at < to; at += 16) out += `.byte ${Array.from(bytes.subarray(at, Math.min(to, at + 16))).join(",")}\n`;
  return out;
}

/** Assembly text that reproduces these sections byte for byte, with their symbols as labels. */
export function sectionsAsm(sections: readonly CodeSection[]): string {
  let out = "";
  for (const s of sections) {
    out += s.name === ".text" ? ".text\n" : `.section ${s.name},"ax",@progbits\n`;
    const syms = [...s.symbols].sort((a, b) => a.offset - b.offset);
    let at = 0;
    for (const sym of syms) {
      out += byteLines(s.bytes, at, sym.offset);
      at = Math.max(at, sym.offset);
      if (sym.kind === "func") out += `.type ${sym.name},@function\n`;
      if (sym.kind === "object") out += `.type ${sym.name},@object\n`;
      out += `${sym.name}:\n`;
    }
    out += byteLines(s.bytes, at, s.bytes.length);
  }
  return out;
}

/** Assemble sections into `dir/name` with llvm-mc-19; returns the object's path. */
export function assembleSections(dir: string, name: string, sections: readonly CodeSection[]): string {
  const src = join(dir, name.replace(/\.o$/, ".s"));
  const obj = join(dir, name);
  writeFileSync(src, sectionsAsm(sections));
  run("llvm-mc-19", ["-triple", "bpfel", "-filetype=obj", "-o", obj, src]);
  return obj;
}

/** `llvm-objdump-19 -d` of a file, run from the file's directory so the header names it as given. */
export function objdump(dir: string, name: string): string {
  return run("sh", ["-c", `cd "$1" && exec llvm-objdump-19 -d "$2"`, "sh", dir, name]);
}

/** The first differing line of two listings, with a little context, or undefined when equal. */
export function firstDifference(ours: string, theirs: string): string | undefined {
  if (ours === theirs) return undefined;
  const a = ours.split("\n");
  const b = theirs.split("\n");
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const ctx = (l: string[]) => l.slice(Math.max(0, i - 2), i + 3).join("\n");
  return `listings differ at line ${i + 1}\n--- llvm-objdump-19:\n${ctx(b)}\n--- tsbpf:\n${ctx(a)}`;
}
