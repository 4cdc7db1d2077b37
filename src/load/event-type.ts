// Which BTF type a ring buffer's or perf event array's records hold, and records decoded through it.
// A ringbuf map has no value type, so the record's type is chosen by name and size (see eventType),
// as documented in `tsbpf run --help`.

import type { Btf, BtfType } from "../../btf/index.ts";
import type { MapSpec } from "../elf/spec.ts";
import { decodeValue, hex, resolveType, type TypedValue } from "./typed.ts";

/** Struct types of the object (not pulled in from vmlinux through a trace context or task_struct). */
function structs(btf: Btf): BtfType[] {
  return btf.idsByKind("struct").map((id) => btf.type(id));
}

function singular(name: string): string {
  return name.endsWith("s") ? name.slice(0, -1) : name;
}

/**
 * The BTF struct a ring/perf buffer map's records hold, in this order: a perf event array's
 * declared value type if it is a struct; `struct event`; `struct <map>_event` or
 * `struct <map minus trailing s>_event` ("forks" → fork_event); else the only struct whose name
 * ends in "event" (trace_event_* excluded) with the record's size. 0: none (records print as hex).
 */
export function eventType(btf: Btf | undefined, map: MapSpec, recordSize?: number): number {
  if (!btf) return 0;
  if (map.valueType) {
    const t = resolveType(btf, map.valueType);
    if (t.kind === "struct") return t.id;
  }
  const all = structs(btf);
  for (const want of ["event", `${map.name}_event`, `${singular(map.name)}_event`, `${map.name}_t`, `${singular(map.name)}_t`]) {
    const t = all.find((s) => s.name === want);
    if (t) return t.id;
  }
  if (recordSize !== undefined) {
    const hits = all.filter((s) => s.kind === "struct" && /event/.test(s.name) && !s.name.startsWith("trace_event") && s.size === recordSize);
    if (hits.length === 1) return hits[0].id;
  }
  return 0;
}

/** Decode one record; a record shorter than its type (or with no type) prints as hex bytes. */
export function decodeEvent(btf: Btf | undefined, typeId: number, rec: Uint8Array): TypedValue {
  if (!btf || !typeId) return hex(rec);
  const t = resolveType(btf, typeId);
  if (t.kind === "struct" && rec.byteLength < t.size) return hex(rec);
  return decodeValue(btf, typeId, rec);
}
