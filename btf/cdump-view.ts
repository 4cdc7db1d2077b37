// A read-only view of BTF records as raw 32-bit words for the C dump, which touches every field
// of 100k+ types: numeric kinds, word offsets per id and a per-id name cache instead of decoded
// model objects. Split BTF is flattened (base then own records); model-built BTF is encoded first.

import type { Btf, RawTypes } from "./btf.ts";
import { encodeBtf } from "./encode.ts";
import { parseBtf } from "./parse.ts";
import type { StringTable } from "./strings.ts";

/** Kind numbers (BTF_KIND_*). */
export const K = {
  VOID: 0, INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10,
  RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19,
} as const;

const utf8 = new TextDecoder("utf-8");

/** One level of (possibly split) BTF: its words and string table. */
interface Level {
  words: Uint32Array;
  strings: StringTable;
}

export class BtfView {
  readonly count: number;
  /**
   * Word index of each id's record: at[id - first]. Plain BTF uses the parser's offset table as is
   * (first = 1, no copy); split BTF gets a table over all ids (first = 0) and a level per id.
   */
  private readonly at: Uint32Array;
  private readonly first: number;
  /** Per id: which level holds it (split BTF only). */
  private readonly level: Uint8Array | null;
  /** The words of plain BTF. */
  private readonly w0: Uint32Array;
  private readonly levels: Level[];
  /** Kind of every id (0 for void): read in one pass, since ordering and printing ask it constantly. */
  readonly kinds: Uint8Array;
  /** Every level's string bytes in one offset space (split BTF continues its base's offsets). */
  readonly strBytes: Uint8Array;

  constructor(btf: Btf) {
    const chain: Btf[] = [];
    for (let b: Btf | undefined = btf; b; b = b.base) chain.unshift(b);
    this.count = btf.typeCount;
    this.levels = [];
    if (chain.length === 1) {
      const raw = rawOf(btf);
      this.levels.push({ words: raw.words, strings: btf.strings });
      this.w0 = raw.words;
      this.at = raw.offsets;
      this.first = 1;
      this.level = null;
    } else {
      const level = new Uint8Array(this.count);
      const at = new Uint32Array(this.count);
      for (const b of chain) {
        const raw = rawOf(b);
        const lv = this.levels.length;
        this.levels.push({ words: raw.words, strings: b.strings });
        const offs = raw.offsets;
        for (let i = 0; i + 1 < offs.length; i++) {
          level[b.firstId + i] = lv;
          at[b.firstId + i] = offs[i];
        }
      }
      this.w0 = this.levels[0].words;
      this.at = at;
      this.first = 0;
      this.level = level;
    }
    this.strBytes = flatStrings(btf.strings);
    const kinds = new Uint8Array(this.count);
    if (this.level === null) {
      const w = this.w0;
      const at = this.at;
      for (let i = 0, n = this.count - 1; i < n; i++) kinds[i + 1] = (w[at[i] + 1] >>> 24) & 0x1f;
    } else {
      for (let id = 1; id < this.count; id++) kinds[id] = (this.words(id)[this.rec(id) + 1] >>> 24) & 0x1f;
    }
    this.kinds = kinds;
  }

  /** The string offset of `id`'s name (0 for void). */
  nameOff(id: number): number {
    return id === 0 ? 0 : this.words(id)[this.rec(id)];
  }

  /** The words array holding `id` and the index of its record in it. */
  words(id: number): Uint32Array {
    const l = this.level;
    return l === null ? this.w0 : this.levels[l[id]].words;
  }

  rec(id: number): number {
    return id === 0 ? 0 : this.at[id - this.first];
  }

  kind(id: number): number {
    return this.kinds[id];
  }

  vlen(id: number): number {
    return this.words(id)[this.rec(id) + 1] & 0xffff;
  }

  kflag(id: number): boolean {
    return this.words(id)[this.rec(id) + 1] >>> 31 === 1;
  }

  /** The size-or-type word: a size for int/struct/union/enum/float/datasec, a type id for references. */
  st(id: number): number {
    return this.words(id)[this.rec(id) + 2];
  }

  hasName(id: number): boolean {
    return id !== 0 && this.words(id)[this.rec(id)] !== 0;
  }

  name(id: number): string {
    return this.str(this.nameOff(id));
  }

  /** A string by offset in the flattened table ("" for offset 0 or past the end). */
  str(off: number): string {
    if (off === 0) return "";
    const b = this.strBytes;
    let end = off;
    while (end < b.length && b[end] !== 0) end++;
    return off >= end ? "" : utf8.decode(b.subarray(off, end));
  }
}

/** A string table and its bases as one byte array indexed by offset. */
function flatStrings(st: StringTable): Uint8Array {
  if (!st.base) return st.bytes;
  const chain: StringTable[] = [];
  for (let t: StringTable | undefined = st; t; t = t.base) chain.unshift(t);
  const all = new Uint8Array(st.length);
  for (const t of chain) all.set(t.bytes, t.start);
  return all;
}

/** The raw words behind a Btf level; model-built BTF (no words) is encoded and re-parsed once. */
function rawOf(b: Btf): RawTypes {
  const raw = b.rawTypes();
  if (raw) return raw;
  const reparsed = parseBtf(encodeBtf(b), { base: b.base });
  return reparsed.rawTypes() as RawTypes;
}
