// Small BTF questions the object reader asks: skip modifiers, a type's size and alignment
// (as libbpf's btf__resolve_size and btf__align_of answer them), with depth limits against loops.

import type { Btf, BtfDatasec, BtfType } from "../../btf/index.ts";

const MAX_DEPTH = 32;

/** Follow typedef/const/volatile/restrict/type_tag to the underlying type. */
export function skipMods(btf: Btf, id: number): BtfType | undefined {
  for (let d = 0; d < MAX_DEPTH; d++) {
    if (!btf.has(id)) return undefined;
    const t = btf.type(id);
    if (t.kind === "typedef" || t.kind === "const" || t.kind === "volatile" || t.kind === "restrict" || t.kind === "type_tag") id = t.type;
    else return t;
  }
  return undefined;
}

/** Byte size of a type, or undefined when it has none (func, void, fwd) or is malformed. */
export function sizeOf(btf: Btf, id: number, depth = 0): number | undefined {
  if (depth > MAX_DEPTH || !btf.has(id)) return undefined;
  const t = btf.type(id);
  switch (t.kind) {
    case "int": case "enum": case "enum64": case "struct": case "union": case "float": case "datasec":
      return t.size;
    case "ptr":
      return 8;
    case "typedef": case "const": case "volatile": case "restrict": case "type_tag": case "var":
      return sizeOf(btf, t.type, depth + 1);
    case "array": {
      const e = sizeOf(btf, t.type, depth + 1);
      return e === undefined ? undefined : e * t.nelems;
    }
    default:
      return undefined;
  }
}

/** Natural alignment of a type (libbpf's btf__align_of for a 64-bit target). */
export function alignOf(btf: Btf, id: number, depth = 0): number | undefined {
  if (depth > MAX_DEPTH || !btf.has(id)) return undefined;
  const t = btf.type(id);
  switch (t.kind) {
    case "int": case "enum": case "enum64": case "float":
      return Math.min(t.size, 8);
    case "ptr":
      return 8;
    case "typedef": case "const": case "volatile": case "restrict": case "type_tag": case "var": case "array":
      return alignOf(btf, t.type, depth + 1);
    case "struct": case "union": {
      let a = 1;
      for (const m of t.members) {
        const ma = alignOf(btf, m.type, depth + 1);
        if (ma === undefined) return undefined;
        a = Math.max(a, ma);
      }
      return a;
    }
    default:
      return undefined;
  }
}

/** The first DATASEC with this name. */
export function findDatasec(btf: Btf, name: string): BtfDatasec | undefined {
  for (const id of btf.idsByName(name)) {
    const t = btf.typeAs(id, "datasec");
    if (t) return t;
  }
  return undefined;
}
