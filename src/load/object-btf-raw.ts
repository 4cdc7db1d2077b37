// A raw BTF blob opened for in-place editing, the way libbpf edits an object's BTF before loading
// it: type records addressed by id as 32-bit words, strings appended, the blob re-emitted with a
// standard 24-byte header (types, then strings). Little-endian only, as BPF objects on x86 are.

import { TsbpfError } from "../errors.ts";

const HDR = 24;

/** Extra 32-bit words after the 3-word common header, per kind (vlen = low 16 bits of info). */
function extraWords(kind: number, vlen: number): number {
  switch (kind) {
    case 1: case 14: case 17: return 1; // int, var, decl_tag
    case 3: return 3; // array
    case 4: case 5: case 15: case 19: return 3 * vlen; // struct, union, datasec, enum64
    case 6: case 13: return 2 * vlen; // enum, func_proto
    case 0: case 2: case 7: case 8: case 9: case 10: case 11: case 12: case 16: case 18: return 0;
    default: throw new TsbpfError("LOAD_BAD_INPUT", `BTF kind ${kind} is unknown`, {}, "the object's BTF is newer than this loader");
  }
}

export class RawBtf {
  /** Type section as words (host order = little-endian). */
  words: Uint32Array;
  /** Word index of type id i at offsets[i - 1]; offsets.length = type count. */
  offsets: number[];
  strings: Uint8Array;
  private strLen: number;

  constructor(bytes: Uint8Array) {
    if (bytes.length < HDR) throw new TsbpfError("LOAD_BAD_INPUT", "BTF blob shorter than its header", {}, "the object's .BTF section is truncated");
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (dv.getUint16(0, true) !== 0xeb9f) throw new TsbpfError("LOAD_BAD_INPUT", "BTF magic is not 0xeb9f (little-endian)", {}, "only little-endian objects are loaded");
    const hdrLen = dv.getUint32(4, true);
    const typeOff = dv.getUint32(8, true), typeLen = dv.getUint32(12, true);
    const strOff = dv.getUint32(16, true), strLen = dv.getUint32(20, true);
    if (hdrLen + Math.max(typeOff + typeLen, strOff + strLen) > bytes.length || typeLen % 4 !== 0) {
      throw new TsbpfError("LOAD_BAD_INPUT", "BTF header sections run past the blob", {}, "the object's .BTF section is corrupt");
    }
    // Copies (a Node Buffer's slice() would be a view of the whole file).
    const t = Uint8Array.from(bytes.subarray(hdrLen + typeOff, hdrLen + typeOff + typeLen));
    this.words = new Uint32Array(t.buffer, 0, typeLen / 4);
    this.strings = Uint8Array.from(bytes.subarray(hdrLen + strOff, hdrLen + strOff + strLen));
    this.strLen = strLen;
    this.offsets = [];
    for (let p = 0; p < this.words.length;) {
      this.offsets.push(p);
      const info = this.words[p + 1];
      p += 3 + extraWords((info >>> 24) & 0x1f, info & 0xffff);
      if (p > this.words.length) throw new TsbpfError("LOAD_BAD_INPUT", "BTF type record runs past the type section", {}, "the object's .BTF section is corrupt");
    }
  }

  /** Number of ids including void (libbpf's btf__type_cnt). */
  get typeCount(): number {
    return this.offsets.length + 1;
  }

  /** Word index of type `id`'s record. */
  at(id: number): number {
    const o = this.offsets[id - 1];
    if (o === undefined) throw new TsbpfError("LOAD_BAD_INPUT", `BTF type id ${id} out of range`, {}, "the object's BTF refers to a type it lacks");
    return o;
  }

  kind(id: number): number {
    return id === 0 ? 0 : (this.words[this.at(id) + 1] >>> 24) & 0x1f;
  }

  vlen(id: number): number {
    return this.words[this.at(id) + 1] & 0xffff;
  }

  name(id: number): string {
    return this.str(this.words[this.at(id)]);
  }

  str(off: number): string {
    let end = off;
    while (end < this.strings.length && this.strings[end] !== 0) end++;
    return new TextDecoder().decode(this.strings.subarray(off, end));
  }

  /** Append a string; returns its offset. */
  addString(s: string): number {
    const b = new TextEncoder().encode(s);
    const out = new Uint8Array(this.strLen + b.length + 1);
    out.set(this.strings.subarray(0, this.strLen));
    out.set(b, this.strLen);
    const off = this.strLen;
    this.strings = out;
    this.strLen = out.length;
    return off;
  }

  /** Append a type record; returns its id. */
  addType(record: readonly number[]): number {
    const w = new Uint32Array(this.words.length + record.length);
    w.set(this.words);
    w.set(record, this.words.length);
    this.offsets.push(this.words.length);
    this.words = w;
    return this.offsets.length;
  }

  /** First id whose kind matches and whose name equals `name`, or 0. */
  find(name: string, kind: number): number {
    for (let id = 1; id < this.typeCount; id++) if (this.kind(id) === kind && this.name(id) === name) return id;
    return 0;
  }

  encode(): Uint8Array {
    const typeLen = this.words.length * 4;
    const out = new Uint8Array(HDR + typeLen + this.strLen);
    const dv = new DataView(out.buffer);
    dv.setUint16(0, 0xeb9f, true);
    dv.setUint8(2, 1);
    dv.setUint32(4, HDR, true);
    dv.setUint32(8, 0, true);
    dv.setUint32(12, typeLen, true);
    dv.setUint32(16, typeLen, true);
    dv.setUint32(20, this.strLen, true);
    out.set(new Uint8Array(this.words.buffer, this.words.byteOffset, typeLen), HDR);
    out.set(this.strings.subarray(0, this.strLen), HDR + typeLen);
    return out;
  }
}

export const KIND = { int: 1, ptr: 2, array: 3, struct: 4, union: 5, enum: 6, fwd: 7, typedef: 8, volatile: 9, const: 10, restrict: 11, func: 12, func_proto: 13, var: 14, datasec: 15, float: 16, decl_tag: 17, type_tag: 18, enum64: 19 } as const;

export function info(kind: number, vlen: number, kflag = false): number {
  return ((kflag ? 1 : 0) << 31 | kind << 24 | (vlen & 0xffff)) >>> 0;
}
