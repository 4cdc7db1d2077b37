// loadCollection beyond parity: libbpf's BTF sanitisation rules on crafted BTF (every kind an
// older kernel lacks, each feature off in turn; the kernel must accept every result), pinning by
// the map's `pinning` attribute (pin, reuse, refuse an incompatible pin), errors that name the
// program, no file descriptor left behind by failed or repeated loads, and map references rewritten
// to the fd form libbpf sends.

import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { parseBtf } from "../../btf/index.ts";
import { ALL_BTF_FEATURES, needsSanitizing, sanitizeBtf, type BtfFeatures } from "../../src/load/object-btf.ts";
import { mapRefsToFds } from "../../src/load/object.ts";
import { TsbpfError } from "../../src/errors.ts";
import type { Insn } from "../../asm/insn.ts";
import { compileC } from "../elf/objects.ts";
import { ROOT, haveKernelBtf, haveRoot, haveTool } from "../support/env.ts";

const live = haveRoot() && haveKernelBtf();
const L = live ? await import("../../src/load/index.ts") : ({} as typeof import("../../src/load/index.ts"));

/** Raw BTF from type records (words) and a string list; offsets of names are returned by `str`. */
function craft(build: (str: (s: string) => number) => number[][]): Uint8Array {
  const strs: string[] = [""];
  let len = 1;
  const offs = new Map<string, number>([["", 0]]);
  const str = (s: string) => {
    if (!offs.has(s)) { offs.set(s, len); strs.push(s); len += s.length + 1; }
    return offs.get(s)!;
  };
  const words = build(str).flat();
  const strBytes = new TextEncoder().encode(strs.join("\0") + "\0");
  const out = new Uint8Array(24 + words.length * 4 + strBytes.length);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, 0xeb9f, true); dv.setUint8(2, 1); dv.setUint32(4, 24, true);
  dv.setUint32(8, 0, true); dv.setUint32(12, words.length * 4, true);
  dv.setUint32(16, words.length * 4, true); dv.setUint32(20, strBytes.length, true);
  words.forEach((w, i) => dv.setUint32(24 + 4 * i, w >>> 0, true));
  out.set(strBytes, 24 + words.length * 4);
  return out;
}

const info = (kind: number, vlen: number, kflag = 0) => ((kflag << 31) | (kind << 24) | vlen) >>> 0;

/** One of every kind libbpf sanitises, in a blob the kernel accepts as is. */
const ALL_KINDS = craft((s) => [
  [s("int"), info(1, 0), 4, (1 << 24) | 32], // 1 INT int (signed, 32 bits)
  [s("v"), info(14, 0), 1, 1], // 2 VAR v: int, global
  [s(".data"), info(15, 1), 4, 2, 0, 4], // 3 DATASEC .data
  [0, info(13, 1), 1, s("a"), 1], // 4 FUNC_PROTO int (int a)
  [s("f"), info(12, 1), 4], // 5 FUNC f, global
  [s("float"), info(16, 0), 4], // 6 FLOAT
  [s("tag"), info(17, 0), 5, 0xffffffff], // 7 DECL_TAG on f
  [0, info(2, 0), 9], // 8 PTR → 9
  [s("user"), info(18, 0), 1], // 9 TYPE_TAG user → int
  [s("e64"), info(19, 1), 8, s("A"), 1, 2], // 10 ENUM64
  [s("e"), info(6, 1, 1), 4, s("B"), 0xffffffff], // 11 ENUM, signed (kflag)
  [s("w"), info(14, 0), 1, 1], // 12 VAR w
  [s("?sec"), info(15, 1), 4, 12, 0, 4], // 13 DATASEC ?sec
]);

const kinds = (bytes: Uint8Array) => {
  const b = parseBtf(bytes);
  return Array.from({ length: b.typeCount - 1 }, (_, i) => b.type(i + 1));
};

describe("map references as libbpf sends them (uapi: MAP_FD/MAP_VALUE carry the fd in imm, the offset in the second slot)", () => {
  const ld = (src: number, imm64: bigint): Insn => ({ op: 0x18, dst: 1, src, off: 0, imm: Number(imm64 & 0xffffffffn) | 0, imm64 });
  const maps = [{ fd: 41 }, { fd: 57 }];
  test("MAP_IDX(1) becomes MAP_FD(fd of map 1); MAP_IDX_VALUE(0, +8) becomes MAP_VALUE(fd of map 0, +8); the rest is untouched", () => {
    const other = { op: 0xb7, dst: 0, src: 0, off: 0, imm: 7 };
    const btfId = ld(3, 123n);
    const out = mapRefsToFds([ld(5, 1n), ld(6, (8n << 32n) | 0n), other, btfId], maps);
    expect(out[0]).toMatchObject({ src: 1, imm: 57, imm64: 57n });
    expect(out[1]).toMatchObject({ src: 2, imm: 41, imm64: (8n << 32n) | 41n });
    expect(out[2]).toBe(other);
    expect(out[3]).toBe(btfId);
  });
  test("an index past the map list is a TsbpfError at that instruction", () => {
    let err: unknown;
    try { mapRefsToFds([{ op: 0x95, dst: 0, src: 0, off: 0, imm: 0 }, ld(5, 2n)], maps); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(TsbpfError);
    expect((err as TsbpfError).where.insn).toBe(1);
  });
});

describe("BTF sanitisation (libbpf's rules for kernels lacking a kind)", () => {
  test("nothing to do on a kernel with every kind", () => {
    expect(needsSanitizing(ALL_BTF_FEATURES)).toBe(false);
    expect(sanitizeBtf(ALL_KINDS, ALL_BTF_FEATURES)).toEqual(ALL_KINDS);
  });

  test("each missing feature rewrites exactly its kinds", () => {
    const off = (k: keyof BtfFeatures) => kinds(sanitizeBtf(ALL_KINDS, { ...ALL_BTF_FEATURES, [k]: false }));
    // No DATASEC support: VARs become 1-byte INTs, DATASECs STRUCTs named with '_' for '.' and '?'.
    const ds = off("datasec");
    expect(ds[1]).toMatchObject({ kind: "int", size: 1, bits: 8, encoding: 0 });
    expect(ds[2]).toMatchObject({ kind: "struct", name: "_data", size: 4, members: [{ name: "v", type: 2, bitOffset: 0 }] });
    expect(ds[12]).toMatchObject({ kind: "struct", name: "_sec" });
    // No '?' DATASEC names: the first character becomes '_'.
    expect(off("qmarkDatasec")[12]).toMatchObject({ kind: "datasec", name: "_sec" });
    // No FUNC: FUNC_PROTO → ENUM of size 4, FUNC → TYPEDEF.
    const fn = off("func");
    expect(fn[3]).toMatchObject({ kind: "enum", size: 4 });
    expect(fn[4]).toMatchObject({ kind: "typedef", name: "f", type: 4 });
    // No global FUNC linkage: static.
    expect(off("funcGlobal")[4]).toMatchObject({ kind: "func", linkage: "static" });
    // No FLOAT: an anonymous empty STRUCT of the same size.
    expect(off("float")[5]).toMatchObject({ kind: "struct", name: "", size: 4 });
    // No DECL_TAG: a 1-byte INT.
    expect(off("declTag")[6]).toMatchObject({ kind: "int", size: 1, bits: 8 });
    // No TYPE_TAG: an anonymous CONST.
    expect(off("typeTag")[8]).toMatchObject({ kind: "const", name: "", type: 1 });
    // No ENUM64: ENUM64 → UNION of an appended 1-byte INT placeholder; ENUM's signed flag cleared.
    const e = off("enum64");
    expect(e[9]).toMatchObject({ kind: "union", name: "e64", size: 8, members: [{ name: "A", type: 14, bitOffset: 0 }] });
    expect(kinds(ALL_KINDS)[10]).toMatchObject({ kind: "enum", signed: true });
    expect(e[10]).toMatchObject({ kind: "enum", signed: false });
    expect(e[13]).toMatchObject({ kind: "int", name: "enum64_placeholder", size: 1, bits: 8 });
  });

  test.skipIf(!live)("the kernel accepts the original and every sanitised variant", () => {
    const variants: Partial<BtfFeatures>[] = [{}, ...Object.keys(ALL_BTF_FEATURES).map((k) => ({ [k]: false })),
      { func: false, datasec: false, float: false, declTag: false, typeTag: false, enum64: false, qmarkDatasec: false, funcGlobal: false }];
    for (const v of variants) {
      using h = L.BtfHandle.load(sanitizeBtf(ALL_KINDS, { ...ALL_BTF_FEATURES, ...v }));
      expect(h.id).toBeGreaterThan(0);
    }
  });
});

const fdCount = () => readdirSync("/proc/self/fd").length;

describe.skipIf(!live || !haveTool("clang-19"))("loadCollection on the live kernel", () => {
  const objs = compileC({
    pinned: `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 8); __type(key, int); __type(value, long); __uint(pinning, LIBBPF_PIN_BY_NAME); } shared_counts SEC(".maps");
SEC("socket") int count(void *ctx) { int k = 1; long *v = bpf_map_lookup_elem(&shared_counts, &k); if (v) __sync_fetch_and_add(v, 1); return 0; }
char LICENSE[] SEC("license") = "GPL";
`,
  });
  const pinRoot = mkdtempSync("/sys/fs/bpf/tsbpf-object-");
  afterAll(() => rmSync(pinRoot, { recursive: true, force: true }));

  test("pinning by name: pinned under the root, reused by the next load, incompatible pin refused", () => {
    const before = fdCount();
    let id: number;
    {
      using a = L.loadCollectionFile(objs.pinned, { pinRoot });
      id = a.maps.get("shared_counts")!.id;
      expect(existsSync(join(pinRoot, "shared_counts"))).toBe(true);
      using b = L.loadCollectionFile(objs.pinned, { pinRoot });
      expect(b.maps.get("shared_counts")!.id).toBe(id);
    }
    // The pin outlives the collections; a third load still reuses it.
    {
      using c = L.loadCollectionFile(objs.pinned, { pinRoot });
      expect(c.maps.get("shared_counts")!.id).toBe(id);
    }
    rmSync(join(pinRoot, "shared_counts"));
    {
      using other = L.BpfMap.create({ mapType: "HASH", keySize: 4, valueSize: 4, maxEntries: 8 });
      other.pin(join(pinRoot, "shared_counts"));
    }
    expect(() => L.loadCollectionFile(objs.pinned, { pinRoot })).toThrow(/different attributes/);
    rmSync(join(pinRoot, "shared_counts"));
    expect(fdCount()).toBe(before);
  });

  test("a rejected program: VerifierError naming it, with the kernel's log; no fd left", () => {
    const before = fdCount();
    let caught: unknown;
    try {
      L.loadCollectionFile(join(ROOT, "fixtures/obj/mixed_verdicts.o"));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(L.VerifierError);
    const e = caught as InstanceType<typeof L.VerifierError>;
    expect(e.message).toContain("second_rejected");
    expect(e.log).toContain("R0 invalid mem access 'map_value_or_null'");
    expect(fdCount()).toBe(before);
  });

  test("refused for environmental reasons (fentry: EPERM): SysError naming the program; no fd left", () => {
    const before = fdCount();
    expect(() => L.loadCollectionFile(join(ROOT, "fixtures/obj/env_fentry.o"))).toThrow(/on_unlink.*EPERM|EPERM.*on_unlink/);
    expect(fdCount()).toBe(before);
  });

  test("a hundred load/close cycles of a many-map object leave /proc/self/fd as it was", () => {
    const before = fdCount();
    for (let i = 0; i < 100; i++) L.loadCollectionFile(join(ROOT, "fixtures/obj/maps_basic.o")).close();
    expect(fdCount()).toBe(before);
  });

  test("global data: initial values readable, .rodata frozen, prog array slots filled", () => {
    using g = L.loadCollectionFile(join(ROOT, "fixtures/obj/globals.o"));
    const ro = [...g.maps.values()].find((m) => m.name.endsWith(".rodata"))!;
    expect(() => ro.set(0, new Uint8Array(ro.valueSize))).toThrow(/EPERM/);
    using t = L.loadCollectionFile(join(ROOT, "fixtures/obj/tail_call.o"));
    const arr = [...t.maps.values()].find((m) => m.type === 3)!;
    const ids = [...t.programs.values()].map((p) => p.id);
    // A prog array reads back program ids.
    let filled = 0;
    for (let k = 0; k < arr.maxEntries; k++) {
      const v = arr.get(k);
      if (v) { expect(ids).toContain(new DataView(v.buffer, v.byteOffset).getUint32(0, true)); filled++; }
    }
    expect(filled).toBeGreaterThan(0);
  });
});
