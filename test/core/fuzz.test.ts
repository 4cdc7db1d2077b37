// Robustness of the CO-RE engine on arbitrary input: random local and target BTF (including
// reference loops and `___` names), random relocation records (any kind, any type id, any access
// path) over random instructions. Computing never throws; a relocation libbpf would refuse is an
// "error" fix-up; applying either succeeds (slot count kept) or throws CORE_RELO.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CLASS, SIZE, MODE, ALU_OP, slotOffsets, type Insn } from "../../asm/index.ts";
import { CORE_RELO_KINDS, type BtfExt, type CoreRelo } from "../../btf/index.ts";
import { applyCoreFixups, computeCoreFixups, essentialName } from "../../btf/core/index.ts";
import { TsbpfError } from "../../src/errors.ts";
import { btfModel } from "../btf/arbitrary.ts";

const insnArb: fc.Arbitrary<Insn> = fc.oneof(
  fc.record({ op: fc.constant(CLASS.ALU64 | ALU_OP.mov), dst: fc.integer({ min: 0, max: 9 }), src: fc.constant(0), off: fc.constant(0), imm: fc.integer({ min: -4, max: 4096 }) }),
  fc.record({ op: fc.constantFrom(CLASS.LDX | MODE.MEM | SIZE.W, CLASS.LDX | MODE.MEM | SIZE.DW, CLASS.STX | MODE.MEM | SIZE.B), dst: fc.integer({ min: 0, max: 9 }), src: fc.integer({ min: 0, max: 9 }), off: fc.integer({ min: -32768, max: 32767 }), imm: fc.constant(0) }),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((v): Insn => ({ op: CLASS.LD | MODE.IMM | SIZE.DW, dst: 1, src: 0, off: 0, imm: Number(BigInt.asIntN(32, v)), imm64: v })),
  fc.constant<Insn>({ op: CLASS.JMP | 0x90, dst: 0, src: 0, off: 0, imm: 0 }),
);

describe("CO-RE on arbitrary BTF and relocations", () => {
  it("never throws while computing, and applies or refuses with CORE_RELO", () => {
    fc.assert(
      fc.property(btfModel, btfModel, fc.boolean(), fc.array(insnArb, { minLength: 1, maxLength: 12 }), fc.array(fc.record({
        at: fc.nat(), typeId: fc.nat({ max: 40 }), access: fc.array(fc.nat({ max: 6 }), { minLength: 1, maxLength: 5 }), kind: fc.constantFrom(...CORE_RELO_KINDS),
      }), { maxLength: 8 }), (local, other, self, insns, raw) => {
        const target = self ? local : other;
        const slots = slotOffsets(insns);
        const records: CoreRelo[] = raw.map((r) => ({
          insn: slots[r.at % insns.length], typeId: r.typeId % local.typeCount, accessStrOff: 0,
          accessStr: r.access.join(":"), access: r.access, kind: r.kind,
        }));
        const ext: BtfExt = { funcInfo: [], lineInfo: [], coreRelos: records.length ? [{ section: "prog", records }] : [], recordSizes: { funcInfo: 8, lineInfo: 16, coreRelo: 16 } };
        const fixups = computeCoreFixups(local, ext, [{ name: "p", section: "prog", offset: 0, insns, autoload: true, subprogram: false }], target);
        expect(fixups).toHaveLength(records.length);
        try {
          const out = applyCoreFixups(insns, fixups);
          expect(slotOffsets(out.insns)[out.insns.length]).toBe(slots[insns.length]);
          expect(fixups.every((f) => f.outcome.kind !== "error")).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(TsbpfError);
          expect((e as TsbpfError).code).toBe("CORE_RELO");
        }
      }),
      { numRuns: 400 },
    );
  });

  it("essential names cut at the last X___Y flavor separator (libbpf's rule)", () => {
    // Pairs follow libbpf's documented rule: everything from the last `___` (between
    // non-underscores) on is a flavor; `____x` or `x___` are not separators.
    const cases: [string, string][] = [
      ["task_struct", "task_struct"],
      ["task_struct___old", "task_struct"],
      ["a___b___c", "a___b"],
      ["x____y", "x____y"],
      ["x___", "x___"],
      ["___x", "___x"],
      ["s___2", "s"],
    ];
    for (const [n, e] of cases) expect(essentialName(n), n).toBe(e);
  });
});
