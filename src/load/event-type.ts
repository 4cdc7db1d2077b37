// Which type a ring buffer's or perf event array's records hold (by name and size, see eventType;
// in the object's BTF, then its DWARF, since clang keeps a struct used only through a pointer or a
// stack variable out of BTF), and records decoded through it.

import type { Btf, BtfType } from "../../btf/index.ts";
import { DwarfBtf } from "../elf/dwarf-btf.ts";
import { DwarfTypes, type NamedKind } from "../elf/dwarf-types.ts";
import { readDwarf } from "../elf/dwarf.ts";
import type { MapSpec, ObjectSpec } from "../elf/spec.ts";
import { MAP_TYPE } from "../elf/uapi.ts";
import { TsbpfError } from "../errors.ts";
import { decodeValue, hex, resolveType, type TypedValue } from "./typed.ts";

/** A record type and the BTF that holds it. */
export interface RecordType {
  /** The object's BTF, or (source "dwarf") a split BTF over it holding the types read from DWARF. */
  btf: Btf | undefined;
  /** 0: none (records print as hex). */
  id: number;
  source: "btf" | "dwarf" | "none";
}

export interface DecoderOptions {
  /** The record type by name ("event", "struct event"); default: chosen by name and size. */
  type?: string;
  /**
   * Called once if the object's DWARF cannot be read while choosing a type; records then print
   * as hex. Without it such an error is thrown.
   */
  onWarning?: (message: string) => void;
}

/** Struct types of the object (not pulled in from vmlinux through a trace context or task_struct). */
function structs(btf: Btf): BtfType[] {
  return btf.idsByKind("struct").map((id) => btf.type(id));
}

function singular(name: string): string {
  return name.endsWith("s") ? name.slice(0, -1) : name;
}

/** The struct names tried in order, for a map called `map`. */
function candidateNames(map: string): string[] {
  return ["event", `${map}_event`, `${singular(map)}_event`, `${map}_t`, `${singular(map)}_t`];
}

/**
 * A struct named like an event record of the record's size (trace_event_* contexts excluded). The
 * kernel pads a perf sample's raw data so that it and its u32 size end on 8 bytes.
 */
function eventLike(name: string, size: number, map: MapSpec, recordSize: number): boolean {
  if (!/event/.test(name) || name.startsWith("trace_event")) return false;
  return size === recordSize || (map.type === MAP_TYPE.PERF_EVENT_ARRAY && ((size + 4 + 7) & ~7) - 4 === recordSize);
}

/**
 * The BTF struct a ring/perf buffer map's records hold, in this order: a perf event array's
 * declared value type if it is a struct; `struct event`; `struct <map>_event` or
 * `struct <map minus trailing s>_event` ("forks" → fork_event); `<map>_t`; else the only struct
 * whose name contains "event" (trace_event_* excluded) with the record's size (for a perf event
 * array, the size perf pads it to). 0: none.
 */
export function eventType(btf: Btf | undefined, map: MapSpec, recordSize?: number): number {
  if (!btf) return 0;
  if (map.valueType) {
    const t = resolveType(btf, map.valueType);
    if (t.kind === "struct") return t.id;
  }
  const all = structs(btf);
  for (const want of candidateNames(map.name)) {
    const t = all.find((s) => s.name === want);
    if (t) return t.id;
  }
  if (recordSize !== undefined) {
    const hits = all.filter((s) => s.kind === "struct" && eventLike(s.name, s.size, map, recordSize));
    if (hits.length === 1) return hits[0].id;
  }
  return 0;
}

/** Each object's DWARF, read once and converted on demand (undefined: no .debug_info). */
const dwarfCache = new WeakMap<ObjectSpec, DwarfBtf | TsbpfError | null>();

/** The object's DWARF types and their BTF converter; throws TsbpfError if the DWARF is bad. */
export function objectDwarf(obj: ObjectSpec): DwarfBtf | undefined {
  let c = dwarfCache.get(obj);
  if (c === undefined) {
    try {
      c = obj.debug ? new DwarfBtf(new DwarfTypes(readDwarf(obj.debug)), obj.btf) : null;
    } catch (e) {
      if (!(e instanceof TsbpfError)) throw e;
      c = e;
    }
    dwarfCache.set(obj, c);
  }
  if (c instanceof TsbpfError) throw c;
  return c ?? undefined;
}

/** The record type of `map` by the rules of eventType, looked up in BTF and then in DWARF. */
export function recordType(obj: ObjectSpec, map: MapSpec, recordSize?: number): RecordType {
  const id = eventType(obj.btf, map, recordSize);
  if (id) return { btf: obj.btf, id, source: "btf" };
  const dw = objectDwarf(obj);
  if (!dw) return { btf: obj.btf, id: 0, source: "none" };
  for (const want of candidateNames(map.name)) {
    const offs = dw.types.named("struct", want);
    if (offs.length > 0) return { btf: dw.btf, id: dw.id(offs[0]), source: "dwarf" };
  }
  if (recordSize !== undefined) {
    // One struct defined in several units counts once.
    const hits = new Map(dw.types.structs().filter((s) => eventLike(s.name, s.size, map, recordSize)).map((s) => [s.name, s]));
    if (hits.size === 1) return { btf: dw.btf, id: dw.id([...hits.values()][0].offset), source: "dwarf" };
  }
  return { btf: obj.btf, id: 0, source: "none" };
}

/** A type named by the user ("event", "struct event", "u32"): the object's BTF first, then DWARF. */
export function namedRecordType(obj: ObjectSpec, type: string): RecordType | undefined {
  const m = /^(struct|union|enum)\s+(.*)$/.exec(type.trim());
  const name = m ? m[2] : type.trim();
  const kind = m ? (m[1] as "struct" | "union" | "enum") : undefined;
  // A bare name prefers a struct, as "event" means struct event in C programs' ring buffers.
  const t = kind ? obj.btf?.find(name, kind) : (obj.btf?.find(name, "struct") ?? obj.btf?.find(name));
  if (t) return { btf: obj.btf, id: t.id, source: "btf" };
  const dw = objectDwarf(obj);
  if (!dw) return undefined;
  const kinds: NamedKind[] = kind ? [kind] : ["struct", "typedef", "base", "union", "enum"];
  for (const k of kinds) {
    const offs = dw.types.named(k, name);
    if (offs.length > 0) return { btf: dw.btf, id: dw.id(offs[0]), source: "dwarf" };
  }
  return undefined;
}

/** Decode one record; a record shorter than its type (or with no type) prints as hex bytes. */
export function decodeEvent(btf: Btf | undefined, typeId: number, rec: Uint8Array): TypedValue {
  if (!btf || !typeId) return hex(rec);
  const t = resolveType(btf, typeId);
  if ((t.kind === "struct" || t.kind === "union") && rec.byteLength < t.size) return hex(rec);
  return decodeValue(btf, typeId, rec);
}

/**
 * A decoder for `map`'s records: the named type, or the type chosen per record size (cached) as
 * recordType chooses it. Throws TsbpfError at once if a named type does not exist.
 */
export function recordDecoder(obj: ObjectSpec, map: MapSpec, opts: DecoderOptions = {}): (rec: Uint8Array) => TypedValue {
  if (opts.type !== undefined) {
    const named = namedRecordType(obj, opts.type);
    if (!named) throw new TsbpfError("LOAD_BAD_INPUT", `no type '${opts.type}' in the object's BTF or DWARF`, {}, "name the struct the program writes into the buffer");
    return (rec) => decodeEvent(named.btf, named.id, rec);
  }
  const bySize = new Map<number, RecordType>();
  let dwarfBroken = false;
  return (rec) => {
    let rt = bySize.get(rec.byteLength);
    if (rt === undefined) {
      try {
        rt = dwarfBroken ? { btf: obj.btf, id: eventType(obj.btf, map, rec.byteLength), source: "btf" } : recordType(obj, map, rec.byteLength);
      } catch (e) {
        if (!(e instanceof TsbpfError) || !opts.onWarning) throw e;
        opts.onWarning(`${map.name}: the object's DWARF cannot be read, records without a BTF type print as hex: ${e.describe()}`);
        dwarfBroken = true;
        rt = { btf: obj.btf, id: eventType(obj.btf, map, rec.byteLength), source: "btf" };
      }
      bySize.set(rec.byteLength, rt);
    }
    return decodeEvent(rt.btf, rt.id, rec);
  };
}
