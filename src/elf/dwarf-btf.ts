// DWARF types → BTF: a requested type and what it references become BTF types in a split Btf over
// the object's own, encoded as clang's BTF backend encodes them, reusing identical existing types.
// Pointee structs reached through a struct member become forward declarations, as clang does.

import { Btf } from "../../btf/btf.ts";
import { INT_BOOL, INT_SIGNED, type BtfMember, type BtfType } from "../../btf/types.ts";
import { TsbpfError } from "../errors.ts";
import { DW_ATE } from "./dwarf-const.ts";
import type { DwarfInfo } from "./dwarf.ts";
import type { DwarfComposite, DwarfType, DwarfTypes, TypeRef } from "./dwarf-types.ts";

/** How a type is reached: clang stops at pointee structs behind a pointer inside a struct member. */
interface Mode {
  /** Reached from a struct/union member. */
  member: boolean;
  /** A pointer lies between that member and this type. */
  seenPointer: boolean;
}

const FULL: Mode = { member: false, seenPointer: false };
const MEMBER: Mode = { member: true, seenPointer: false };
const MAX_DEPTH = 256;
/** Reuse trials per converter: each converts a struct's members once, so this bounds the work. */
const MAX_TRIALS = 10_000;
const ARRAY_SIZE_TYPE = "__ARRAY_SIZE_TYPE__";

/** A pointer/typedef/qualifier whose pointee struct is decided once conversion is over. */
interface Fixup {
  type: Extract<BtfType, { type: number }>;
  target: DwarfComposite;
}

/** Hash-consing key of a BTF type: equal keys mean identical types (ids of referenced types included). */
function keyOf(t: BtfType): string | undefined {
  switch (t.kind) {
    case "int": return `int|${t.name}|${t.size}|${t.encoding}|${t.bits}|${t.bitOffset}`;
    case "float": return `float|${t.name}|${t.size}`;
    case "ptr": case "const": case "volatile": case "restrict": case "typedef": return `${t.kind}|${t.name}|${t.type}`;
    case "array": return `array|${t.type}|${t.indexType}|${t.nelems}`;
    case "struct": case "union":
      return `${t.kind}|${t.name}|${t.size}|${t.kindFlag ? 1 : 0}|${t.members.map((m) => `${m.name},${m.type},${m.bitOffset},${m.bitfieldSize}`).join(";")}`;
    case "enum": return `enum|${t.name}|${t.size}|${t.signed ? 1 : 0}|${t.values.map((v) => `${v.name}=${v.value}`).join(";")}`;
    case "enum64": return `enum64|${t.name}|${t.size}|${t.signed ? 1 : 0}|${t.values.map((v) => `${v.name}=${v.value}`).join(";")}`;
    case "fwd": return `fwd|${t.name}|${t.fwdKind}`;
    case "func_proto": return `fp|${t.returnType}|${t.params.map((p) => `${p.name},${p.type}`).join(";")}`;
    default: return undefined;
  }
}

/** Converts DWARF types of one object into BTF types appended to a split BTF over its own. */
export class DwarfBtf {
  /** The object's BTF (as base) plus every converted type. */
  readonly btf: Btf;
  private readonly memo = new Map<number, number>();
  private readonly inProgress = new Set<number>();
  /** Struct/union ids handed out while their members were still being converted (cycles). */
  private readonly reserved = new Map<number, number>();
  private readonly pending: Fixup[] = [];
  private readonly fixupOf = new Map<number, DwarfComposite>();
  private keys: Map<string, number> | undefined;
  /** DWARF offsets memoised, in order, so a failed reuse trial can forget what it assumed. */
  private readonly journal: number[] = [];
  /** "dwarf offset:btf id" pairs a reuse trial refuted. */
  private readonly refuted = new Set<string>();
  private trials = 0;
  private arraySizeType = 0;

  constructor(readonly types: DwarfTypes, base?: Btf) {
    this.btf = Btf.fromTypes([], base ? { base } : {});
  }

  private get info(): DwarfInfo {
    return this.types.info;
  }

  private fail(offset: number, msg: string): never {
    throw new TsbpfError("ELF_BAD_SECTION", `.debug_info entry 0x${offset.toString(16)}: ${msg}`, this.info.where(offset), "the debug information is corrupt");
  }

  /** The BTF id of the DWARF type at `ref` (0 = void), converting it and what it references. */
  id(ref: TypeRef): number {
    const mark = this.journal.length;
    try {
      return this.conv(ref, FULL, 0);
    } catch (e) {
      // Bad DWARF stopped the conversion half-way, perhaps inside a reuse trial: forget what it
      // memoised, so later conversions start from a clean state.
      this.forget(mark);
      throw e;
    } finally {
      this.inProgress.clear();
      this.resolveFixups();
    }
  }

  private forget(mark: number): void {
    for (const r of this.journal.splice(mark)) {
      this.memo.delete(r);
      this.fixupOf.delete(r);
    }
  }

  /** An id of an identical existing type, else the type added. */
  private intern(t: BtfType): number {
    if (!this.keys) {
      this.keys = new Map();
      const base = this.btf.base;
      if (base) {
        for (let id = 1; id < base.typeCount; id++) {
          const k = keyOf(base.type(id));
          if (k !== undefined && !this.keys.has(k)) this.keys.set(k, id);
        }
      }
    }
    const k = keyOf(t);
    const hit = k === undefined ? undefined : this.keys.get(k);
    if (hit !== undefined) return hit;
    const id = this.btf.add(t);
    if (k !== undefined) this.keys.set(k, id);
    return id;
  }

  private conv(ref: TypeRef, mode: Mode, depth: number): number {
    if (ref === 0) return 0;
    if (depth > MAX_DEPTH) return this.fail(ref, `types nest deeper than ${MAX_DEPTH}`);
    const t = this.types.type(ref);
    const done = this.memo.get(ref);
    if (done !== undefined) {
      if (!(mode.member && mode.seenPointer)) this.bringInSkipped(t, depth);
      return done;
    }
    if (this.inProgress.has(ref)) {
      // A cycle (struct foo { void (*cb)(foo_t); } with typedef struct foo *foo_t): the type gets
      // its id now and its contents when its conversion finishes.
      let r = this.reserved.get(ref);
      if (r === undefined) {
        if (t.kind === "struct" || t.kind === "union") r = this.btf.add({ kind: t.kind, id: 0, name: t.name, nameOff: 0, size: t.size, kindFlag: false, members: [] });
        else if (t.kind === "pointer") r = this.btf.add({ kind: "ptr", id: 0, name: "", nameOff: 0, type: 0 });
        else if (t.kind === "typedef") r = this.btf.add({ kind: "typedef", id: 0, name: t.name, nameOff: 0, type: 0 });
        else if (t.kind === "const" || t.kind === "volatile" || t.kind === "restrict") r = this.btf.add({ kind: t.kind, id: 0, name: "", nameOff: 0, type: 0 });
        else return this.fail(ref, "the type refers to itself");
        this.reserved.set(ref, r);
      }
      return r;
    }
    this.inProgress.add(ref);
    const id = this.convNew(t, mode, depth);
    this.inProgress.delete(ref);
    this.remember(ref, id);
    return id;
  }

  private remember(ref: TypeRef, id: number): void {
    this.memo.set(ref, id);
    this.journal.push(ref);
  }

  /**
   * An identical named struct, union or typedef in the object's BTF: for each same-named
   * candidate, assume the DWARF type is it (so references back to it resolve to it), convert what
   * it contains and compare; a refuted assumption is forgotten with everything memoised under it.
   */
  private reuseNamed(t: DwarfComposite | Extract<DwarfType, { kind: "typedef" }>, mode: Mode, depth: number): number | undefined {
    const base = this.btf.base;
    if (!base || t.name === "") return undefined;
    const kindFlag = t.kind !== "typedef" && t.members.some((m) => m.bitSize > 0);
    for (const cand of base.idsByName(t.name)) {
      const key = `${t.offset}:${cand}`;
      if (base.kindOf(cand) !== t.kind || this.refuted.has(key)) continue;
      const c = base.type(cand);
      if (t.kind !== "typedef" && (c.kind !== "struct" && c.kind !== "union" || c.size !== t.size || c.kindFlag !== kindFlag || c.members.length !== t.members.length)) continue;
      if (++this.trials > MAX_TRIALS) return undefined;
      const mark = this.journal.length;
      this.remember(t.offset, cand);
      const same = t.kind === "typedef"
        ? c.kind === "typedef" && this.conv(t.type, mode, depth + 1) === c.type
        : (c.kind === "struct" || c.kind === "union") && t.members.every((m, i) => {
          const n = c.members[i];
          return m.name === n.name && m.bitOffset === n.bitOffset && (kindFlag ? m.bitSize : 0) === n.bitfieldSize && this.conv(m.type, MEMBER, depth + 1) === n.type;
        });
      if (same) return cand;
      this.forget(mark);
      this.refuted.add(key);
    }
    return undefined;
  }

  private convNew(t: DwarfType, mode: Mode, depth: number): number {
    const base = { id: 0, name: "", nameOff: 0 };
    switch (t.kind) {
      case "unspecified": return 0;
      case "atomic": return this.conv(t.type, mode, depth + 1);
      case "base": {
        if (t.encoding === DW_ATE.float) return this.intern({ ...base, kind: "float", name: t.name, size: t.size });
        if (t.size < 1 || t.size > 16) return this.fail(t.offset, `base type '${t.name}' has size ${t.size}`);
        const encoding = t.encoding === DW_ATE.boolean ? INT_BOOL : t.encoding === DW_ATE.signed || t.encoding === DW_ATE.signed_char ? INT_SIGNED : 0;
        return this.intern({ ...base, kind: "int", name: t.name, size: t.size, encoding, bitOffset: 0, bits: t.size * 8 });
      }
      case "enum": {
        if (t.size > 4) {
          const values = t.values.map((v) => ({ name: v.name, nameOff: 0, value: t.signed ? BigInt.asIntN(64, v.value) : BigInt.asUintN(64, v.value) }));
          return this.intern({ ...base, kind: "enum64", name: t.name, size: t.size, signed: t.signed, values });
        }
        const values = t.values.map((v) => ({ name: v.name, nameOff: 0, value: Number(t.signed ? BigInt.asIntN(32, v.value) : BigInt.asUintN(32, v.value)) }));
        return this.intern({ ...base, kind: "enum", name: t.name, size: t.size, signed: t.signed, values });
      }
      case "fwd": return this.intern({ ...base, kind: "fwd", name: t.name, fwdKind: t.fwdKind });
      case "struct": case "union": {
        const reused = this.reuseNamed(t, FULL, depth);
        if (reused !== undefined) return reused;
        const members: BtfMember[] = [];
        const kindFlag = t.members.some((m) => m.bitSize > 0);
        for (const m of t.members) {
          members.push({ name: m.name, nameOff: 0, type: this.conv(m.type, MEMBER, depth + 1), bitOffset: m.bitOffset, bitfieldSize: kindFlag ? m.bitSize : 0 });
        }
        const r = this.reserved.get(t.offset);
        if (r !== undefined) {
          const obj = this.btf.type(r);
          if (obj.kind === "struct" || obj.kind === "union") {
            obj.kindFlag = kindFlag;
            obj.members = members;
          }
          return r;
        }
        return this.intern({ ...base, kind: t.kind, name: t.name, size: t.size, kindFlag, members });
      }
      case "array": {
        const elem = this.conv(t.type, FULL, depth + 1);
        let id = elem;
        // BTF nests one array per dimension, the innermost dimension first.
        for (let i = t.counts.length - 1; i >= 0; i--) {
          id = this.intern({ ...base, kind: "array", type: id, indexType: this.indexType(), nelems: t.counts[i] });
        }
        return id;
      }
      case "func": {
        const returnType = this.conv(t.returnType, FULL, depth + 1);
        const params = t.params.map((p) => ({ name: p.name, nameOff: 0, type: this.conv(p.type, FULL, depth + 1) }));
        if (t.variadic) params.push({ name: "", nameOff: 0, type: 0 });
        return this.intern({ ...base, kind: "func_proto", returnType, params });
      }
      case "pointer": case "typedef": case "const": case "volatile": case "restrict": {
        const seen = mode.seenPointer || (mode.member && t.kind === "pointer");
        const kind = t.kind === "pointer" ? "ptr" : t.kind;
        const name = t.kind === "typedef" ? t.name : "";
        const target = t.type === 0 ? undefined : this.types.type(t.type);
        if (mode.member && seen && target && (target.kind === "struct" || target.kind === "union") && target.name !== "") {
          const known = this.existing(target);
          if (known !== undefined) return this.intern({ ...base, kind, name, type: known });
          const obj = { ...base, kind, name, type: 0 } as Fixup["type"];
          this.pending.push({ type: obj, target });
          this.fixupOf.set(t.offset, target);
          return this.btf.add(obj);
        }
        const innerMode = { member: mode.member, seenPointer: seen };
        if (t.kind === "typedef") {
          const reused = this.reuseNamed(t, innerMode, depth);
          if (reused !== undefined) return reused;
        }
        const inner = this.conv(t.type, innerMode, depth + 1);
        const r = this.reserved.get(t.offset);
        if (r !== undefined) {
          const obj = this.btf.type(r);
          if (obj.kind === kind) obj.type = inner;
          return r;
        }
        return this.intern({ ...base, kind, name, type: inner } as BtfType);
      }
    }
  }

  /**
   * clang brings in a struct that a member's pointer skipped once the same derived types are
   * reached where pointees are followed: walk the converted chain to the skipped struct, if any.
   */
  private bringInSkipped(t: DwarfType, depth: number): void {
    let cur = t;
    for (let i = 0; i < MAX_DEPTH; i++) {
      const skipped = this.fixupOf.get(cur.offset);
      if (skipped) {
        if (!this.memo.has(skipped.offset) && !this.inProgress.has(skipped.offset)) this.conv(skipped.offset, FULL, depth + 1);
        return;
      }
      if (cur.kind !== "pointer" && cur.kind !== "typedef" && cur.kind !== "const" && cur.kind !== "volatile" && cur.kind !== "restrict" && cur.kind !== "atomic") return;
      if (cur.type === 0 || !this.memo.has(cur.type)) return;
      cur = this.types.type(cur.type);
    }
  }

  /** A struct/union of this name (else a forward declaration) already in the object's BTF. */
  private existing(c: DwarfComposite): number | undefined {
    const base = this.btf.base;
    if (!base) return undefined;
    let fwd: number | undefined;
    for (const id of base.idsByName(c.name)) {
      const k = base.kindOf(id);
      if (k === "struct" || k === "union") return id;
      if (k === "fwd" && fwd === undefined && base.typeAs(id, "fwd")?.fwdKind === c.kind) fwd = id;
    }
    return fwd;
  }

  /** Point skipped pointees at a struct of their name converted since, or at a forward declaration. */
  private resolveFixups(): void {
    for (const f of this.pending.splice(0)) {
      const full = this.btf.idsByName(f.target.name).find((id) => { const k = this.btf.kindOf(id); return k === "struct" || k === "union"; });
      f.type.type = full ?? this.intern({ kind: "fwd", id: 0, name: f.target.name, nameOff: 0, fwdKind: f.target.kind });
    }
  }

  /** clang's index type for arrays: an unsigned 32-bit int named __ARRAY_SIZE_TYPE__. */
  private indexType(): number {
    if (!this.arraySizeType) this.arraySizeType = this.intern({ kind: "int", id: 0, name: ARRAY_SIZE_TYPE, nameOff: 0, size: 4, encoding: 0, bitOffset: 0, bits: 32 });
    return this.arraySizeType;
  }
}
