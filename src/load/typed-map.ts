// A BpfMap seen through its BTF key and value types: get/set/delete/entries with JavaScript values.
// Per-CPU maps read as an array of values, one per possible CPU, and take such an array to write.

import type { Btf } from "../../btf/index.ts";
import type { MapSpec } from "../elf/spec.ts";
import { TsbpfError } from "../errors.ts";
import type { BpfMap } from "./map.ts";
import type { Collection } from "./object.ts";
import { decodeValue, encodeValue, hex, type TypedValue } from "./typed.ts";

export interface TypedEntry {
  key: TypedValue;
  value: TypedValue;
}

export class TypedMap {
  readonly map: BpfMap;
  readonly btf: Btf | undefined;
  /** BTF ids (0: untyped, decoded as hex bytes / taken as bytes). */
  readonly keyType: number;
  readonly valueType: number;

  constructor(map: BpfMap, btf: Btf | undefined, keyType: number, valueType: number) {
    this.map = map;
    this.btf = btf;
    this.keyType = btf ? keyType : 0;
    this.valueType = btf ? valueType : 0;
  }

  /** The map `name` of a loaded collection, typed by the object's BTF. */
  static of(coll: Collection, name: string): TypedMap {
    const map = coll.maps.get(name);
    const spec = coll.object.maps.find((m: MapSpec) => m.name === name);
    if (!map || !spec) throw new TsbpfError("LOAD_BAD_INPUT", `no map named '${name}' in the object`, {}, `maps: ${[...coll.maps.keys()].join(", ")}`);
    return new TypedMap(map, coll.object.btf, spec.keyType, spec.valueType);
  }

  encodeKey(k: TypedValue | Uint8Array): Uint8Array {
    if (k instanceof Uint8Array) return k;
    if (!this.btf || !this.keyType) throw new TsbpfError("LOAD_BAD_INPUT", `map '${this.map.name}' has no BTF key type`, {}, "pass the key as bytes");
    return encodeValue(this.btf, this.keyType, k, this.map.keySize);
  }

  encodeOne(v: TypedValue | Uint8Array): Uint8Array {
    if (v instanceof Uint8Array) return v;
    if (!this.btf || !this.valueType) throw new TsbpfError("LOAD_BAD_INPUT", `map '${this.map.name}' has no BTF value type`, {}, "pass the value as bytes");
    return encodeValue(this.btf, this.valueType, v, this.map.valueSize);
  }

  decodeKey(b: Uint8Array): TypedValue {
    return this.btf && this.keyType ? decodeValue(this.btf, this.keyType, b) : hex(b);
  }

  decodeOne(b: Uint8Array): TypedValue {
    return this.btf && this.valueType ? decodeValue(this.btf, this.valueType, b) : hex(b);
  }

  /** Decode what BpfMap.get returned: per-CPU maps give one value per possible CPU. */
  decodeValue(raw: Uint8Array): TypedValue {
    if (!this.map.perCpu) return this.decodeOne(raw);
    return this.map.splitPerCpu(raw).map((b) => this.decodeOne(b));
  }

  get(k: TypedValue | Uint8Array | null): TypedValue | undefined {
    const raw = this.map.get(k === null ? null : this.encodeKey(k));
    return raw === undefined ? undefined : this.decodeValue(raw);
  }

  set(k: TypedValue | Uint8Array | null, v: TypedValue | Uint8Array, flags?: bigint): void {
    const key = k === null ? null : this.encodeKey(k);
    if (this.map.perCpu) {
      if (!Array.isArray(v)) throw new TsbpfError("LOAD_BAD_INPUT", `map '${this.map.name}' is per-CPU: give one value per possible CPU`, {}, "pass an array of values");
      this.map.set(key, v.map((x) => this.encodeOne(x)), flags);
    } else this.map.set(key, this.encodeOne(v), flags);
  }

  delete(k: TypedValue | Uint8Array): boolean {
    return this.map.delete(this.encodeKey(k));
  }

  *entries(): Generator<TypedEntry> {
    for (const [k, v] of this.map.entries()) yield { key: this.decodeKey(k), value: this.decodeValue(v) };
  }
}
