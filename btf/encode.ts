// Encode a Btf's own types and strings back to raw BTF bytes in its byte order and section layout.
// Names keep their offsets when those still name them (so encode∘parse is byte-identical); other
// names are interned into the string table, which therefore may grow.

import { TsbpfError } from "../src/errors.ts";
import type { Btf } from "./btf.ts";
import type { StringTable } from "./strings.ts";
import { BTF_HEADER_LEN, BTF_MAGIC, BTF_MAX_VLEN, KIND_NUMBER, LINKAGES, type BtfType, type Endian } from "./types.ts";

/** Words needed for a type's record. */
function recordWords(t: BtfType): number {
  switch (t.kind) {
    case "int":
    case "var":
    case "decl_tag":
      return 4;
    case "array":
      return 6;
    case "struct":
    case "union":
      return 3 + 3 * t.members.length;
    case "enum":
      return 3 + 2 * t.values.length;
    case "enum64":
      return 3 + 3 * t.values.length;
    case "func_proto":
      return 3 + 2 * t.params.length;
    case "datasec":
      return 3 + 3 * t.vars.length;
    default:
      return 3;
  }
}

function nameOffset(strings: StringTable, name: string, nameOff: number): number {
  if (strings.has(nameOff) && strings.get(nameOff) === name) return nameOff;
  return strings.add(name);
}

function linkageNumber(l: string, t: BtfType): number {
  const n = LINKAGES.indexOf(l as (typeof LINKAGES)[number]);
  if (n < 0) throw new TsbpfError("BTF_BAD_TYPE", `type [${t.id}] ${t.name}: bad linkage '${l}'`);
  return n;
}

function vlenOf(t: BtfType, n: number): number {
  if (n > BTF_MAX_VLEN) throw new TsbpfError("BTF_BAD_TYPE", `type [${t.id}] ${t.name}: ${n} entries exceed the BTF limit of ${BTF_MAX_VLEN}`);
  return n;
}

/** Write one record at word index `p`; returns the next index. */
function writeRecord(w: Uint32Array, p: number, t: BtfType, strings: StringTable): number {
  const info = (k: number, vlen: number, kflag: boolean): number => ((kflag ? 0x80000000 : 0) | (k << 24) | vlen) >>> 0;
  const name = (s: string, off: number): number => nameOffset(strings, s, off);
  w[p] = name(t.name, t.nameOff);
  const x = p + 3;
  switch (t.kind) {
    case "void":
      throw new TsbpfError("BTF_BAD_TYPE", "void (id 0) has no record");
    case "int":
      w[p + 1] = info(1, 0, false);
      w[p + 2] = t.size;
      w[x] = (((t.encoding & 0x0f) << 24) | ((t.bitOffset & 0xff) << 16) | (t.bits & 0xff)) >>> 0;
      return x + 1;
    case "ptr":
    case "typedef":
    case "volatile":
    case "const":
    case "restrict":
      w[p + 1] = info(KIND_NUMBER[t.kind], 0, false);
      w[p + 2] = t.type;
      return x;
    case "type_tag":
      w[p + 1] = info(18, 0, t.kindFlag);
      w[p + 2] = t.type;
      return x;
    case "array":
      w[p + 1] = info(3, 0, false);
      w[p + 2] = 0;
      w[x] = t.type;
      w[x + 1] = t.indexType;
      w[x + 2] = t.nelems;
      return x + 3;
    case "struct":
    case "union": {
      w[p + 1] = info(KIND_NUMBER[t.kind], vlenOf(t, t.members.length), t.kindFlag);
      w[p + 2] = t.size;
      let q = x;
      for (const m of t.members) {
        w[q] = name(m.name, m.nameOff);
        w[q + 1] = m.type;
        w[q + 2] = t.kindFlag ? ((m.bitfieldSize << 24) | (m.bitOffset & 0xffffff)) >>> 0 : m.bitOffset;
        q += 3;
      }
      return q;
    }
    case "enum": {
      w[p + 1] = info(6, vlenOf(t, t.values.length), t.signed);
      w[p + 2] = t.size;
      let q = x;
      for (const v of t.values) {
        w[q] = name(v.name, v.nameOff);
        w[q + 1] = v.value >>> 0;
        q += 2;
      }
      return q;
    }
    case "enum64": {
      w[p + 1] = info(19, vlenOf(t, t.values.length), t.signed);
      w[p + 2] = t.size;
      let q = x;
      for (const v of t.values) {
        const u = BigInt.asUintN(64, v.value);
        w[q] = name(v.name, v.nameOff);
        w[q + 1] = Number(u & 0xffffffffn);
        w[q + 2] = Number(u >> 32n);
        q += 3;
      }
      return q;
    }
    case "fwd":
      w[p + 1] = info(7, 0, t.fwdKind === "union");
      w[p + 2] = 0;
      return x;
    case "func":
      w[p + 1] = info(12, linkageNumber(t.linkage, t), false);
      w[p + 2] = t.type;
      return x;
    case "func_proto": {
      w[p + 1] = info(13, vlenOf(t, t.params.length), false);
      w[p + 2] = t.returnType;
      let q = x;
      for (const a of t.params) {
        w[q] = name(a.name, a.nameOff);
        w[q + 1] = a.type;
        q += 2;
      }
      return q;
    }
    case "var":
      w[p + 1] = info(14, 0, false);
      w[p + 2] = t.type;
      w[x] = linkageNumber(t.linkage, t);
      return x + 1;
    case "datasec": {
      w[p + 1] = info(15, vlenOf(t, t.vars.length), false);
      w[p + 2] = t.size;
      let q = x;
      for (const v of t.vars) {
        w[q] = v.type;
        w[q + 1] = v.offset;
        w[q + 2] = v.size;
        q += 3;
      }
      return q;
    }
    case "float":
      w[p + 1] = info(16, 0, false);
      w[p + 2] = t.size;
      return x;
    case "decl_tag":
      w[p + 1] = info(17, 0, t.kindFlag);
      w[p + 2] = t.type;
      w[x] = t.componentIdx >>> 0;
      return x + 1;
  }
}

export interface EncodeOptions {
  /** Byte order of the output; the Btf's own (as parsed) by default. */
  endian?: Endian;
}

/** Encode to raw BTF. For split BTF only the split part (its types and strings) is written. */
export function encodeBtf(btf: Btf, opts: EncodeOptions = {}): Uint8Array {
  let nwords = 0;
  for (const t of btf.types()) nwords += recordWords(t);
  const w = new Uint32Array(nwords);
  let p = 0;
  for (const t of btf.types()) p = writeRecord(w, p, t, btf.strings);
  const strings = btf.strings.bytes;
  const kl = btf.layout.kindLayout;
  const hdrLen = Math.max(kl ? BTF_HEADER_LEN + 8 : BTF_HEADER_LEN, btf.layout.hdrLen);
  const typeLen = nwords * 4;
  const layoutLen = kl?.bytes.length ?? 0;
  const out = new Uint8Array(hdrLen + typeLen + strings.length + layoutLen);
  const dv = new DataView(out.buffer);
  const le = (opts.endian ?? btf.endian) === "little";
  // Sections in the order they were parsed in; the type section must stay 4-byte aligned, else
  // it goes first.
  const order: ("types" | "strings" | "layout")[] = btf.layout.stringsFirst ? ["strings", "types"] : ["types", "strings"];
  if (kl) order.splice(kl.beforeTypes && kl.beforeStrings ? 0 : kl.beforeTypes || kl.beforeStrings ? 1 : 2, 0, "layout");
  const size = { types: typeLen, strings: strings.length, layout: layoutLen };
  const offsets = (o: typeof order) => {
    const at = { types: 0, strings: 0, layout: 0 };
    let p = 0;
    for (const k of o) { at[k] = p; p += size[k]; }
    return at;
  };
  let at = offsets(order);
  if (at.types % 4 !== 0) at = offsets(["types", ...order.filter((k) => k !== "types")]);
  dv.setUint16(0, BTF_MAGIC, le);
  dv.setUint8(2, 1);
  dv.setUint8(3, 0);
  dv.setUint32(4, hdrLen, le);
  dv.setUint32(8, at.types, le);
  dv.setUint32(12, typeLen, le);
  dv.setUint32(16, at.strings, le);
  dv.setUint32(20, strings.length, le);
  if (kl) {
    dv.setUint32(24, at.layout, le);
    dv.setUint32(28, layoutLen, le);
    out.set(kl.bytes, hdrLen + at.layout);
  }
  const hostLittle = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (le === hostLittle) out.set(new Uint8Array(w.buffer, 0, typeLen), hdrLen + at.types);
  else for (let i = 0; i < nwords; i++) dv.setUint32(hdrLen + at.types + i * 4, w[i], le);
  out.set(strings, hdrLen + at.strings);
  return out;
}
