// `tsbpf map dump` of maps with BTF against bpftool in the same run, byte for byte: the pretty
// BTF listing (text) and the -j form with "formatted", over random contents of maps whose types
// cover every kind bpftool formats (see map-src/btf_values.bpf.c), global data sections, every
// map of every fixture object, and bpftool's quirks (float unsupported,
// "\" written as "\n", lookups that fail).

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, test } from "vitest";
import { loadBtfFile } from "../../btf/file.ts";
import { ROOT, haveBun, haveKernelBtf, haveRoot, haveTool, run } from "../support/env.ts";

const live = haveBun() && haveRoot() && haveTool("bpftool", "version") && haveTool("clang-19") && haveKernelBtf();
const load = live ? await import("../../src/load/index.ts") : ({} as typeof import("../../src/load/index.ts"));
const dump = live ? await import("../../src/load/map-dump.ts") : ({} as typeof import("../../src/load/map-dump.ts"));

const bun = `${ROOT}node_modules/.bin/bun`;
const tsbpf = (...args: string[]) => spawnSync(bun, [`${ROOT}src/cli/tsbpf.ts`, ...args], { encoding: "utf8", maxBuffer: 1 << 30 });
const bpftool = (...args: string[]) => spawnSync("bpftool", args, { encoding: "utf8", maxBuffer: 1 << 30 });

/** Ours (in process) and bpftool's text and -j dumps of one map id. */
function expectSameDump(id: number): void {
  const d = dump.readMapDump(id);
  expect(dump.mapDumpText(d), `map ${id} text`).toBe(bpftool("map", "dump", "id", String(id)).stdout);
  expect(dump.mapDumpJson(d), `map ${id} -j`).toBe(bpftool("-j", "map", "dump", "id", String(id)).stdout);
}

const enc = new TextEncoder();

describe.skipIf(!live)("tsbpf map dump with BTF vs bpftool", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-mapbtf-"));
  const obj = join(dir, "btf_values.o");
  if (live) run("clang-19", ["-g", "-O2", "-target", "bpf", "-c", join(import.meta.dirname, "map-src/btf_values.bpf.c"), "-o", obj]);
  const coll = live ? load.loadCollectionFile(obj) : undefined;
  afterAll(() => { coll?.close(); rmSync(dir, { recursive: true, force: true }); });
  const map = (name: string) => {
    const m = coll!.maps.get(name);
    if (!m) throw new Error(`no map ${name} in ${[...coll!.maps.keys()].join(", ")}`);
    return m;
  };

  test("every kind, random contents: text and -j equal bpftool's", () => {
    const m = map("every_hash");
    // Member offsets from clang's BTF for the object.
    const every = loadBtfFile(obj).find("every", "struct");
    if (every?.kind !== "struct") throw new Error("no struct every in the object's BTF");
    const off = (name: string) => every.members.find((x) => x.name === name)!.bitOffset / 8;
    const nameOff = off("name"), ptrOff = off("ptr");
    const texts = ["", "abc", "a\\b", "q\"t'", "12345678"];
    fc.assert(fc.property(
      fc.uniqueArray(fc.record({
        key: fc.uint8Array({ minLength: 8, maxLength: 8 }),
        value: fc.uint8Array({ minLength: m.valueSize, maxLength: m.valueSize }),
        text: fc.option(fc.constantFrom(...texts)),
        tag: fc.option(fc.constantFrom("", "ab", "wxyz")),
        zeroPtr: fc.boolean(),
      }), { selector: (e) => e.key.join(), minLength: 1, maxLength: 12 }),
      (entries) => {
        for (const k of [...m.keys()]) m.delete(k);
        for (const e of entries) {
          if (e.tag !== null) { e.key.fill(0, 3); e.key.set(enc.encode(e.tag), 3); }
          if (e.text !== null) { e.value.fill(0, nameOff, nameOff + 9); e.value.set(enc.encode(e.text), nameOff); }
          if (e.zeroPtr) e.value.fill(0, ptrOff, ptrOff + 8);
          m.set(e.key, e.value);
        }
        expectSameDump(m.id);
      }), { numRuns: 25, seed: 7 });
  });

  test("the pointer, bool and string quirks occur in what was compared", () => {
    const m = map("every_hash");
    const text = dump.mapDumpText(dump.readMapDump(m.id));
    // bpftool's %p: "(nil)" or 0x…; its JSON-ish strings with \' and the backslash as \n.
    expect(text).toMatch(/"ptr": (\(nil\)|0x[0-9a-f]+)/);
    expect(text).toMatch(/"flag": (true|false)/);
    expect(text).toMatch(/"u128": 0x[0-9a-f]+/);
  });

  test("float members: bpftool's '(unsupported-kind' marker and early stop, reproduced", () => {
    const m = map("float_array");
    m.set(1, Uint8Array.from({ length: m.valueSize }, (_, i) => i + 1));
    expectSameDump(m.id);
    expect(dump.mapDumpText(dump.readMapDump(m.id))).toContain("(unsupported-kind");
  });

  test("per-CPU hash with an enum key: one value per possible CPU", () => {
    const m = map("pc_hash");
    const n = load.numPossibleCpus();
    for (const k of [-3, 0, 0x7fffffff, 12345]) {
      const key = new Uint8Array(4);
      new DataView(key.buffer).setInt32(0, k, true);
      m.set(key, Array.from({ length: n }, (_, c) => Uint8Array.from({ length: m.valueSize }, (_, i) => (i * 31 + c * 7 + k) & 0xff)));
    }
    expectSameDump(m.id);
  });

  test("array of arrays and the global data sections (.data, .bss, .rodata)", () => {
    map("arr_of_arr").set(1, Uint8Array.from({ length: 24 }, (_, i) => 255 - i));
    for (const m of coll!.maps.values()) expectSameDump(m.id);
  });

  test("every map of every fixture object, as loaded", () => {
    const objs = ["maps_basic", "maps_ringbuf", "maps_storage", "maps_xdp", "map_in_map", "globals", "tail_call", "count_reads", "biolatency_cgroup", "read_size_hist"];
    let compared = 0;
    for (const o of objs) {
      using c = load.loadCollectionFile(join(ROOT, "fixtures/obj", `${o}.o`));
      for (const m of c.maps.values()) {
        expectSameDump(m.id);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(30);
  });

  test("whole process: the CLI prints the same; a map without keys fails like bpftool; a bad id exits 2", () => {
    const id = map("every_hash").id;
    const t = tsbpf("map", "dump", String(id));
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout).toBe(bpftool("map", "dump", "id", String(id)).stdout);
    const j = tsbpf("map", "dump", String(id), "--json");
    expect(j.stdout).toBe(bpftool("-j", "map", "dump", "id", String(id)).stdout);

    using q = load.BpfMap.create({ mapType: "QUEUE", keySize: 0, valueSize: 4, maxEntries: 4, name: "t_mbq" });
    const ours = tsbpf("map", "dump", String(q.id));
    const theirs = bpftool("map", "dump", "id", String(q.id));
    expect(theirs.status).not.toBe(0);
    expect(ours.status).toBe(1);
    expect(ours.stdout).toBe(theirs.stdout);
    expect(ours.stderr).toMatch(/MAP_GET_NEXT_KEY failed: EINVAL/);

    const bad = tsbpf("map", "dump", "nope");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/expected a map id/);
  });
});
