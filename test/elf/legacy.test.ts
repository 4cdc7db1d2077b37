// The legacy `maps` section (struct bpf_map_def), which libbpf ≥ 1.0 refuses and so cannot be the
// oracle here: the expected attributes are the C initialisers below, and the map reference in
// the code must name the map whose definition the relocation's symbol starts.

import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { loadObject } from "../../src/elf/index.ts";
import { linkProgram } from "../../src/link/index.ts";
import { haveTool } from "../support/env.ts";
import { compileC } from "./objects.ts";

const SRC = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct bpf_map_def_legacy { unsigned int type, key_size, value_size, max_entries, map_flags; };
struct bpf_map_def_legacy SEC("maps") first = { BPF_MAP_TYPE_HASH, 4, 8, 64, 1 };
struct bpf_map_def_legacy SEC("maps") second = { BPF_MAP_TYPE_ARRAY, 4, 16, 4, 0 };
SEC("socket") int use(void *ctx) { int k = 0; long *v = bpf_map_lookup_elem(&second, &k); return v ? 1 : 0; }
char LICENSE[] SEC("license") = "GPL";
`;

describe.skipIf(!haveTool("clang-19"))("legacy maps section", () => {
  test("attributes and references", () => {
    const { legacy } = compileC({ legacy: SRC });
    const obj = loadObject(readFileSync(legacy), { file: legacy });
    expect(obj.maps.map((m) => [m.name, m.kind, m.type, m.keySize, m.valueSize, m.maxEntries, m.flags])).toEqual([
      ["first", "legacy", 1, 4, 8, 64, 1],
      ["second", "legacy", 2, 4, 16, 4, 0],
    ]);
    const linked = linkProgram(obj, obj.programs[0]);
    const maps = linked.fixups.filter((f) => f.what === "map");
    expect(maps.map((f) => [f.target, f.new.src, Number((f.new.imm64 ?? 0n) & 0xffffffffn)])).toEqual([["second", 5, 1]]);
  });

  // libbpf 0.x (the last libbpf to read this section) accepted longer definitions whose extra
  // fields are zero and refused "unrecognized, non-zero options" otherwise.
  const ext = (extra: number) => `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct def_ext { unsigned int type, key_size, value_size, max_entries, map_flags, pinning, inner; };
struct def_ext SEC("maps") ext_a = { BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0, 0, 0 };
struct def_ext SEC("maps") ext_b = { BPF_MAP_TYPE_HASH, 4, 8, 2, 0, ${extra}, 0 };
SEC("socket") int use(void *ctx) { int k = 0; return bpf_map_lookup_elem(&ext_b, &k) ? 1 : 0; }
char LICENSE[] SEC("license") = "GPL";
`;

  test("longer definitions: zero extra fields are accepted, non-zero ones are a typed error at their offset", () => {
    const { zero, pinned } = compileC({ zero: ext(0), pinned: ext(2) });
    const ok = loadObject(readFileSync(zero), { file: zero });
    expect(ok.maps.map((m) => [m.name, m.type, m.keySize, m.valueSize, m.maxEntries])).toEqual([["ext_a", 2, 4, 4, 1], ["ext_b", 1, 4, 8, 2]]);
    let err: unknown;
    try {
      loadObject(readFileSync(pinned), { file: pinned });
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string }).code).toBe("OBJ_BAD_MAP");
    expect((err as Error).message).toMatch(/legacy map 'ext_b' has unrecognized, non-zero options \(byte 20 of its 28-byte definition\)/);
    expect((err as { where: { offset: number } }).where.offset).toBeGreaterThan(0);
  });
});
