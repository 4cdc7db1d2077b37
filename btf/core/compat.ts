// libbpf's compatibility relations between a local and a target type: fields (for field access
// relocations), types (for type existence/size/id) and the stricter "match" of TYPE_MATCHES.
// A relation that cannot be decided (a loop, a broken id) throws CORE_RELO, as libbpf returns -EINVAL.

import { TsbpfError } from "../../src/errors.ts";
import type { Btf } from "../btf.ts";
import type { BtfType } from "../types.ts";
import { INT_SIGNED } from "../types.ts";
import { essentialNameLen, isAnyEnum, isComposite, kindsCompat, skipMods } from "./walk.ts";

/** Recursion budget libbpf gives both relations (its `depth = 32` and `level = 32`). */
const MAX_DEPTH = 32;

const fail = (msg: string): TsbpfError => new TsbpfError("CORE_RELO", msg);

function resolve(btf: Btf, id: number): BtfType {
  const t = skipMods(btf, id);
  if (!t) throw fail(`type [${id}] does not resolve`);
  return t;
}

function essentialEq(a: string, b: string): boolean {
  const la = essentialNameLen(a);
  return la === essentialNameLen(b) && a.slice(0, la) === b.slice(0, la);
}

/** Field compatibility (bpf_core_fields_are_compat). */
export function fieldsAreCompat(lb: Btf, lid: number, tb: Btf, tid: number): boolean {
  for (let guard = 0; ; guard++) {
    if (guard > lb.typeCount + tb.typeCount) throw fail("array type loop");
    const l = resolve(lb, lid);
    const t = resolve(tb, tid);
    if (isComposite(l) && isComposite(t)) return true;
    if (!kindsCompat(l, t)) return false;
    switch (l.kind) {
      case "ptr":
      case "float":
        return true;
      case "fwd":
      case "enum":
      case "enum64":
        return essentialNameLen(l.name) === 0 || essentialNameLen(t.name) === 0 || essentialEq(l.name, t.name);
      case "int":
        return l.bitOffset === 0 && (t as typeof l).bitOffset === 0;
      case "array":
        lid = l.type;
        tid = (t as typeof l).type;
        continue;
      default:
        return false;
    }
  }
}

/** Type compatibility (bpf_core_types_are_compat); names were matched by the caller. */
export function typesAreCompat(lb: Btf, lid: number, tb: Btf, tid: number, level = MAX_DEPTH): boolean {
  if (!lb.has(lid) || !tb.has(tid)) throw fail(`type [${lid}] or [${tid}] is out of range`);
  if (!kindsCompat(lb.type(lid), tb.type(tid))) return false;
  for (let depth = MAX_DEPTH - 1; ; depth--) {
    if (depth < 0) throw fail("type compatibility check nests too deep");
    const l = resolve(lb, lid);
    const t = resolve(tb, tid);
    if (!kindsCompat(l, t)) return false;
    switch (l.kind) {
      case "void": case "struct": case "union": case "enum": case "enum64": case "fwd":
        return true;
      case "int":
        return l.bitOffset === 0 && (t as typeof l).bitOffset === 0;
      case "ptr":
        lid = l.type;
        tid = (t as typeof l).type;
        continue;
      case "array":
        lid = l.type;
        tid = (t as typeof l).type;
        continue;
      case "func_proto": {
        const tp = t as typeof l;
        if (l.params.length !== tp.params.length) return false;
        for (let i = 0; i < l.params.length; i++) {
          if (level <= 0) throw fail("function prototype nests too deep");
          const lp = resolve(lb, l.params[i].type);
          const tpp = resolve(tb, tp.params[i].type);
          if (!typesAreCompat(lb, lp.id, tb, tpp.id, level - 1)) return false;
        }
        lid = resolve(lb, l.returnType).id;
        tid = resolve(tb, tp.returnType).id;
        continue;
      }
      default:
        return false;
    }
  }
}

/** Names equal up to flavors; an anonymous target matches only an anonymous local. */
function namesMatch(l: string, t: string): boolean {
  if (t === "") return l === "";
  return essentialEq(l, t);
}

/** The TYPE_MATCHES relation (bpf_core_types_match). */
export function typesMatch(lb: Btf, lid: number, tb: Btf, tid: number, behindPtr = false, level = MAX_DEPTH): boolean {
  if (level <= 0) throw fail("type match nests too deep");
  for (let depth = MAX_DEPTH - 1; ; depth--) {
    if (depth < 0) throw fail("type match nests too deep");
    const l = resolve(lb, lid);
    const t = resolve(tb, tid);
    if (!namesMatch(l.name, t.name)) return false;
    switch (l.kind) {
      case "void":
        return t.kind === "void";
      case "fwd": {
        const lu = l.fwdKind === "union";
        if (t.kind === "fwd") return lu === (t.fwdKind === "union");
        if (!behindPtr) return false;
        return (t.kind === "struct" && !lu) || (t.kind === "union" && lu);
      }
      case "enum":
      case "enum64": {
        if (!isAnyEnum(t) || l.size !== t.size || l.values.length > t.values.length) return false;
        return l.values.every((lv) => t.values.some((tv) => namesMatch(lv.name, tv.name)));
      }
      case "struct":
      case "union": {
        if (behindPtr) {
          if (l.kind === t.kind) return true;
          if (t.kind !== "fwd") return false;
          return (l.kind === "union") === (t.fwdKind === "union");
        }
        if (l.kind !== t.kind || !isComposite(t)) return false;
        if (l.members.length > t.members.length) return false;
        for (const lm of l.members) {
          let matched = false;
          for (const tm of t.members) {
            if (!namesMatch(lm.name, tm.name)) continue;
            if (typesMatch(lb, lm.type, tb, tm.type, behindPtr, level - 1)) {
              matched = true;
              break;
            }
          }
          if (!matched) return false;
        }
        return true;
      }
      case "int":
        return t.kind === "int" && l.size === t.size && (l.encoding & INT_SIGNED) === (t.encoding & INT_SIGNED);
      case "ptr":
        if (t.kind !== "ptr") return false;
        behindPtr = true;
        lid = l.type;
        tid = t.type;
        continue;
      case "array":
        if (t.kind !== "array" || l.nelems !== t.nelems) return false;
        lid = l.type;
        tid = t.type;
        continue;
      case "func_proto": {
        if (t.kind !== "func_proto" || l.params.length !== t.params.length) return false;
        for (let i = 0; i < l.params.length; i++) {
          if (!typesMatch(lb, l.params[i].type, tb, t.params[i].type, behindPtr, level - 1)) return false;
        }
        lid = l.returnType;
        tid = t.returnType;
        continue;
      }
      default:
        return false;
    }
  }
}
