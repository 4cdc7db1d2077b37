// Bytes shown through their BTF type the way bpftool formats map keys and values: integers by
// width and sign, bitfields and 128-bit integers in hex, enums by name, printable char arrays as
// strings, structs as objects, .data/.bss sections as [{var: value}], pointers as addresses.
// "Plain" is bpftool's text mode (`map dump` of a map with BTF); otherwise its `-j` "formatted".

import type { Btf } from "./btf.ts";
import type { JsonWriter } from "./json-writer.ts";
import { resolveSize, skipMods } from "./core/walk.ts";
import { INT_BOOL, INT_CHAR, INT_SIGNED, type BtfType } from "./types.ts";

/** What a dump writes into and how. */
interface Dumper {
  btf: Btf;
  w: JsonWriter;
  /** bpftool's text mode: bitfields and pointers unquoted, unprintable chars as 0x…. */
  plain: boolean;
}

const MAX_RESOLVE_DEPTH = 32;
const MAX_NESTING = 64;

function byteAt(data: Uint8Array, at: number): number {
  return at >= 0 && at < data.length ? data[at] : 0;
}

/** Little-endian unsigned integer of `n` bytes at `at` (bytes past the end read as zero). */
function readU(data: Uint8Array, at: number, n: number): bigint {
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(byteAt(data, at + i));
  return v;
}

/** `nrBits` bits starting `bitOffset` bits into the bytes at `at`, as an unsigned 128-bit number. */
function readBitfield(data: Uint8Array, at: number, bitOffset: number, nrBits: number): bigint {
  const bits = Math.min(nrBits, 128);
  const nBytes = Math.min(16, Math.ceil((bitOffset + bits) / 8));
  return BigInt.asUintN(bits, readU(data, at, nBytes) >> BigInt(bitOffset));
}

/** bpftool's 128-bit print: `0x` and the hex digits, the high half only when not zero. */
function hex128(d: Dumper, v: bigint): void {
  const hi = v >> 64n, lo = BigInt.asUintN(64, v);
  const text = hi === 0n ? `0x${lo.toString(16)}` : `0x${hi.toString(16)}${lo.toString(16).padStart(16, "0")}`;
  d.w.raw(d.plain ? text : `"${text}"`);
}

function dumpInt(d: Dumper, t: Extract<BtfType, { kind: "int" }>, bitOffset: number, data: Uint8Array, at: number): boolean {
  const total = bitOffset + t.bitOffset;
  if (total !== 0 || t.bits % 8 !== 0) {
    hex128(d, readBitfield(data, at + (total >> 3), total & 7, t.bits));
    return true;
  }
  if (t.bits === 128) {
    hex128(d, readU(data, at, 16));
    return true;
  }
  const widths: Record<number, number> = { 64: 8, 32: 4, 16: 2, 8: 1 };
  switch (t.encoding) {
    case 0:
    case INT_SIGNED: {
      const n = widths[t.bits];
      if (n === undefined) hex128(d, readBitfield(data, at, 0, t.bits));
      else {
        const u = readU(data, at, n);
        d.w.raw((t.encoding === INT_SIGNED ? BigInt.asIntN(t.bits, u) : u).toString());
      }
      return true;
    }
    case INT_CHAR: {
      const c = byteAt(data, at);
      if (c >= 0x20 && c <= 0x7e) d.w.raw(`"${String.fromCharCode(c)}"`);
      else d.w.raw(d.plain ? `0x${c.toString(16)}` : `"\\u00${c.toString(16).padStart(2, "0")}"`);
      return true;
    }
    case INT_BOOL:
      // Any non-zero first byte is true (bpftool 7.1 as built reads the bool's own byte).
      d.w.raw(byteAt(data, at) !== 0 ? "true" : "false");
      return true;
    default:
      return false;
  }
}

function dumpEnum(d: Dumper, t: Extract<BtfType, { kind: "enum" }>, data: Uint8Array, at: number): boolean {
  if (t.size !== 1 && t.size !== 2 && t.size !== 4 && t.size !== 8) return false;
  const v = BigInt.asIntN(t.size * 8, readU(data, at, t.size));
  // Enumerator values are compared as the s32 the BTF record stores.
  const hit = t.values.find((e) => BigInt(e.value | 0) === v);
  if (hit) d.w.string(hit.name);
  else d.w.raw(v.toString());
  return true;
}

function dumpEnum64(d: Dumper, t: Extract<BtfType, { kind: "enum64" }>, data: Uint8Array, at: number): boolean {
  const v = readU(data, at, 8);
  const hit = t.values.find((e) => BigInt.asUintN(64, e.value) === v);
  if (hit) d.w.string(hit.name);
  else d.w.raw(BigInt.asIntN(64, v).toString());
  return true;
}

/** bpftool's test for a char array shown as a string: printable bytes up to a NUL inside it. */
function isStringArray(btf: Btf, t: Extract<BtfType, { kind: "array" }>, data: Uint8Array, at: number): boolean {
  if (t.nelems === 0) return false;
  let e = btf.type(t.type);
  for (let i = 0; i < MAX_RESOLVE_DEPTH && (e.kind === "const" || e.kind === "volatile" || e.kind === "restrict" || e.kind === "type_tag"); i++) e = btf.type(e.type);
  if (e.kind !== "int" || e.size !== 1) return false;
  if (e.encoding !== INT_CHAR && e.name !== "char") return false;
  for (let i = 0; i < t.nelems; i++) {
    const c = byteAt(data, at + i);
    if (c === 0) return true;
    if (c <= 0x1f || c >= 0x7f) return false;
  }
  return false;
}

function dumpArray(d: Dumper, t: Extract<BtfType, { kind: "array" }>, data: Uint8Array, at: number, depth: number): boolean {
  if (isStringArray(d.btf, t, data, at)) {
    const end = data.indexOf(0, at);
    d.w.string(String.fromCharCode(...data.subarray(at, end < 0 ? data.length : end)));
    return true;
  }
  const size = resolveSize(d.btf, t.type);
  if (size === undefined) return false;
  d.w.startArray();
  let ok = true;
  for (let i = 0; i < t.nelems && ok; i++) ok = dumpType(d, t.type, 0, data, at + i * size, depth + 1);
  d.w.endArray();
  return ok;
}

function dumpComposite(d: Dumper, t: Extract<BtfType, { kind: "struct" | "union" }>, data: Uint8Array, at: number, depth: number): boolean {
  d.w.startObject();
  let ok = true;
  for (const m of t.members) {
    d.w.name(m.name);
    const off = at + (m.bitOffset >> 3);
    if (m.bitfieldSize) hex128(d, readBitfield(data, off, m.bitOffset & 7, m.bitfieldSize));
    else ok = dumpType(d, m.type, m.bitOffset & 7, data, off, depth + 1);
    if (!ok) break;
  }
  d.w.endObject();
  return ok;
}

function dumpType(d: Dumper, id: number, bitOffset: number, data: Uint8Array, at: number, depth: number): boolean {
  if (depth > MAX_NESTING) return false;
  const t = d.btf.type(id);
  switch (t.kind) {
    case "int": return dumpInt(d, t, bitOffset, data, at);
    case "struct": case "union": return dumpComposite(d, t, data, at, depth);
    case "array": return dumpArray(d, t, data, at, depth);
    case "enum": return dumpEnum(d, t, data, at);
    case "enum64": return dumpEnum64(d, t, data, at);
    case "ptr": {
      const v = readU(data, at, 8);
      d.w.raw(!d.plain ? v.toString() : v === 0n ? "(nil)" : `0x${v.toString(16)}`);
      return true;
    }
    case "void":
      d.w.raw("(unknown)");
      return true;
    case "fwd":
      d.w.raw("(fwd-kind-invalid)");
      return false;
    case "typedef": case "volatile": case "const": case "restrict": {
      const r = skipMods(d.btf, id);
      return r !== undefined && dumpType(d, r.id, bitOffset, data, at, depth + 1);
    }
    case "var": {
      d.w.startObject();
      d.w.name(t.name);
      const ok = dumpType(d, t.type, bitOffset, data, at, depth + 1);
      d.w.endObject();
      return ok;
    }
    case "datasec": {
      d.w.startObject();
      d.w.name(t.name);
      d.w.startArray();
      let ok = true;
      for (const v of t.vars) {
        ok = dumpType(d, v.type, 0, data, at + v.offset, depth + 1);
        if (!ok) break;
      }
      d.w.endArray();
      d.w.endObject();
      return ok;
    }
    default:
      // bpftool has no case for floats, functions and tags: it prints this marker and gives up.
      d.w.raw("(unsupported-kind");
      return false;
  }
}

/**
 * Write `data` as BTF type `id` into `w` the way bpftool's map dumps format it. Returns false where
 * bpftool stops with an error (a kind it cannot show); what was written up to there stays.
 */
export function dumpBtfValue(w: JsonWriter, btf: Btf, id: number, data: Uint8Array, plain: boolean): boolean {
  return dumpType({ btf, w, plain }, id, 0, data, 0, 0);
}
