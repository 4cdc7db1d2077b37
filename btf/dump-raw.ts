// The raw listing of a Btf, one type per entry, in the text `bpftool btf dump ... format raw`
// prints and in the JSON `bpftool -j btf dump` prints (same field names and order). For split BTF
// only the split part is listed, as bpftool does. One deliberate difference: bpftool 7.1 sign-extends
// unsigned ENUM values >= 2^31 in JSON (a cast bug); we print the u32, as its text listing does.

import type { Btf } from "./btf.ts";
import type { BtfType, BtfKind } from "./types.ts";

/** bpftool's upper-case kind names. */
export const KIND_LABEL: Record<BtfKind, string> = {
  void: "UNKNOWN", int: "INT", ptr: "PTR", array: "ARRAY", struct: "STRUCT", union: "UNION", enum: "ENUM",
  fwd: "FWD", typedef: "TYPEDEF", volatile: "VOLATILE", const: "CONST", restrict: "RESTRICT", func: "FUNC",
  func_proto: "FUNC_PROTO", var: "VAR", datasec: "DATASEC", float: "FLOAT", decl_tag: "DECL_TAG",
  type_tag: "TYPE_TAG", enum64: "ENUM64",
};

export function intEncoding(e: number): string {
  switch (e) {
    case 0:
      return "(none)";
    case 1:
      return "SIGNED";
    case 2:
      return "CHAR";
    case 4:
      return "BOOL";
    default:
      return "UNKN";
  }
}

/**
 * A name as bpftool shows it: offset 0 is "(anon)"; an empty string at another offset stays
 * empty. A model type given a name but no offset yet shows its name (it will be interned).
 */
function label(name: string, nameOff: number): string {
  return nameOff === 0 && name === "" ? "(anon)" : name;
}

/** One type in bpftool's raw text, without the trailing newline. */
export function formatRawType(btf: Btf, t: BtfType): string {
  let s = `[${t.id}] ${KIND_LABEL[t.kind]} '${label(t.name, t.nameOff)}'`;
  switch (t.kind) {
    case "void":
      return s;
    case "int":
      return s + ` size=${t.size} bits_offset=${t.bitOffset} nr_bits=${t.bits} encoding=${intEncoding(t.encoding)}`;
    case "ptr":
    case "const":
    case "volatile":
    case "restrict":
    case "typedef":
    case "type_tag":
      return s + ` type_id=${t.type}`;
    case "array":
      return s + ` type_id=${t.type} index_type_id=${t.indexType} nr_elems=${t.nelems}`;
    case "struct":
    case "union":
      s += ` size=${t.size} vlen=${t.members.length}`;
      for (const m of t.members) {
        s += `\n\t'${label(m.name, m.nameOff)}' type_id=${m.type} bits_offset=${m.bitOffset}`;
        if (m.bitfieldSize) s += ` bitfield_size=${m.bitfieldSize}`;
      }
      return s;
    case "enum":
    case "enum64": {
      s += ` encoding=${t.signed ? "SIGNED" : "UNSIGNED"} size=${t.size} vlen=${t.values.length}`;
      const suffix = t.kind === "enum" ? "" : t.signed ? "LL" : "ULL";
      for (const v of t.values) s += `\n\t'${label(v.name, v.nameOff)}' val=${v.value}${suffix}`;
      return s;
    }
    case "fwd":
      return s + ` fwd_kind=${t.fwdKind}`;
    case "func":
      return s + ` type_id=${t.type} linkage=${t.linkage}`;
    case "func_proto":
      s += ` ret_type_id=${t.returnType} vlen=${t.params.length}`;
      for (const p of t.params) s += `\n\t'${label(p.name, p.nameOff)}' type_id=${p.type}`;
      return s;
    case "var":
      return s + ` type_id=${t.type}, linkage=${t.linkage}`;
    case "datasec":
      s += ` size=${t.size} vlen=${t.vars.length}`;
      for (const v of t.vars) {
        s += `\n\ttype_id=${v.type} offset=${v.offset} size=${v.size}`;
        if (btf.has(v.type)) {
          const vt = btf.type(v.type);
          s += ` (${KIND_LABEL[vt.kind]} '${label(vt.name, vt.nameOff)}')`;
        }
      }
      return s;
    case "float":
      return s + ` size=${t.size}`;
    case "decl_tag":
      return s + ` type_id=${t.type} component_idx=${t.componentIdx}`;
  }
}

/** The whole raw listing, newline-terminated, as chunks (joining 300k lines at once is slow). */
export function* dumpRaw(btf: Btf, ids?: number[]): Generator<string> {
  const list = ids ?? range(btf.firstId, btf.typeCount);
  let buf = "";
  for (const id of list) {
    buf += formatRawType(btf, btf.type(id)) + "\n";
    if (buf.length > 1 << 16) {
      yield buf;
      buf = "";
    }
  }
  if (buf) yield buf;
}

function* range(from: number, to: number): Generator<number> {
  for (let i = from; i < to; i++) yield i;
}

/** A JSON string literal the way bpftool's json_writer escapes it. */
function jstr(s: string): string {
  return JSON.stringify(s);
}

/** One type as bpftool's JSON object text (keys in bpftool's order). */
export function formatJsonType(btf: Btf, t: BtfType): string {
  const f: string[] = [`"id":${t.id}`, `"kind":${jstr(KIND_LABEL[t.kind])}`, `"name":${jstr(label(t.name, t.nameOff))}`];
  switch (t.kind) {
    case "void":
      break;
    case "int":
      f.push(`"size":${t.size}`, `"bits_offset":${t.bitOffset}`, `"nr_bits":${t.bits}`, `"encoding":${jstr(intEncoding(t.encoding))}`);
      break;
    case "ptr":
    case "const":
    case "volatile":
    case "restrict":
    case "typedef":
    case "type_tag":
      f.push(`"type_id":${t.type}`);
      break;
    case "array":
      f.push(`"type_id":${t.type}`, `"index_type_id":${t.indexType}`, `"nr_elems":${t.nelems}`);
      break;
    case "struct":
    case "union": {
      const ms = t.members.map(
        (m) => `{"name":${jstr(label(m.name, m.nameOff))},"type_id":${m.type},"bits_offset":${m.bitOffset}` + (m.bitfieldSize ? `,"bitfield_size":${m.bitfieldSize}}` : "}"),
      );
      f.push(`"size":${t.size}`, `"vlen":${t.members.length}`, `"members":[${ms.join(",")}]`);
      break;
    }
    case "enum":
    case "enum64": {
      const vs = t.values.map((v) => `{"name":${jstr(label(v.name, v.nameOff))},"val":${v.value}}`);
      f.push(`"encoding":${jstr(t.signed ? "SIGNED" : "UNSIGNED")}`, `"size":${t.size}`, `"vlen":${t.values.length}`, `"values":[${vs.join(",")}]`);
      break;
    }
    case "fwd":
      f.push(`"fwd_kind":${jstr(t.fwdKind)}`);
      break;
    case "func":
      f.push(`"type_id":${t.type}`, `"linkage":${jstr(t.linkage)}`);
      break;
    case "func_proto": {
      const ps = t.params.map((p) => `{"name":${jstr(label(p.name, p.nameOff))},"type_id":${p.type}}`);
      f.push(`"ret_type_id":${t.returnType}`, `"vlen":${t.params.length}`, `"params":[${ps.join(",")}]`);
      break;
    }
    case "var":
      f.push(`"type_id":${t.type}`, `"linkage":${jstr(t.linkage)}`);
      break;
    case "datasec": {
      const vs = t.vars.map((v) => `{"type_id":${v.type},"offset":${v.offset},"size":${v.size}}`);
      f.push(`"size":${t.size}`, `"vlen":${t.vars.length}`, `"vars":[${vs.join(",")}]`);
      break;
    }
    case "float":
      f.push(`"size":${t.size}`);
      break;
    case "decl_tag":
      f.push(`"type_id":${t.type}`, `"component_idx":${t.componentIdx}`);
      break;
  }
  return `{${f.join(",")}}`;
}

/** The JSON listing `{"types":[...]}` as chunks. */
export function* dumpJson(btf: Btf, ids?: number[]): Generator<string> {
  const list = ids ?? range(btf.firstId, btf.typeCount);
  let buf = `{"types":[`;
  let first = true;
  for (const id of list) {
    buf += (first ? "" : ",") + formatJsonType(btf, btf.type(id));
    first = false;
    if (buf.length > 1 << 16) {
      yield buf;
      buf = "";
    }
  }
  yield buf + "]}\n";
}
