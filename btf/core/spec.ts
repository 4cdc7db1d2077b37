// Access specs: parse a relocation's access string against the local BTF ("0:1:2" → the members
// and indices it names, with the bit offset reached), match a local spec against one target type,
// and format a spec the way libbpf's debug log does.

import { TsbpfError } from "../../src/errors.ts";
import type { Btf } from "../btf.ts";
import type { CoreRelo, CoreReloKind } from "../ext.ts";
import type { BtfArray, BtfType } from "../types.ts";
import { CORE_RELO_KIND_LIBBPF } from "../ext.ts";
import { fieldsAreCompat } from "./compat.ts";
import { essentialNameLen, isAnyEnum, isComposite, resolveSize, skipMods } from "./walk.ts";
import { CORE_SPEC_MAX_LEN, type Accessor, type CoreSpec } from "./types.ts";

export function isFieldKind(k: CoreReloKind): boolean {
  return k.startsWith("field_");
}
export function isTypeKind(k: CoreReloKind): boolean {
  return k === "type_id_local" || k === "type_id_target" || k === "type_exists" || k === "type_matches" || k === "type_size";
}
export function isEnumvalKind(k: CoreReloKind): boolean {
  return k === "enumval_exists" || k === "enumval_value";
}

const fail = (msg: string): TsbpfError => new TsbpfError("CORE_RELO", msg);

function sizeOrFail(btf: Btf, id: number): number {
  const sz = resolveSize(btf, id);
  if (sz === undefined) throw fail(`type [${id}] has no size`);
  return sz;
}

/** A zero-length array as the last member of the struct named by the previous accessor. */
function isFlexArray(btf: Btf, prev: Accessor | undefined, arr: BtfArray): boolean {
  if (!prev || prev.name === undefined || arr.nelems > 0) return false;
  const t = btf.type(prev.typeId);
  return isComposite(t) && prev.idx === t.members.length - 1;
}

/** Parse the local side of a relocation (libbpf's bpf_core_parse_spec). Throws CORE_RELO on a malformed access. */
export function parseLocalSpec(btf: Btf, relo: CoreRelo): CoreSpec {
  const spec: CoreSpec = { btf, rootId: relo.typeId, kind: relo.kind, raw: [], acc: [], bitOffset: 0 };
  if (relo.accessStr === "" || relo.accessStr[0] === ":") throw fail(`empty access string`);
  if (isTypeKind(relo.kind)) {
    if (relo.accessStr !== "0") throw fail(`type relocation with access '${relo.accessStr}' (only "0" is valid)`);
    return spec;
  }
  if (relo.access.length > CORE_SPEC_MAX_LEN) throw fail(`access path of ${relo.access.length} steps is longer than ${CORE_SPEC_MAX_LEN}`);
  for (const n of relo.access) if (!Number.isSafeInteger(n) || n > 0x7fffffff) throw fail(`access index ${n} is out of range`);
  spec.raw = [...relo.access];
  let t = skipMods(btf, relo.typeId);
  if (!t) throw fail(`root type [${relo.typeId}] does not resolve`);
  let id = t.id;
  const first: Accessor = { typeId: id, idx: spec.raw[0] };
  spec.acc.push(first);

  if (isEnumvalKind(relo.kind)) {
    if (!isAnyEnum(t) || spec.raw.length > 1 || first.idx >= t.values.length) throw fail(`enum relocation on [${id}] ${t.kind} with access '${relo.accessStr}'`);
    first.name = t.values[first.idx].name;
    return spec;
  }
  if (!isFieldKind(relo.kind)) throw fail(`unknown relocation kind ${relo.kind}`);

  spec.bitOffset = first.idx * sizeOrFail(btf, id) * 8;
  for (let i = 1; i < spec.raw.length; i++) {
    // Step through const/volatile/typedef to the struct, union or array itself: the accessor must
    // name that type (libbpf's skip_mods_and_typedefs with its out-id), not the typedef in front of it.
    t = skipMods(btf, id);
    if (!t) throw fail(`type [${id}] does not resolve`);
    id = t.id;
    const idx = spec.raw[i];
    if (isComposite(t)) {
      if (idx >= t.members.length) throw fail(`member index ${idx} is past the ${t.members.length} members of [${id}]`);
      const m = t.members[idx];
      spec.bitOffset += m.bitOffset;
      if (m.nameOff !== 0) {
        if (m.name === "") throw fail(`member ${idx} of [${id}] has an empty name`);
        spec.acc.push({ typeId: id, idx, name: m.name });
      }
      id = m.type;
    } else if (t.kind === "array") {
      const elem = skipMods(btf, t.type);
      if (!elem) throw fail(`array element type [${t.type}] does not resolve`);
      id = elem.id;
      if (!isFlexArray(btf, spec.acc[spec.acc.length - 1], t) && idx >= t.nelems) throw fail(`array index ${idx} is past the ${t.nelems} elements of [${t.id}]`);
      spec.acc.push({ typeId: id, idx });
      spec.bitOffset += idx * sizeOrFail(btf, id) * 8;
    } else {
      throw fail(`relo for [${relo.typeId}] ${relo.accessStr} (at idx ${i}) captures type [${id}] of unexpected kind ${t.kind}`);
    }
  }
  return spec;
}

/** Find the target member matching a local named accessor, searching anonymous members depth-first. */
function matchMember(local: CoreSpec, lacc: Accessor, targ: Btf, targId: number, out: CoreSpec): { found: boolean; next: number } {
  const tt = skipMods(targ, targId);
  if (!tt) throw fail(`target type [${targId}] does not resolve`);
  if (!isComposite(tt)) return { found: false, next: targId };
  const lt = local.btf.type(lacc.typeId);
  if (!isComposite(lt)) throw fail(`local accessor type [${lacc.typeId}] is not a struct or union`);
  const lm = lt.members[lacc.idx];
  for (let i = 0; i < tt.members.length; i++) {
    const m = tt.members[i];
    if (out.raw.length === CORE_SPEC_MAX_LEN) throw fail("struct/union/array nesting too deep");
    out.bitOffset += m.bitOffset;
    out.raw.push(i);
    if (m.name === "") {
      const r = matchMember(local, lacc, targ, m.type, out);
      if (r.found) return r;
    } else if (m.name === lm.name) {
      out.acc.push({ typeId: tt.id, idx: i, name: m.name });
      const ok = fieldsAreCompat(local.btf, lm.type, targ, m.type);
      if (!ok) out.acc.pop();
      return { found: ok, next: m.type };
    }
    out.bitOffset -= m.bitOffset;
    out.raw.pop();
  }
  return { found: false, next: targId };
}

/** Match a local spec against one target candidate (libbpf's bpf_core_spec_match): the target spec, or undefined. */
export function matchSpec(local: CoreSpec, targ: Btf, targRoot: number, typeMatch: (l: Btf, lid: number, t: Btf, tid: number) => boolean): CoreSpec | undefined {
  const out: CoreSpec = { btf: targ, rootId: targRoot, kind: local.kind, raw: [], acc: [], bitOffset: 0 };
  if (isTypeKind(local.kind)) return typeMatch(local.btf, local.rootId, targ, targRoot) ? out : undefined;

  if (isEnumvalKind(local.kind)) {
    const t = skipMods(targ, targRoot);
    if (!t || !isAnyEnum(t)) return undefined;
    const lname = local.acc[0].name ?? "";
    const llen = essentialNameLen(lname);
    for (let i = 0; i < t.values.length; i++) {
      const n = t.values[i].name;
      if (essentialNameLen(n) !== llen || n.slice(0, llen) !== lname.slice(0, llen)) continue;
      out.acc.push({ typeId: t.id, idx: i, name: n });
      out.raw.push(i);
      return out;
    }
    return undefined;
  }

  let targId = targRoot;
  for (let i = 0; i < local.acc.length; i++) {
    const lacc = local.acc[i];
    const tt = skipMods(targ, targId);
    if (!tt) throw fail(`target type [${targId}] does not resolve`);
    targId = tt.id;
    if (lacc.name !== undefined) {
      const r = matchMember(local, lacc, targ, targId, out);
      if (!r.found) return undefined;
      targId = r.next;
      continue;
    }
    if (i > 0) {
      if (tt.kind !== "array") return undefined;
      if (!isFlexArray(targ, out.acc[out.acc.length - 1], tt) && lacc.idx >= tt.nelems) return undefined;
      const elem = skipMods(targ, tt.type);
      if (!elem) throw fail(`target array element [${tt.type}] does not resolve`);
      targId = elem.id;
    }
    if (out.raw.length === CORE_SPEC_MAX_LEN) throw fail("struct/union/array nesting too deep");
    out.acc.push({ typeId: targId, idx: lacc.idx });
    out.raw.push(lacc.idx);
    out.bitOffset += lacc.idx * sizeOrFail(targ, targId) * 8;
  }
  return out;
}

/** "struct task_struct", "enum <anon>" — a type as libbpf names it in its log. */
export function typeLabel(t: BtfType): string {
  return `${t.kind} ${t.name === "" ? "<anon>" : t.name}`;
}

/** libbpf's bpf_core_format_spec: `<byte_off> [12] struct task_struct.pid (0:57 @ offset 2416)`. */
export function formatSpec(spec: CoreSpec): string {
  const root = spec.btf.type(spec.rootId);
  let s = `<${CORE_RELO_KIND_LIBBPF[spec.kind]}> [${spec.rootId}] ${typeLabel(root)}`;
  if (isTypeKind(spec.kind)) return s;
  if (isEnumvalKind(spec.kind)) {
    const t = skipMods(spec.btf, spec.rootId);
    if (t && isAnyEnum(t) && spec.raw.length > 0) {
      const e = t.values[spec.raw[0]];
      s += `::${e.name} = ${e.value}`;
    }
    return s;
  }
  spec.acc.forEach((a, i) => {
    if (a.name !== undefined) s += `.${a.name}`;
    else if (i > 0 || a.idx > 0) s += `[${a.idx}]`;
  });
  const bytes = Math.floor(spec.bitOffset / 8);
  const bits = spec.bitOffset % 8;
  s += ` (${spec.raw.join(":")} @ offset ${bits ? `${bytes}.${bits}` : bytes})`;
  return s;
}
