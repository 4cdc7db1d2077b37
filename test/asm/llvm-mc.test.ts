// Differential: our text parser against llvm-mc-19 on the same assembly, byte for byte.
// One llvm-mc invocation per corpus; a mismatch names the line.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { encode, slotOffsets } from "../../asm/index.ts";
import { parse } from "../../asm/parse.ts";
import { haveTool } from "../support/env.ts";
import { hex, llvmInsnLine, llvmMcBytes } from "./llvm-mc-gen.ts";

/** Every instruction form llvm-mc-19 accepts, written the ways people write them. */
const FORMS = `
r1 = *(u32 *)(r1 + 0xc)
r0 = *(u64 *)(r10 - 8)
w0 = *(u8 *)(r1 + 2)
w3 = *(u16 *)(r9 + 32767)
r2 = *(u64 *)(r3 - 32768)
r0 = *(s32 *)(r1 + 0)
r0 = *(s16 *)(r1 + 4)
r0 = *(s8 *)(r1 - 4)
*(u8 *)(r10 - 8) = w1
*(u16 *)(r10 - 8) = r1
*(u32 *)(r10 - 4) = 5
*(u64 *)(r10 - 8) = -1
*(u64 *)(r10 - 8) = r1
if r0 == 0 goto +2
if w0 s< w1 goto +3
if r1 & 0x5 goto -1
if w1 != -1 goto +0
if r1 s<= 0xffffffff goto +7
goto +0
goto -32768
goto +32767
gotol +5
gotol -32768
may_goto +3
r1 = 0x123 ll
r1 = -1 ll
r1 = 0xffffffffffffffff ll
r1 = -9223372036854775808 ll
lock *(u64 *)(r0 + 0) += r1
lock *(u32 *)(r0 + 0) += w1
lock *(u64 *)(r0 + 8) |= r1
lock *(u64 *)(r0 - 8) &= r1
lock *(u32 *)(r0 + 0) ^= w9
r0 = atomic_fetch_add((u64 *)(r1 + 0), r0)
w0 = atomic_fetch_add((u32 *)(r1 + 0), w0)
r3 = atomic_fetch_or((u64 *)(r1 + 16), r3)
r3 = atomic_fetch_and((u64 *)(r1 + 16), r3)
w3 = atomic_fetch_xor((u32 *)(r1 - 16), w3)
r0 = xchg_64(r1 + 0, r0)
w0 = xchg32_32(r1 + 0, w0)
r0 = cmpxchg_64(r1 + 0, r0, r2)
w0 = cmpxchg32_32(r1 + 0x3, w0, w2)
call 1
call 0x7fffffff
call -1
callx r1
r1 = (s8)r2
w1 = (s16)w2
r1 = (s32)r2
r1 s/= r2
r1 s%= 5
w1 s/= -3
w1 s%= w2
r1 = bswap16 r1
r1 = bswap32 r1
r1 = bswap64 r1
r1 = be16 r1
r1 = be32 r1
r1 = be64 r1
r1 = le16 r1
r1 = le32 r1
r1 = le64 r1
r0 = *(u8 *)skb[2]
r0 = *(u16 *)skb[0x100]
r0 = *(u32 *)skb[r1]
r1 = -r1
w1 = -w1
r0 = 1
w0 = -1
r0 = 0xffffffff
r0 = -2147483648
w0 = 0x80000000
r1 <<= 3
r1 s>>= r2
w1 ^= w2
w1 >>= 31
r10 += -8
ld_pseudo r1, 1, 5
ld_pseudo r1, 2, 0x7
exit
`;

/** The same instructions in the other spellings we accept, next to the llvm spelling they equal. */
const KERNEL_EQUIV: [string, string][] = [
  ["(bf) r6 = r1", "r6 = r1"],
  ["(79) r0 = *(u64 *)(r10 -8)", "r0 = *(u64 *)(r10 - 8)"],
  ["(7b) *(u64 *)(r10 -16) = r1", "*(u64 *)(r10 - 16) = r1"],
  ["(61) r1 = *(u32 *)(r1 +224)", "r1 = *(u32 *)(r1 + 224)"],
  ["(15) if r0 == 0x0 goto pc+7", "if r0 == 0 goto +7"],
  ["(16) if w0 == 0xffffffff goto pc-2", "if w0 == -1 goto -2"],
  ["(05) goto pc-1", "goto -1"],
  ["(06) gotol pc+100", "gotol +100"],
  ["(e5) may_goto pc+2", "may_goto +2"],
  ["(85) call bpf_map_lookup_elem#1", "call 1"],
  ["(07) r2 += -4", "r2 += -4"],
  ["(b4) w0 = 0", "w0 = 0"],
  ["(18) r1 = 0x123", "r1 = 0x123 ll"],
  ["(db) lock *(u64 *)(r0 +0) += r1", "lock *(u64 *)(r0 + 0) += r1"],
  ["(c3) lock *(u32 *)(r0 +0) += r1", "lock *(u32 *)(r0 + 0) += w1"],
  ["(db) r1 = atomic64_fetch_add((u64 *)(r0 +0), r1)", "r1 = atomic_fetch_add((u64 *)(r0 + 0), r1)"],
  ["(c3) r1 = atomic_fetch_or((u32 *)(r0 +4), r1)", "w1 = atomic_fetch_or((u32 *)(r0 + 4), w1)"],
  ["(db) r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)", "r0 = cmpxchg_64(r1 + 0, r0, r2)"],
  ["(db) r3 = atomic64_xchg((u64 *)(r1 +0), r3)", "r3 = xchg_64(r1 + 0, r3)"],
  ["(dc) r1 = be16 r1", "r1 = be16 r1"],
  ["(d7) r1 = bswap64 r1", "r1 = bswap64 r1"],
  ["(87) r1 = -r1", "r1 = -r1"],
  ["(bf) r1 = (s8)r2", "r1 = (s8)r2"],
  ["(3f) r1 s/= r2", "r1 s/= r2"],
  ["(91) r0 = *(s8 *)(r1 +0)", "r0 = *(s8 *)(r1 + 0)"],
  ["(30) r0 = *(u8 *)skb[12]", "r0 = *(u8 *)skb[12]"],
  ["(8d) callx r3", "callx r3"],
  ["(95) exit", "exit"],
  ["  12: (bf) r6 = r1", "r6 = r1"],
  ["       7:\t55 00 03 00 00 00 00 00\tif r0 != 0x0 goto +0x3 <prog+0x58>", "if r0 != 0 goto +3"],
  ["       1:\t18 02 00 00 00 00 00 00 00 00 00 00 00 00 00 00\tr2 = 0x0 ll", "r2 = 0 ll"],
  ["r0 = *(u64 *)(r10 + -8)", "r0 = *(u64 *)(r10 - 8)"],
];

function ours(text: string): Uint8Array {
  return encode(parse(text, { keepSource: false }).flatMap((s) => (s.kind === "insn" ? [s.insn] : [])));
}

/** Compare two encodings slot by slot, naming the first line that differs. */
function expectSameBytes(lines: string[], mine: Uint8Array, theirs: Uint8Array): void {
  if (hex(mine) === hex(theirs)) return;
  const insns = lines.map((l) => parse(l, { keepSource: false }).flatMap((s) => (s.kind === "insn" ? [s.insn] : [])));
  const offs = slotOffsets(insns.flat());
  for (let i = 0; i < lines.length; i++) {
    const a = offs[i] * 8, b = offs[i + 1] * 8;
    expect({ line: lines[i], bytes: hex(mine.subarray(a, b)) }).toEqual({ line: lines[i], bytes: hex(theirs.subarray(a, b)) });
  }
  expect(hex(mine)).toBe(hex(theirs));
}

describe.skipIf(!haveTool("llvm-mc-19"))("parse vs llvm-mc-19", () => {
  it("every instruction form assembles to llvm-mc's bytes", () => {
    const lines = FORMS.trim().split("\n");
    expectSameBytes(lines, ours(FORMS), llvmMcBytes(FORMS));
  });

  it("kernel-log and objdump spellings assemble like the llvm spelling", () => {
    const llvmText = KERNEL_EQUIV.map(([, l]) => l).join("\n") + "\n";
    const theirs = llvmMcBytes(llvmText);
    const mine = ours(KERNEL_EQUIV.map(([k]) => k).join("\n"));
    expectSameBytes(KERNEL_EQUIV.map(([k]) => k), mine, theirs);
  });

  it("generated instruction lines (fast-check) assemble to llvm-mc's bytes", () => {
    const lines = fc.sample(llvmInsnLine, { numRuns: 3000, seed: 42 });
    const text = lines.join("\n") + "\n";
    expectSameBytes(lines, ours(text), llvmMcBytes(text));
  });

  it("a fresh random corpus each run", () => {
    const lines = fc.sample(llvmInsnLine, 2000);
    const text = lines.join("\n") + "\n";
    expectSameBytes(lines, ours(text), llvmMcBytes(text));
  });
});
