// The minimal BTF a BTF-defined map needs for libbpf: per map an anonymous struct whose members
// are `int (*name)[N]` pointers (the __uint(name, N) convention of bpf_helpers.h), a global VAR,
// and one DATASEC ".maps" placing the VARs; data sections get a DATASEC of char-array VARs.

import { Btf } from "../../btf/btf.ts";
import { encodeBtf } from "../../btf/encode.ts";
import type { BtfType } from "../../btf/types.ts";

export interface BtfMapDef {
  name: string;
  /** Offset of the map's definition in .maps. */
  offset: number;
  /** The __uint(...) fields in order: type, key_size, value_size, max_entries, map_flags, pinning… */
  fields: [string, number][];
}

export interface BtfDataVar {
  name: string;
  offset: number;
  size: number;
}

/** A type record before the Btf assigns its id and interns its name. */
type NewType = BtfType extends infer T ? (T extends BtfType ? Omit<T, "id" | "nameOff"> : never) : never;

/** Bytes each map definition takes in .maps: one pointer per field. */
export function mapDefSize(def: BtfMapDef): number {
  return def.fields.length * 8;
}

/** Encode BTF describing `maps` in ".maps" and the given data sections' variables. */
export function mapsBtf(maps: readonly BtfMapDef[], data: ReadonlyMap<string, { size: number; vars: BtfDataVar[] }> = new Map()): Uint8Array {
  const btf = Btf.fromTypes([]);
  const add = (t: NewType): number =>
    btf.add({ ...t, id: 0, nameOff: 0 } as BtfType);
  const int = add({ kind: "int", name: "int", size: 4, encoding: 1, bitOffset: 0, bits: 32 });
  const arrays = new Map<number, number>();
  const ptrToArray = (n: number): number => {
    let p = arrays.get(n);
    if (p === undefined) {
      const arr = add({ kind: "array", name: "", type: int, indexType: int, nelems: n });
      p = add({ kind: "ptr", name: "", type: arr });
      arrays.set(n, p);
    }
    return p;
  };
  const secinfo: { type: number; offset: number; size: number }[] = [];
  for (const m of maps) {
    const members = m.fields.map(([name, v], i) => ({ name, nameOff: 0, type: ptrToArray(v), bitOffset: i * 64, bitfieldSize: 0 }));
    const st = add({ kind: "struct", name: "", size: mapDefSize(m), kindFlag: false, members });
    const v = add({ kind: "var", name: m.name, type: st, linkage: "global" });
    secinfo.push({ type: v, offset: m.offset, size: mapDefSize(m) });
  }
  if (maps.length > 0) {
    const size = Math.max(0, ...maps.map((m) => m.offset + mapDefSize(m)));
    add({ kind: "datasec", name: ".maps", size, vars: secinfo });
  }
  if (data.size > 0) {
    const char = add({ kind: "int", name: "char", size: 1, encoding: 1, bitOffset: 0, bits: 8 });
    for (const [sec, { size, vars }] of data) {
      const infos = vars.map((dv) => {
        const arr = add({ kind: "array", name: "", type: char, indexType: int, nelems: dv.size });
        const v = add({ kind: "var", name: dv.name, type: arr, linkage: "global" });
        return { type: v, offset: dv.offset, size: dv.size };
      });
      add({ kind: "datasec", name: sec, size, vars: infos });
    }
  }
  return encodeBtf(btf);
}
