// The BTF string table: NUL-terminated names addressed by byte offset. Strings are decoded on first
// use and interned; split BTF continues the offset space of its base (offsets below the base's
// length resolve in the base). `add` appends for encoders and model builders.

import { TsbpfError } from "../src/errors.ts";

const utf8 = new TextDecoder("utf-8");

export class StringTable {
  /** The base table of split BTF; offsets < `start` resolve there. */
  readonly base: StringTable | undefined;
  /** First offset owned by this table (the base's total length, or 0). */
  readonly start: number;
  private buf: Uint8Array;
  private used: number;
  private readonly cache = new Map<number, string>();
  private index: Map<string, number> | undefined;
  private searches = 0;

  constructor(bytes: Uint8Array, base?: StringTable) {
    this.base = base;
    this.start = base ? base.length : 0;
    this.buf = bytes;
    this.used = bytes.length;
  }

  /** An empty table ready for `add`: just the leading NUL that offset 0 (anonymous) names. */
  static empty(base?: StringTable): StringTable {
    return new StringTable(base ? new Uint8Array(0) : new Uint8Array(1), base);
  }

  /** Total length of the offset space, base included. */
  get length(): number {
    return this.start + this.used;
  }

  /** This table's own bytes (without the base's). */
  get bytes(): Uint8Array {
    return this.buf.subarray(0, this.used);
  }

  /** The backing array (may extend past `bytes`); with `start`, for readers that copy raw names. */
  get storage(): Uint8Array {
    return this.buf;
  }

  /** True if `off` is a valid offset (inside this table or its base). */
  has(off: number): boolean {
    return off >= 0 && off < this.length;
  }

  /** The string at `off`. Offset 0 is "" (anonymous). Throws BTF_BAD_STRING out of range. */
  get(off: number): string {
    if (off < this.start) {
      if (this.base) return this.base.get(off);
    }
    const hit = this.cache.get(off);
    if (hit !== undefined) return hit;
    const rel = off - this.start;
    if (rel < 0 || rel >= this.used) {
      throw new TsbpfError("BTF_BAD_STRING", `string offset ${off} is outside the string table (length ${this.length})`, {}, "the BTF is corrupt or was cut short");
    }
    const s = this.decode(rel);
    this.cache.set(off, s);
    return s;
  }

  private decode(rel: number): string {
    const b = this.buf;
    let end = rel;
    let ascii = true;
    while (end < this.used && b[end] !== 0) {
      if (b[end] >= 0x80) ascii = false;
      end++;
    }
    if (!ascii) return utf8.decode(b.subarray(rel, end));
    // Short ASCII names dominate kernel BTF; fromCharCode beats TextDecoder on them.
    if (end - rel < 64) {
      let s = "";
      for (let i = rel; i < end; i++) s += String.fromCharCode(b[i]);
      return s;
    }
    return utf8.decode(b.subarray(rel, end));
  }

  /**
   * The offset of `name` if the table holds it (as a string or the tail of one), else undefined.
   * A few lookups search the bytes; many (a model being built) switch to a full index.
   */
  find(name: string): number | undefined {
    if (name === "") return 0;
    const fromBase = this.base?.find(name);
    if (fromBase !== undefined) return fromBase;
    if (this.index) return this.index.get(name);
    if (++this.searches > 256) {
      this.index = this.buildIndex();
      return this.index.get(name);
    }
    const offs = this.ownOffsetsOf(name);
    return offs.length ? offs[0] : undefined;
  }

  private buildIndex(): Map<string, number> {
    const m = new Map<string, number>();
    let i = 0;
    while (i < this.used) {
      const s = this.get(this.start + i);
      if (!m.has(s)) m.set(s, this.start + i);
      let end = i;
      while (end < this.used && this.buf[end] !== 0) end++;
      i = end + 1;
    }
    return m;
  }

  /**
   * Every offset at which the table reads as `name` (whole strings and suffixes of longer ones),
   * base included, found by a byte search instead of decoding the table. "" gives [0].
   */
  offsetsOf(name: string): number[] {
    if (name === "") return [0];
    return [...(this.base ? this.base.offsetsOf(name) : []), ...this.ownOffsetsOf(name)];
  }

  private ownOffsetsOf(name: string): number[] {
    const out: number[] = [];
    const needle = new TextEncoder().encode(name + "\0");
    const hay = Buffer.from(this.buf.buffer, this.buf.byteOffset, this.used);
    for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + 1)) out.push(this.start + i);
    return out;
  }

  /** Offset of `name`, appending it if absent. */
  add(name: string): number {
    const have = this.find(name);
    if (have !== undefined) return have;
    const enc = new TextEncoder().encode(name);
    if (this.used + enc.length + 1 > this.buf.length) {
      const grown = new Uint8Array(Math.max(64, (this.used + enc.length + 1) * 2));
      grown.set(this.buf.subarray(0, this.used));
      this.buf = grown;
    }
    const off = this.start + this.used;
    this.buf.set(enc, this.used);
    this.buf[this.used + enc.length] = 0;
    this.used += enc.length + 1;
    this.cache.set(off, name);
    this.index?.set(name, off);
    return off;
  }
}
