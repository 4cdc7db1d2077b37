// The bpftool raw listing (text and JSON) of parsed BTF written straight from the type words into
// bytes: names are copied from the string table as they are (no decoding, byte-exact like
// bpftool's printf) and no model objects are built, which keeps `tsbpf btf dump` on vmlinux
// faster than bpftool. Model-only BTF (built or modified) goes through dump-raw.ts instead.

import type { Btf, RawTypes } from "./btf.ts";
import { dumpJson, dumpRaw, intEncoding, KIND_LABEL } from "./dump-raw.ts";
import type { StringTable } from "./strings.ts";
import { KIND_NAMES } from "./types.ts";
import { belowTopTier, largeJob } from "../src/jit-tier.ts";

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

/**
 * An output buffer made of 1 MB chunks: a full chunk is set aside and a fresh one started, so
 * nothing is ever copied to grow (regrowing one big array cost half the time of a vmlinux dump),
 * and chunks come from Buffer.allocUnsafe since every byte handed out is written first.
 */
class Out {
  static readonly CHUNK = 1 << 20;
  /** Buffer size when streaming: small enough to stay in cache, reused for every chunk. */
  static readonly STREAM_CHUNK = 1 << 16;
  readonly done: Uint8Array[] = [];
  buf: Uint8Array;
  n = 0;

  /** With a sink, full buffers are handed to it and reused (fresh memory is costly); else they are kept. */
  constructor(private readonly sink?: (chunk: Uint8Array) => void) {
    this.buf = Buffer.allocUnsafe(sink ? Out.STREAM_CHUNK : Out.CHUNK);
  }

  reserve(k: number): void {
    if (this.n + k <= this.buf.length) return;
    if (this.sink) {
      this.flush();
      if (k > this.buf.length) this.buf = Buffer.allocUnsafe(k);
      return;
    }
    this.done.push(this.buf.subarray(0, this.n));
    this.buf = Buffer.allocUnsafe(Math.max(Out.CHUNK, k));
    this.n = 0;
  }

  /** Hand the buffered bytes to the sink. */
  flush(): void {
    if (this.sink && this.n > 0) this.sink(this.buf.subarray(0, this.n));
    this.n = 0;
  }

  /** The chunks written so far, the last one included. */
  chunks(): Uint8Array[] {
    return [...this.done, this.buf.subarray(0, this.n)];
  }

  lit(x: Uint8Array): void {
    const k = x.length;
    this.reserve(k);
    // Literals are a few bytes: a plain loop beats TypedArray.set's call overhead.
    const dst = this.buf;
    let n = this.n;
    for (let i = 0; i < k; i++) dst[n++] = x[i];
    this.n = n;
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
    const digits = v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : v < 100000 ? 5 : v < 1000000 ? 6 : v < 10000000 ? 7 : v < 100000000 ? 8 : v < 1000000000 ? 9 : 10;
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

  /** The name at `off` as a JSON string literal ("(anon)" for offset 0). */
  jname(table: StringTable, off: number): void {
    if (off === 0) {
      this.ch(34), this.lit(L.anon), this.ch(34);
      return;
    }
    let t = table;
    while (off < t.start && t.base) t = t.base;
    const src = t.storage;
    let p = off - t.start;
    let end = p;
    while (src[end] !== 0) end++;
    // Room for the worst case (every byte a \u00XX escape) once, then write directly.
    this.reserve((end - p) * 6 + 2);
    const dst = this.buf;
    let n = this.n;
    dst[n++] = 34;
    for (; p < end; p++) {
      const c = src[p];
      if (c >= 0x20 && c !== 34 && c !== 92) dst[n++] = c;
      else if (c === 34 || c === 92) (dst[n++] = 92), (dst[n++] = c);
      else {
        const hex = c.toString(16).padStart(4, "0");
        dst[n++] = 92;
        dst[n++] = 117;
        for (let k = 0; k < 4; k++) dst[n++] = hex.charCodeAt(k);
      }
    }
    dst[n++] = 34;
    this.n = n;
  }

  /** `,"key":` (the comma omitted for the first field of an object). */
  key(k: Uint8Array): void {
    this.lit(k);
  }
}

const J = Object.fromEntries(
  ["id", "kind", "name", "size", "bits_offset", "nr_bits", "encoding", "type_id", "index_type_id", "nr_elems", "vlen", "members", "values", "params", "vars", "val", "bitfield_size", "fwd_kind", "linkage", "ret_type_id", "offset", "component_idx"].map((k) => [k, b(`,"${k}":`)]),
) as Record<string, Uint8Array>;
const JQ = {
  open: b(`{"id":`),
  memberOpen: b(`{"name":`),
  secinfoOpen: b(`{"type_id":`),
  signed: b(`"SIGNED"`),
  unsigned: b(`"UNSIGNED"`),
  struct: b(`"struct"`),
  union: b(`"union"`),
};
const JLABELS = KIND_NAMES.map((k) => b(`"${KIND_LABEL[k]}"`));
const JINT_ENC = INT_ENC.map((e) => b(`"${new TextDecoder().decode(e)}"`));
const JLINKAGE = ["static", "global", "extern"].map((l) => b(`"${l}"`));

/** One record as bpftool's JSON object (same keys, same order). */
function writeJsonRecord(o: Out, btf: Btf, raw: RawTypes, id: number): void {
  const w = raw.words;
  const strs = btf.strings;
  const at = raw.offsets[id - btf.firstId];
  const info = w[at + 1];
  const kind = (info >>> 24) & 0x1f;
  const vlen = info & 0xffff;
  const kflag = info >>> 31;
  const st = w[at + 2];
  const x = at + 3;
  o.lit(JQ.open), o.u(id), o.key(J.kind), o.lit(JLABELS[kind]), o.key(J.name), o.jname(strs, w[at]);
  switch (kind) {
    case 1: {
      const v = w[x];
      o.key(J.size), o.u(st), o.key(J.bits_offset), o.u((v >>> 16) & 0xff), o.key(J.nr_bits), o.u(v & 0xff);
      o.key(J.encoding), o.lit(JINT_ENC[(v >>> 24) & 0x0f]);
      break;
    }
    case 2:
    case 8:
    case 9:
    case 10:
    case 11:
    case 18:
      o.key(J.type_id), o.u(st);
      break;
    case 3:
      o.key(J.type_id), o.u(w[x]), o.key(J.index_type_id), o.u(w[x + 1]), o.key(J.nr_elems), o.u(w[x + 2]);
      break;
    case 4:
    case 5:
      o.key(J.size), o.u(st), o.key(J.vlen), o.u(vlen), o.key(J.members), o.ch(91);
      for (let p = x, end = x + 3 * vlen; p < end; p += 3) {
        const off = w[p + 2];
        if (p !== x) o.ch(44);
        o.lit(JQ.memberOpen), o.jname(strs, w[p]), o.key(J.type_id), o.u(w[p + 1]), o.key(J.bits_offset);
        if (kflag) {
          o.u(off & 0xffffff);
          if (off >>> 24) o.key(J.bitfield_size), o.u(off >>> 24);
        } else o.u(off);
        o.ch(125);
      }
      o.ch(93);
      break;
    case 6:
    case 19: {
      const step = kind === 6 ? 2 : 3;
      o.key(J.encoding), o.lit(kflag ? JQ.signed : JQ.unsigned), o.key(J.size), o.u(st), o.key(J.vlen), o.u(vlen), o.key(J.values), o.ch(91);
      for (let p = x, end = x + step * vlen; p < end; p += step) {
        if (p !== x) o.ch(44);
        o.lit(JQ.memberOpen), o.jname(strs, w[p]), o.key(J.val);
        if (kind === 6) {
          if (kflag) o.i(w[p + 1] | 0);
          else o.u(w[p + 1]);
        } else if (w[p + 2] === 0) o.u(w[p + 1]);
        else {
          const u = (BigInt(w[p + 2]) << 32n) | BigInt(w[p + 1]);
          o.str(String(kflag ? BigInt.asIntN(64, u) : u));
        }
        o.ch(125);
      }
      o.ch(93);
      break;
    }
    case 7:
      o.key(J.fwd_kind), o.lit(kflag ? JQ.union : JQ.struct);
      break;
    case 12:
      o.key(J.type_id), o.u(st), o.key(J.linkage), o.lit(JLINKAGE[vlen]);
      break;
    case 13:
      o.key(J.ret_type_id), o.u(st), o.key(J.vlen), o.u(vlen), o.key(J.params), o.ch(91);
      for (let p = x, end = x + 2 * vlen; p < end; p += 2) {
        if (p !== x) o.ch(44);
        o.lit(JQ.memberOpen), o.jname(strs, w[p]), o.key(J.type_id), o.u(w[p + 1]), o.ch(125);
      }
      o.ch(93);
      break;
    case 14:
      o.key(J.type_id), o.u(st), o.key(J.linkage), o.lit(JLINKAGE[w[x]]);
      break;
    case 15:
      o.key(J.size), o.u(st), o.key(J.vlen), o.u(vlen), o.key(J.vars), o.ch(91);
      for (let p = x, end = x + 3 * vlen; p < end; p += 3) {
        if (p !== x) o.ch(44);
        o.lit(JQ.secinfoOpen), o.u(w[p]), o.key(J.offset), o.u(w[p + 1]), o.key(J.size), o.u(w[p + 2]), o.ch(125);
      }
      o.ch(93);
      break;
    case 16:
      o.key(J.size), o.u(st);
      break;
    case 17:
      o.key(J.type_id), o.u(st), o.key(J.component_idx), o.i(w[x] | 0);
      break;
  }
  o.ch(125);
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

type Writer = (o: Out, btf: Btf, raw: RawTypes) => void;

/** A listing as byte chunks: from the words when the BTF is parsed and untouched, else from the text form. */
function collect(btf: Btf, text: () => Iterable<string>, write: Writer): Uint8Array[] {
  const raw = btf.rawTypes();
  if (!raw) return [enc.encode([...text()].join(""))];
  const o = new Out();
  write(o, btf, raw);
  return o.chunks();
}

/** A listing handed to `sink` chunk by chunk (each chunk is reused after `sink` returns). */
function stream(btf: Btf, sink: (chunk: Uint8Array) => void, text: () => Iterable<string>, write: Writer): void {
  const raw = btf.rawTypes();
  if (!raw) return sink(enc.encode([...text()].join("")));
  const o = new Out(sink);
  write(o, btf, raw);
  o.flush();
}

/** The bpftool raw listing as byte chunks. */
export function dumpRawChunks(btf: Btf): Uint8Array[] {
  return collect(btf, () => dumpRaw(btf), writeRaw);
}

/** The raw listing handed to `sink` chunk by chunk. */
export function dumpRawTo(btf: Btf, sink: (chunk: Uint8Array) => void): void {
  stream(btf, sink, () => dumpRaw(btf), writeRaw);
}

function writeRaw(o: Out, btf: Btf, raw: RawTypes): void {
  if (btf.typeCount > LARGE_BTF) largeJob();
  for (let id = btf.firstId; id < btf.typeCount; id++) writeRecord(o, btf, raw, id);
}

/** The bpftool JSON listing `{"types":[...]}` as byte chunks. */
export function dumpJsonChunks(btf: Btf): Uint8Array[] {
  return collect(btf, () => dumpJson(btf), writeJson);
}

/** The JSON listing handed to `sink` chunk by chunk. */
export function dumpJsonTo(btf: Btf, sink: (chunk: Uint8Array) => void): void {
  stream(btf, sink, () => dumpJson(btf), writeJson);
}

function writeJson(o: Out, btf: Btf, raw: RawTypes): void {
  if (btf.typeCount > LARGE_BTF) largeJob();
  o.lit(b(`{"types":[`));
  for (let id = btf.firstId; id < btf.typeCount; id++) {
    if (id !== btf.firstId) o.ch(44);
    writeJsonRecord(o, btf, raw, id);
  }
  o.lit(b("]}\n"));
}

/** The raw listing as one byte array. */
export function dumpRawBytes(btf: Btf): Uint8Array {
  return Buffer.concat(dumpRawChunks(btf));
}

/** The JSON listing as one byte array. */
export function dumpJsonBytes(btf: Btf): Uint8Array {
  return Buffer.concat(dumpJsonChunks(btf));
}

// One dump runs these too briefly to repay JavaScriptCore's top tier (src/jit-tier.ts), when
// there are enough types for it to be tried at all.
const LARGE_BTF = 5000;
belowTopTier([Out], [writeJsonRecord, writeRecord, writeRaw, writeJson]);
