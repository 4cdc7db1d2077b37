// The raw and JSON listings against bpftool, generated in the run: vmlinux, the C programs in
// test/btf/c built by clang-19, every fixture object with BTF, and split BTF over vmlinux.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { haveKernelBtf, haveTool, ROOT, run } from "../support/env.ts";
import { Btf, dumpJson, dumpJsonBytes, dumpRaw, dumpRawBytes, encodeBtf, loadBtfFile, type BtfType } from "../../btf/index.ts";
import { buildTestObjects, fixtureObjectsWithBtf } from "./objects.ts";

const VMLINUX = "/sys/kernel/btf/vmlinux";
const ready = haveTool("bpftool") && haveTool("clang-19") && haveTool("llvm-readelf-19") && haveKernelBtf();
const bun = `${ROOT}node_modules/.bin/bun`;
const tsbpf = (...args: string[]) => spawnSync(bun, [`${ROOT}src/cli/tsbpf.ts`, ...args], { encoding: "utf8", maxBuffer: 1 << 30 });

interface JsonType {
  kind: string;
  encoding?: string;
  values?: { val: number }[];
}

/**
 * bpftool writes an unsigned ENUM's 32-bit value through a signed int into its u64 JSON field, so
 * values >= 2^31 come out sign-extended (18446744073441116159 for 0xefffffff); its text listing
 * prints them as u32, and so do we in both. Map our values to bpftool's for the comparison.
 */
function asBpftoolJson(doc: { types: JsonType[] }): { types: JsonType[] } {
  for (const t of doc.types) {
    if (t.kind !== "ENUM" || t.encoding !== "UNSIGNED" || !t.values) continue;
    for (const v of t.values) if (v.val >= 2 ** 31) v.val = 2 ** 64 - (2 ** 32 - v.val);
  }
  return doc;
}

/** Compare line by line so a failure names the first differing line, not a 20 MB blob. */
function expectSameLines(ours: string, theirs: string): void {
  const a = ours.split("\n");
  const b = theirs.split("\n");
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) expect({ line: i + 1, ours: a[i] }).toEqual({ line: i + 1, ours: b[i] });
  }
  expect(a.length).toBe(b.length);
}

describe.skipIf(!ready)("btf dump vs bpftool", () => {
  const objects = ready ? [...buildTestObjects(), ...fixtureObjectsWithBtf()] : [];

  it("builds several objects", () => {
    expect(objects.length).toBeGreaterThanOrEqual(3);
  });

  it("raw listing of every object equals bpftool's", () => {
    for (const obj of objects) {
      const theirs = run("bpftool", ["btf", "dump", "file", obj, "format", "raw"]);
      // Both printers: from the model objects and straight from the parsed words.
      expectSameLines([...dumpRaw(loadBtfFile(obj))].join(""), theirs);
      expectSameLines(new TextDecoder().decode(dumpRawBytes(loadBtfFile(obj))), theirs);
    }
  });

  it("JSON listing of every object equals bpftool -j's", () => {
    for (const obj of objects) {
      const theirs = JSON.parse(run("bpftool", ["-j", "btf", "dump", "file", obj, "format", "raw"]));
      expect(asBpftoolJson(JSON.parse([...dumpJson(loadBtfFile(obj))].join("")))).toEqual(theirs);
      expect(asBpftoolJson(JSON.parse(new TextDecoder().decode(dumpJsonBytes(loadBtfFile(obj)))))).toEqual(theirs);
    }
  });

  it("the objects exercise every kind clang emits", () => {
    const kinds = new Set<string>();
    for (const obj of objects) for (const t of loadBtfFile(obj).types()) kinds.add(t.kind);
    for (const k of ["int", "ptr", "array", "struct", "union", "enum", "enum64", "typedef", "volatile", "const", "restrict", "func", "func_proto", "var", "datasec", "float", "decl_tag", "type_tag"]) {
      expect(kinds, k).toContain(k);
    }
  });

  it("tsbpf btf dump on vmlinux prints exactly bpftool's raw listing (whole process)", () => {
    const theirs = run("bpftool", ["btf", "dump", "file", VMLINUX, "format", "raw"]);
    const r = tsbpf("btf", "dump", VMLINUX, "--format", "raw");
    expect(r.status).toBe(0);
    expectSameLines(r.stdout, theirs);
  });

  it("tsbpf btf dump --json on vmlinux equals bpftool -j", () => {
    const theirs = JSON.parse(run("bpftool", ["-j", "btf", "dump", "file", VMLINUX, "format", "raw"]));
    const r = tsbpf("btf", "dump", VMLINUX, "--json");
    expect(r.status).toBe(0);
    const ours = JSON.parse(r.stdout);
    expect(ours.types.find((t: JsonType & { name: string }) => t.name === "init_ns_ino").values[0].val).toBe(0xefffffff);
    // Compare type by type as canonical text: a deep toEqual over 127k objects takes seconds.
    const a = asBpftoolJson(ours).types.map((t) => JSON.stringify(t));
    const b = (theirs as { types: unknown[] }).types.map((t) => JSON.stringify(t));
    expect(a.length).toBe(b.length);
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) expect(a[i]).toBe(b[i]);
  });

  it("split BTF over vmlinux: --base lists only the split types, as bpftool -B does", () => {
    const base = loadBtfFile(VMLINUX);
    const task = base.find("task_struct", "struct");
    const u32 = base.find("u32", "typedef");
    expect(task && u32).toBeTruthy();
    const ptr = base.typeCount;
    const types: BtfType[] = [
      { kind: "ptr", id: 0, name: "", nameOff: 0, type: task!.id },
      { kind: "struct", id: 0, name: "split_thing", nameOff: 0, size: 16, kindFlag: true, members: [
        { name: "task", nameOff: 0, type: ptr, bitOffset: 0, bitfieldSize: 0 },
        { name: "flags", nameOff: 0, type: u32!.id, bitOffset: 64, bitfieldSize: 5 },
        { name: "comm_len", nameOff: 0, type: u32!.id, bitOffset: 69, bitfieldSize: 27 },
      ] },
      // A name that already exists in the base resolves to the base's string offset.
      { kind: "typedef", id: 0, name: "task_struct_alias", nameOff: 0, type: task!.id },
      { kind: "var", id: 0, name: "pid", nameOff: 0, type: ptr, linkage: "global" },
    ];
    const split = Btf.fromTypes(types, { base });
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-split-"));
    const file = join(dir, "split.btf");
    writeFileSync(file, encodeBtf(split));
    const theirs = run("bpftool", ["-B", VMLINUX, "btf", "dump", "file", file, "format", "raw"]);
    expect(theirs).toContain(`[${ptr}] PTR '(anon)' type_id=${task!.id}`);
    const r = tsbpf("btf", "dump", file, "--base", VMLINUX);
    expect(r.stderr).toBe("");
    expectSameLines(r.stdout, theirs);
    const rj = tsbpf("btf", "dump", file, "--base", VMLINUX, "--json");
    expect(JSON.parse(rj.stdout)).toEqual(JSON.parse(run("bpftool", ["-j", "-B", VMLINUX, "btf", "dump", "file", file, "format", "raw"])));
  });

  it("--format c without the C dumper is a usage error, and bad arguments exit 2", () => {
    const r = tsbpf("btf", "dump", VMLINUX, "--format", "c");
    if (r.status !== 0) {
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/not available|format c/);
    }
    expect(tsbpf("btf", "dump").status).toBe(2);
    expect(tsbpf("btf", "dump", VMLINUX, "--format", "xml").status).toBe(2);
    const missing = tsbpf("btf", "dump", "/nonexistent.o");
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("/nonexistent.o");
  });
});

describe.skipIf(!(haveTool("bpftool") && haveKernelBtf()))("btf dump vs bpftool on generated BTF", () => {
  it("random models (both byte orders) list as bpftool lists them", async () => {
    const fc = (await import("fast-check")).default;
    const { btfModel } = await import("./arbitrary.ts");
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-gen-"));
    const models = fc.sample(btfModel, { numRuns: 40, seed: 20261125 });
    models.forEach((m, i) => {
      const file = join(dir, `m${i}.btf`);
      writeFileSync(file, encodeBtf(m));
      const theirs = run("bpftool", ["btf", "dump", "file", file, "format", "raw"]);
      expectSameLines([...dumpRaw(loadBtfFile(file))].join(""), theirs);
      expectSameLines(new TextDecoder().decode(dumpRawBytes(loadBtfFile(file))), theirs);
    });
  });

  it("big-endian vmlinux lists as bpftool lists it", () => {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-be-"));
    const file = join(dir, "vmlinux.be.btf");
    writeFileSync(file, encodeBtf(loadBtfFile(VMLINUX), { endian: "big" }));
    const theirs = run("bpftool", ["btf", "dump", "file", file, "format", "raw"]);
    const btf = loadBtfFile(file);
    expect(btf.endian).toBe("big");
    expectSameLines(new TextDecoder().decode(dumpRawBytes(btf)), theirs);
  });
});
