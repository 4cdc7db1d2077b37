// Every map of a loaded collection printed after a run: histogram values drawn as bpftrace draws
// hist(), other entries as JSON lines decoded through BTF. Ring/perf buffers and maps without
// entries to list (queues, stacks, bloom filters, program arrays) are left out.

import { MAP_TYPE } from "../sys/constants.ts";
import type { Collection } from "../load/object.ts";
import { TypedMap } from "../load/typed-map.ts";
import { typedJson, type TypedValue } from "../load/typed.ts";
import { drawHist, histSlots, sumSlots } from "./hist.ts";

const UNLISTED = new Set<number>([
  MAP_TYPE.RINGBUF, MAP_TYPE.USER_RINGBUF, MAP_TYPE.PERF_EVENT_ARRAY, MAP_TYPE.QUEUE, MAP_TYPE.STACK,
  MAP_TYPE.BLOOM_FILTER, MAP_TYPE.PROG_ARRAY, MAP_TYPE.STACK_TRACE, MAP_TYPE.ARRAY_OF_MAPS, MAP_TYPE.HASH_OF_MAPS,
  MAP_TYPE.SK_STORAGE, MAP_TYPE.INODE_STORAGE, MAP_TYPE.TASK_STORAGE, MAP_TYPE.CGRP_STORAGE,
  MAP_TYPE.SOCKMAP, MAP_TYPE.SOCKHASH, MAP_TYPE.DEVMAP, MAP_TYPE.DEVMAP_HASH, MAP_TYPE.CPUMAP, MAP_TYPE.XSKMAP,
]);

function slotsOf(v: TypedValue): bigint[] | undefined {
  if (Array.isArray(v)) {
    const per = v.map(histSlots);
    return per.every((x) => x !== undefined) ? sumSlots(per as bigint[][]) : undefined;
  }
  return histSlots(v);
}

/** Text for one map: "@name[key]:" headers and hist() rows, or one JSON line per entry. */
export function renderMap(coll: Collection, name: string, opts: { json?: boolean } = {}): string {
  const spec = coll.object.maps.find((m) => m.name === name);
  // Global data (.data/.rodata/.bss/.kconfig) is the program's variables, not a table: left out.
  if (!spec || UNLISTED.has(spec.type) || (spec.kind !== "btf" && spec.kind !== "legacy")) return "";
  const tm = TypedMap.of(coll, name);
  let out = "";
  for (const { key, value } of tm.entries()) {
    const slots = opts.json ? undefined : slotsOf(value);
    if (slots) {
      const rows = drawHist(slots);
      if (rows === "") continue;
      const k = tm.map.type === MAP_TYPE.ARRAY || tm.map.type === MAP_TYPE.PERCPU_ARRAY ? (tm.map.maxEntries === 1 ? "" : `[${typedJson(key)}]`) : `[${typedJson(key)}]`;
      out += `@${name}${k}:\n${rows}\n`;
    } else {
      out += typedJson({ map: name, key, value }) + "\n";
    }
  }
  return out;
}

export function renderMaps(coll: Collection, opts: { json?: boolean } = {}): string {
  return [...coll.maps.keys()].map((n) => renderMap(coll, n, opts)).join("");
}
