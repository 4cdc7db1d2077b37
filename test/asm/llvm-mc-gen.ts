// Helpers for the llvm-mc differential tests: run llvm-mc-19 once over a whole corpus and read back
// its .text bytes, and a fast-check generator of instruction lines in the syntax llvm-mc accepts.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { run } from "../support/env.ts";

/** Assemble `text` with llvm-mc-19 (-mcpu=v4) and return the raw bytes of `section`. */
export function llvmMcBytes(text: string, section = ".text"): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-mc-"));
  try {
    writeFileSync(join(dir, "in.s"), text);
    run("llvm-mc-19", ["-triple", "bpfel", "-mcpu=v4", "-filetype=obj", "-o", join(dir, "out.o"), join(dir, "in.s")]);
    run("llvm-objcopy-19", ["-O", "binary", `--only-section=${section}`, join(dir, "out.o"), join(dir, "out.bin")]);
    return new Uint8Array(readFileSync(join(dir, "out.bin")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

// --- llvm-readelf-19's view of an object -----------------------------------------------------

export interface Norm {
  sections: Record<string, { type: string; flags: number; align: number; size: number; bytes: string }>;
  relocs: Record<string, string[]>;
  symbols: string[];
}

type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** What llvm-readelf-19 sees in an object, keeping only what must match. */
export function readelfSummary(path: string): Norm {
  const j = JSON.parse(run("llvm-readelf-19", ["--elf-output-style=JSON", "-S", "-s", "-r", "--section-data", path]))[0] as J;
  const secs = (j.Sections as J[]).map((s) => s.Section);
  const names = new Map<number, string>(secs.map((s) => [s.Index, s.Name.Name]));
  const out: Norm = { sections: {}, relocs: {}, symbols: [] };
  for (const s of secs) {
    const n: string = s.Name.Name;
    if (s.Type.Name === "SHT_NULL" || /^(\.strtab|\.symtab|\.llvm_addrsig)$/.test(n) || s.Type.Name === "SHT_REL") continue;
    const bytes: number[] = s.SectionData?.Bytes ?? [];
    out.sections[n] = { type: s.Type.Name, flags: s.Flags.Value, align: s.AddressAlignment, size: s.Size, bytes: Buffer.from(bytes).toString("hex") };
  }
  for (const r of (j.Relocations ?? []) as J[]) {
    const target = names.get(secs.find((s) => s.Index === r.SectionIndex).Info)!;
    out.relocs[target] = (r.Relocs as J[]).map((x) => `${x.Relocation.Offset} ${x.Relocation.Type.Name} ${x.Relocation.Symbol.Name}`);
  }
  for (const x of (j.Symbols ?? []) as J[]) {
    const s = x.Symbol;
    // Labels (local, untyped) are symbols for llvm-mc but not for clang -c; files and sections are bookkeeping.
    if (s.Type.Name === "File" || s.Type.Name === "Section" || s.Name.Name === "") continue;
    if (s.Type.Name === "None" && s.Binding.Name === "Local") continue;
    out.symbols.push(`${s.Name.Name} ${s.Type.Name} ${s.Binding.Name} ${s.Section.Name} ${s.Value} ${s.Size}`);
  }
  out.symbols.sort();
  return out;
}

// --- a generator of instruction text in llvm-mc's syntax ---------------------------------------

const reg = fc.integer({ min: 0, max: 10 });
/** How llvm-mc would be fed a number: decimal or hex, with the sign in front. */
const showInt = (v: number | bigint, style: boolean) => {
  const neg = v < 0;
  const a = neg ? -BigInt(v) : BigInt(v);
  return (neg ? "-" : "") + (style ? "0x" + a.toString(16) : a.toString());
};
const int = (min: number, max: number) => fc.tuple(fc.integer({ min, max }), fc.boolean()).map(([v, s]) => showInt(v, s));
// llvm-mc takes 32-bit immediates in [-2^31, 2^32) and keeps the low 32 bits.
const imm32 = fc.oneof(int(-0x80000000, 0x7fffffff), int(-16, 16), int(0x80000000, 0xffffffff));
const off16 = fc.oneof(fc.integer({ min: -32768, max: 32767 }), fc.integer({ min: -16, max: 16 }));
const memOff = fc.tuple(off16, fc.boolean()).map(([o, h]) => (o < 0 ? ` - ${showInt(-o, h)}` : ` + ${showInt(o, h)}`));
const jmpOff = off16.map((o) => (o < 0 ? `${o}` : `+${o}`));
const ALU = ["+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "%=", "^=", "s>>=", "s/=", "s%="];
const CMP = ["==", "!=", ">", ">=", "<", "<=", "s>", "s>=", "s<", "s<=", "&"];
const SZ = ["u8", "u16", "u32", "u64"];

/** One instruction line llvm-mc-19 -mcpu=v4 accepts (no symbols). */
export const llvmInsnLine: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.boolean(), reg, fc.constantFrom(...ALU), reg).map(([w, d, op, s]) => `${w ? "w" : "r"}${d} ${op} ${w ? "w" : "r"}${s}`),
  fc.tuple(fc.boolean(), reg, fc.constantFrom(...ALU), imm32).map(([w, d, op, i]) => `${w ? "w" : "r"}${d} ${op} ${i}`),
  fc.tuple(fc.boolean(), reg, reg).map(([w, d, s]) => `${w ? "w" : "r"}${d} = ${w ? "w" : "r"}${s}`),
  fc.tuple(fc.boolean(), reg, imm32).map(([w, d, i]) => `${w ? "w" : "r"}${d} = ${i}`),
  fc.tuple(fc.boolean(), reg).map(([w, d]) => `${w ? "w" : "r"}${d} = -${w ? "w" : "r"}${d}`),
  fc.tuple(reg, reg, fc.constantFrom("s8", "s16", "s32")).map(([d, s, t]) => `r${d} = (${t})r${s}`),
  fc.tuple(reg, reg, fc.constantFrom("s8", "s16")).map(([d, s, t]) => `w${d} = (${t})w${s}`),
  fc.tuple(reg, fc.constantFrom("be16", "be32", "be64", "le16", "le32", "le64", "bswap16", "bswap32", "bswap64")).map(([d, k]) => `r${d} = ${k} r${d}`),
  fc.tuple(reg, fc.bigInt({ min: -(1n << 63n), max: (1n << 64n) - 1n }), fc.boolean()).map(([d, v, h]) => `r${d} = ${showInt(v, h)} ll`),
  fc.tuple(fc.boolean(), reg, fc.constantFrom(...SZ), reg, memOff).map(([w, d, t, s, o]) =>
    `${w && t !== "u64" ? "w" : "r"}${d} = *(${t} *)(r${s}${o})`),
  fc.tuple(reg, fc.constantFrom("s8", "s16", "s32"), reg, memOff).map(([d, t, s, o]) => `r${d} = *(${t} *)(r${s}${o})`),
  fc.tuple(fc.constantFrom(...SZ), reg, memOff, fc.boolean(), reg).map(([t, d, o, w, s]) =>
    `*(${t} *)(r${d}${o}) = ${w && t !== "u64" ? "w" : "r"}${s}`),
  fc.tuple(fc.constantFrom(...SZ), reg, memOff, imm32).map(([t, d, o, i]) => `*(${t} *)(r${d}${o}) = ${i}`),
  fc.tuple(fc.boolean(), reg, memOff, fc.constantFrom("+=", "|=", "&=", "^="), reg).map(([w, d, o, op, s]) =>
    `lock *(${w ? "u32" : "u64"} *)(r${d}${o}) ${op} ${w ? "w" : "r"}${s}`),
  fc.tuple(fc.boolean(), reg, memOff, fc.constantFrom("add", "or", "and", "xor"), reg).map(([w, d, o, op, s]) =>
    `${w ? "w" : "r"}${s} = atomic_fetch_${op}((${w ? "u32" : "u64"} *)(r${d}${o}), ${w ? "w" : "r"}${s})`),
  fc.tuple(fc.boolean(), reg, memOff, reg).map(([w, d, o, s]) => (w ? `w${s} = xchg32_32(r${d}${o}, w${s})` : `r${s} = xchg_64(r${d}${o}, r${s})`)),
  fc.tuple(fc.boolean(), reg, memOff, reg).map(([w, d, o, s]) => (w ? `w0 = cmpxchg32_32(r${d}${o}, w0, w${s})` : `r0 = cmpxchg_64(r${d}${o}, r0, r${s})`)),
  fc.tuple(fc.boolean(), reg, fc.constantFrom(...CMP), reg, jmpOff).map(([w, d, op, s, o]) =>
    `if ${w ? "w" : "r"}${d} ${op} ${w ? "w" : "r"}${s} goto ${o}`),
  fc.tuple(fc.boolean(), reg, fc.constantFrom(...CMP), imm32, jmpOff).map(([w, d, op, i, o]) => `if ${w ? "w" : "r"}${d} ${op} ${i} goto ${o}`),
  jmpOff.map((o) => `goto ${o}`),
  jmpOff.map((o) => `gotol ${o}`),
  jmpOff.map((o) => `may_goto ${o}`),
  imm32.map((i) => `call ${i}`),
  reg.map((r) => `callx r${r}`),
  fc.constant("exit"),
  fc.tuple(fc.constantFrom("u8", "u16", "u32"), imm32).map(([t, i]) => `r0 = *(${t} *)skb[${i}]`),
  fc.tuple(fc.constantFrom("u8", "u16", "u32"), reg).map(([t, r]) => `r0 = *(${t} *)skb[r${r}]`),
  fc.tuple(reg, fc.integer({ min: 0, max: 6 }), int(-0x80000000, 0x7fffffff)).map(([d, s, i]) => `ld_pseudo r${d}, ${s}, ${i}`),
);
