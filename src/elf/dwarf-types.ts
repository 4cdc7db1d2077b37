// C types from DWARF entries: one model object per type entry (struct/union with member bit offsets
// and bitfield widths, enum, typedef, base, pointer, array dimensions, qualifiers, function types),
// read on demand by .debug_info offset, and an index of the named ones.

import { TsbpfError } from "../errors.ts";
import { DW_AT, DW_ATE, DW_OP_plus_uconst, DW_TAG } from "./dwarf-const.ts";
import type { Die, DwarfInfo, DwarfValue } from "./dwarf.ts";

/** A reference to a type: its entry's .debug_info offset; 0 is void (offset 0 is a unit header). */
export type TypeRef = number;

export interface DwarfMember {
  /** "" for an anonymous struct/union member. */
  name: string;
  type: TypeRef;
  /** From the start of the struct, in bits. */
  bitOffset: number;
  /** Bitfield width; 0 when the member is not a bitfield. */
  bitSize: number;
}

export interface DwarfEnumValue {
  name: string;
  value: bigint;
}

export interface DwarfParam {
  name: string;
  type: TypeRef;
}

interface At {
  /** The entry's offset in .debug_info. */
  offset: number;
}

export type DwarfComposite = At & { kind: "struct" | "union"; name: string; size: number; members: DwarfMember[] };

export type DwarfType =
  | (At & { kind: "base"; name: string; size: number; encoding: number })
  | DwarfComposite
  /** A struct or union declared but not defined here (DW_AT_declaration). */
  | (At & { kind: "fwd"; name: string; fwdKind: "struct" | "union" })
  | (At & { kind: "enum"; name: string; size: number; signed: boolean; values: DwarfEnumValue[] })
  | (At & { kind: "typedef"; name: string; type: TypeRef })
  | (At & { kind: "pointer"; type: TypeRef })
  /** counts: one per dimension, outermost first; 0 for a flexible or variable-length one. */
  | (At & { kind: "array"; type: TypeRef; counts: number[] })
  | (At & { kind: "const" | "volatile" | "restrict" | "atomic"; type: TypeRef })
  | (At & { kind: "func"; returnType: TypeRef; params: DwarfParam[]; variadic: boolean })
  /** DW_TAG_unspecified_type (e.g. C23 nullptr_t): no layout; taken as void. */
  | (At & { kind: "unspecified"; name: string });

/** A struct's name and size, read without its members. */
export interface StructHead {
  offset: number;
  name: string;
  size: number;
}

export type NamedKind = "struct" | "union" | "enum" | "typedef" | "base";

const QUALIFIERS: ReadonlyMap<number, "const" | "volatile" | "restrict" | "atomic"> = new Map([
  [DW_TAG.const_type, "const"], [DW_TAG.volatile_type, "volatile"], [DW_TAG.restrict_type, "restrict"], [DW_TAG.atomic_type, "atomic"],
]);

const NAMED_TAGS: ReadonlyMap<number, NamedKind> = new Map([
  [DW_TAG.structure_type, "struct"], [DW_TAG.union_type, "union"], [DW_TAG.enumeration_type, "enum"],
  [DW_TAG.typedef, "typedef"], [DW_TAG.base_type, "base"],
]);

const NAMED_TAG_SET: ReadonlySet<number> = new Set(NAMED_TAGS.keys());
const STRUCT_TAG_SET: ReadonlySet<number> = new Set([DW_TAG.structure_type]);
const U32_MAX = 0xffffffff;

/** The C types of one .debug_info, read on demand. */
export class DwarfTypes {
  private readonly cache = new Map<number, DwarfType>();
  private index: Map<string, number[]> | undefined;

  constructor(readonly info: DwarfInfo) {}

  private fail(die: Die | number, msg: string): never {
    const offset = typeof die === "number" ? die : die.offset;
    throw new TsbpfError("ELF_BAD_SECTION", `.debug_info entry 0x${offset.toString(16)}: ${msg}`, this.info.where(offset), "the debug information is corrupt or uses a construct C BPF programs do not");
  }

  /** The type whose entry is at `offset`. */
  type(offset: TypeRef): DwarfType {
    const hit = this.cache.get(offset);
    if (hit) return hit;
    const die = this.info.die(offset);
    if (!die) return this.fail(offset, "a type reference points at no entry");
    const t = this.read(die);
    this.cache.set(offset, t);
    return t;
  }

  /** Offsets of the defined (not merely declared) types of this kind and name, in file order. */
  named(kind: NamedKind, name: string): number[] {
    if (!this.index) {
      this.index = new Map();
      // Only the name and declaration flag of each candidate are decoded: this runs on every lookup's first use.
      for (const off of this.info.offsetsWithTag(NAMED_TAG_SET)) {
        const k = NAMED_TAGS.get(this.info.tagOf(off)!);
        const n = this.info.attr(off, DW_AT.name);
        const decl = this.info.attr(off, DW_AT.declaration);
        if (!k || n?.kind !== "str" || (decl?.kind === "flag" && decl.value)) continue;
        const key = `${k} ${n.value}`;
        const l = this.index.get(key);
        if (l) l.push(off);
        else this.index.set(key, [off]);
      }
    }
    return this.index.get(`${kind} ${name}`) ?? [];
  }

  /**
   * Every defined named struct's name and size, in file order, without reading its members (for
   * choosing a record type by size; `type(offset)` gives the whole struct).
   */
  structs(): StructHead[] {
    const out: StructHead[] = [];
    for (const off of this.info.offsetsWithTag(STRUCT_TAG_SET)) {
      const n = this.info.attr(off, DW_AT.name);
      const decl = this.info.attr(off, DW_AT.declaration);
      if (n?.kind !== "str" || n.value === "" || (decl?.kind === "flag" && decl.value)) continue;
      const size = this.info.attr(off, DW_AT.byte_size);
      if (size === undefined) return this.fail(off, "no DW_AT_byte_size");
      out.push({ offset: off, name: n.value, size: this.u32(off, size, "DW_AT_byte_size") });
    }
    return out;
  }


  private read(d: Die): DwarfType {
    const offset = d.offset;
    const qual = QUALIFIERS.get(d.tag);
    if (qual) return { kind: qual, offset, type: this.ref(d) };
    switch (d.tag) {
      case DW_TAG.base_type: {
        const enc = d.attrs.get(DW_AT.encoding);
        return { kind: "base", offset, name: name(d), size: this.size(d, true), encoding: enc && enc.kind === "uint" ? Number(enc.value) : DW_ATE.unsigned };
      }
      case DW_TAG.structure_type: case DW_TAG.union_type: {
        const kind = d.tag === DW_TAG.structure_type ? "struct" : "union";
        if (isDeclaration(d)) return { kind: "fwd", offset, name: name(d), fwdKind: kind };
        const members = d.children.filter((c) => c.tag === DW_TAG.member).map((m) => this.member(m));
        return { kind, offset, name: name(d), size: this.size(d, true), members };
      }
      case DW_TAG.enumeration_type: return this.enumType(d);
      case DW_TAG.typedef: return { kind: "typedef", offset, name: name(d), type: this.ref(d) };
      case DW_TAG.pointer_type: return { kind: "pointer", offset, type: this.ref(d) };
      case DW_TAG.array_type: {
        const counts = d.children.filter((c) => c.tag === DW_TAG.subrange_type).map((s) => this.count(s));
        return { kind: "array", offset, type: this.ref(d), counts };
      }
      case DW_TAG.subroutine_type: {
        const params = d.children.filter((c) => c.tag === DW_TAG.formal_parameter).map((p) => ({ name: name(p), type: this.ref(p) }));
        const variadic = d.children.some((c) => c.tag === DW_TAG.unspecified_parameters);
        return { kind: "func", offset, returnType: this.ref(d), params, variadic };
      }
      case DW_TAG.unspecified_type: return { kind: "unspecified", offset, name: name(d) };
      default: return this.fail(d, `tag 0x${d.tag.toString(16)} is not a C type`);
    }
  }

  private ref(d: Die): TypeRef {
    const v = d.attrs.get(DW_AT.type);
    if (v === undefined) return 0;
    if (v.kind !== "ref") return this.fail(d, `DW_AT_type holds a ${v.kind} value, not a reference`);
    if (v.offset === 0) return this.fail(d, "DW_AT_type points at offset 0");
    return v.offset;
  }

  /** DW_AT_byte_size as a u32 (0 when absent and not required). */
  private size(d: Die, required: boolean): number {
    const v = d.attrs.get(DW_AT.byte_size);
    if (v === undefined) return required ? this.fail(d, "no DW_AT_byte_size") : 0;
    return this.u32(d, v, "DW_AT_byte_size");
  }

  private u32(d: Die | number, v: DwarfValue, what: string): number {
    if ((v.kind !== "uint" && v.kind !== "sint") || v.value < 0n || v.value > BigInt(U32_MAX)) return this.fail(d, `${what} is not a number from 0 to 2^32-1`);
    return Number(v.value);
  }

  private member(m: Die): DwarfMember {
    const bits = m.attrs.get(DW_AT.bit_size);
    const bitSize = bits === undefined ? 0 : this.u32(m, bits, "DW_AT_bit_size");
    const dataBit = m.attrs.get(DW_AT.data_bit_offset);
    let bitOffset: number;
    if (dataBit !== undefined) {
      bitOffset = this.u32(m, dataBit, "DW_AT_data_bit_offset");
    } else {
      const loc = m.attrs.get(DW_AT.data_member_location);
      let byteOff = 0;
      if (loc?.kind === "block") byteOff = this.plusUconst(m, loc.bytes);
      else if (loc !== undefined) byteOff = this.u32(m, loc, "DW_AT_data_member_location");
      bitOffset = byteOff * 8;
      const old = m.attrs.get(DW_AT.bit_offset);
      // DWARF 2/3 bitfields count DW_AT_bit_offset from the top bit of a storage unit; on a
      // little-endian target that is storage bits − bit_offset − width from the unit's start.
      if (bitSize > 0 && old !== undefined) {
        const storage = m.attrs.has(DW_AT.byte_size) ? this.size(m, true) : this.storageOf(m);
        bitOffset += storage * 8 - this.u32(m, old, "DW_AT_bit_offset") - bitSize;
      }
    }
    if (bitOffset < 0 || bitOffset > U32_MAX) return this.fail(m, `member bit offset ${bitOffset} is out of range`);
    return { name: name(m), type: this.ref(m), bitOffset, bitSize };
  }

  /** The byte size of a member's type, through typedefs and qualifiers (DWARF 2 bitfields). */
  private storageOf(m: Die): number {
    let t = this.type(this.ref(m));
    for (let i = 0; i < 64; i++) {
      if (t.kind === "base" || t.kind === "enum") return t.size;
      if ((t.kind === "typedef" || t.kind === "const" || t.kind === "volatile" || t.kind === "restrict" || t.kind === "atomic") && t.type !== 0) t = this.type(t.type);
      else break;
    }
    return this.fail(m, "a DWARF 2 bitfield's storage unit has no size");
  }

  /** A DWARF 2 member location: the single operation DW_OP_plus_uconst N. */
  private plusUconst(m: Die, b: Uint8Array): number {
    if (b.length < 2 || b[0] !== DW_OP_plus_uconst) return this.fail(m, "DW_AT_data_member_location is an expression other than DW_OP_plus_uconst");
    let v = 0;
    let shift = 1;
    for (let i = 1; i < b.length && i <= 5; i++) {
      v += (b[i] & 0x7f) * shift;
      shift *= 128;
      if ((b[i] & 0x80) === 0) {
        if (i !== b.length - 1 || v > U32_MAX) break;
        return v;
      }
    }
    return this.fail(m, "DW_AT_data_member_location's DW_OP_plus_uconst operand is malformed");
  }

  /** One array dimension's element count. */
  private count(s: Die): number {
    const c = s.attrs.get(DW_AT.count);
    if (c !== undefined) {
      if (c.kind === "sint" && c.value < 0n) return 0;
      if (c.kind === "ref" || c.kind === "block") return 0;
      return this.u32(s, c, "DW_AT_count");
    }
    const ub = s.attrs.get(DW_AT.upper_bound);
    if (ub === undefined || ub.kind === "ref" || ub.kind === "block") return 0;
    if (ub.kind === "sint" && ub.value < 0n) return 0;
    const lbv = s.attrs.get(DW_AT.lower_bound);
    const lb = lbv === undefined ? 0 : this.u32(s, lbv, "DW_AT_lower_bound");
    const hi = this.u32(s, ub, "DW_AT_upper_bound");
    // clang writes upper_bound = -1 as 0xffffffff… in data forms for a flexible array.
    if (ub.kind === "uint" && ub.bytes > 0 && ub.value === (1n << BigInt(ub.bytes * 8)) - 1n) return 0;
    if (hi + 1 < lb) return this.fail(s, `upper bound ${hi} is below lower bound ${lb}`);
    const n = hi + 1 - lb;
    if (n > U32_MAX) return this.fail(s, `array of ${n} elements is too large`);
    return n;
  }

  private enumType(d: Die): DwarfType {
    const base = d.attrs.get(DW_AT.type);
    let signed: boolean | undefined;
    if (base?.kind === "ref") {
      const bt = this.type(base.offset);
      if (bt.kind === "base") signed = bt.encoding === DW_ATE.signed || bt.encoding === DW_ATE.signed_char;
    }
    const vals = d.children.filter((c) => c.tag === DW_TAG.enumerator);
    // Without an underlying type (older DWARF), clang's sdata form for the values says signed.
    signed ??= vals.some((v) => v.attrs.get(DW_AT.const_value)?.kind === "sint");
    const size = isDeclaration(d) ? this.size(d, false) || 4 : this.size(d, true);
    if (size < 1 || size > 8) return this.fail(d, `enum size ${size} is not 1 to 8 bytes`);
    const values = vals.map((v) => {
      const c = v.attrs.get(DW_AT.const_value);
      if (c === undefined || (c.kind !== "uint" && c.kind !== "sint")) return this.fail(v, "enumerator without a constant value");
      const value = c.kind === "uint" && signed && c.bytes > 0 ? BigInt.asIntN(c.bytes * 8, c.value) : c.value;
      return { name: name(v), value };
    });
    return { kind: "enum", offset: d.offset, name: name(d), size, signed, values };
  }
}

function name(d: Die): string {
  const v = d.attrs.get(DW_AT.name);
  return v?.kind === "str" ? v.value : "";
}

function isDeclaration(d: Die): boolean {
  const v = d.attrs.get(DW_AT.declaration);
  return v?.kind === "flag" && v.value;
}
