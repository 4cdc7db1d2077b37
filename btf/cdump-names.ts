// Name counting for the C dump's `___N` renaming: a hash table keyed by a name's bytes in the
// string table (a table may hold one name twice at different offsets), with one counter per C
// namespace in each entry, so counting ~100k names builds no JS strings.

/** Which counter: struct/union/enum tags, or ordinary identifiers (typedefs, enumerators). */
export const TAGS = 0;
export const IDENTS = 1;

export class NameCounter {
  private readonly strs: Uint8Array;
  /** Open addressing, four ints a slot: [string offset + 1 (0 = free), hash, tag count, identifier count]. */
  private slots: Int32Array;
  private cap: number;
  private used = 0;
  /** Counters of the empty name. */
  private readonly empty = new Int32Array(2);

  /** `expected`: roughly how many distinct names to expect (fresh memory is costly: sized, not doubled from tiny). */
  constructor(strs: Uint8Array, expected: number) {
    this.strs = strs;
    let cap = 1024;
    while (cap * 3 < expected * 4) cap *= 2;
    this.cap = cap;
    this.slots = new Int32Array(4 * cap);
  }

  /** Count one more use of the name at `off` in namespace `ns`; returns the new count. */
  bump(off: number, ns: number): number {
    const s = this.strs;
    if (off === 0 || off >= s.length || s[off] === 0) return ++this.empty[ns];
    let h = 0x811c9dc5;
    let end = off;
    while (end < s.length && s[end] !== 0) {
      h = Math.imul(h ^ s[end], 0x01000193);
      end++;
    }
    const slots = this.slots;
    const mask = this.cap - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const e = slots[4 * i];
      if (e === 0) {
        slots[4 * i] = off + 1;
        slots[4 * i + 1] = h;
        slots[4 * i + 2 + ns] = 1;
        // Linear probing stays short below three quarters full.
        if (++this.used * 4 > this.cap * 3) this.rehash();
        return 1;
      }
      // The stored hash settles most mismatches without touching the string bytes.
      if (e - 1 === off || (slots[4 * i + 1] === h && this.same(e - 1, off, end - off))) return ++slots[4 * i + 2 + ns];
    }
  }

  private same(a: number, b: number, n: number): boolean {
    const s = this.strs;
    for (let i = 0; i < n; i++) if (s[a + i] !== s[b + i]) return false;
    return a + n >= s.length || s[a + n] === 0;
  }

  private rehash(): void {
    const old = this.slots;
    const cap = this.cap * 2;
    const slots = new Int32Array(4 * cap);
    const mask = cap - 1;
    for (let j = 0; j < this.cap; j++) {
      const e = old[4 * j];
      if (e === 0) continue;
      const h = old[4 * j + 1];
      let i = h & mask;
      while (slots[4 * i] !== 0) i = (i + 1) & mask;
      slots[4 * i] = e;
      slots[4 * i + 1] = h;
      slots[4 * i + 2] = old[4 * j + 2];
      slots[4 * i + 3] = old[4 * j + 3];
    }
    this.slots = slots;
    this.cap = cap;
  }

  /** Distinct names counted so far. */
  get size(): number {
    return this.used;
  }
}
