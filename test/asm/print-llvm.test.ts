// Differential test of the llvm-objdump printer: thousands of generated instructions and random
// slots are assembled into one object by llvm-mc-19 and disassembled once by llvm-objdump-19; our
// listing of the same sections must be identical, line for line.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { arbInsn } from "../../asm/arbitrary.ts";
import { llvmObjdumpText, type CodeSection, type CodeSymbol } from "../../asm/disasm.ts";
import { encode } from "../../asm/encode.ts";
import { slotOffsets, type Insn } from "../../asm/insn.ts";
import { OPCODES } from "../../asm/opcodes.ts";
import { printLlvm } from "../../asm/print-llvm.ts";
import { haveTool } from "../support/env.ts";
import { assembleSections, firstDifference, objdump, scratch, type Scratch } from "./support/objdump.ts";

const seed = Number(process.env.TSBPF_SEED ?? Date.now() % 1_000_000);
const N_INSNS = 4000;

/** Random slots biased toward real opcodes, odd register nibbles, the fields LLVM checks, and zero runs. */
function arbRawSlot(): fc.Arbitrary<number[]> {
  const ops = [...OPCODES.keys()];
  const field = fc.record({
    op: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ops) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
    regs: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xbb })),
    off: fc.oneof(fc.constantFrom(0, 1, 8, 16, 32, -1), fc.integer({ min: -0x8000, max: 0x7fff })),
    imm: fc.oneof(
      fc.constantFrom(0, 1, 16, 32, 64, 0x01, 0x41, 0x51, 0xa1, 0xe1, 0xf1, 0x100, 0x10000, -1),
      fc.integer({ min: 0, max: 0x1ff }),
      fc.integer({ min: -0x80000000, max: 0x7fffffff }),
    ),
  });
  const slot = field.map(({ op, regs, off, imm }) => [op, regs, off & 0xff, (off >> 8) & 0xff, imm & 0xff, (imm >> 8) & 0xff, (imm >> 16) & 0xff, (imm >>> 24) & 0xff]);
  const zeros = fc.integer({ min: 1, max: 3 }).map((n) => new Array<number>(n * 8 - (n === 1 ? 0 : 4)).fill(0));
  return fc.oneof({ weight: 20, arbitrary: slot }, { weight: 1, arbitrary: zeros }, { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 12 }) });
}

function labelsEvery(insns: readonly Insn[], every: number): CodeSymbol[] {
  const at = slotOffsets(insns);
  const out: CodeSymbol[] = [{ name: "prog", offset: 0, kind: "func" }];
  for (let i = every; i < insns.length; i += every) out.push({ name: `L${i}`, offset: at[i] * 8, kind: "notype" });
  return out;
}

describe.skipIf(!haveTool("llvm-objdump-19") || !haveTool("llvm-mc-19"))(`llvm-objdump-19 -d vs tsbpf (seed ${seed})`, () => {
  let s: Scratch;
  let insns: Insn[];
  let sections: CodeSection[];
  let theirs: string;

  beforeAll(() => {
    s = scratch();
    insns = fc.sample(arbInsn({ kernelInvalid: true }), { numRuns: N_INSNS, seed });
    const raw = fc.sample(arbRawSlot(), { numRuns: 3000, seed: seed + 1 }).flat();
    sections = [
      { name: ".text", bytes: encode(insns), symbols: labelsEvery(insns, 97) },
      // Random slots; the section ends in a partial ld_imm64 so the byte-at-a-time tail shows too.
      { name: "raw", bytes: new Uint8Array([...raw, 0x18, 0x01, 0, 0, 1, 0, 0, 0, 0x95, 0, 0]), symbols: [{ name: "raw_start", offset: 0, kind: "notype" }] },
      // Symbol handling: no symbol at 0, several at one address, data symbols, a symbol past the end.
      {
        name: "syms",
        bytes: encode(insns.slice(0, 200)),
        symbols: [
          { name: "zeta", offset: 64, kind: "func" },
          { name: "Alpha", offset: 64, kind: "notype" },
          { name: "beta", offset: 64, kind: "object" },
          { name: "datum", offset: 128, kind: "object" },
          { name: "code", offset: 171, kind: "func" },
          { name: "more", offset: 400, kind: "notype" },
        ],
      },
    ];
    const obj = assembleSections(s.dir, "gen.o", sections);
    expect(obj).toContain("gen.o");
    theirs = objdump(s.dir, "gen.o");
  });
  afterAll(() => s?.dispose());

  it("prints the whole listing identically", () => {
    const ours = llvmObjdumpText("gen.o", sections);
    const diff = firstDifference(ours, theirs);
    expect(diff, `TSBPF_SEED=${seed}`).toBeUndefined();
  });

  it("printLlvm(insn) is the text column of every generated instruction", () => {
    // Lines of the .text block: "   N:\t<bytes>\t<text>[ <sym+0x..>]".
    const block = theirs.slice(theirs.indexOf("Disassembly of section .text:"), theirs.indexOf("Disassembly of section raw:"));
    const texts = block.split("\n").filter((l) => /^ *\d+:\t/.test(l)).map((l) => l.split("\t")[2] + (l.split("\t")[3] !== undefined ? "\t" + l.split("\t")[3] : ""));
    expect(texts.length).toBe(insns.length);
    insns.forEach((insn, i) => {
      const theirsText = texts[i].replace(/ <[^<>]*>$/, "");
      expect(printLlvm(insn), `insn ${i} ${JSON.stringify(insn, (_, v) => (typeof v === "bigint" ? v.toString() : v))}`).toBe(theirsText);
    });
  });
});
