// The assembler as `tsbpf asm` runs it (keepSource: false: code kept encoded, no Insn per line)
// against llvm-mc-19: generated programs with labels, label jumps and extern references become
// the same sections and relocations; and the two modes of assemble() agree on random input.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { assemble, elfObject } from "../../asm/assemble.ts";
import { TsbpfError } from "../../src/errors.ts";
import { haveTool, run } from "../support/env.ts";
import { llvmInsnLine, readelfSummary } from "./llvm-mc-gen.ts";

/** A program of generated lines with labels, jumps to them (both ways) and extern references. */
const program: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: llvmInsnLine },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 19 }).map((k) => `L${k}:`) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 19 }).map((k) => `goto L${k}`) },
      { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 19 })).map(([r, k]) => `if r${r} s> 7 goto L${k}`) },
      { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 10 }), fc.constantFrom("ext_a", "ext_b")).map(([r, n]) => `r${r} = ${n} ll`) },
      { weight: 1, arbitrary: fc.constantFrom("call ext_fn", "call ext_fn2") },
    ),
    { minLength: 1, maxLength: 300 },
  )
  // Every label defined once (at the end if the lines never define it), so that both assemblers accept the text.
  .map((lines) => {
    const seen = new Set<string>();
    const body = lines.filter((l) => !l.endsWith(":") || (!seen.has(l) && seen.add(l)));
    for (let k = 0; k < 20; k++) if (!seen.has(`L${k}:`)) body.push(`L${k}:`);
    return "\t.text\n" + body.map((l) => (l.endsWith(":") ? l : `\t${l}`)).join("\n") + "\n\texit\n";
  });

describe.skipIf(!haveTool("llvm-mc-19") || !haveTool("llvm-readelf-19"))("tsbpf asm's path (no sources kept) vs llvm-mc-19", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "tsbpf-asm-cli-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("generated programs with labels and externs: same sections and relocations", () => {
    const texts = fc.sample(program, 12);
    texts.forEach((text, k) => {
      const src = join(dir, `p${k}.s`);
      writeFileSync(src, text);
      writeFileSync(join(dir, `p${k}.ours.o`), elfObject(assemble(text, src, { keepSource: false })));
      run("llvm-mc-19", ["-triple", "bpfel", "-mcpu=v4", "-filetype=obj", "-o", join(dir, `p${k}.mc.o`), src]);
      const ours = readelfSummary(join(dir, `p${k}.ours.o`));
      const theirs = readelfSummary(join(dir, `p${k}.mc.o`));
      expect(ours.sections[".text"], text).toEqual(theirs.sections[".text"]);
      expect(ours.relocs, text).toEqual(theirs.relocs);
    });
  });

  it("an objdump -r relocation line after a plain ld_imm64 line makes llvm-mc's relocation", () => {
    const ours = "\t.text\n\tr0 = 0\n\tr1 = 0 ll\n0000000000000008:  R_BPF_64_64  ext_map\n\tr2 = r1\n\texit\n";
    const theirs = "\t.text\n\tr0 = 0\n\tr1 = ext_map ll\n\tr2 = r1\n\texit\n";
    writeFileSync(join(dir, "r.ours.o"), elfObject(assemble(ours, "r.s", { keepSource: false })));
    writeFileSync(join(dir, "r.s"), theirs);
    run("llvm-mc-19", ["-triple", "bpfel", "-mcpu=v4", "-filetype=obj", "-o", join(dir, "r.mc.o"), join(dir, "r.s")]);
    const a = readelfSummary(join(dir, "r.ours.o"));
    const b = readelfSummary(join(dir, "r.mc.o"));
    expect(a.sections[".text"]).toEqual(b.sections[".text"]);
    expect(a.relocs).toEqual(b.relocs);
  });
});

describe("assemble() with and without sources kept", () => {
  const piece = fc.constantFrom(
    ".text", ".data", '.section xdp,"ax",@progbits', ".globl f", ".type f,@function", ".size f, .Lend-f", ".byte 0x95, 0, 0, 0",
    ".byte 0, 0, 0, 0", ".byte 0x18", ".long 0, 7", ".map m, type=hash, key=4, value=8, max_entries=4", "f:", "g:", ".Lend:",
    "r0 = 0", "r0 = 0 ll", "exit", "call f", "call g", "call bpf_ktime_get_ns", "call nosuch", "r1 = m ll", "r1 = f ll", "goto f",
    "goto .Lend", "gotol g", "if r1 > 2 goto f", "if w1 s< -3 goto +1", "r1 = map[id:3]", "(95) exit", "ld_pseudo r1, 4, 1",
    "*(u32 *)(r10 - 4) = 7", "r2 = *(u64 *)(r1 + 8)", "r1 += r11", "goto +40000", "0000000000000000:  R_BPF_64_64  m",
  );
  const result = (text: string, keepSource: boolean): string => {
    try {
      return Buffer.from(elfObject(assemble(text, "t.s", { keepSource }))).toString("hex");
    } catch (e) {
      if (!(e instanceof TsbpfError)) throw e;
      return `${e.code} ${e.message} @${e.where.file}:${e.where.line}:${e.where.column}`;
    }
  };
  it("write the same object or fail with the same message at the same line:column", () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 16 }), (lines) => {
        const text = lines.join("\n") + "\n";
        expect(result(text, false)).toBe(result(text, true));
      }),
      { numRuns: 1000 },
    );
  });
});
