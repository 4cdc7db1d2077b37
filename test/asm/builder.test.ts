// The typed builder: every instruction kind against llvm-mc-19's encoding of the same instruction
// written as text, label resolution against llvm-mc's own label fixups, and typed errors.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { encode, type Insn } from "../../asm/index.ts";
import * as b from "../../asm/builder.ts";
import { R0, R1, R2, R3, R6, R10 } from "../../asm/builder.ts";
import { TsbpfError } from "../../src/errors.ts";
import { haveTool } from "../support/env.ts";
import { hex, llvmMcBytes } from "./llvm-mc-gen.ts";

const PAIRS: [Insn | b.Item, string][] = [
  [b.mov64(R0, 0), "r0 = 0"], [b.mov64(R6, R1), "r6 = r1"], [b.add64(R1, -8), "r1 += -8"], [b.add64(R1, R2), "r1 += r2"],
  [b.sub64(R1, 3), "r1 -= 3"], [b.mul64(R1, R2), "r1 *= r2"], [b.div64(R1, 7), "r1 /= 7"], [b.sdiv64(R1, R2), "r1 s/= r2"],
  [b.mod64(R1, 7), "r1 %= 7"], [b.smod64(R1, -7), "r1 s%= -7"], [b.or64(R1, 1), "r1 |= 1"], [b.and64(R1, R2), "r1 &= r2"],
  [b.xor64(R1, R2), "r1 ^= r2"], [b.lsh64(R1, 3), "r1 <<= 3"], [b.rsh64(R1, R2), "r1 >>= r2"], [b.arsh64(R1, 63), "r1 s>>= 63"],
  [b.neg64(R3), "r3 = -r3"], [b.mov32(R0, -1), "w0 = -1"], [b.add32(R1, R2), "w1 += w2"], [b.sub32(R1, 1), "w1 -= 1"],
  [b.mul32(R1, 3), "w1 *= 3"], [b.div32(R1, R2), "w1 /= w2"], [b.sdiv32(R1, 3), "w1 s/= 3"], [b.mod32(R1, R2), "w1 %= w2"],
  [b.smod32(R1, R2), "w1 s%= w2"], [b.or32(R1, R2), "w1 |= w2"], [b.and32(R1, 255), "w1 &= 255"], [b.xor32(R1, 1), "w1 ^= 1"],
  [b.lsh32(R1, 3), "w1 <<= 3"], [b.rsh32(R1, 3), "w1 >>= 3"], [b.arsh32(R1, R2), "w1 s>>= w2"], [b.neg32(R1), "w1 = -w1"],
  [b.movsx64(R1, R2, 8), "r1 = (s8)r2"], [b.movsx64(R1, R2, 32), "r1 = (s32)r2"], [b.movsx32(R1, R2, 16), "w1 = (s16)w2"],
  [b.be(R1, 16), "r1 = be16 r1"], [b.le(R1, 64), "r1 = le64 r1"], [b.bswap(R1, 32), "r1 = bswap32 r1"],
  [b.ldxb(R0, R1, 2), "w0 = *(u8 *)(r1 + 2)"], [b.ldxh(R0, R1, -2), "w0 = *(u16 *)(r1 - 2)"], [b.ldxw(R0, R1, 4), "r0 = *(u32 *)(r1 + 4)"],
  [b.ldxdw(R0, R10, -8), "r0 = *(u64 *)(r10 - 8)"], [b.ldxsb(R0, R1, 0), "r0 = *(s8 *)(r1 + 0)"], [b.ldxsh(R0, R1, 0), "r0 = *(s16 *)(r1 + 0)"],
  [b.ldxsw(R0, R1, 0), "r0 = *(s32 *)(r1 + 0)"], [b.stb(R10, -1, 7), "*(u8 *)(r10 - 1) = 7"], [b.sth(R10, -2, R1), "*(u16 *)(r10 - 2) = w1"],
  [b.stw(R10, -4, -1), "*(u32 *)(r10 - 4) = -1"], [b.stdw(R10, -8, R1), "*(u64 *)(r10 - 8) = r1"],
  [b.atomicAdd64(R0, 0, R1), "lock *(u64 *)(r0 + 0) += r1"], [b.atomicAdd32(R0, 4, R1), "lock *(u32 *)(r0 + 4) += w1"],
  [b.atomic(8, "or", R0, 0, R1), "lock *(u64 *)(r0 + 0) |= r1"], [b.atomic(8, "xor", R0, 0, R1, true), "r1 = atomic_fetch_xor((u64 *)(r0 + 0), r1)"],
  [b.atomicFetchAdd64(R1, 8, R2), "r2 = atomic_fetch_add((u64 *)(r1 + 8), r2)"], [b.atomicFetchAdd32(R1, 8, R2), "w2 = atomic_fetch_add((u32 *)(r1 + 8), w2)"],
  [b.atomic(4, "and", R1, 0, R2, true), "w2 = atomic_fetch_and((u32 *)(r1 + 0), w2)"],
  [b.xchg(8, R1, 0, R2), "r2 = xchg_64(r1 + 0, r2)"], [b.xchg(4, R1, 0, R2), "w2 = xchg32_32(r1 + 0, w2)"],
  [b.cmpxchg(8, R1, 0, R2), "r0 = cmpxchg_64(r1 + 0, r0, r2)"], [b.cmpxchg(4, R1, 0, R2), "w0 = cmpxchg32_32(r1 + 0, w0, w2)"],
  [b.ldAbs(1, 12), "r0 = *(u8 *)skb[12]"], [b.ldInd(4, R1, 0), "r0 = *(u32 *)skb[r1]"],
  [b.ldImm64(R1, 0x1122334455667788n), "r1 = 0x1122334455667788 ll"], [b.ldImm64(R1, -1), "r1 = -1 ll"],
  [b.ldPseudo(R1, 1, 5), "ld_pseudo r1, 1, 5"],
  [b.jeq(R1, 0, 1), "if r1 == 0 goto +1"], [b.jne(R1, R2, -1), "if r1 != r2 goto -1"], [b.jgt(R1, 5, 0), "if r1 > 5 goto +0"],
  [b.jge(R1, R2, 2), "if r1 >= r2 goto +2"], [b.jlt(R1, 5, 2), "if r1 < 5 goto +2"], [b.jle(R1, 5, 2), "if r1 <= 5 goto +2"],
  [b.jsgt(R1, -5, 2), "if r1 s> -5 goto +2"], [b.jsge(R1, R2, 2), "if r1 s>= r2 goto +2"], [b.jslt(R1, 5, 2), "if r1 s< 5 goto +2"],
  [b.jsle(R1, R2, 2), "if r1 s<= r2 goto +2"], [b.jset(R1, 8, 2), "if r1 & 8 goto +2"], [b.jeq32(R1, 0, 1), "if w1 == 0 goto +1"],
  [b.jne32(R1, R2, 1), "if w1 != w2 goto +1"], [b.jgt32(R1, 1, 1), "if w1 > 1 goto +1"], [b.jge32(R1, 1, 1), "if w1 >= 1 goto +1"],
  [b.jlt32(R1, 1, 1), "if w1 < 1 goto +1"], [b.jle32(R1, 1, 1), "if w1 <= 1 goto +1"], [b.jsgt32(R1, 1, 1), "if w1 s> 1 goto +1"],
  [b.jsge32(R1, 1, 1), "if w1 s>= 1 goto +1"], [b.jslt32(R1, 1, 1), "if w1 s< 1 goto +1"], [b.jsle32(R1, 1, 1), "if w1 s<= 1 goto +1"],
  [b.jset32(R1, R2, 1), "if w1 & w2 goto +1"], [b.ja(3), "goto +3"], [b.gotol(-5), "gotol -5"], [b.mayGoto(2), "may_goto +2"],
  [b.call(1), "call 1"], [b.callx(R2), "callx r2"], [b.exit(), "exit"],
];

describe.skipIf(!haveTool("llvm-mc-19"))("builder vs llvm-mc-19", () => {
  it("every instruction kind encodes as llvm-mc encodes its text", () => {
    const text = PAIRS.map(([, t]) => t).join("\n") + "\n";
    const theirs = llvmMcBytes(text);
    const mine = encode(b.build(PAIRS.map(([i]) => i)));
    expect(hex(mine)).toBe(hex(theirs));
  });

  it("labels resolve like llvm-mc's label fixups (random programs)", () => {
    // Programs of random straight-line instructions with jumps to labels placed at random points.
    const prog = fc.array(fc.tuple(fc.constantFrom("mov", "lddw", "jeq", "ja", "gotol", "may_goto", "jset32"), fc.nat(9)), { minLength: 1, maxLength: 40 });
    const progs = fc.sample(prog, { numRuns: 60, seed: 7 });
    const texts: string[] = [];
    const items: b.Item[] = [];
    progs.forEach((p, k) => {
      const n = p.length;
      p.forEach(([kind, t], i) => {
        const L = `P${k}_L${t % (n + 1)}`;
        texts.push(`P${k}_L${i}:`);
        items.push(b.label(`P${k}_L${i}`));
        const [it, tx] =
          kind === "mov" ? [b.mov64(R1, i), `r1 = ${i}`] :
          kind === "lddw" ? [b.ldImm64(R2, BigInt(i) << 40n), `r2 = ${BigInt(i) << 40n} ll`] :
          kind === "jeq" ? [b.jeq(R1, R2, L), `if r1 == r2 goto ${L}`] :
          kind === "ja" ? [b.ja(L), `goto ${L}`] :
          kind === "gotol" ? [b.gotol(L), `gotol ${L}`] :
          kind === "may_goto" ? [b.mayGoto(L), `may_goto ${L}`] :
          [b.jset32(R3, 4, L), `if w3 & 4 goto ${L}`];
        items.push(it);
        texts.push(tx);
      });
      texts.push(`P${k}_L${n}:`, "exit");
      items.push(b.label(`P${k}_L${n}`), b.exit());
    });
    expect(hex(encode(b.build(items)))).toBe(hex(llvmMcBytes(texts.join("\n") + "\n")));
  });

  it("a call to a label is a bpf-to-bpf call with a relative imm", () => {
    const insns = b.build([b.call("sub"), b.exit(), b.label("sub"), b.mov64(R0, 1), b.exit()]);
    expect(insns[0]).toMatchObject({ src: 1, imm: 1 });
    const ext = b.build([b.call("bpf_map_lookup_elem"), b.ldMap(R1, "m"), b.exit()]);
    expect(ext[0].meta?.ref).toEqual({ kind: "func", name: "bpf_map_lookup_elem" });
    expect(ext[1].meta?.ref).toEqual({ kind: "map", name: "m" });
    const f = b.build([b.ldFunc(R2, "cb"), b.exit(), b.label("cb"), b.exit()]);
    expect(f[0]).toMatchObject({ src: 4, imm: 1 });
  });
});

describe("builder errors", () => {
  const err = (f: () => unknown) => {
    try { f(); } catch (e) { return e; }
    return undefined;
  };
  it("undefined labels, duplicate labels, out-of-range jumps and bad operands are TsbpfError", () => {
    const cases = [
      () => b.build([b.ja("nowhere"), b.exit()]),
      () => b.build([b.label("a"), b.label("a"), b.exit()]),
      () => b.build([b.ja("far"), ...Array.from({ length: 40000 }, () => b.mov64(R0, 0)), b.label("far"), b.exit()]),
      () => b.mov64(R0, 2 ** 32),
      () => b.ldxw(R0, R1, 40000),
      () => b.mov64(new b.Reg(11), 0),
      () => b.ldImm64(R0, 1n << 64n),
    ];
    for (const c of cases) {
      const e = err(c);
      expect(e).toBeInstanceOf(TsbpfError);
    }
    const far = err(cases[2]) as TsbpfError;
    expect(far.message).toMatch(/beyond the 16-bit offset range/);
    expect(far.where.insn).toBe(0);
    // The same distance is fine for gotol.
    const ok = b.build([b.gotol("far"), ...Array.from({ length: 40000 }, () => b.mov64(R0, 0)), b.label("far"), b.exit()]);
    expect(ok[0].imm).toBe(40000);
  });
});
