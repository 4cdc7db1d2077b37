// A reusable, zeroed C struct buffer with typed field writers — union bpf_attr above all. bpf.ts keeps
// one per process: JavaScript is single-threaded and every command reads its outputs before the next.

import { door, doorGeneration } from "./door.ts";

/** Larger than any union bpf_attr member we fill (6.18's PROG_LOAD ends at byte 168). */
export const ATTR_BYTES = 192;

export class Attr {
  readonly bytes: Uint8Array;
  readonly dv: DataView;
  private addr = 0;
  private gen = -1;

  /** `size`: ATTR_BYTES for bpf_attr; info structs and perf_event_attr use their own sizes. */
  constructor(size = ATTR_BYTES) {
    this.bytes = new Uint8Array(size);
    this.dv = new DataView(this.bytes.buffer);
  }

  /** Zero the first `size` bytes (the kernel rejects non-zero bytes it does not know). */
  reset(size: number): this {
    this.bytes.fill(0, 0, size);
    return this;
  }

  address(): number {
    if (this.gen !== doorGeneration) {
      this.addr = door().address(this.bytes);
      this.gen = doorGeneration;
    }
    return this.addr;
  }

  u32(off: number, v: number): this {
    this.dv.setUint32(off, v >>> 0, true);
    return this;
  }

  i32(off: number, v: number): this {
    this.dv.setInt32(off, v | 0, true);
    return this;
  }

  u64(off: number, v: bigint | number): this {
    if (typeof v === "number" && v >= 0 && v <= 0xffffffff) {
      this.dv.setUint32(off, v, true);
      this.dv.setUint32(off + 4, 0, true);
    } else {
      this.dv.setBigUint64(off, BigInt.asUintN(64, BigInt(v)), true);
    }
    return this;
  }

  /** A user pointer field: the buffer's address, or 0 for none. */
  ptr(off: number, buf: ArrayBufferView | null | undefined): this {
    if (buf == null || buf.byteLength === 0) return this.u64(off, 0);
    const a = door().address(buf);
    this.dv.setUint32(off, a % 0x1_0000_0000, true);
    this.dv.setUint32(off + 4, Math.floor(a / 0x1_0000_0000), true);
    return this;
  }

  /** A fixed char[len] field (object names): truncated to len-1 bytes, NUL-terminated. */
  name(off: number, len: number, s: string | undefined): this {
    if (!s) return this;
    const b = new TextEncoder().encode(s).subarray(0, len - 1);
    this.bytes.set(b, off);
    return this;
  }

  getU32(off: number): number {
    return this.dv.getUint32(off, true);
  }

  getU64(off: number): bigint {
    return this.dv.getBigUint64(off, true);
  }
}

/** NUL-terminated UTF-8 bytes for path and name pointers. */
export function cstring(s: string): Uint8Array {
  const b = new TextEncoder().encode(s);
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}
