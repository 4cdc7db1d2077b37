// Small BTF walks the CO-RE algorithm leans on: skipping modifiers and typedefs, resolving a
// type's byte size, and the "essential" name that ignores a `___flavor` suffix (libbpf's rules).

import type { Btf } from "../btf.ts";
import type { BtfType } from "../types.ts";

/** libbpf's MAX_RESOLVE_DEPTH: how many typedef/modifier/array links a size resolution follows. */
const MAX_RESOLVE_DEPTH = 32;
/** Pointers in BPF and in the 64-bit kernels we target are 8 bytes. */
const PTR_SIZE = 8;

export function isModOrTypedef(t: BtfType): t is Extract<BtfType, { kind: "typedef" | "volatile" | "const" | "restrict" | "type_tag" }> {
  return t.kind === "typedef" || t.kind === "volatile" || t.kind === "const" || t.kind === "restrict" || t.kind === "type_tag";
}

/** The type behind const/volatile/restrict/type_tag and typedefs; undefined for an id out of range or a loop. */
export function skipMods(btf: Btf, id: number): BtfType | undefined {
  for (let i = 0; i <= btf.typeCount; i++) {
    if (!btf.has(id)) return undefined;
    const t = btf.type(id);
    if (!isModOrTypedef(t)) return t;
    id = t.type;
  }
  return undefined;
}

export function isComposite(t: BtfType): t is Extract<BtfType, { kind: "struct" | "union" }> {
  return t.kind === "struct" || t.kind === "union";
}

export function isAnyEnum(t: BtfType): t is Extract<BtfType, { kind: "enum" | "enum64" }> {
  return t.kind === "enum" || t.kind === "enum64";
}

/** Same kind, or enum against enum64 (libbpf's btf_kind_core_compat). */
export function kindsCompat(a: BtfType, b: BtfType): boolean {
  return a.kind === b.kind || (isAnyEnum(a) && isAnyEnum(b));
}

/** Byte size of a type as btf__resolve_size computes it; undefined where it has none (void, func, fwd, …). */
export function resolveSize(btf: Btf, id: number): number | undefined {
  let nelems = 1;
  for (let i = 0; i < MAX_RESOLVE_DEPTH; i++) {
    if (!btf.has(id) || id === 0) return undefined;
    const t = btf.type(id);
    switch (t.kind) {
      case "int": case "struct": case "union": case "enum": case "enum64": case "datasec": case "float":
        return t.size > 0xffffffff / Math.max(nelems, 1) ? undefined : nelems * t.size;
      case "ptr":
        return nelems * PTR_SIZE;
      case "typedef": case "volatile": case "const": case "restrict": case "var": case "decl_tag": case "type_tag":
        id = t.type;
        break;
      case "array":
        if (nelems && t.nelems > 0xffffffff / nelems) return undefined;
        nelems *= t.nelems;
        id = t.type;
        break;
      default:
        return undefined;
    }
  }
  return undefined;
}

/** Length of the name up to a `___flavor` suffix: X___Y with X and Y not underscores, last one wins. */
export function essentialNameLen(name: string): number {
  for (let i = name.length - 5; i >= 0; i--) {
    if (name[i] !== "_" && name[i + 1] === "_" && name[i + 2] === "_" && name[i + 3] === "_" && name[i + 4] !== "_") return i + 1;
  }
  return name.length;
}

export function essentialName(name: string): string {
  return name.slice(0, essentialNameLen(name));
}
