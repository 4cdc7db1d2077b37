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
  /** Per id: which level holds it and the word index of its record there. */
  private readonly level: Uint8Array;
  private readonly at: Uint32Array;
  private readonly levels: Level[];
  private readonly names: (string | undefined)[];
  private readonly texts = new Map<StringTable, TableText>();

  constructor(btf: Btf) {
    const chain: Btf[] = [];
    for (let b: Btf | undefined = btf; b; b = b.base) chain.unshift(b);
    this.count = btf.typeCount;
    this.level = new Uint8Array(this.count);
    this.at = new Uint32Array(this.count);
    this.levels = [];
    for (const b of chain) {
      const raw = rawOf(b);
      const lv = this.levels.length;
      this.levels.push({ words: raw.words, strings: b.strings });
      const offs = raw.offsets;
      for (let i = 0; i + 1 < offs.length; i++) {
        this.level[b.firstId + i] = lv;
        this.at[b.firstId + i] = offs[i];
      }
    }
    this.names = new Array(this.count);
  }

  /** The words array holding `id` and the index of its record in it. */
  words(id: number): Uint32Array {
    return this.levels[this.level[id]].words;
  }

  rec(id: number): number {
    return this.at[id];
  }

  kind(id: number): number {
    if (id === 0) return K.VOID;
    return (this.words(id)[this.at[id] + 1] >>> 24) & 0x1f;
  }

  vlen(id: number): number {
    return this.words(id)[this.at[id] + 1] & 0xffff;
  }

  kflag(id: number): boolean {
    return this.words(id)[this.at[id] + 1] >>> 31 === 1;
  }

  /** The size-or-type word: a size for int/struct/union/enum/float/datasec, a type id for references. */
  st(id: number): number {
    return this.words(id)[this.at[id] + 2];
  }

  hasName(id: number): boolean {
    return id !== 0 && this.words(id)[this.at[id]] !== 0;
  }

  name(id: number): string {
    if (id === 0) return "";
    const hit = this.names[id];
    if (hit !== undefined) return hit;
    const s = this.str(this.words(id)[this.at[id]]);
    this.names[id] = s;
    return s;
  }

  /** A string by offset, resolved in the level that owns it (split BTF continues its base's offsets). */
  str(off: number): string {
    if (off === 0) return "";
    let st = this.levels[this.levels.length - 1].strings;
    while (off < st.start && st.base) st = st.base;
    let text = this.texts.get(st);
    if (!text) {
      text = tableText(st);
      this.texts.set(st, text);
    }
    const rel = off - st.start;
    if (text.ascii) {
      const end = text.all.indexOf("\0", rel);
      return text.all.slice(rel, end < 0 ? text.all.length : end);
    }
    const b = st.bytes;
    let end = rel;
    while (end < b.length && b[end] !== 0) end++;
    return utf8.decode(b.subarray(rel, end));
  }
}

/** A whole string table as one latin1 string: names are slices of it when every byte is ASCII. */
interface TableText {
  all: string;
  ascii: boolean;
}

function tableText(st: StringTable): TableText {
  const b = st.bytes;
  const all = Buffer.from(b.buffer, b.byteOffset, b.length).toString("latin1");
  return { all, ascii: !/[\u0080-\u00ff]/.test(all) };
}

/** The raw words behind a Btf level; model-built BTF (no words) is encoded and re-parsed once. */
function rawOf(b: Btf): RawTypes {
  const raw = b.rawTypes();
  if (raw) return raw;
  const reparsed = parseBtf(encodeBtf(b), { base: b.base });
  return reparsed.rawTypes() as RawTypes;
}
