// Bad input: truncated and mutated clang-built objects must each give an ObjectSpec (and linked
// programs) or a TsbpfError — never another exception, a hang or a runaway allocation. ELF-level
// errors must carry the file offset. 10,000 cases under CI=true, fewer locally.

import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { loadObject } from "../../src/elf/index.ts";
import { TsbpfError } from "../../src/errors.ts";
import { linkProgram, resolveKconfig } from "../../src/link/index.ts";
import { inCI } from "../support/env.ts";
import { fixtureObjects } from "./objects.ts";

const objects = fixtureObjects().map((p) => new Uint8Array(readFileSync(p)));

type Mutation = { kind: "truncate"; at: number } | { kind: "byte"; at: number; value: number } | { kind: "word"; at: number; value: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("byte" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  // Header and section-header words are where corruption bites: bias toward 32-bit overwrites.
  fc.record({ kind: fc.constant("word" as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 0xffff), fc.integer({ min: 0, max: 0xffffffff })) }),
);

function mutate(src: Uint8Array, ms: Mutation[]): Uint8Array {
  let b = src.slice();
  for (const m of ms) {
    if (b.length === 0) break;
    if (m.kind === "truncate") b = b.slice(0, m.at % b.length);
    else if (m.kind === "byte") b[m.at % b.length] = m.value;
    else if (b.length >= 4) {
      const at = (m.at % Math.max(1, b.length - 3)) & ~3;
      new DataView(b.buffer).setUint32(at, m.value >>> 0, true);
    }
  }
  return b;
}

function exercise(bytes: Uint8Array): void {
  const obj = loadObject(bytes, { file: "fuzz.o" });
  resolveKconfig(obj, { config: "CONFIG_BPF=y\n", kernelRelease: "6.18.0" });
  for (const p of obj.programs) linkProgram(obj, p, { kernel: { address: () => 0xffffffff81000000n } });
}

describe.skipIf(objects.length === 0)("mutated objects", () => {
  test("ObjectSpec or TsbpfError (with file offset for ELF errors)", () => {
    fc.assert(
      fc.property(fc.nat({ max: objects.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (which, ms) => {
        const bytes = mutate(objects[which], ms);
        try {
          exercise(bytes);
        } catch (e) {
          if (!(e instanceof TsbpfError)) throw e;
          if (e.code.startsWith("ELF_")) expect(e.where.offset).toBeTypeOf("number");
        }
      }),
      { numRuns: inCI ? 10_000 : 1_000 },
    );
  });

  test("a .bss claiming 4 GiB is an error, not an allocation", () => {
    const i = fixtureObjects().findIndex((p) => /globals\.o$/.test(p));
    expect(i).toBeGreaterThanOrEqual(0);
    const b = objects[i].slice();
    const dv = new DataView(b.buffer);
    const shoff = Number(dv.getBigUint64(40, true));
    const shnum = dv.getUint16(60, true);
    let patched = false;
    for (let k = 0; k < shnum; k++) {
      const h = shoff + k * 64;
      if (dv.getUint32(h + 4, true) === 8 /* SHT_NOBITS */) { dv.setBigUint64(h + 32, 0xfffffff0n, true); patched = true; }
    }
    expect(patched).toBe(true);
    expect(() => loadObject(b)).toThrow(TsbpfError);
  });

  test("every unmutated fixture opens and links without a kernel except for its kernel symbols", () => {
    for (const o of objects) {
      try {
        exercise(o);
      } catch (e) {
        expect(e).toBeInstanceOf(TsbpfError);
        expect(["LINK_UNRESOLVED", "KCONFIG", "OBJ_BAD_PROGRAM", "ELF_BAD_RELOCATION"]).toContain((e as TsbpfError).code);
      }
    }
  });
});
