// encode∘parse is byte-identical on vmlinux and on every clang-built object's .BTF; on random
// models, parse∘encode gives back the model (names re-interned, both byte orders).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { haveKernelBtf, haveTool } from "../support/env.ts";
import { encodeBtf, findBtf, parseBtf, type Btf, type BtfType } from "../../btf/index.ts";
import { btfModel } from "./arbitrary.ts";
import { buildTestObjects, fixtureObjectsWithBtf, readBytes } from "./objects.ts";

/** The model without string offsets (which encoding assigns) for structural comparison. */
function shape(btf: Btf): unknown[] {
  const strip = (o: unknown): unknown => {
    if (Array.isArray(o)) return o.map(strip);
    if (o && typeof o === "object") return Object.fromEntries(Object.entries(o).filter(([k]) => k !== "nameOff").map(([k, v]) => [k, strip(v)]));
    return o;
  };
  return [...btf.types()].map((t: BtfType) => strip(t));
}

describe.skipIf(!haveKernelBtf())("encode∘parse on vmlinux", () => {
  it("is byte-identical", () => {
    const bytes = new Uint8Array(readFileSync("/sys/kernel/btf/vmlinux"));
    const btf = parseBtf(bytes);
    expect(btf.typeCount).toBeGreaterThan(1000);
    const again = encodeBtf(btf);
    expect(again.length).toBe(bytes.length);
    expect(Buffer.compare(Buffer.from(again), Buffer.from(bytes))).toBe(0);
  });
});

describe.skipIf(!(haveTool("clang-19") && haveTool("bpftool") && haveTool("llvm-readelf-19")))("encode∘parse on objects", () => {
  it("is byte-identical on every object's .BTF", () => {
    const objs = [...buildTestObjects(), ...fixtureObjectsWithBtf()];
    expect(objs.length).toBeGreaterThan(2);
    for (const obj of objs) {
      const { btf } = findBtf(readBytes(obj), obj);
      const again = encodeBtf(parseBtf(btf.bytes));
      expect(Buffer.compare(Buffer.from(again), Buffer.from(btf.bytes)), obj).toBe(0);
    }
  });
});

describe("parse∘encode on random models", () => {
  it("gives back the model, and re-encoding is a fixed point", () => {
    fc.assert(
      fc.property(btfModel, (model) => {
        const bytes = encodeBtf(model);
        const parsed = parseBtf(bytes);
        expect(parsed.endian).toBe(model.endian);
        expect(shape(parsed)).toEqual(shape(model));
        expect(Buffer.compare(Buffer.from(encodeBtf(parsed)), Buffer.from(bytes))).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  it("a big-endian blob holds the same types as its little-endian twin", () => {
    fc.assert(
      fc.property(btfModel, (model) => {
        const le = parseBtf(encodeBtf(model));
        const swapped = encodeBtf(le, { endian: model.endian === "big" ? "little" : "big" });
        expect(swapped[0]).toBe(model.endian === "big" ? 0x9f : 0xeb);
        expect(shape(parseBtf(swapped))).toEqual(shape(model));
      }),
      { numRuns: 200 },
    );
  });
});
