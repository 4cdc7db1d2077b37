// Parse raw BTF (a .BTF section or /sys/kernel/btf/vmlinux) into a Btf. One pass validates the
// header, section bounds, every record's kind, vlen, string offsets and type ids, and records
// where each type starts; records are decoded later, on demand. Both byte orders are accepted.

import { TsbpfError, type Where } from "../src/errors.ts";
import { Btf, type RawTypes } from "./btf.ts";
import { extraWords } from "./records.ts";
import { StringTable } from "./strings.ts";
import { BTF_HEADER_LEN, BTF_MAGIC, BTF_VERSION, type BtfHeader, type Endian } from "./types.ts";

export interface ParseOptions {
  /** Base BTF for split BTF (e.g. vmlinux under a module's BTF). */
  base?: Btf;
  /** File offset of the blob's first byte (for a .BTF section inside an ELF file). */
  fileOffset?: number;
  /** File name for error messages. */
  file?: string;
}

const HOST_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// Per kind number: may kind_flag be set, and is the size/type word a type id.
const KFLAG_OK = new Uint8Array(20);
for (const k of [4, 5, 6, 7, 17, 18, 19]) KFLAG_OK[k] = 1;
const HAS_VLEN = new Uint8Array(20);
for (const k of [4, 5, 6, 13, 15, 19]) HAS_VLEN[k] = 1;
const ST_IS_TYPE = new Uint8Array(20);
for (const k of [2, 8, 9, 10, 11, 12, 13, 14, 17, 18]) ST_IS_TYPE[k] = 1;

/** Read and check the header; returns it with the blob's byte order. */
export function parseHeader(bytes: Uint8Array, opts: ParseOptions = {}): { header: BtfHeader; endian: Endian } {
  const at = (offset: number): Where => ({ file: opts.file, offset: (opts.fileOffset ?? 0) + offset });
  const bad = (msg: string, offset: number, hint?: string): TsbpfError => new TsbpfError("BTF_BAD_HEADER", msg, at(offset), hint);
  if (bytes.length < BTF_HEADER_LEN) throw bad(`BTF is ${bytes.length} bytes, shorter than its ${BTF_HEADER_LEN}-byte header`, 0);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let endian: Endian;
  if (dv.getUint16(0, true) === BTF_MAGIC) endian = "little";
  else if (dv.getUint16(0, false) === BTF_MAGIC) endian = "big";
  else throw bad(`bad BTF magic 0x${dv.getUint16(0, true).toString(16)} (expected 0xeb9f)`, 0, "this is not raw BTF");
  const le = endian === "little";
  const header: BtfHeader = {
    magic: BTF_MAGIC,
    version: dv.getUint8(2),
    flags: dv.getUint8(3),
    hdrLen: dv.getUint32(4, le),
    typeOff: dv.getUint32(8, le),
    typeLen: dv.getUint32(12, le),
    strOff: dv.getUint32(16, le),
    strLen: dv.getUint32(20, le),
    layoutOff: 0,
    layoutLen: 0,
  };
  if (header.version !== BTF_VERSION) throw bad(`unsupported BTF version ${header.version}`, 2);
  if (header.flags !== 0) throw bad(`unsupported BTF flags 0x${header.flags.toString(16)}`, 3);
  if (header.hdrLen < BTF_HEADER_LEN || header.hdrLen > bytes.length) {
    throw bad(`header length ${header.hdrLen} is outside 24..${bytes.length}`, 4);
  }
  // A 32-byte header adds the kind-layout section (layout_off, layout_len), which newer libbpf and
  // pahole write to describe each kind's record size; bytes past a known header must be zero.
  if (header.hdrLen >= BTF_HEADER_LEN + 8) {
    header.layoutOff = dv.getUint32(24, le);
    header.layoutLen = dv.getUint32(28, le);
  }
  for (let i = header.hdrLen >= BTF_HEADER_LEN + 8 ? BTF_HEADER_LEN + 8 : BTF_HEADER_LEN; i < header.hdrLen; i++) {
    if (bytes[i] !== 0) throw bad(`unknown non-zero header field at byte ${i}`, i, "BTF from a newer kernel?");
  }
  const data = bytes.length - header.hdrLen;
  if (header.layoutLen > 0) {
    if (header.layoutOff + header.layoutLen > data) throw bad(`kind layout section ${header.layoutOff}+${header.layoutLen} runs past the end of the BTF data (${data} bytes)`, 24);
  }
  if (header.typeOff % 4 !== 0) throw bad(`type section offset ${header.typeOff} is not 4-byte aligned`, 8);
  if (header.typeLen % 4 !== 0) throw bad(`type section length ${header.typeLen} is not a multiple of 4`, 12);
  if (header.typeOff + header.typeLen > data) {
    throw bad(`type section ${header.typeOff}+${header.typeLen} runs past the end of the BTF data (${data} bytes)`, 8);
  }
  if (header.strOff + header.strLen > data) {
    throw bad(`string section ${header.strOff}+${header.strLen} runs past the end of the BTF data (${data} bytes)`, 16);
  }
  // The kernel accepts the sections only back to back, in any order, filling the blob.
  const sections = [[header.typeOff, header.typeLen], [header.strOff, header.strLen]];
  if (header.layoutLen > 0) sections.push([header.layoutOff, header.layoutLen]);
  sections.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let end = 0;
  for (const [off, len] of sections) {
    if (off !== end) {
      throw bad(`type section ${header.typeOff}+${header.typeLen}, string section ${header.strOff}+${header.strLen}${header.layoutLen ? ` and kind layout section ${header.layoutOff}+${header.layoutLen}` : ""} overlap or leave a gap`, 8);
    }
    end = off + len;
  }
  if (end !== data) throw bad(`${data - end} bytes follow the BTF sections`, header.hdrLen + end);
  return { header, endian };
}

/** Parse a raw BTF blob. The Btf keeps views into `bytes`: do not modify them afterwards. */
export function parseBtf(bytes: Uint8Array, opts: ParseOptions = {}): Btf {
  const { header, endian } = parseHeader(bytes, opts);
  const fileOffset = opts.fileOffset ?? 0;
  const base = opts.base;
  const where = (offset: number): Where => ({ file: opts.file, offset: fileOffset + offset });

  const strStart = header.hdrLen + header.strOff;
  const strBytes = bytes.subarray(strStart, strStart + header.strLen);
  if (!base) {
    if (header.strLen === 0 || strBytes[0] !== 0) {
      throw new TsbpfError("BTF_BAD_STRING", "the string table must start with a NUL byte", where(strStart), "split BTF needs its base: pass --base");
    }
  }
  if (header.strLen > 0 && strBytes[header.strLen - 1] !== 0) {
    throw new TsbpfError("BTF_BAD_STRING", "the string table does not end with a NUL byte", where(strStart + header.strLen - 1));
  }
  const strings = new StringTable(strBytes, base?.strings);
  const strTotal = strings.length;

  const typeStart = header.hdrLen + header.typeOff;
  const words = typeWords(bytes, typeStart, header.typeLen, endian);
  const offsets = indexTypes(words, strTotal, base ? base.typeCount : 1, fileOffset + typeStart, opts.file);
  const raw: RawTypes = { words, offsets, fileOffset: fileOffset + typeStart };
  const kindLayout = header.layoutLen > 0
    ? { bytes: bytes.subarray(header.hdrLen + header.layoutOff, header.hdrLen + header.layoutOff + header.layoutLen), beforeTypes: header.layoutOff < header.typeOff, beforeStrings: header.layoutOff < header.strOff }
    : undefined;
  return Btf.fromRaw({ strings, base, endian, layout: { hdrLen: header.hdrLen, stringsFirst: header.strOff < header.typeOff, ...(kindLayout ? { kindLayout } : {}) } }, raw);
}

/** The type section as host-order 32-bit words: a view when aligned and same-endian, else a copy. */
function typeWords(bytes: Uint8Array, start: number, len: number, endian: Endian): Uint32Array {
  const n = len >>> 2;
  if ((endian === "little") === HOST_LITTLE && (bytes.byteOffset + start) % 4 === 0) {
    return new Uint32Array(bytes.buffer, bytes.byteOffset + start, n);
  }
  const out = new Uint32Array(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset + start, len);
  const le = endian === "little";
  for (let i = 0; i < n; i++) out[i] = dv.getUint32(i * 4, le);
  return out;
}

/**
 * Walk the records once: check each against the format and the string table, note the largest
 * type id referenced, and return each record's word index (plus the end) as the offset table.
 */
function indexTypes(w: Uint32Array, strTotal: number, firstId: number, fileOffset: number, file: string | undefined): Uint32Array {
  const n = w.length;
  // At most one record per 3 words: bounded by the real input size, never by a header field.
  const offsets = new Uint32Array(Math.floor(n / 3) + 1);
  let count = 0;
  let maxRef = 0;
  let maxRefAt = 0;
  let p = 0;
  const fail = (code: "BTF_BAD_TYPE" | "BTF_BAD_STRING", msg: string, word: number): never => {
    throw new TsbpfError(code, `type [${firstId + count}]: ${msg}`, { file, offset: fileOffset + word * 4 }, code === "BTF_BAD_STRING" ? "a name offset points outside the string table" : undefined);
  };
  while (p < n) {
    if (p + 3 > n) fail("BTF_BAD_TYPE", `record header cut short (${(n - p) * 4} bytes left)`, p);
    const nameOff = w[p];
    const info = w[p + 1];
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    if (nameOff >= strTotal) fail("BTF_BAD_STRING", `name offset ${nameOff} is outside the string table (length ${strTotal})`, p);
    if ((info & 0x60ff0000) !== 0) fail("BTF_BAD_TYPE", `unused info bits set (info 0x${info.toString(16)})`, p + 1);
    const extra = kind < 20 ? extraWords(kind, vlen) : -1;
    if (extra < 0 || kind === 0) fail("BTF_BAD_TYPE", `unknown kind ${kind}`, p + 1);
    if (info >>> 31 && !KFLAG_OK[kind]) fail("BTF_BAD_TYPE", `kind_flag is not allowed on kind ${kind}`, p + 1);
    if (vlen !== 0 && !HAS_VLEN[kind]) {
      // Kinds without members carry no vlen, except FUNC whose vlen is its linkage (0..2).
      if (kind !== 12 || vlen > 2) fail("BTF_BAD_TYPE", kind === 12 ? `bad function linkage ${vlen}` : `vlen ${vlen} on a kind without members`, p + 1);
    }
    const end = p + 3 + extra;
    if (end > n) fail("BTF_BAD_TYPE", `record with ${vlen} entries runs past the end of the type section`, p);
    const st = w[p + 2];
    if (ST_IS_TYPE[kind] && st > maxRef) {
      maxRef = st;
      maxRefAt = p + 2;
    }
    const x = p + 3;
    switch (kind) {
      case 1: {
        const v = w[x];
        if ((v & 0xf000ff00) !== 0) fail("BTF_BAD_TYPE", `unused INT encoding bits set (0x${v.toString(16)})`, x);
        break;
      }
      case 3:
        if (w[x] > maxRef) (maxRef = w[x]), (maxRefAt = x);
        if (w[x + 1] > maxRef) (maxRef = w[x + 1]), (maxRefAt = x + 1);
        break;
      case 4:
      case 5:
        for (let q = x; q < end; q += 3) {
          if (w[q] >= strTotal) fail("BTF_BAD_STRING", `member ${(q - x) / 3} name offset ${w[q]} is outside the string table`, q);
          if (w[q + 1] > maxRef) (maxRef = w[q + 1]), (maxRefAt = q + 1);
        }
        break;
      case 6:
      case 13:
        for (let q = x; q < end; q += 2) {
          if (w[q] >= strTotal) fail("BTF_BAD_STRING", `entry ${(q - x) / 2} name offset ${w[q]} is outside the string table`, q);
          if (kind === 13 && w[q + 1] > maxRef) (maxRef = w[q + 1]), (maxRefAt = q + 1);
        }
        break;
      case 19:
        for (let q = x; q < end; q += 3) {
          if (w[q] >= strTotal) fail("BTF_BAD_STRING", `value ${(q - x) / 3} name offset ${w[q]} is outside the string table`, q);
        }
        break;
      case 14:
        if (w[x] > 2) fail("BTF_BAD_TYPE", `bad variable linkage ${w[x]}`, x);
        break;
      case 15:
        for (let q = x; q < end; q += 3) if (w[q] > maxRef) (maxRef = w[q]), (maxRefAt = q);
        break;
      case 17:
        if ((w[x] | 0) < -1) fail("BTF_BAD_TYPE", `bad component_idx ${w[x] | 0}`, x);
        break;
    }
    offsets[count++] = p;
    p = end;
  }
  offsets[count] = n;
  const total = firstId + count;
  if (maxRef >= total) {
    throw new TsbpfError("BTF_BAD_TYPE", `type id ${maxRef} is out of range (the last id is ${total - 1})`, { file, offset: fileOffset + maxRefAt * 4 }, "the BTF is corrupt, or split BTF was read without its base");
  }
  return offsets.subarray(0, count + 1);
}
