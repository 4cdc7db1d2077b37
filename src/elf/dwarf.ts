// The DWARF reader: .debug_info units (DWARF 2–5, 32/64-bit) walked once through .debug_abbrev for
// entry offsets, tags and tree links; an entry's attributes (strings via .debug_str/_offsets/
// .debug_line_str) are decoded when first asked for. Bad bytes → TsbpfError with the file offset.

import * as zlib from "node:zlib";
import { TsbpfError, type Where } from "../errors.ts";
import { DW_AT, DW_FORM, DW_UT } from "./dwarf-const.ts";
import type { DebugSection, DebugSections } from "./dwarf-sections.ts";

/** An attribute's value, by what the form says it is. */
export type DwarfValue =
  /** data1/2/4/8 (`bytes` = width, so the reader can sign-extend by context), udata (`bytes` 0). */
  | { kind: "uint"; value: bigint; bytes: number }
  /** sdata and implicit_const. */
  | { kind: "sint"; value: bigint }
  /** A reference to another entry, as an offset in .debug_info. */
  | { kind: "ref"; offset: number }
  | { kind: "str"; value: string }
  | { kind: "flag"; value: boolean }
  /** exprloc and block forms. */
  | { kind: "block"; bytes: Uint8Array }
  /** sec_offset: an offset into another debug section. */
  | { kind: "secoff"; value: number }
  /** Addresses, address/list indices, type signatures, references into other files: read past, unused. */
  | { kind: "other"; form: number };

/** One debugging-information entry. */
export interface Die {
  /** Offset of the entry in .debug_info. */
  offset: number;
  tag: number;
  attrs: Map<number, DwarfValue>;
  /** Decoded on first access. */
  readonly children: Die[];
}

export interface DwarfUnit {
  /** Offset of the unit header in .debug_info. */
  offset: number;
  version: number;
  unitType: number;
  addrSize: number;
  /** 4 in the 32-bit DWARF format, 8 in the 64-bit one. */
  offsetSize: number;
  /** DW_AT_str_offsets_base of the unit entry, for strx forms. */
  strOffsetsBase: number | undefined;
}

interface AttrSpec {
  at: number;
  form: number;
  implicit: bigint;
}

interface Abbrev {
  tag: number;
  children: boolean;
  specs: AttrSpec[];
}

/** What the first walk keeps per entry: enough to find, decode and link it later. */
interface Entries {
  offset: number[];
  abbrev: Abbrev[];
  unit: number[];
  /** Index of the first child and of the next sibling, or -1. */
  firstChild: number[];
  nextSibling: number[];
}

/** A .debug_info reading: units, and every entry by offset (decoded on demand, then cached). */
export class DwarfInfo {
  readonly units: readonly DwarfUnit[];
  private readonly entries: Entries;
  private readonly decoded = new Map<number, Die>();

  constructor(units: DwarfUnit[], entries: Entries, private readonly reader: Reader, private readonly file: string | undefined) {
    this.units = units;
    this.entries = entries;
  }

  /** Number of entries. */
  get count(): number {
    return this.entries.offset.length;
  }

  /** The entry at this .debug_info offset. */
  die(offset: number): Die | undefined {
    const hit = this.decoded.get(offset);
    if (hit) return hit;
    const i = this.indexOf(offset);
    return i < 0 ? undefined : this.decode(i);
  }

  /** The tag of the entry at `offset` (nothing decoded), or undefined. */
  tagOf(offset: number): number | undefined {
    const i = this.indexOf(offset);
    return i < 0 ? undefined : this.entries.abbrev[i].tag;
  }

  /** One attribute of the entry at `offset`, decoding no other (undefined when it has none). */
  attr(offset: number, at: number): DwarfValue | undefined {
    const hit = this.decoded.get(offset);
    if (hit) return hit.attrs.get(at);
    const i = this.indexOf(offset);
    if (i < 0) return undefined;
    const ab = this.entries.abbrev[i];
    if (!ab.specs.some((s) => s.at === at)) return undefined;
    const unit = this.units[this.entries.unit[i]];
    const c = this.reader.cursor(this.reader.info, ".debug_info", offset);
    c.ulebNum();
    for (const s of ab.specs) {
      if (s.at !== at) {
        skipValue(c, unit, s.form, 0);
        continue;
      }
      const v = readValue(this.reader, c, unit, s.form, s.implicit);
      return v.kind === "strx" ? { kind: "str", value: this.reader.strx(v.index, unit.strOffsetsBase, unit, c) } : v;
    }
    return undefined;
  }

  /** Offsets of the entries with one of these tags, in file order (nothing decoded). */
  *offsetsWithTag(tags: ReadonlySet<number>): IterableIterator<number> {
    const { offset, abbrev } = this.entries;
    for (let i = 0; i < offset.length; i++) if (tags.has(abbrev[i].tag)) yield offset[i];
  }

  /** Every entry, in file order, decoding each. */
  *dies(): IterableIterator<Die> {
    for (let i = 0; i < this.entries.offset.length; i++) yield this.decode(i);
  }

  /** The error position of a .debug_info offset. */
  where(offset: number): Where {
    return { ...(this.file !== undefined ? { file: this.file } : {}), offset: fileOffsetOf(this.reader.info, offset), section: ".debug_info" };
  }

  /** Entries are in increasing offset order: binary search. */
  private indexOf(offset: number): number {
    const o = this.entries.offset;
    let lo = 0, hi = o.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (o[mid] === offset) return mid;
      if (o[mid] < offset) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  private decode(i: number): Die {
    const e = this.entries;
    const offset = e.offset[i];
    const hit = this.decoded.get(offset);
    if (hit) return hit;
    const unit = this.units[e.unit[i]];
    const c = this.reader.cursor(this.reader.info, ".debug_info", offset);
    c.ulebNum();
    const attrs = readAttrs(this.reader, c, unit, e.abbrev[i]);
    let kids: Die[] | undefined;
    const children = (): Die[] => {
      if (!kids) {
        kids = [];
        for (let k = e.firstChild[i]; k >= 0; k = e.nextSibling[k]) kids.push(this.decode(k));
      }
      return kids;
    };
    const die: Die = { offset, tag: e.abbrev[i].tag, attrs, get children() { return children(); } };
    this.decoded.set(offset, die);
    return die;
  }
}

const utf8 = new TextDecoder("utf-8");
const MAX_INDIRECT = 4;
const FLAG_TRUE: DwarfValue = Object.freeze({ kind: "flag", value: true });

/** A bounds-checked little-endian cursor over one debug section. */
class Cursor {
  pos: number;
  constructor(readonly sec: DebugSection, readonly name: string, readonly file: string | undefined, pos: number, public end: number) {
    this.pos = pos;
  }

  fail(msg: string, at = this.pos): never {
    const inside = this.sec.inflated ? ` (at byte ${at} of the decompressed section)` : "";
    throw new TsbpfError("ELF_BAD_SECTION", `${this.name}: ${msg}${inside}`, { ...(this.file !== undefined ? { file: this.file } : {}), offset: fileOffsetOf(this.sec, at), section: this.name }, "the debug information is truncated or corrupt; rebuild the object with clang -g");
  }

  need(n: number): number {
    if (n < 0 || this.pos + n > this.end) this.fail(`${n} bytes needed at offset ${this.pos}, the data ends at ${this.end}`);
    const p = this.pos;
    this.pos += n;
    return p;
  }

  u8(): number {
    if (this.pos >= this.end) this.fail(`1 byte needed at offset ${this.pos}, the data ends at ${this.end}`);
    return this.sec.data[this.pos++];
  }

  /** An unsigned little-endian integer of 1–8 bytes that fits a JavaScript number, plus any relocation adjustment at its offset. */
  num(n: number): number {
    const p = this.need(n);
    const d = this.sec.data;
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + d[p + i];
    if (v > Number.MAX_SAFE_INTEGER) this.fail(`value at offset ${p} is too large`, p);
    const adj = this.sec.adjust.size > 0 ? this.sec.adjust.get(p) : undefined;
    return adj === undefined ? v : n <= 4 ? (v + adj) % 2 ** (8 * n) : v + adj;
  }

  /** An unsigned little-endian integer of 1–8 bytes as a bigint (constants of any width). */
  uint(n: number): bigint {
    if (n <= 6) return BigInt(this.num(n));
    const p = this.need(n);
    const d = this.sec.data;
    const lo = (d[p] | (d[p + 1] << 8) | (d[p + 2] << 16) | (d[p + 3] << 24)) >>> 0;
    const hi = (d[p + 4] | (d[p + 5] << 8) | (d[p + 6] << 16) | (d[p + 7] << 24)) >>> 0;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  uleb(): bigint {
    let v = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.u8();
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
      shift += 7n;
    }
    return this.fail("LEB128 number longer than 10 bytes", this.pos - 10);
  }

  /** A ULEB128 that must fit a JavaScript number (codes, offsets, lengths). */
  ulebNum(): number {
    const at = this.pos;
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      v += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) {
        if (v > Number.MAX_SAFE_INTEGER) break;
        return v;
      }
      mul *= 128;
    }
    return this.fail("LEB128 value is too large", at);
  }

  sleb(): bigint {
    let v = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.u8();
      v |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if ((b & 0x80) === 0) return BigInt.asIntN(64, (b & 0x40) !== 0 ? v - (1n << shift) : v);
    }
    return this.fail("LEB128 number longer than 10 bytes", this.pos - 10);
  }

  skipLeb(): void {
    for (let i = 0; i < 10; i++) if ((this.u8() & 0x80) === 0) return;
    this.fail("LEB128 number longer than 10 bytes", this.pos - 10);
  }

  skipString(): void {
    const d = this.sec.data;
    let p = this.pos;
    while (p < this.end && d[p] !== 0) p++;
    if (p >= this.end) this.fail("unterminated string");
    this.pos = p + 1;
  }

  bytes(n: number): Uint8Array {
    const p = this.need(n);
    return this.sec.data.subarray(p, p + n);
  }

  cstring(): string {
    const d = this.sec.data;
    let end = this.pos;
    let ascii = true;
    while (end < this.end && d[end] !== 0) {
      if (d[end] >= 0x80) ascii = false;
      end++;
    }
    if (end >= this.end) this.fail("unterminated string");
    // Names are short ASCII: building them directly beats a TextDecoder call each.
    let s = "";
    if (ascii && end - this.pos <= 64) for (let i = this.pos; i < end; i++) s += String.fromCharCode(d[i]);
    else s = utf8.decode(d.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }
}

/** Reading state shared by the units of one .debug_info. */
class Reader {
  private readonly abbrevTables = new Map<number, Map<number, Abbrev>>();
  private readonly strings = new Map<string, Map<number, string>>();
  /** .debug_str_offsets entry offset → its string. */
  private readonly strxCache = new Map<number, string>();
  private strOffsets: Cursor | undefined;

  constructor(readonly debug: DebugSections, readonly info: DebugSection) {}

  cursor(sec: DebugSection | undefined, name: string, pos = 0, end?: number): Cursor {
    if (!sec) {
      throw new TsbpfError("ELF_BAD_SECTION", `${name} is missing but ${name === ".debug_abbrev" ? "the units" : "a string form"} needs it`, { ...(this.debug.file !== undefined ? { file: this.debug.file } : {}), section: name }, "the object's debug sections are incomplete; rebuild with clang -g");
    }
    return new Cursor(sec, name, this.debug.file, pos, end ?? sec.data.length);
  }

  abbrevs(offset: number, at: Cursor): Map<number, Abbrev> {
    const hit = this.abbrevTables.get(offset);
    if (hit) return hit;
    const c = this.cursor(this.debug.abbrev, ".debug_abbrev");
    if (offset >= c.end) at.fail(`abbreviation table offset ${offset} is past the end of the ${c.end}-byte .debug_abbrev`);
    c.pos = offset;
    const table = new Map<number, Abbrev>();
    for (;;) {
      const codeAt = c.pos;
      const code = c.ulebNum();
      if (code === 0) break;
      const tag = c.ulebNum();
      const children = c.u8();
      if (children > 1) c.fail(`abbreviation ${code}: children flag ${children} is neither 0 nor 1`, c.pos - 1);
      const specs: AttrSpec[] = [];
      for (;;) {
        const attr = c.ulebNum();
        const form = c.ulebNum();
        if (attr === 0 && form === 0) break;
        if (attr === 0 || form === 0) c.fail(`abbreviation ${code}: attribute ${attr} with form ${form}`, c.pos - 1);
        specs.push({ at: attr, form, implicit: form === DW_FORM.implicit_const ? c.sleb() : 0n });
      }
      if (table.has(code)) c.fail(`abbreviation code ${code} defined twice`, codeAt);
      table.set(code, { tag, children: children === 1, specs });
    }
    this.abbrevTables.set(offset, table);
    return table;
  }

  string(sec: DebugSection | undefined, name: string, offset: number, at: Cursor): string {
    let cache = this.strings.get(name);
    if (!cache) this.strings.set(name, (cache = new Map()));
    const hit = cache.get(offset);
    if (hit !== undefined) return hit;
    const c = this.cursor(sec, name);
    if (offset >= c.end) at.fail(`string offset ${offset} is past the end of the ${c.end}-byte ${name}`);
    c.pos = offset;
    const s = c.cstring();
    cache.set(offset, s);
    return s;
  }

  /** The string at index `index` of the unit's .debug_str_offsets contribution. */
  strx(index: number, base: number | undefined, unit: DwarfUnit, at: Cursor): string {
    if (base === undefined) at.fail("a strx form is used but the unit has no DW_AT_str_offsets_base");
    const pos = base + index * unit.offsetSize;
    const hit = this.strxCache.get(pos);
    if (hit !== undefined) return hit;
    const c = (this.strOffsets ??= this.cursor(this.debug.strOffsets, ".debug_str_offsets"));
    if (pos + unit.offsetSize > c.end) at.fail(`string index ${index} (entry at ${pos}) is past the end of the ${c.end}-byte .debug_str_offsets`);
    c.pos = pos;
    const s = this.string(this.debug.str, ".debug_str", c.num(unit.offsetSize), at);
    this.strxCache.set(pos, s);
    return s;
  }
}

/** What one attribute's form reads to, strx left as an index until the unit's base is known. */
type RawValue = DwarfValue | { kind: "strx"; index: number };

function readValue(r: Reader, c: Cursor, unit: DwarfUnit, form: number, implicit: bigint, depth = 0): RawValue {
  const os = unit.offsetSize;
  switch (form) {
    case DW_FORM.data1: return { kind: "uint", value: c.uint(1), bytes: 1 };
    case DW_FORM.data2: return { kind: "uint", value: c.uint(2), bytes: 2 };
    case DW_FORM.data4: return { kind: "uint", value: c.uint(4), bytes: 4 };
    case DW_FORM.data8: return { kind: "uint", value: c.uint(8), bytes: 8 };
    case DW_FORM.udata: return { kind: "uint", value: c.uleb(), bytes: 0 };
    case DW_FORM.sdata: return { kind: "sint", value: c.sleb() };
    case DW_FORM.implicit_const: return { kind: "sint", value: implicit };
    case DW_FORM.flag: return { kind: "flag", value: c.u8() !== 0 };
    case DW_FORM.flag_present: return FLAG_TRUE;
    case DW_FORM.ref1: return { kind: "ref", offset: unit.offset + c.num(1) };
    case DW_FORM.ref2: return { kind: "ref", offset: unit.offset + c.num(2) };
    case DW_FORM.ref4: return { kind: "ref", offset: unit.offset + c.num(4) };
    case DW_FORM.ref8: return { kind: "ref", offset: unit.offset + c.num(8) };
    case DW_FORM.ref_udata: return { kind: "ref", offset: unit.offset + c.ulebNum() };
    case DW_FORM.ref_addr: return { kind: "ref", offset: c.num(unit.version <= 2 ? unit.addrSize : os) };
    case DW_FORM.string: return { kind: "str", value: c.cstring() };
    case DW_FORM.strp: return { kind: "str", value: r.string(r.debug.str, ".debug_str", c.num(os), c) };
    case DW_FORM.line_strp: return { kind: "str", value: r.string(r.debug.lineStr, ".debug_line_str", c.num(os), c) };
    case DW_FORM.strx: case DW_FORM.GNU_str_index: return { kind: "strx", index: c.ulebNum() };
    case DW_FORM.strx1: return { kind: "strx", index: c.num(1) };
    case DW_FORM.strx2: return { kind: "strx", index: c.num(2) };
    case DW_FORM.strx3: return { kind: "strx", index: c.num(3) };
    case DW_FORM.strx4: return { kind: "strx", index: c.num(4) };
    case DW_FORM.sec_offset: return { kind: "secoff", value: c.num(os) };
    case DW_FORM.exprloc: case DW_FORM.block: return { kind: "block", bytes: c.bytes(c.ulebNum()) };
    case DW_FORM.block1: return { kind: "block", bytes: c.bytes(c.num(1)) };
    case DW_FORM.block2: return { kind: "block", bytes: c.bytes(c.num(2)) };
    case DW_FORM.block4: return { kind: "block", bytes: c.bytes(c.num(4)) };
    case DW_FORM.data16: c.need(16); return { kind: "other", form };
    case DW_FORM.addr: c.need(unit.addrSize); return { kind: "other", form };
    case DW_FORM.addrx1: case DW_FORM.addrx2: case DW_FORM.addrx3: case DW_FORM.addrx4:
      c.need(form - DW_FORM.addrx1 + 1); return { kind: "other", form };
    case DW_FORM.addrx: case DW_FORM.loclistx: case DW_FORM.rnglistx: case DW_FORM.GNU_addr_index:
      c.uleb(); return { kind: "other", form };
    case DW_FORM.ref_sig8: c.need(8); return { kind: "other", form };
    case DW_FORM.ref_sup4: c.need(4); return { kind: "other", form };
    case DW_FORM.ref_sup8: c.need(8); return { kind: "other", form };
    case DW_FORM.strp_sup: case DW_FORM.GNU_ref_alt: case DW_FORM.GNU_strp_alt: c.need(os); return { kind: "other", form };
    case DW_FORM.indirect: {
      if (depth >= MAX_INDIRECT) c.fail("DW_FORM_indirect chain too long");
      return readValue(r, c, unit, c.ulebNum(), implicit, depth + 1);
    }
    default: return c.fail(`unknown attribute form 0x${form.toString(16)}`);
  }
}

/** Read one unit header at `c.pos`; leaves `c` at the first entry and `c.end` at the unit's end. */
function readUnitHeader(c: Cursor): { unit: DwarfUnit; abbrevOffset: number } {
  const offset = c.pos;
  let length = c.num(4);
  let offsetSize = 4;
  if (length === 0xffffffff) {
    length = c.num(8);
    offsetSize = 8;
  } else if (length >= 0xfffffff0) c.fail(`reserved unit length 0x${length.toString(16)}`, offset);
  if (c.pos + length > c.end) c.fail(`unit length ${length} runs past the end of .debug_info (${c.end} bytes)`, offset);
  c.end = c.pos + length;
  const version = c.num(2);
  if (version < 2 || version > 5) c.fail(`DWARF version ${version} is not supported (2–5 are)`, c.pos - 2);
  let unitType: number = DW_UT.compile;
  let addrSize: number;
  let abbrevOffset: number;
  if (version >= 5) {
    unitType = c.u8();
    addrSize = c.u8();
    abbrevOffset = c.num(offsetSize);
    if (unitType === DW_UT.type || unitType === DW_UT.split_type) c.need(8 + offsetSize);
    else if (unitType === DW_UT.skeleton || unitType === DW_UT.split_compile) c.need(8);
    else if (unitType !== DW_UT.compile && unitType !== DW_UT.partial) c.fail(`unknown unit type 0x${unitType.toString(16)}`, c.pos - 2 - offsetSize);
  } else {
    abbrevOffset = c.num(offsetSize);
    addrSize = c.u8();
  }
  if (addrSize !== 4 && addrSize !== 8) c.fail(`address size ${addrSize} is neither 4 nor 8`);
  return { unit: { offset, version, unitType, addrSize, offsetSize, strOffsetsBase: undefined }, abbrevOffset };
}

/** Decode an entry's attributes (the cursor just past its abbreviation code). */
function readAttrs(r: Reader, c: Cursor, unit: DwarfUnit, ab: Abbrev): Map<number, DwarfValue> {
  const attrs = new Map<number, DwarfValue>();
  for (const s of ab.specs) {
    const v = readValue(r, c, unit, s.form, s.implicit);
    attrs.set(s.at, v.kind === "strx" ? { kind: "str", value: r.strx(v.index, unit.strOffsetsBase, unit, c) } : v);
  }
  return attrs;
}

/** The unit entry names its string-offsets base among its own attributes, after strx names: read it first. */
function readStrOffsetsBase(r: Reader, c: Cursor, unit: DwarfUnit, ab: Abbrev): void {
  const start = c.pos;
  for (const s of ab.specs) {
    if (s.at === DW_AT.str_offsets_base) {
      const v = readValue(r, c, unit, s.form, s.implicit);
      if (v.kind === "secoff" || v.kind === "uint") unit.strOffsetsBase = Number(v.value);
    } else skipValue(c, unit, s.form, 0);
  }
  c.pos = start;
}

/** Fixed value sizes of the forms that have one (the offset- and address-sized ones aside). */
const FIXED: ReadonlyMap<number, number> = new Map([
  [DW_FORM.data1, 1], [DW_FORM.data2, 2], [DW_FORM.data4, 4], [DW_FORM.data8, 8], [DW_FORM.data16, 16],
  [DW_FORM.flag, 1], [DW_FORM.flag_present, 0], [DW_FORM.implicit_const, 0],
  [DW_FORM.ref1, 1], [DW_FORM.ref2, 2], [DW_FORM.ref4, 4], [DW_FORM.ref8, 8], [DW_FORM.ref_sig8, 8],
  [DW_FORM.ref_sup4, 4], [DW_FORM.ref_sup8, 8],
  [DW_FORM.strx1, 1], [DW_FORM.strx2, 2], [DW_FORM.strx3, 3], [DW_FORM.strx4, 4],
  [DW_FORM.addrx1, 1], [DW_FORM.addrx2, 2], [DW_FORM.addrx3, 3], [DW_FORM.addrx4, 4],
]);

/** Step over one attribute value without decoding it (the first walk). */
function skipValue(c: Cursor, unit: DwarfUnit, form: number, depth: number): void {
  const n = FIXED.get(form);
  if (n !== undefined) {
    c.need(n);
    return;
  }
  switch (form) {
    case DW_FORM.strp: case DW_FORM.line_strp: case DW_FORM.sec_offset: case DW_FORM.strp_sup:
    case DW_FORM.GNU_ref_alt: case DW_FORM.GNU_strp_alt:
      c.need(unit.offsetSize); return;
    case DW_FORM.ref_addr: c.need(unit.version <= 2 ? unit.addrSize : unit.offsetSize); return;
    case DW_FORM.addr: c.need(unit.addrSize); return;
    case DW_FORM.udata: case DW_FORM.sdata: case DW_FORM.ref_udata: case DW_FORM.strx: case DW_FORM.addrx:
    case DW_FORM.loclistx: case DW_FORM.rnglistx: case DW_FORM.GNU_addr_index: case DW_FORM.GNU_str_index:
      c.skipLeb(); return;
    case DW_FORM.string: c.skipString(); return;
    case DW_FORM.exprloc: case DW_FORM.block: c.need(c.ulebNum()); return;
    case DW_FORM.block1: c.need(c.num(1)); return;
    case DW_FORM.block2: c.need(c.num(2)); return;
    case DW_FORM.block4: c.need(c.num(4)); return;
    case DW_FORM.indirect:
      if (depth >= MAX_INDIRECT) c.fail("DW_FORM_indirect chain too long");
      skipValue(c, unit, c.ulebNum(), depth + 1);
      return;
    default: c.fail(`unknown attribute form 0x${form.toString(16)}`);
  }
}

/** The file offset of byte `at` of a section; a decompressed section's bytes have none but its start. */
function fileOffsetOf(sec: DebugSection, at: number): number {
  return sec.inflated ? sec.fileOffset : sec.fileOffset + at;
}

/** zstd arrived in Node 22.15 and Bun; older runtimes (and their typings) lack it. */
const zstdDecompressSync = (zlib as unknown as { zstdDecompressSync?: (b: Uint8Array, o: { maxOutputLength: number }) => Uint8Array }).zstdDecompressSync;
const ELFCOMPRESS_ZLIB = 1;
const ELFCOMPRESS_ZSTD = 2;
const CHDR_SIZE = 24;
/**
 * Decompressed sizes beyond 16 MiB or 64× the stream (debug info compresses 3–10×) are refused,
 * so a forged header cannot make us allocate much.
 */
const MAX_INFLATED = 16 << 20;
const MAX_RATIO = 64;

/** A SHF_COMPRESSED section's contents (Elf64_Chdr: type, reserved, size, alignment; then the stream). */
function inflate(sec: DebugSection, name: string, file: string | undefined): DebugSection {
  const bad = (msg: string, at = 0): never => {
    throw new TsbpfError("ELF_BAD_SECTION", `${name}: ${msg}`, { ...(file !== undefined ? { file } : {}), offset: sec.fileOffset + at, section: name }, "the compressed debug section is corrupt; rebuild the object (clang -g, optionally -gz)");
  };
  if (sec.data.length < CHDR_SIZE) bad(`compressed section of ${sec.data.length} bytes is shorter than its 24-byte header`);
  const dv = new DataView(sec.data.buffer, sec.data.byteOffset, sec.data.byteLength);
  const type = dv.getUint32(0, true);
  const size = dv.getBigUint64(8, true);
  const stream = sec.data.subarray(CHDR_SIZE);
  const limit = Math.max(MAX_INFLATED, stream.length * MAX_RATIO);
  if (size > BigInt(limit)) bad(`decompressed size ${size} is larger than ${limit} (16 MiB or 64 times the compressed stream)`, 8);
  let out: Uint8Array;
  try {
    const opts = { maxOutputLength: Math.max(1, Number(size)) };
    if (type === ELFCOMPRESS_ZLIB) out = zlib.inflateSync(stream, opts);
    else if (type === ELFCOMPRESS_ZSTD && zstdDecompressSync) out = zstdDecompressSync(stream, opts);
    else return bad(`compression type ${type} is not supported (1 = zlib${zstdDecompressSync ? ", 2 = zstd" : "; this runtime has no zstd"})`);
  } catch (e) {
    if (e instanceof TsbpfError) throw e;
    return bad(`the compressed stream does not decompress to ${size} bytes: ${e instanceof Error ? e.message : String(e)}`, CHDR_SIZE);
  }
  if (out.length !== Number(size)) bad(`decompressed to ${out.length} bytes, the header says ${size}`, 8);
  return { data: new Uint8Array(out.buffer, out.byteOffset, out.byteLength), fileOffset: sec.fileOffset, adjust: sec.adjust, inflated: true };
}

/** The sections with compressed ones decompressed. */
function inflateAll(debug: DebugSections): DebugSections {
  const names = { info: ".debug_info", abbrev: ".debug_abbrev", str: ".debug_str", strOffsets: ".debug_str_offsets", lineStr: ".debug_line_str" } as const;
  const out: DebugSections = { ...debug };
  for (const k of Object.keys(names) as (keyof typeof names)[]) {
    const sec = debug[k];
    if (sec?.compressed) out[k] = inflate(sec, names[k], debug.file);
  }
  return out;
}

/** Walk every unit of `debug.info` once. Work and memory are linear in the section sizes. */
export function readDwarf(raw: DebugSections): DwarfInfo {
  const debug = inflateAll(raw);
  const info = debug.info;
  if (!info) throw new TsbpfError("ELF_BAD_SECTION", "the object has no .debug_info", debug.file !== undefined ? { file: debug.file } : {}, "build it with clang -g");
  const r = new Reader(debug, info);
  const units: DwarfUnit[] = [];
  const e: Entries = { offset: [], abbrev: [], unit: [], firstChild: [], nextSibling: [] };
  let next = 0;
  while (next < info.data.length) {
    const c = r.cursor(info, ".debug_info", next);
    const { unit, abbrevOffset } = readUnitHeader(c);
    next = c.end;
    const unitIndex = units.push(unit) - 1;
    const table = r.abbrevs(abbrevOffset, c);
    // Per open parent: its index and its last child so far; the bottom holds the unit's top level.
    const stack: { parent: number; last: number }[] = [{ parent: -1, last: -1 }];
    let first = true;
    while (c.pos < c.end) {
      const offset = c.pos;
      const code = c.ulebNum();
      if (code === 0) {
        if (stack.length > 1) stack.pop();
        continue;
      }
      const ab = table.get(code) ?? c.fail(`abbreviation code ${code} is not in the unit's table (at .debug_abbrev ${abbrevOffset})`, offset);
      if (first) readStrOffsetsBase(r, c, unit, ab);
      first = false;
      for (const s of ab.specs) skipValue(c, unit, s.form, 0);
      const i = e.offset.push(offset) - 1;
      e.abbrev.push(ab);
      e.unit.push(unitIndex);
      e.firstChild.push(-1);
      e.nextSibling.push(-1);
      const top = stack[stack.length - 1];
      if (top.last >= 0) e.nextSibling[top.last] = i;
      else if (top.parent >= 0) e.firstChild[top.parent] = i;
      top.last = i;
      if (ab.children) stack.push({ parent: i, last: -1 });
    }
  }
  return new DwarfInfo(units, e, r, debug.file);
}
