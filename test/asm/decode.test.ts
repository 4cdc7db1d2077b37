// Laws of the instruction codec over generated input: decode∘encode = id on instructions and
// programs, encode∘decode = id on bytes that decode, and random bytes either decode or fail with
// TsbpfError(ASM_DECODE) naming the slot — never another exception. The llvm listing, which has
// its own byte-level decoder, must take any bytes too.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { arbInsn, arbProgram, arbRealisticProgram, arbSlotBytes, programBytes } from "../../asm/arbitrary.ts";
import { decode, decodeAt } from "../../asm/decode.ts";
import { llvmRawText } from "../../asm/disasm.ts";
import { listCode } from "../../asm/listing.ts";
import { encode } from "../../asm/encode.ts";
import { printKernel } from "../../asm/print-kernel.ts";
import { printLlvm } from "../../asm/print-llvm.ts";
import { TsbpfError } from "../../src/errors.ts";

describe("decode ∘ encode = id", () => {
  it("on single instructions of every kind (incl. kernel-invalid ones LLVM prints)", () => {
    fc.assert(fc.property(arbInsn({ kernelInvalid: true }), (x) => {
      expect(decode(encode([x]))).toEqual([x]);
    }), { numRuns: 2000 });
  });
  it("on well-formed programs", () => {
    fc.assert(fc.property(arbProgram(), (p) => {
      expect(decode(programBytes(p))).toEqual(p);
    }), { numRuns: 300 });
  });
  it("on realistic programs", () => {
    fc.assert(fc.property(arbRealisticProgram(), (p) => {
      expect(decode(programBytes(p))).toEqual(p);
    }), { numRuns: 300 });
  });
});

describe("encode ∘ decode = id", () => {
  it("on every byte string that decodes", () => {
    let decoded = 0;
    fc.assert(
      fc.property(fc.oneof(arbSlotBytes(8), arbInsn().map((x) => encode([x]))), (bytes) => {
        let insns;
        try {
          insns = decode(bytes);
        } catch {
          return;
        }
        decoded++;
        expect(Buffer.from(encode(insns)).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 2000 },
    );
    expect(decoded).toBeGreaterThan(500);
  });
});

describe("random bytes", () => {
  const anyBytes = fc.oneof(fc.uint8Array({ maxLength: 200 }), arbSlotBytes(32));

  it("decode yields instructions or TsbpfError(ASM_DECODE) with the slot and its offset", () => {
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        try {
          const insns = decode(bytes, { fileOffset: 0x40 });
          expect(insns.length).toBeLessThanOrEqual(bytes.length / 8);
        } catch (e) {
          expect(e).toBeInstanceOf(TsbpfError);
          const err = e as TsbpfError;
          expect(err.code).toBe("ASM_DECODE");
          expect(err.where.insn).toBeTypeOf("number");
          expect(err.where.offset).toBe(0x40 + err.where.insn! * 8);
          expect(err.message).toContain(`slot ${err.where.insn}`);
          // The slot named is the first that fails: everything before it decodes.
          let s = 0;
          while (s < err.where.insn!) {
            const r = decodeAt(bytes, s);
            expect(r.ok).toBe(true);
            s += r.slots;
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("both printers take whatever decodes, and the llvm listing takes any bytes", () => {
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        const text = llvmRawText(bytes);
        expect(text.length === 0).toBe(bytes.length === 0);
        try {
          for (const x of listCode({ name: "raw", bytes, symbols: [] })) {
            expect(printKernel(x.insn)).toMatch(/^(\([0-9a-f]{2}\) |BUG_)/);
            expect(printLlvm(x.insn).length).toBeGreaterThan(0);
          }
        } catch (e) {
          expect((e as TsbpfError).code).toBe("ASM_DECODE");
        }
      }),
      { numRuns: 2000 },
    );
  });
});
