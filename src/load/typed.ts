// BTF-typed values: decode map keys/values (and ring buffer records) from their BTF type into plain
// JavaScript values, and encode such values back into bytes. 64-bit and wider integers and pointers
// are bigint; char arrays holding a NUL-terminated printable string are strings; enums are names.

import type { Btf, BtfType } from "../../btf/index.ts";
import { INT_BOOL, INT_CHAR, INT_SIGNED } from "../../btf/types.ts";
import { TsbpfError } from "../errors.ts";

export type TypedValue = number | bigint | boolean | string | TypedValue[] | { [field: string]: TypedValue };

const MAX_DEPTH = 64;

/** Follow typedef/const/volatile/restrict/type_tag to the type that gives the layout. */
export function resolveType(btf: Btf, id: number): BtfType {
  let t = btf.type(id);
  for (let i = 0; i < MAX_DEPTH; i++) {
    if (t.kind === "typedef" || t.kind === "const" || t.kind === "volatile" || t.kind === "restrict" || t.kind === "type_tag" || t.kind === "var") {
      t = btf.type(t.type);
    } else return t;
  }
  throw new TsbpfError("LOAD_BAD_INPUT", `BTF type ${id}: modifier chain deeper than ${MAX_DEPTH}`, {}, "the object's BTF has a modifier loop");
}

/** Byte size of a BTF type (0 for void/func/fwd). */
export function typeSize(btf: Btf, id: number, depth = 0): number {
  if (depth > MAX_DEPTH) throw new TsbpfError("LOAD_BAD_INPUT", `BTF type ${id}: nesting deeper than ${MAX_DEPTH}`, {}, "the object's BTF has a type loop");
  const t = resolveType(btf, id);
  switch (t.kind) {
    case "int": case "struct": case "union": case "enum": case "enum64": case "float": case "datasec": return t.size;
    case "ptr": return 8;
    case "array": return t.nelems * typeSize(btf, t.type, depth + 1);
    default: return 0;
  }
}

/** A text element: plain `char` (or a 1-byte int flagged CHAR); u8/unsigned char arrays stay numbers, as bpftool shows them. */
function isCharType(btf: Btf, id: number): boolean {
  const t = resolveType(btf, id);
  return t.kind === "int" && t.size === 1 && t.bits === 8 && ((t.encoding & INT_CHAR) !== 0 || t.name === "char");
}

/** A string if the bytes are printable up to a NUL inside the array (bpftool's rule for char arrays). */
function asString(b: Uint8Array): string | undefined {
  const end = b.indexOf(0);
  if (end < 0) return undefined;
  for (let i = 0; i < end; i++) if (b[i] < 0x20 || b[i] > 0x7e) return undefined;
  return new TextDecoder("latin1").decode(b.subarray(0, end));
}

function readBits(b: Uint8Array, bitOff: number, bits: number): bigint {
  let v = 0n;
  for (let i = bits - 1; i >= 0; i--) {
    const bit = bitOff + i;
    v = (v << 1n) | BigInt((b[bit >> 3] >> (bit & 7)) & 1);
  }
  return v;
}

function intValue(raw: bigint, bits: number, signed: boolean, bool: boolean, size: number): TypedValue {
  const v = signed ? BigInt.asIntN(bits, raw) : BigInt.asUintN(bits, raw);
  if (bool) return v !== 0n;
  return size >= 8 || bits > 32 ? v : Number(v);
}

/** Decode `bytes` (at least the type's size) as BTF type `id`. */
export function decodeValue(btf: Btf, id: number, bytes: Uint8Array, depth = 0): TypedValue {
  if (depth > MAX_DEPTH) throw new TsbpfError("LOAD_BAD_INPUT", `BTF type ${id}: nesting deeper than ${MAX_DEPTH}`, {}, "the object's BTF has a type loop");
  const t = resolveType(btf, id);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = typeSize(btf, id);
  if (bytes.byteLength < need) throw new TsbpfError("LOAD_BAD_INPUT", `value of ${btf.nameOf(t.id) || t.kind} needs ${need} bytes, got ${bytes.byteLength}`, {}, "the map's value size and its BTF type disagree");
  switch (t.kind) {
    case "int": {
      const raw = readBits(bytes, t.bitOffset, t.bits);
      return intValue(raw, t.bits, (t.encoding & INT_SIGNED) !== 0, (t.encoding & INT_BOOL) !== 0, t.size);
    }
    case "ptr": return dv.getBigUint64(0, true);
    case "float": return t.size === 4 ? dv.getFloat32(0, true) : t.size === 8 ? dv.getFloat64(0, true) : hex(bytes.subarray(0, t.size));
    case "enum": case "enum64": {
      const raw = readBits(bytes, 0, t.size * 8);
      // Values no enumerator names print as C's int for 32-bit enums (bpftool does the same).
      const v = t.signed || t.kind === "enum" ? BigInt.asIntN(t.size * 8, raw) : raw;
      const hit = t.values.find((e) => BigInt(e.value) === v || BigInt.asUintN(t.size * 8, BigInt(e.value)) === raw);
      if (hit) return hit.name;
      return t.size >= 8 ? v : Number(v);
    }
    case "array": {
      const esz = typeSize(btf, t.type);
      if (isCharType(btf, t.type)) {
        const s = asString(bytes.subarray(0, t.nelems));
        if (s !== undefined) return s;
      }
      const out: TypedValue[] = [];
      for (let i = 0; i < t.nelems; i++) out.push(decodeValue(btf, t.type, bytes.subarray(i * esz, (i + 1) * esz), depth + 1));
      return out;
    }
    case "struct": case "union": {
      const out: { [field: string]: TypedValue } = {};
      for (const m of t.members) {
        const byteOff = Math.floor(m.bitOffset / 8);
        let v: TypedValue;
        if (m.bitfieldSize > 0) {
          const mt = resolveType(btf, m.type);
          const signed = mt.kind === "int" ? (mt.encoding & INT_SIGNED) !== 0 : mt.kind === "enum" || mt.kind === "enum64" ? mt.signed : false;
          v = intValue(readBits(bytes, m.bitOffset, m.bitfieldSize), m.bitfieldSize, signed, mt.kind === "int" && (mt.encoding & INT_BOOL) !== 0, 4);
        } else {
          v = decodeValue(btf, m.type, bytes.subarray(byteOff), depth + 1);
        }
        // Anonymous struct/union members lift their fields into the parent, as C code names them.
        if (m.name === "" && typeof v === "object" && !Array.isArray(v)) Object.assign(out, v);
        else out[m.name] = v;
      }
      return out;
    }
    default:
      return hex(bytes.subarray(0, need));
  }
}

export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
}

function bad(what: string, hint: string): never {
  throw new TsbpfError("LOAD_BAD_INPUT", what, {}, hint);
}

function toBigInt(v: TypedValue | undefined, what: string): bigint {
  if (v === undefined) return 0n;
  if (typeof v === "bigint") return v;
  if (typeof v === "boolean") return v ? 1n : 0n;
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  return bad(`${what}: expected an integer, got ${typeof v === "object" ? JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x)) : String(v)}`, "give a number or bigint");
}

function writeBits(b: Uint8Array, bitOff: number, bits: number, v: bigint): void {
  const u = BigInt.asUintN(bits, v);
  for (let i = 0; i < bits; i++) {
    const bit = bitOff + i;
    if ((u >> BigInt(i)) & 1n) b[bit >> 3] |= 1 << (bit & 7);
    else b[bit >> 3] &= ~(1 << (bit & 7));
  }
}

/** Accept either reading of the bits (-1 or 0xff for a u8): callers hand over what they have. */
function checkRange(v: bigint, bits: number, what: string): void {
  const lo = -(1n << BigInt(bits - 1));
  const hi = (1n << BigInt(bits)) - 1n;
  if (v < lo || v > hi) bad(`${what}: ${v} does not fit in ${bits} bits`, "give a smaller value");
}

/** Encode `v` as BTF type `id` into `out` (zeroed beforehand; missing fields stay zero). */
export function encodeInto(btf: Btf, id: number, v: TypedValue | undefined, out: Uint8Array, what = "value", depth = 0): void {
  if (depth > MAX_DEPTH) bad(`${what}: nesting deeper than ${MAX_DEPTH}`, "the object's BTF has a type loop");
  const t = resolveType(btf, id);
  if (v === undefined) return;
  switch (t.kind) {
    case "int": {
      const n = toBigInt(v, what);
      checkRange(n, t.bits, what);
      writeBits(out, t.bitOffset, t.bits, n);
      return;
    }
    case "ptr": writeBits(out, 0, 64, toBigInt(v, what)); return;
    case "float": {
      if (typeof v !== "number") bad(`${what}: expected a number`, "floats take a JavaScript number");
      const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
      if (t.size === 4) dv.setFloat32(0, v, true);
      else if (t.size === 8) dv.setFloat64(0, v, true);
      else bad(`${what}: ${t.size}-byte floats are not supported`, "write the bytes directly");
      return;
    }
    case "enum": case "enum64": {
      let n: bigint;
      if (typeof v === "string") {
        const hit = t.values.find((e) => e.name === v);
        if (!hit) bad(`${what}: '${v}' is not a value of enum ${t.name || "(anon)"}`, `values: ${t.values.map((e) => e.name).join(", ")}`);
        n = BigInt(hit.value);
      } else n = toBigInt(v, what);
      checkRange(n, t.size * 8, what);
      writeBits(out, 0, t.size * 8, n);
      return;
    }
    case "array": {
      const esz = typeSize(btf, t.type);
      if (typeof v === "string") {
        if (!isCharType(btf, t.type)) bad(`${what}: a string for a non-char array`, "give an array of elements");
        const b = new TextEncoder().encode(v);
        if (b.length >= t.nelems) bad(`${what}: string of ${b.length} bytes does not fit char[${t.nelems}] with its NUL`, "shorten it");
        out.set(b, 0);
        return;
      }
      if (!Array.isArray(v)) bad(`${what}: expected an array of ${t.nelems}`, "give an array");
      if (v.length > t.nelems) bad(`${what}: ${v.length} elements for an array of ${t.nelems}`, "give fewer elements");
      v.forEach((e, i) => encodeInto(btf, t.type, e, out.subarray(i * esz, (i + 1) * esz), `${what}[${i}]`, depth + 1));
      return;
    }
    case "struct": case "union": {
      if (typeof v !== "object" || Array.isArray(v)) bad(`${what}: expected an object for ${t.kind} ${t.name || "(anon)"}`, `fields: ${t.members.map((m) => m.name || "(anon)").join(", ")}`);
      const known = new Set<string>();
      for (const m of t.members) {
        const sub = `${what}.${m.name}`;
        if (m.name === "") {
          // Anonymous members take their fields from the parent object.
          collectNames(btf, m.type, known);
          encodeInto(btf, m.type, v, out.subarray(Math.floor(m.bitOffset / 8)), what, depth + 1);
          continue;
        }
        known.add(m.name);
        if (m.bitfieldSize > 0) {
          if (v[m.name] !== undefined) writeBits(out, m.bitOffset, m.bitfieldSize, toBigInt(v[m.name], sub));
        } else encodeInto(btf, m.type, v[m.name], out.subarray(Math.floor(m.bitOffset / 8)), sub, depth + 1);
      }
      if (depth === 0 || t.name !== "") {
        for (const k of Object.keys(v)) if (!known.has(k)) bad(`${what}: ${t.kind} ${t.name || "(anon)"} has no field '${k}'`, `fields: ${[...known].join(", ")}`);
      }
      return;
    }
    default:
      bad(`${what}: cannot encode BTF ${t.kind}`, "write the bytes directly");
  }
}

function collectNames(btf: Btf, id: number, into: Set<string>): void {
  const t = resolveType(btf, id);
  if (t.kind !== "struct" && t.kind !== "union") return;
  for (const m of t.members) {
    if (m.name === "") collectNames(btf, m.type, into);
    else into.add(m.name);
  }
}

/** Encode `v` as BTF type `id` into a fresh buffer of `size` bytes (default: the type's size). */
export function encodeValue(btf: Btf, id: number, v: TypedValue, size = typeSize(btf, id)): Uint8Array {
  const out = new Uint8Array(size);
  encodeInto(btf, id, v, out);
  return out;
}

/** JSON text for typed values: bigints as numbers (exact digits), like bpftool's formatted output. */
export function typedJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? `\u0000${x}\u0000` : x)).replace(/"\\u0000(-?\d+)\\u0000"/g, "$1");
}
