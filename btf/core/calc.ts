// Compute one relocation: the value the local spec implies (what clang wrote), the value the
// target implies, and whether the instruction must be poisoned — for each candidate, with
// libbpf's rule that all matching candidates must agree (bpf_core_calc_relo_insn).

import { TsbpfError } from "../../src/errors.ts";
import type { Btf } from "../btf.ts";
import type { CoreRelo, CoreReloKind } from "../ext.ts";
import { INT_SIGNED } from "../types.ts";
import { typesAreCompat, typesMatch } from "./compat.ts";
import { isEnumvalKind, isFieldKind, isTypeKind, matchSpec, parseLocalSpec } from "./spec.ts";
import type { CoreSpec, ReloResult } from "./types.ts";
import { isAnyEnum, isComposite, resolveSize, skipMods } from "./walk.ts";

const fail = (msg: string): TsbpfError => new TsbpfError("CORE_RELO", msg);

/** Marks "no value: poison the instruction" (libbpf's -EUCLEAN). */
const POISON = Symbol("poison");

interface FieldVal {
  val: bigint;
  fieldSize: number;
  typeId: number;
  validate: boolean;
}

/** One side of a field relocation (bpf_core_calc_field_relo). */
function calcField(kind: CoreReloKind, spec: CoreSpec | undefined, slot: number): FieldVal | typeof POISON {
  if (kind === "field_exists") return { val: spec ? 1n : 0n, fieldSize: 0, typeId: 0, validate: true };
  if (!spec) return POISON;
  const btf = spec.btf;
  const acc = spec.acc[spec.acc.length - 1];
  if (acc.name === undefined) {
    const sz = resolveSize(btf, acc.typeId);
    if (sz === undefined) throw fail(`type [${acc.typeId}] has no size`);
    if (kind === "field_byte_offset") return { val: BigInt(Math.floor(spec.bitOffset / 8)), fieldSize: sz, typeId: acc.typeId, validate: true };
    if (kind === "field_byte_size") return { val: BigInt(sz), fieldSize: 0, typeId: 0, validate: true };
    throw fail(`relo ${kind} at insn #${slot} can't be applied to array access`);
  }
  const t = btf.type(acc.typeId);
  if (!isComposite(t)) throw fail(`accessor type [${acc.typeId}] is not a struct or union`);
  const m = t.members[acc.idx];
  const mt = skipMods(btf, m.type);
  if (!mt) throw fail(`member type [${m.type}] does not resolve`);
  const bitOff = spec.bitOffset;
  let bitSz = m.bitfieldSize;
  const bitfield = bitSz > 0;
  let byteSz: number;
  let byteOff: number;
  if (bitfield) {
    byteSz = "size" in mt ? mt.size : 0;
    if (byteSz === 0) throw fail(`bitfield type [${mt.id}] has no size`);
    byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    // The smallest load that covers the whole bitfield.
    while (bitOff + bitSz - byteOff * 8 > byteSz * 8) {
      if (byteSz >= 8) throw fail(`relo ${kind} at insn #${slot} can't be satisfied for bitfield`);
      byteSz *= 2;
      byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    }
  } else {
    const sz = resolveSize(btf, mt.id);
    if (sz === undefined) throw fail(`field type [${mt.id}] has no size`);
    byteSz = sz;
    byteOff = Math.floor(bitOff / 8);
    bitSz = byteSz * 8;
  }
  // Bitfield offsets and sizes may legitimately differ from what clang chose; only signedness
  // and the right shift are unambiguous there.
  let validate = !bitfield;
  let val: bigint;
  let fieldSize = 0;
  let typeId = 0;
  switch (kind) {
    case "field_byte_offset":
      val = BigInt(byteOff);
      if (!bitfield) {
        fieldSize = byteSz;
        typeId = mt.id;
      }
      break;
    case "field_byte_size":
      val = BigInt(byteSz);
      break;
    case "field_signed":
      val = (isAnyEnum(mt) && mt.signed) || (mt.kind === "int" && (mt.encoding & INT_SIGNED) !== 0) ? 1n : 0n;
      validate = true;
      break;
    case "field_lshift_u64":
      val = BigInt.asUintN(64, BigInt(64 - (bitOff + bitSz - byteOff * 8)));
      break;
    case "field_rshift_u64":
      val = BigInt.asUintN(64, BigInt(64 - bitSz));
      validate = true;
      break;
    default:
      throw fail(`unrecognized CO-RE relocation ${kind}`);
  }
  return { val, fieldSize, typeId, validate };
}

/** One side of a type relocation (bpf_core_calc_type_relo); missing targets give 0. */
function calcType(kind: CoreReloKind, spec: CoreSpec | undefined): bigint {
  if (!spec) return 0n;
  switch (kind) {
    case "type_id_target":
      return BigInt(spec.rootId);
    case "type_exists":
    case "type_matches":
      return 1n;
    case "type_size": {
      const sz = resolveSize(spec.btf, spec.rootId);
      if (sz === undefined) throw fail(`type [${spec.rootId}] has no size`);
      return BigInt(sz);
    }
    default:
      throw fail(`unrecognized CO-RE relocation ${kind}`);
  }
}

/** One side of an enum value relocation; the u64 libbpf computes (an enum's s32 value sign-extends). */
function calcEnumval(kind: CoreReloKind, spec: CoreSpec | undefined): bigint | typeof POISON {
  if (kind === "enumval_exists") return spec ? 1n : 0n;
  if (!spec) return POISON;
  const t = spec.btf.type(spec.acc[0].typeId);
  if (!isAnyEnum(t)) throw fail(`[${t.id}] is not an enum`);
  const v = t.values[spec.acc[0].idx].value;
  return BigInt.asUintN(64, typeof v === "bigint" ? v : BigInt(v | 0));
}

function emptyResult(): ReloResult {
  return { origVal: 0n, newVal: 0n, poison: false, validate: true, failMemszAdjust: false, origSize: 0, newSize: 0, origTypeId: 0, newTypeId: 0 };
}

/** Local and target values for one candidate (or none) — libbpf's bpf_core_calc_relo. */
export function calcRelo(kind: CoreReloKind, local: CoreSpec, targ: CoreSpec | undefined, slot: number): ReloResult {
  const res = emptyResult();
  if (isFieldKind(kind)) {
    const o = calcField(kind, local, slot);
    const n = o === POISON ? POISON : calcField(kind, targ, slot);
    if (o === POISON || n === POISON) {
      res.poison = true;
      if (o !== POISON) {
        res.origVal = o.val;
        res.validate = o.validate;
      }
      return res;
    }
    Object.assign(res, { origVal: o.val, origSize: o.fieldSize, origTypeId: o.typeId, validate: o.validate, newVal: n.val, newSize: n.fieldSize, newTypeId: n.typeId });
    if (res.origSize !== res.newSize && targ) {
      // Resizing a load is safe for pointers and unsigned integers only (zero extension keeps the value).
      const ot = local.btf.type(res.origTypeId);
      const nt = targ.btf.type(res.newTypeId);
      const safe = (ot.kind === "ptr" && nt.kind === "ptr") || (ot.kind === "int" && nt.kind === "int" && ot.encoding !== INT_SIGNED && nt.encoding !== INT_SIGNED);
      res.failMemszAdjust = !safe;
    }
  } else if (isTypeKind(kind)) {
    res.origVal = calcType(kind, local);
    res.newVal = calcType(kind, targ);
    // A target type id changes when BTF is linked or deduplicated: nothing to check it against.
    res.validate = kind !== "type_id_target";
  } else if (isEnumvalKind(kind)) {
    const o = calcEnumval(kind, local);
    const n = o === POISON ? POISON : calcEnumval(kind, targ);
    if (o === POISON || n === POISON) {
      res.poison = true;
      return res;
    }
    res.origVal = o;
    res.newVal = n;
  } else {
    throw fail(`unrecognized CO-RE relocation ${kind}`);
  }
  return res;
}

/** A relocation resolved against the target: the result, the specs, and the candidate counts. */
export interface Resolved {
  result: ReloResult;
  local: CoreSpec;
  target?: CoreSpec;
  found: number;
  matched: number;
}

/**
 * Resolve one relocation (libbpf's bpf_core_calc_relo_insn). `cands` is the shared candidate list
 * of the local root type; like libbpf, it is narrowed to the matching candidates when any match,
 * so later relocations of the same type see only those. Throws CORE_RELO when libbpf would fail the load.
 */
export function resolveRelo(relo: CoreRelo, localBtf: Btf, target: Btf, cands: { ids: number[] } | undefined, slot: number): Resolved {
  const local = parseLocalSpec(localBtf, relo);
  if (relo.kind === "type_id_local") {
    const id = BigInt(local.rootId);
    return { result: { ...emptyResult(), origVal: id, newVal: id, validate: false }, local, found: 0, matched: 0 };
  }
  if (!cands) throw fail(`no candidate list for [${relo.typeId}]`);
  if (localBtf.nameOf(relo.typeId) === "") throw fail(`<${relo.kind}> relocation doesn't support anonymous types`);
  const found = cands.ids.length;
  const kept: number[] = [];
  let best: { res: ReloResult; spec: CoreSpec } | undefined;
  const typeRel = relo.kind === "type_matches" ? typesMatch : typesAreCompat;
  for (const id of cands.ids) {
    const spec = matchSpec(local, target, id, (lb, lid, tb, tid) => typeRel(lb, lid, tb, tid));
    if (!spec) continue;
    const res = calcRelo(relo.kind, local, spec, slot);
    if (!best) {
      best = { res, spec };
    } else if (spec.bitOffset !== best.spec.bitOffset) {
      throw fail(`field offset ambiguity: ${spec.bitOffset} != ${best.spec.bitOffset}`);
    } else if (res.poison !== best.res.poison || res.newVal !== best.res.newVal) {
      throw fail(`relocation decision ambiguity: ${res.poison ? "failure" : "success"} ${res.newVal} != ${best.res.poison ? "failure" : "success"} ${best.res.newVal}`);
    }
    kept.push(id);
  }
  if (kept.length > 0) cands.ids = kept;
  if (!best) return { result: calcRelo(relo.kind, local, undefined, slot), local, found, matched: 0 };
  return { result: best.res, local, target: best.spec, found, matched: kept.length };
}
