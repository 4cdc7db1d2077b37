// BTF-typed map access against bpftool: random bytes go into maps whose types cover ints of every
// width and sign, bool, enums, char arrays, nested structs, unions, bitfields, pointers and per-CPU
// values; our decoding of every entry must equal bpftool's "formatted" dump of the same map.

import { describe, expect, test, beforeAll, afterAll } from "vitest";
import fc from "fast-check";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { haveBun, haveRoot, haveTool, haveKernelBtf, run } from "../support/env.ts";

const live = haveBun() && haveRoot() && haveTool("bpftool", "version") && haveTool("clang-19") && haveKernelBtf();
const load = live ? await import("../../src/load/index.ts") : ({} as typeof import("../../src/load/index.ts"));

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** bpftool's JSON with integers of 16+ digits kept exact (as strings), then normalised. */
function parseBpftool(text: string): Json {
  return JSON.parse(text.replace(/(?<=[:\[,])(-?\d{16,})(?=[,}\]])/g, '"$1"')) as Json;
}

/** Numbers as exact values: safe integers as numbers, larger ones as digit strings; bpftool's
 * hex-string bitfields ("0x1f") as numbers; anonymous members ("" keys) lifted into the parent. */
function norm(v: unknown): Json {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === "string") {
    if (/^0x[0-9a-f]+$/i.test(v)) return Number(BigInt(v));
    if (/^-?\d{16,}$/.test(v)) return Number.isSafeInteger(Number(v)) ? Number(v) : BigInt(v).toString();
    return v;
  }
  if (Array.isArray(v)) return v.map(norm);
  if (v !== null && typeof v === "object") {
    const out: { [k: string]: Json } = {};
    for (const [k, x] of Object.entries(v)) {
      const n = norm(x);
      if (k === "" && n !== null && typeof n === "object" && !Array.isArray(n)) Object.assign(out, n);
      else out[k] = n;
    }
    return out;
  }
  return v as Json;
}

describe.skipIf(!live)("typed map access vs bpftool formatted dump", () => {
  let dir = "";
  let obj = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "tsbpf-typed-"));
    obj = join(dir, "typed_maps.o");
    run("clang-19", ["-g", "-O2", "-target", "bpf", "-c", join(import.meta.dirname, "typed-src/typed_maps.bpf.c"), "-o", obj]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("hash of struct key → rich struct: random contents decode as bpftool formats them", () => {
    using coll = load.loadCollectionFile(obj);
    const m = load.TypedMap.of(coll, "rich_hash");
    const nameOff = 8 + 8 + 4 + 2 + 1;
    const entry = fc.record({
      key: fc.uint8Array({ minLength: 12, maxLength: 12 }),
      value: fc.uint8Array({ minLength: m.map.valueSize, maxLength: m.map.valueSize }),
      // No '\\' or '"': bpftool writes char arrays into its JSON unescaped, so those would not parse.
      name: fc.option(fc.stringMatching(/^[ !#-\[\]-~]{0,11}$/)),
      comm: fc.option(fc.stringMatching(/^[a-z]{0,7}$/)),
    });
    const entries = fc.sample(fc.uniqueArray(entry, { selector: (e) => e.key.join(), minLength: 40, maxLength: 40 }), { numRuns: 1, seed: 42 })[0];
    for (const e of entries) {
      if (e.name !== null) { e.value.fill(0, nameOff, nameOff + 12); e.value.set(new TextEncoder().encode(e.name), nameOff); }
      if (e.comm !== null) { e.key.fill(0, 4); e.key.set(new TextEncoder().encode(e.comm), 4); }
      m.map.set(e.key, e.value);
    }
    const dump = parseBpftool(run("bpftool", ["-j", "map", "dump", "id", String(m.map.id)])) as { formatted: { key: Json; value: Json } }[];
    expect(dump.length).toBe(entries.length);
    const want = new Map(dump.map((d) => [JSON.stringify(norm(d.formatted.key)), norm(d.formatted.value)]));
    let strings = 0;
    for (const { key, value } of m.entries()) {
      const k = JSON.stringify(norm(key));
      expect(want.has(k), k).toBe(true);
      expect(norm(value)).toEqual(want.get(k));
      if (typeof (value as { name: unknown }).name === "string") strings++;
    }
    expect(strings).toBeGreaterThan(5);
  });

  test("typed get/set/delete round trip through the kernel", () => {
    using coll = load.loadCollectionFile(obj);
    const m = load.TypedMap.of(coll, "rich_hash");
    const v = {
      big: 0xfedcba9876543210n, neg: -5n, i32: -7, i16: 300, flag: true, name: "hello", col: "BLUE",
      in: { a: 65535, b: -128, c: [1, 2, 3] }, u: { word: 0x04030201 }, bf_lo: 5, bf_mid: 300, bf_hi: 0xfffff,
      ptr: 0xffff888012345678n, arr: [1, 2, 3, 4], raw: [9, 8, 7, 6, 5],
    };
    m.set({ pid: 77, comm: "bash" }, v);
    const got = m.get({ pid: 77, comm: "bash" }) as Record<string, unknown>;
    expect(got).toEqual({ ...v, u: { word: 0x04030201, bytes: [1, 2, 3, 4] } });
    const dump = parseBpftool(run("bpftool", ["-j", "map", "dump", "id", String(m.map.id)])) as { formatted: { key: Json; value: Json } }[];
    expect(norm(dump[0].formatted.value)).toEqual(norm(got));
    expect(m.delete({ pid: 77, comm: "bash" })).toBe(true);
    expect(m.get({ pid: 77, comm: "bash" })).toBeUndefined();
    expect(() => m.set({ pid: 1, nope: 1 }, v)).toThrow(/no field 'nope'/);
    expect(() => m.set({ pid: 1 }, { ...v, col: "PURPLE" })).toThrow(/not a value of enum color/);
    expect(() => m.set({ pid: 1 }, { ...v, name: "x".repeat(12) })).toThrow(/does not fit/);
  });

  test("per-CPU array: one decoded value per possible CPU, as bpftool lists them", () => {
    using coll = load.loadCollectionFile(obj);
    const m = load.TypedMap.of(coll, "pc_array");
    const n = load.numPossibleCpus();
    m.set(1, Array.from({ length: n }, (_, i) => ({ a: 100 + i, b: -i, c: [i, i + 1, 255] })));
    const dump = parseBpftool(run("bpftool", ["-j", "map", "dump", "id", String(m.map.id)])) as { formatted: { key: Json; values: { cpu: number; value: Json }[] } }[];
    expect(dump.length).toBe(4);
    const ours = [...m.entries()];
    for (const d of dump) {
      const o = ours.find((e) => e.key === d.formatted.key);
      expect(o).toBeDefined();
      expect(norm(o!.value)).toEqual(d.formatted.values.map((x) => norm(x.value)));
    }
    expect((m.get(1) as Json[])[n - 1]).toEqual({ a: 100 + n - 1, b: -(n - 1), c: [n - 1, n, 255] });
  });
});
