// The bpftool raw listing of parsed BTF written straight from the type words into bytes: names are
// copied from the string table as they are (no decoding, byte-exact like bpftool's printf) and
// no model objects are built, which keeps `tsbpf btf dump` on vmlinux faster than bpftool.
// Model-only BTF (built or modified) goes through the text formatter in dump-raw.ts instead.

import type { Btf, RawTypes } from "./btf.ts";
import { dumpRaw, intEncoding, KIND_LABEL } from "./dump-raw.ts";
import type { StringTable } from "./strings.ts";
import { KIND_NAMES } from "./types.ts";

const enc = new TextEncoder();
const b = (s: string): Uint8Array => enc.encode(s);

const LABELS = KIND_NAMES.map((k) => b(KIND_LABEL[k]));
const INT_ENC = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].map((e) => b(intEncoding(e)));
const LINKAGE = ["static", "global", "extern"].map(b);
const L = {
  anon: b("(anon)"),
  size: b(" size="),
  bitsOffset: b(" bits_offset="),
  nrBits: b(" nr_bits="),
  encoding: b(" encoding="),
  typeId: b(" type_id="),
  indexTypeId: b(" index_type_id="),
  nrElems: b(" nr_elems="),
  vlen: b(" vlen="),
  memberOpen: b("\n\t'"),
  memberTypeId: b("' type_id="),
  bitfieldSize: b(" bitfield_size="),
  encSigned: b(" encoding=SIGNED size="),
  encUnsigned: b(" encoding=UNSIGNED size="),
  val: b("' val="),
  ll: b("LL"),
  ull: b("ULL"),
  fwdStruct: b(" fwd_kind=struct"),
  fwdUnion: b(" fwd_kind=union"),
  linkage: b(" linkage="),
  retTypeId: b(" ret_type_id="),
  varLinkage: b(", linkage="),
  secinfo: b("\n\ttype_id="),
  offset: b(" offset="),
  componentIdx: b(" component_idx="),
};

/** A growable byte buffer with the few writes the listing needs. */
class Out {
  buf = new Uint8Array(1 << 20);
  n = 0;

  reserve(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    grown.set(this.buf.subarray(0, this.n));
    this.buf = grown;
  }

  lit(x: Uint8Array): void {
    this.reserve(x.length);
    this.buf.set(x, this.n);
    this.n += x.length;
  }

  ch(c: number): void {
    this.reserve(1);
    this.buf[this.n++] = c;
  }

  /** An unsigned 32-bit number in decimal. */
  u(v: number): void {
    this.reserve(10);
    if (v < 10) {
      this.buf[this.n++] = 48 + v;
      return;
    }
    let digits = 0;
    for (let t = v; t > 0; t = Math.floor(t / 10)) digits++;
    let i = this.n + digits;
    this.n = i;
    while (v > 0) {
      const q = Math.floor(v / 10);
      this.buf[--i] = 48 + (v - q * 10);
      v = q;
    }
  }

  /** A signed 32-bit number. */
  i(v: number): void {
    if (v < 0) {
      this.ch(45);
      this.u(-v);
    } else this.u(v);
  }

  str(s: string): void {
    this.lit(enc.encode(s));
  }

  /** The NUL-terminated name at `off`, bytes as stored; "(anon)" for offset 0. */
  name(table: StringTable, off: number): void {
    if (off === 0) return this.lit(L.anon);
    let t = table;
    while (off < t.start && t.base) t = t.base;
    const src = t.storage;
    let p = off - t.start;
    let end = p;
    while (src[end] !== 0) end++;
    this.reserve(end - p);
    const dst = this.buf;
    let n = this.n;
    for (; p < end; p++) dst[n++] = src[p];
    this.n = n;
  }
}

function writeRecord(o: Out, btf: Btf, raw: RawTypes, id: number): void {
  const w = raw.words;
  const strs = btf.strings;
  const at = raw.offsets[id - btf.firstId];
  const info = w[at + 1];
  const kind = (info >>> 24) & 0x1f;
  const vlen = info & 0xffff;
  const kflag = info >>> 31;
  const st = w[at + 2];
  const x = at + 3;
  o.ch(91); // [
  o.u(id);
  o.ch(93); // ]
  o.ch(32);
  o.lit(LABELS[kind]);
  o.ch(32);
  o.ch(39);
  o.name(strs, w[at]);
  o.ch(39);
  switch (kind) {
    case 1: {
      const v = w[x];
      o.lit(L.size), o.u(st), o.lit(L.bitsOffset), o.u((v >>> 16) & 0xff), o.lit(L.nrBits), o.u(v & 0xff);
      o.lit(L.encoding), o.lit(INT_ENC[(v >>> 24) & 0x0f]);
      break;
    }
    case 2:
    case 8:
    case 9:
    case 10:
    case 11:
    case 18:
      o.lit(L.typeId), o.u(st);
      break;
    case 3:
      o.lit(L.typeId), o.u(w[x]), o.lit(L.indexTypeId), o.u(w[x + 1]), o.lit(L.nrElems), o.u(w[x + 2]);
      break;
    case 4:
    case 5:
      o.lit(L.size), o.u(st), o.lit(L.vlen), o.u(vlen);
      for (let p = x, end = x + 3 * vlen; p < end; p += 3) {
        const off = w[p + 2];
        o.lit(L.memberOpen), o.name(strs, w[p]), o.lit(L.memberTypeId), o.u(w[p + 1]), o.lit(L.bitsOffset);
        if (kflag) {
          o.u(off & 0xffffff);
          if (off >>> 24) o.lit(L.bitfieldSize), o.u(off >>> 24);
        } else o.u(off);
      }
      break;
    case 6:
      o.lit(kflag ? L.encSigned : L.encUnsigned), o.u(st), o.lit(L.vlen), o.u(vlen);
      for (let p = x, end = x + 2 * vlen; p < end; p += 2) {
        o.lit(L.memberOpen), o.name(strs, w[p]), o.lit(L.val);
        if (kflag) o.i(w[p + 1] | 0);
        else o.u(w[p + 1]);
      }
      break;
    case 19:
      o.lit(kflag ? L.encSigned : L.encUnsigned), o.u(st), o.lit(L.vlen), o.u(vlen);
      for (let p = x, end = x + 3 * vlen; p < end; p += 3) {
        o.lit(L.memberOpen), o.name(strs, w[p]), o.lit(L.val);
        const hi = w[p + 2];
        const lo = w[p + 1];
        if (hi === 0) o.u(lo);
        else {
          const u = (BigInt(hi) << 32n) | BigInt(lo);
          o.str(String(kflag ? BigInt.asIntN(64, u) : u));
        }
        o.lit(kflag ? L.ll : L.ull);
      }
      break;
    case 7:
      o.lit(kflag ? L.fwdUnion : L.fwdStruct);
      break;
    case 12:
      o.lit(L.typeId), o.u(st), o.lit(L.linkage), o.lit(LINKAGE[vlen]);
      break;
    case 13:
      o.lit(L.retTypeId), o.u(st), o.lit(L.vlen), o.u(vlen);
      for (let p = x, end = x + 2 * vlen; p < end; p += 2) {
        o.lit(L.memberOpen), o.name(strs, w[p]), o.lit(L.memberTypeId), o.u(w[p + 1]);
      }
      break;
    case 14:
      o.lit(L.typeId), o.u(st), o.lit(L.varLinkage), o.lit(LINKAGE[w[x]]);
      break;
    case 15:
      o.lit(L.size), o.u(st), o.lit(L.vlen), o.u(vlen);
      for (let p = x, end = x + 3 * vlen; p < end; p += 3) {
        const t = w[p];
        o.lit(L.secinfo), o.u(t), o.lit(L.offset), o.u(w[p + 1]), o.lit(L.size), o.u(w[p + 2]);
        if (btf.has(t)) {
          o.ch(32), o.ch(40), o.lit(LABELS[KIND_NAMES.indexOf(btf.kindOf(t))]), o.ch(32), o.ch(39);
          if (t >= btf.firstId) o.name(strs, w[raw.offsets[t - btf.firstId]]);
          else if (t === 0) o.lit(L.anon);
          else o.name(strs, btf.type(t).nameOff);
          o.ch(39), o.ch(41);
        }
      }
      break;
    case 16:
      o.lit(L.size), o.u(st);
      break;
    case 17:
      o.lit(L.typeId), o.u(st), o.lit(L.componentIdx), o.i(w[x] | 0);
      break;
  }
  o.ch(10);
}

/** The bpftool raw listing as bytes: from the words when the BTF is parsed and untouched. */
export function dumpRawBytes(btf: Btf): Uint8Array {
  const raw = btf.rawTypes();
  if (!raw) return enc.encode([...dumpRaw(btf)].join(""));
  const o = new Out();
  for (let id = btf.firstId; id < btf.typeCount; id++) writeRecord(o, btf, raw, id);
  return o.buf.subarray(0, o.n);
}
