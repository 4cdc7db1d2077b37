// A BTF type as a short C spelling for reports ("__u32", "struct event", "char[16]", "u64 *"),
// not a full declarator: enough to name a map's key and value the way the source did.

import type { Btf } from "../../btf/index.ts";

export function cTypeName(btf: Btf, id: number, depth = 0): string {
  if (id === 0) return "void";
  if (depth > 32) return "…";
  const t = btf.type(id);
  switch (t.kind) {
    case "int":
    case "float":
    case "typedef":
      return t.name;
    case "struct":
    case "union":
    case "enum":
      return t.name ? `${t.kind} ${t.name}` : `${t.kind} {…}`;
    case "enum64":
      return t.name ? `enum ${t.name}` : "enum {…}";
    case "fwd":
      return `${t.fwdKind} ${t.name}`;
    case "ptr":
      return `${cTypeName(btf, t.type, depth + 1)} *`;
    case "array":
      return `${cTypeName(btf, t.type, depth + 1)}[${t.nelems}]`;
    case "const":
    case "volatile":
    case "restrict":
      return `${t.kind} ${cTypeName(btf, t.type, depth + 1)}`;
    case "type_tag":
      return cTypeName(btf, t.type, depth + 1);
    case "func_proto":
      return "function";
    default:
      return t.name || t.kind;
  }
}
