// The public arbitraries do what their comments promise: single instructions pass the kernel's
// structural rules and cover every opcode, pseudo source and call kind; programs are well formed;
// realistic programs get the kernel's verdict their shape implies (NULL checks, loop bounds).

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { arbInsn, arbProgram, arbRealisticProgram } from "../../asm/arbitrary.ts";
import { slotOffsets, type Insn } from "../../asm/insn.ts";
import { OPCODES, opDesc } from "../../asm/opcodes.ts";
import { reservedFieldProblem } from "../../asm/validate.ts";
import { BpfMap, Program, VerifierError } from "../../src/load/index.ts";
import { haveRoot } from "../support/env.ts";

const seed = Number(process.env.TSBPF_SEED ?? Date.now() % 1_000_000);

/** Jump targets (slot indices) of every jump in a program, with the slot it jumps from. */
function jumps(p: readonly Insn[]): { from: number; to: number }[] {
  const at = slotOffsets(p);
  const out: { from: number; to: number }[] = [];
  p.forEach((x, i) => {
    const d = opDesc(x.op);
    if (d?.kind === "jmp" || d?.kind === "jcond" || (d?.kind === "ja" && !d.long)) out.push({ from: at[i], to: at[i] + 1 + x.off });
    if (d?.kind === "ja" && d.long) out.push({ from: at[i], to: at[i] + 1 + x.imm });
  });
  return out;
}

describe(`arbitraries (seed ${seed})`, () => {
  it("arbInsn: every instruction passes asm/validate.ts; every opcode, pseudo source and call kind appears", () => {
    const xs = fc.sample(arbInsn(), { numRuns: 20000, seed });
    for (const x of xs) expect(reservedFieldProblem(x), JSON.stringify(x, (_, v) => (typeof v === "bigint" ? String(v) : v))).toBeUndefined();
    const ops = new Set(xs.map((x) => x.op));
    const missing = [...OPCODES.keys()].filter((op) => !ops.has(op) && opDesc(op)!.kind !== "callx");
    expect(missing).toEqual([]);
    expect(new Set(xs.filter((x) => x.op === 0x18).map((x) => x.src))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6]));
    expect(new Set(xs.filter((x) => x.op === 0x85).map((x) => x.src))).toEqual(new Set([0, 1, 2]));
    expect(fc.sample(arbInsn({ kernelInvalid: true }), { numRuns: 5000, seed }).some((x) => x.op === 0x8d)).toBe(true);
  });

  it("arbProgram: ends in exit; jumps go forward to an instruction start inside the program", () => {
    fc.assert(
      fc.property(arbProgram(), (p) => {
        expect(p[p.length - 1].op).toBe(0x95);
        const starts = new Set(slotOffsets(p).slice(0, p.length));
        for (const j of jumps(p)) {
          expect(j.to).toBeGreaterThan(j.from);
          expect(starts.has(j.to)).toBe(true);
        }
        for (const x of p) expect(reservedFieldProblem(x)).toBeUndefined();
      }),
      { numRuns: 500, seed },
    );
  });

  it("arbRealisticProgram: well formed, and uses the stack, maps, loops and helpers across samples", () => {
    const ps = fc.sample(arbRealisticProgram(), { numRuns: 300, seed });
    for (const p of ps) {
      expect(p[p.length - 1].op).toBe(0x95);
      const starts = new Set(slotOffsets(p).slice(0, p.length));
      for (const j of jumps(p)) expect(starts.has(j.to)).toBe(true);
    }
    const all = ps.flat();
    expect(all.some((x) => x.dst === 10 && x.off < 0)).toBe(true); // stack stores
    expect(all.some((x) => x.op === 0x18 && x.src === 1)).toBe(true); // map references
    expect(ps.some((p) => jumps(p).some((j) => j.to <= j.from))).toBe(true); // loops
    expect(all.some((x) => x.op === 0x85 && x.imm === 1)).toBe(true); // map lookups
  });
});

/** What a realistic program's shape says the verifier will do with it. */
function expectedVerdict(p: readonly Insn[]): "accept" | "reject" {
  for (let i = 0; i < p.length; i++) {
    const x = p[i];
    // A lookup not followed by "if r0 == 0" dereferences a map_value_or_null.
    if (x.op === 0x85 && x.imm === 1 && !(p[i + 1]?.op === 0x15 && p[i + 1].dst === 0 && p[i + 1].imm === 0)) return "reject";
    // The unbounded loop's counter step is "r7 += 0".
    if (x.op === 0x07 && x.dst === 7 && x.imm === 0) return "reject";
  }
  return "accept";
}

describe.skipIf(!haveRoot())(`arbRealisticProgram vs the kernel (seed ${seed})`, () => {
  it("checked lookups and bounded loops load; an unchecked lookup or an unbounded loop is refused", () => {
    using map = BpfMap.create({ mapType: "HASH", keySize: 4, valueSize: 64, maxEntries: 16 });
    const ps = fc.sample(arbRealisticProgram(), { numRuns: 120, seed });
    const seen = { accept: 0, reject: 0 };
    for (const p of ps) {
      for (const x of p) if (x.op === 0x18 && x.src === 1) (x.imm = map.fd), (x.imm64 = BigInt(map.fd));
      let verdict: "accept" | "reject" = "accept";
      try {
        Program.load({ type: "SOCKET_FILTER", insns: p, license: "GPL" }).close();
      } catch (e) {
        if (!(e instanceof VerifierError)) throw e;
        verdict = "reject";
      }
      expect(verdict).toBe(expectedVerdict(p));
      seen[verdict]++;
    }
    expect(seen.accept).toBeGreaterThan(0);
    expect(seen.reject).toBeGreaterThan(0);
  });
});
