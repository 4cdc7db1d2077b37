// Keys and values as the kernel sees them: raw bytes. Numbers and bigints are accepted as
// little-endian unsigned integers of the map's key or value size (4 or 8 bytes, or 1/2).

import { TsbpfError } from "../errors.ts";

/** Raw bytes, or an unsigned integer encoded little-endian in the slot's width. */
export type BytesLike = Uint8Array | number | bigint;

/** Encode `v` as exactly `size` bytes; `what` names the slot in errors ("key of map counts"). */
export function toBytes(v: BytesLike, size: number, what: string): Uint8Array {
  if (v instanceof Uint8Array) {
    if (v.byteLength !== size) {
      throw new TsbpfError("LOAD_BAD_INPUT", `${what} is ${v.byteLength} bytes, the map wants ${size}`, {}, "pass exactly key_size / value_size bytes");
    }
    return v;
  }
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
    throw new TsbpfError("LOAD_BAD_INPUT", `${what}: a number cannot fill ${size} bytes`, {}, "numbers encode 1-, 2-, 4- or 8-byte slots; pass a Uint8Array");
  }
  const big = typeof v === "bigint" ? v : Number.isInteger(v) ? BigInt(v) : NaN;
  if (typeof big !== "bigint" || big < 0n || big >= 1n << BigInt(size * 8)) {
    throw new TsbpfError("LOAD_BAD_INPUT", `${what}: ${String(v)} does not fit in ${size} unsigned bytes`, {}, "keys and values given as numbers are unsigned integers of the slot's width");
  }
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  if (size === 8) dv.setBigUint64(0, big, true);
  else if (size === 4) dv.setUint32(0, Number(big), true);
  else if (size === 2) dv.setUint16(0, Number(big), true);
  else dv.setUint8(0, Number(big));
  return out;
}

/** Read an unsigned little-endian integer of 1, 2, 4 or 8 bytes at `off` (bigint for 8). */
export function readUint(b: Uint8Array, off = 0, size = b.byteLength - off): number | bigint {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (size) {
    case 1: return dv.getUint8(off);
    case 2: return dv.getUint16(off, true);
    case 4: return dv.getUint32(off, true);
    case 8: return dv.getBigUint64(off, true);
    default:
      throw new TsbpfError("LOAD_BAD_INPUT", `cannot read a ${size}-byte integer`, {}, "integers are 1, 2, 4 or 8 bytes");
  }
}
