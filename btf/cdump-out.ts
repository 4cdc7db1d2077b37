// The C dump's output: a byte buffer that ASCII literals, numbers and names copied straight from
// the string table are appended to, so a 3 MB header builds no intermediate strings. With a sink,
// the buffer is handed over and reused whenever it fills (fresh memory is costly: a 64 KB buffer
// stays cache-hot); without one it grows to hold the whole header.

export class COut {
  buf: Uint8Array;
  len = 0;
  /** The string table bytes names are copied from (split BTF flattened into one offset space). */
  readonly strs: Uint8Array;

  private readonly sink: ((chunk: Uint8Array) => void) | undefined;

  /** `sink` must be done with each chunk when it returns (it is overwritten next). */
  constructor(strs: Uint8Array, sizeHint: number, sink?: (chunk: Uint8Array) => void) {
    this.strs = strs;
    this.sink = sink;
    this.buf = new Uint8Array(sink ? 1 << 16 : Math.max(4096, sizeHint));
  }

  /** Hand what is buffered to the sink (no-op without one). */
  flush(): void {
    if (this.sink && this.len > 0) {
      this.sink(this.buf.subarray(0, this.len));
      this.len = 0;
    }
  }

  private grow(need: number): void {
    if (this.sink) {
      this.flush();
      if (need <= this.buf.length) return;
    }
    let cap = this.buf.length * 2;
    while (cap < this.len + need) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.len));
    this.buf = nb;
  }

  /** Append an ASCII string. */
  lit(s: string): void {
    const n = s.length;
    if (this.len + n > this.buf.length) this.grow(n);
    const b = this.buf;
    let p = this.len;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.len = p;
  }

  /** Append one byte. */
  ch(c: number): void {
    if (this.len + 1 > this.buf.length) this.grow(1);
    this.buf[this.len++] = c;
  }

  /** Append the name at string offset `off` (bytes up to its NUL; nothing when out of range). */
  name(off: number): void {
    const s = this.strs;
    let end = off;
    while (end < s.length && s[end] !== 0) end++;
    const n = end - off;
    if (n <= 0) return;
    if (this.len + n > this.buf.length) this.grow(n);
    const b = this.buf;
    let p = this.len;
    for (let i = off; i < end; i++) b[p++] = s[i];
    this.len = p;
  }

  /** Append a name with libbpf's `___N` suffix when dup > 1. */
  nameDup(off: number, dup: number): void {
    this.name(off);
    if (dup > 1) {
      this.lit("___");
      this.uint(dup);
    }
  }

  /** Append a non-negative integer below 2^53 in decimal. */
  uint(v: number): void {
    if (v < 10) {
      this.ch(48 + v);
      return;
    }
    let digits = 1;
    for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
    if (this.len + digits > this.buf.length) this.grow(digits);
    const b = this.buf;
    let p = this.len + digits;
    this.len = p;
    for (let t = v; p > this.len - digits; t = Math.floor(t / 10)) b[--p] = 48 + (t % 10);
  }

  /** The bytes written so far. */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

/** True if the name at `off` is empty (anonymous, or an offset past the table). */
export function emptyName(strs: Uint8Array, off: number): boolean {
  return off === 0 || off >= strs.length || strs[off] === 0;
}

/** True if the name at `off` equals the ASCII string `s`. */
export function nameEquals(strs: Uint8Array, off: number, s: string): boolean {
  const n = s.length;
  if (off + n >= strs.length) return false;
  for (let i = 0; i < n; i++) if (strs[off + i] !== s.charCodeAt(i)) return false;
  return strs[off + n] === 0;
}
