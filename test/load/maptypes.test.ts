// Every map type tsbpf names, created with attributes the kernel accepts for it, reads back from
// bpftool with the type name libbpf gives that type: our MAP_TYPE numbers are the kernel's.
// Map-in-map: an outer map built on an inner template holds a real inner map.

import { describe, expect, test } from "vitest";
import { haveBun, haveRoot, haveTool } from "../support/env.ts";
import { bpftoolJson, fromHexList } from "./kernel.ts";

const live = haveBun() && haveRoot() && haveTool("bpftool", "version");
const { BpfMap, MAP_F, numPossibleCpus } = live ? await import("../../src/load/index.ts") : ({} as typeof import("../../src/load/index.ts"));

type Name = Parameters<typeof BpfMap.create>[0]["mapType"];
interface Row { type: Name; key: number; value: number; max: number; flags?: number; extra?: bigint; inner?: boolean; bpftool: string }

const rows = (): Row[] => [
  { type: "HASH", key: 4, value: 8, max: 16, bpftool: "hash" },
  { type: "ARRAY", key: 4, value: 8, max: 16, bpftool: "array" },
  { type: "PROG_ARRAY", key: 4, value: 4, max: 4, bpftool: "prog_array" },
  { type: "PERF_EVENT_ARRAY", key: 4, value: 4, max: numPossibleCpus(), bpftool: "perf_event_array" },
  { type: "PERCPU_HASH", key: 4, value: 8, max: 16, bpftool: "percpu_hash" },
  { type: "PERCPU_ARRAY", key: 4, value: 8, max: 16, bpftool: "percpu_array" },
  { type: "STACK_TRACE", key: 4, value: 8 * 127, max: 16, bpftool: "stack_trace" },
  { type: "CGROUP_ARRAY", key: 4, value: 4, max: 4, bpftool: "cgroup_array" },
  { type: "LRU_HASH", key: 4, value: 8, max: 16, bpftool: "lru_hash" },
  { type: "LRU_PERCPU_HASH", key: 4, value: 8, max: 16, bpftool: "lru_percpu_hash" },
  { type: "LPM_TRIE", key: 8, value: 8, max: 16, flags: MAP_F.NO_PREALLOC, bpftool: "lpm_trie" },
  { type: "ARRAY_OF_MAPS", key: 4, value: 4, max: 4, inner: true, bpftool: "array_of_maps" },
  { type: "HASH_OF_MAPS", key: 4, value: 4, max: 4, inner: true, bpftool: "hash_of_maps" },
  { type: "DEVMAP", key: 4, value: 4, max: 4, bpftool: "devmap" },
  { type: "SOCKMAP", key: 4, value: 4, max: 4, bpftool: "sockmap" },
  { type: "CPUMAP", key: 4, value: 4, max: numPossibleCpus(), bpftool: "cpumap" },
  { type: "XSKMAP", key: 4, value: 4, max: 4, bpftool: "xskmap" },
  { type: "SOCKHASH", key: 4, value: 4, max: 4, bpftool: "sockhash" },
  { type: "QUEUE", key: 0, value: 8, max: 16, bpftool: "queue" },
  { type: "STACK", key: 0, value: 8, max: 16, bpftool: "stack" },
  { type: "DEVMAP_HASH", key: 4, value: 4, max: 4, bpftool: "devmap_hash" },
  { type: "RINGBUF", key: 0, value: 0, max: 4096, bpftool: "ringbuf" },
  { type: "BLOOM_FILTER", key: 0, value: 4, max: 16, extra: 3n, bpftool: "bloom_filter" },
  { type: "USER_RINGBUF", key: 0, value: 0, max: 4096, bpftool: "user_ringbuf" },
];

describe.skipIf(!live)("map types", () => {
  test("each type reads back from bpftool under libbpf's name for it, with our attributes", () => {
    for (const r of rows()) {
      using inner = r.inner ? BpfMap.create({ mapType: "ARRAY", keySize: 4, valueSize: 4, maxEntries: 1 }) : undefined;
      using m = BpfMap.create({ mapType: r.type, keySize: r.key, valueSize: r.value, maxEntries: r.max, mapFlags: r.flags, mapExtra: r.extra, innerMap: inner, name: `t_${r.bpftool}`.slice(0, 15) });
      const show = bpftoolJson<{ type: string; bytes_key: number; bytes_value: number; max_entries: number }>(["map", "show", "id", String(m.id)]);
      expect([r.type, show.type, show.bytes_key, show.bytes_value, show.max_entries]).toEqual([r.type, r.bpftool, r.key, r.value, r.max]);
      if (r.extra !== undefined) expect(m.info().mapExtra).toBe(r.extra);
    }
  });

  test("hash of maps: an inner map stored by fd reads back as its id, as bpftool dumps it", () => {
    using tmpl = BpfMap.create({ mapType: "ARRAY", keySize: 4, valueSize: 8, maxEntries: 2 });
    using outer = BpfMap.create({ mapType: "HASH_OF_MAPS", keySize: 4, valueSize: 4, maxEntries: 4, innerMap: tmpl });
    using inner = BpfMap.create({ mapType: "ARRAY", keySize: 4, valueSize: 8, maxEntries: 2 });
    outer.set(7, inner.fd);
    expect(outer.getNumber(7)).toBe(BigInt(inner.id));
    // bpftool 7.1 dumps the value as the 4 bytes of the inner map's id.
    const dump = bpftoolJson<{ key: string[]; value: string[] }[]>(["map", "dump", "id", String(outer.id)]);
    expect(dump.map((e) => new DataView(fromHexList(e.value).buffer).getUint32(0, true))).toEqual([inner.id]);
    using mismatched = BpfMap.create({ mapType: "HASH", keySize: 4, valueSize: 8, maxEntries: 2 });
    expect(() => outer.set(8, mismatched.fd)).toThrow(expect.objectContaining({ command: "MAP_UPDATE_ELEM", errnoName: "EINVAL" }));
  });
});
