// `tsbpf map list|show|dump` against bpftool in the same run: maps of a loaded object and maps
// made here without BTF (hash, array, per-CPU array) with known contents, shown and dumped.

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { BpfMap, loadCollectionFile } from "../../src/load/index.ts";
import { ROOT, haveKernelBtf, haveRoot, haveTool, run } from "../support/env.ts";

const bun = `${ROOT}node_modules/.bin/bun`;
const tsbpf = (...args: string[]) => spawnSync(bun, [`${ROOT}src/cli/tsbpf.ts`, ...args], { encoding: "utf8", maxBuffer: 1 << 30 });

describe.skipIf(!haveRoot() || !haveTool("bpftool") || !haveKernelBtf())("tsbpf map vs bpftool map", () => {
  const coll = loadCollectionFile(join(ROOT, "fixtures/obj/globals.o"));
  const hash = BpfMap.create({ mapType: "HASH", keySize: 4, valueSize: 8, maxEntries: 16, name: "t_hash" });
  const wide = BpfMap.create({ mapType: "HASH", keySize: 20, valueSize: 36, maxEntries: 4, name: "t_wide" });
  const arr = BpfMap.create({ mapType: "ARRAY", keySize: 4, valueSize: 12, maxEntries: 3, name: "t_arr" });
  const pcpu = BpfMap.create({ mapType: "PERCPU_ARRAY", keySize: 4, valueSize: 4, maxEntries: 2, name: "t_pcpu" });
  const empty = BpfMap.create({ mapType: "HASH", keySize: 8, valueSize: 8, maxEntries: 4, name: "t_empty" });
  afterAll(() => { coll.close(); for (const m of [hash, wide, arr, pcpu, empty]) m.close(); });
  for (let i = 0; i < 5; i++) hash.set(i * 7, BigInt(i) * 0x0101010101n);
  wide.set(Uint8Array.from({ length: 20 }, (_, i) => i), Uint8Array.from({ length: 36 }, (_, i) => 255 - i));
  arr.set(1, Uint8Array.from({ length: 12 }, (_, i) => i + 1));
  pcpu.set(1, 0xabcd);
  const ids = [...[...coll.maps.values()].map((m) => m.id), hash.id, wide.id, arr.id, pcpu.id, empty.id];
  const rawIds = [hash.id, wide.id, arr.id, pcpu.id, empty.id];

  test.each(ids.map((i) => [i]))("show %d (--json and text)", (id) => {
    const j = tsbpf("map", "show", String(id), "--json");
    expect(j.status, j.stderr).toBe(0);
    expect(JSON.parse(j.stdout)).toEqual(JSON.parse(run("bpftool", ["-j", "map", "show", "id", String(id)])));
    const t = tsbpf("map", "show", String(id));
    expect(t.stdout).toBe(run("bpftool", ["map", "show", "id", String(id)]));
  });

  test("list --json holds every map, as bpftool shows each", () => {
    // Compared with `show id` rather than bpftool's own list: bpftool 7.1's list carries a previous
    // map's btf_id over to maps that have none.
    const ours = new Map((JSON.parse(tsbpf("map", "list", "--json").stdout) as { id: number }[]).map((m) => [m.id, m] as const));
    for (const id of ids) expect(ours.get(id)).toEqual(JSON.parse(run("bpftool", ["-j", "map", "show", "id", String(id)])));
  });

  test.each(rawIds.map((i) => [i]))("dump %d without BTF: bpftool's hex text and -j form", (id) => {
    const t = tsbpf("map", "dump", String(id));
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout).toBe(run("bpftool", ["map", "dump", "id", String(id)]));
    const j = tsbpf("map", "dump", String(id), "--json");
    expect(JSON.parse(j.stdout)).toEqual(JSON.parse(run("bpftool", ["-j", "map", "dump", "id", String(id)])));
  });
});
