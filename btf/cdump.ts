// BTF → C header (what `bpftool btf dump file F format c` prints, libbpf's btf_dump): every type
// in id order, each preceded by the types its definition depends on ("strong" deps: embedded
// structs, typedef targets) and by forward declarations where a pointer suffices ("weak" deps).

import { TsbpfError } from "../src/errors.ts";
import type { Btf } from "./btf.ts";
import { Layout, paddingFields, pointerSize } from "./cdump-layout.ts";
import { BtfView, K } from "./cdump-view.ts";
import { IDENTS, NameCounter, TAGS } from "./cdump-names.ts";
import { COut, emptyName, nameEquals } from "./cdump-out.ts";
import { belowTopTier, largeJob } from "../src/jit-tier.ts";

/** Ordering and emission states per type id (libbpf's btf_dump_type_aux_state). */
const NOT_ORDERED = 0;
const ORDERING = 1;
const ORDERED = 2;
const NOT_EMITTED = 0;
const EMITTING = 1;
const EMITTED = 2;
/** Deepest chain of references followed while ordering; far beyond real BTF (vmlinux needs a few dozen). */
const MAX_DEPTH = 2000;

const PROLOGUE = `#ifndef __VMLINUX_H__
#define __VMLINUX_H__

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
#endif

`;

const EPILOGUE = `#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute pop
#endif

#endif /* __VMLINUX_H__ */
`;

/** Base types GCC may name that C compilers lack (libbpf's missing_base_types): aliased on first use. */
const MISSING_ALIASES: [string, string][] = [
  ["__Poly8_t", "unsigned char"],
  ["__Poly16_t", "unsigned short"],
  ["__Poly64_t", "unsigned long long"],
  ["__Poly128_t", "unsigned __int128"],
];

/** Tab indentation, capped like libbpf's prefix table. */
const MAX_INDENT = 24;
const PFX: string[] = Array.from({ length: MAX_INDENT + 1 }, (_, i) => "\t".repeat(i));
const pfx = (lvl: number): string => PFX[lvl >= MAX_INDENT ? MAX_INDENT : lvl];

const utf8 = new TextDecoder("utf-8");

/** A declaration chain under construction: type ids from the outermost declarator inward, consumed from the end. */
interface DeclStack {
  ids: number[];
  cnt: number;
}

/** The whole header for a Btf, prologue and epilogue included, as bpftool prints it. */
export function dumpC(btf: Btf): string {
  return utf8.decode(dumpCBytes(btf));
}

/**
 * Ordering and emission recurse along references; BTF whose references loop without a struct in
 * between (a pointer to itself) would recurse without end, so the stack overflow becomes a typed error.
 */
function guarded<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof RangeError) {
      throw new TsbpfError("BTF_BAD_TYPE", "type references loop or nest too deeply to write as C", {}, "the BTF is corrupt: a type refers back to itself without a struct or union in between");
    }
    throw e;
  }
}

/** The header as UTF-8 bytes (names copied byte for byte from the string table, as bpftool does). */
export function dumpCBytes(btf: Btf): Uint8Array {
  return guarded(() => run(new CDumper(btf)).bytes());
}

/**
 * The header handed to `sink` in chunks as it is written (what the CLI does: no 3 MB buffer).
 * Each chunk is reused after `sink` returns. On a TsbpfError the sink has seen a prefix.
 */
export function dumpCTo(btf: Btf, sink: (chunk: Uint8Array) => void): void {
  guarded(() => run(new CDumper(btf, sink)).flush());
}

function run(d: CDumper): COut {
  if (d.typeCount > LARGE_BTF) largeJob();
  d.out.lit(PROLOGUE);
  for (let id = 1; id < d.typeCount; id++) d.dumpType(id);
  d.out.lit(EPILOGUE);
  return d.out;
}

class CDumper {
  readonly out: COut;
  private readonly v: BtfView;
  private readonly strs: Uint8Array;
  private readonly layout: Layout;
  private readonly orderState: Uint8Array;
  private readonly emitState: Uint8Array;
  private readonly fwdEmitted: Uint8Array;
  private readonly referenced: Uint8Array;
  /** Per id: 0 until its name is resolved, then its `___N` number (1 = no suffix). */
  private readonly dupOf: Int32Array;
  /** Tag names (struct/union/enum) and identifiers (typedefs, enumerators): how often each was seen. */
  private readonly names: NameCounter;
  private readonly queue: number[] = [];

  get typeCount(): number {
    return this.btf.typeCount;
  }

  constructor(private readonly btf: Btf, sink?: (chunk: Uint8Array) => void) {
    this.v = new BtfView(btf);
    this.strs = this.v.strBytes;
    this.layout = new Layout(this.v, pointerSize(this.v));
    const n = this.v.count;
    this.orderState = new Uint8Array(n);
    this.emitState = new Uint8Array(n);
    this.fwdEmitted = new Uint8Array(n);
    this.referenced = new Uint8Array(n);
    this.dupOf = new Int32Array(n);
    // vmlinux: ~127k types, ~33k distinct tag and identifier names.
    this.names = new NameCounter(this.strs, n >>> 2);
    this.out = new COut(this.strs, this.strs.length + 8 * n, sink);
    this.markReferenced();
  }

  /** Types some other type refers to: an anonymous enum nobody uses is a top-level declaration. */
  private markReferenced(): void {
    const r = this.referenced;
    const v = this.v;
    for (let id = 1; id < v.count; id++) {
      const w = v.words(id);
      const at = v.rec(id);
      const n = v.vlen(id);
      switch (v.kinds[id]) {
        case K.VOLATILE:
        case K.CONST:
        case K.RESTRICT:
        case K.PTR:
        case K.TYPEDEF:
        case K.FUNC:
        case K.VAR:
        case K.DECL_TAG:
        case K.TYPE_TAG:
          r[w[at + 2]] = 1;
          break;
        case K.ARRAY:
          r[w[at + 3]] = 1;
          r[w[at + 4]] = 1;
          break;
        case K.STRUCT:
        case K.UNION:
          for (let i = 0; i < n; i++) r[w[at + 4 + 3 * i]] = 1;
          break;
        case K.FUNC_PROTO:
          r[w[at + 2]] = 1;
          for (let i = 0; i < n; i++) r[w[at + 4 + 2 * i]] = 1;
          break;
        case K.DATASEC:
          for (let i = 0; i < n; i++) r[w[at + 3 + 3 * i]] = 1;
          break;
        default:
          break;
      }
    }
  }

  dumpType(id: number): void {
    // Most ids were already ordered as some earlier type's dependency: nothing to do.
    if (this.orderState[id] === ORDERED) return;
    const queue = this.queue;
    queue.length = 0;
    this.order(id, false);
    for (let i = 0; i < queue.length; i++) this.emit(queue[i], 0);
  }

  // ---- ordering ----

  /**
   * Put the named definitions `id` needs, then `id` itself, on the emit queue. Returns true when
   * the reference is strong (needs a complete definition before use), false when a forward
   * declaration would do (reached through a pointer).
   */
  private order(id: number, throughPtr: boolean, depth = 0): boolean {
    // JSC runs `return this.order(…)` as a proper tail call: a self-referring modifier would loop
    // forever instead of overflowing the stack, so the depth is bounded explicitly.
    if (depth > MAX_DEPTH) {
      throw new TsbpfError("BTF_BAD_TYPE", `type references nest deeper than ${MAX_DEPTH} at id [${id}]`, { offset: this.btf.recordOffset(id) }, "the BTF is corrupt: a type refers back to itself");
    }
    const d1 = depth + 1;
    const state = this.orderState[id];
    if (state === ORDERED) return true;
    const v = this.v;
    const kind = v.kinds[id];
    const named = v.hasName(id);
    if (state === ORDERING) {
      if ((kind === K.STRUCT || kind === K.UNION) && throughPtr && named) return false;
      throw new TsbpfError("BTF_BAD_TYPE", `unsatisfiable type cycle, id:[${id}]`, { offset: this.btf.recordOffset(id) }, "the BTF has a loop no forward declaration can break");
    }
    switch (kind) {
      case K.VOID:
        return false;
      case K.INT:
      case K.FLOAT:
        this.orderState[id] = ORDERED;
        return false;
      case K.PTR: {
        const strong = this.order(v.st(id), true, d1);
        this.orderState[id] = ORDERED;
        return strong;
      }
      case K.ARRAY:
        return this.order(v.words(id)[v.rec(id) + 3], false, d1);
      case K.STRUCT:
      case K.UNION: {
        // Only embedding, or an anonymous type that must be spelled out inline, makes it strong.
        if (throughPtr && named) return false;
        this.orderState[id] = ORDERING;
        const w = v.words(id);
        const at = v.rec(id);
        const n = v.vlen(id);
        for (let i = 0; i < n; i++) this.order(w[at + 4 + 3 * i], false, d1);
        if (named) this.queue.push(id);
        this.orderState[id] = ORDERED;
        return true;
      }
      case K.ENUM:
      case K.ENUM64:
      case K.FWD:
        if (named || !this.referenced[id]) this.queue.push(id);
        this.orderState[id] = ORDERED;
        return true;
      case K.TYPEDEF: {
        const strong = this.order(v.st(id), throughPtr, d1);
        if (throughPtr && !strong) return false;
        this.queue.push(id);
        this.orderState[id] = ORDERED;
        return true;
      }
      case K.VOLATILE:
      case K.CONST:
      case K.RESTRICT:
      case K.TYPE_TAG:
        return this.order(v.st(id), throughPtr, d1);
      case K.FUNC_PROTO: {
        let strong = this.order(v.st(id), throughPtr, d1);
        const w = v.words(id);
        const at = v.rec(id);
        const n = v.vlen(id);
        for (let i = 0; i < n; i++) if (this.order(w[at + 4 + 2 * i], throughPtr, d1)) strong = true;
        return strong;
      }
      default:
        // func, var, datasec, decl_tag: nothing to declare in C.
        this.orderState[id] = ORDERED;
        return false;
    }
  }

  // ---- emission ----

  /** Emit `id` with whatever forward declarations it needs; contId is the struct being defined (0 = top level). */
  private emit(id: number, contId: number): void {
    const state = this.emitState[id];
    if (state === EMITTED) return;
    const v = this.v;
    const out = this.out;
    const kind = v.kinds[id];
    if (state === EMITTING) {
      if (this.fwdEmitted[id]) return;
      if (kind === K.STRUCT || kind === K.UNION) {
        // A struct referring to itself needs no forward declaration.
        if (id === contId || !v.hasName(id)) return;
        this.structFwd(id);
        out.lit(";\n\n");
        this.fwdEmitted[id] = 1;
      } else if (kind === K.TYPEDEF) {
        // The typedef's own definition doubles as its forward declaration (usable through pointers).
        if (!this.isBlacklisted(id)) {
          this.typedefDef(id, 0);
          out.lit(";\n\n");
        }
        this.fwdEmitted[id] = 1;
      }
      return;
    }
    switch (kind) {
      case K.INT: {
        const alias = this.missingAlias(id);
        if (alias !== undefined) {
          out.lit("typedef ");
          out.lit(alias);
          out.ch(32);
          this.typeName(id);
          out.lit(";\n\n");
        }
        this.emitState[id] = EMITTED;
        break;
      }
      case K.ENUM:
      case K.ENUM64:
        if (contId === 0) {
          this.enumDef(id, 0);
          out.lit(";\n\n");
        }
        this.emitState[id] = EMITTED;
        break;
      case K.PTR:
      case K.VOLATILE:
      case K.CONST:
      case K.RESTRICT:
      case K.TYPE_TAG:
        this.emit(v.st(id), contId);
        break;
      case K.ARRAY:
        this.emit(v.words(id)[v.rec(id) + 3], contId);
        break;
      case K.FWD:
        this.fwdDecl(id);
        out.lit(";\n\n");
        this.emitState[id] = EMITTED;
        break;
      case K.TYPEDEF:
        this.emitState[id] = EMITTING;
        this.emit(v.st(id), id);
        if (!this.fwdEmitted[id] && !this.isBlacklisted(id)) {
          this.typedefDef(id, 0);
          out.lit(";\n\n");
        }
        this.emitState[id] = EMITTED;
        break;
      case K.STRUCT:
      case K.UNION: {
        this.emitState[id] = EMITTING;
        const top = contId === 0;
        const named = v.hasName(id);
        if (top || !named) {
          // The members will be spelled out: their types need declarations first.
          const inner = named ? id : contId;
          const w = v.words(id);
          const at = v.rec(id);
          const n = v.vlen(id);
          for (let i = 0; i < n; i++) this.emit(w[at + 4 + 3 * i], inner);
        } else if (!this.fwdEmitted[id] && id !== contId) {
          this.structFwd(id);
          out.lit(";\n\n");
          this.fwdEmitted[id] = 1;
        }
        if (top) {
          this.structDef(id, 0);
          out.lit(";\n\n");
          this.emitState[id] = EMITTED;
        } else {
          this.emitState[id] = NOT_EMITTED;
        }
        break;
      }
      case K.FUNC_PROTO: {
        this.emit(v.st(id), contId);
        const w = v.words(id);
        const at = v.rec(id);
        const n = v.vlen(id);
        for (let i = 0; i < n; i++) this.emit(w[at + 4 + 2 * i], contId);
        break;
      }
      default:
        break;
    }
  }

  /** __builtin_va_list is the compiler's own: redefining it breaks compilation. */
  private isBlacklisted(id: number): boolean {
    return nameEquals(this.strs, this.v.nameOff(id), "__builtin_va_list");
  }

  /** The C type a GCC-only base type is aliased to, resolving (and counting) the int's name as libbpf does. */
  private missingAlias(id: number): string | undefined {
    if (this.resolve(id, TAGS) > 1) return undefined;
    const off = this.v.nameOff(id);
    const s = this.strs;
    // Cheap pre-check on "__P" before comparing whole names.
    if (off + 3 >= s.length || s[off] !== 95 || s[off + 1] !== 95 || s[off + 2] !== 80) return undefined;
    for (const [from, to] of MISSING_ALIASES) if (nameEquals(s, off, from)) return to;
    return undefined;
  }

  // ---- naming ----

  /** The `___N` number of `id`'s name (1 = printed as is): the Nth distinct type sharing a name in one namespace. */
  private resolve(id: number, ns: number): number {
    const d = this.dupOf[id];
    if (d !== 0) return d;
    const off = this.v.nameOff(id);
    if (emptyName(this.strs, off)) return 1;
    // Forward declarations and enum forwards may repeat freely in C.
    const kind = this.v.kinds[id];
    if (kind === K.FWD || (kind === K.ENUM && this.v.vlen(id) === 0)) {
      this.dupOf[id] = 1;
      return 1;
    }
    const n = this.names.bump(off, ns);
    this.dupOf[id] = n;
    return n;
  }

  private typeName(id: number): void {
    this.out.nameDup(this.v.nameOff(id), this.resolve(id, TAGS));
  }

  private identName(id: number): void {
    this.out.nameDup(this.v.nameOff(id), this.resolve(id, IDENTS));
  }

  /** A declared name (member, parameter, typedef) after its type, with a space unless right after `*`. */
  private declName(fOff: number, fDup: number, lastWasPtr: boolean): void {
    if (emptyName(this.strs, fOff)) return;
    if (!lastWasPtr) this.out.ch(32);
    this.out.nameDup(fOff, fDup);
  }

  // ---- definitions ----

  private structFwd(id: number): void {
    this.out.lit(this.v.kinds[id] === K.UNION ? "union" : "struct");
    if (this.v.hasName(id)) {
      this.out.ch(32);
      this.typeName(id);
    }
  }

  private fwdDecl(id: number): void {
    this.out.lit(this.v.kflag(id) ? "union " : "struct ");
    this.typeName(id);
  }

  private typedefDef(id: number, lvl: number): void {
    const dup = this.resolve(id, IDENTS);
    const off = this.v.nameOff(id);
    const target = this.v.st(id);
    // Old GCC wrote __gnuc_va_list as a typedef of void.
    if (target === 0 && dup <= 1 && nameEquals(this.strs, off, "__gnuc_va_list")) {
      this.out.lit("typedef __builtin_va_list __gnuc_va_list");
      return;
    }
    this.out.lit("typedef ");
    this.typeDecl(target, off, dup, lvl);
  }

  private enumDef(id: number, lvl: number): void {
    const v = this.v;
    const out = this.out;
    if (v.hasName(id)) {
      out.lit("enum ");
      this.typeName(id);
    } else {
      out.lit("enum");
    }
    const n = v.vlen(id);
    if (n === 0) return;
    out.lit(" {");
    const ind = pfx(lvl + 1);
    const w = v.words(id);
    const at = v.rec(id);
    const signed = v.kflag(id);
    const is64 = v.kinds[id] === K.ENUM64;
    for (let i = 0; i < n; i++) {
      const p = at + 3 + (is64 ? 3 : 2) * i;
      out.ch(10);
      out.lit(ind);
      // Enumerators share the ordinary identifier namespace with typedefs.
      out.nameDup(w[p], this.names.bump(w[p], IDENTS));
      out.lit(" = ");
      if (is64) {
        const u = (BigInt(w[p + 2]) << 32n) | BigInt(w[p + 1]);
        out.lit(signed ? `${BigInt.asIntN(64, u)}LL` : `${u}ULL`);
      } else if (signed && (w[p + 1] | 0) < 0) {
        out.ch(45);
        out.uint(-(w[p + 1] | 0));
      } else {
        out.uint(w[p + 1]);
      }
      out.ch(44);
    }
    out.ch(10);
    out.lit(pfx(lvl));
    out.ch(125);
  }

  private structDef(id: number, lvl: number): void {
    const v = this.v;
    const out = this.out;
    const isStruct = v.kinds[id] === K.STRUCT;
    const layout = this.layout;
    const packed = isStruct && layout.isPacked(id);
    this.structFwd(id);
    out.lit(" {");
    const ind = pfx(lvl + 1);
    const w = v.words(id);
    const at = v.rec(id);
    const n = v.vlen(id);
    const kf = v.kflag(id);
    const size = v.st(id);
    let off = 0;
    let prevBitfield = false;
    for (let i = 0, p = at + 3; i < n; i++, p += 3) {
      const mType = w[p + 1];
      const raw = w[p + 2];
      const mOff = kf ? raw & 0xffffff : raw;
      let mSize = kf ? raw >>> 24 : 0;
      const mAlign = packed ? 1 : layout.alignOf(mType);
      if (off < mOff) {
        for (const pad of paddingFields(layout.ptrSize, off, mOff, mAlign, prevBitfield && mSize !== 0)) {
          out.ch(10);
          out.lit(ind);
          out.lit(pad);
        }
      }
      out.ch(10);
      out.lit(ind);
      this.typeDecl(mType, w[p], 1, lvl + 1);
      if (mSize) {
        out.lit(": ");
        out.uint(mSize);
        out.ch(59);
        off = mOff + mSize;
        prevBitfield = true;
      } else {
        mSize = Math.max(0, layout.resolveSize(mType));
        off = mOff + mSize * 8;
        prevBitfield = false;
        out.ch(59);
      }
    }
    if (isStruct && off < size * 8) {
      for (const pad of paddingFields(layout.ptrSize, off, size * 8, layout.alignOf(id), false)) {
        out.ch(10);
        out.lit(ind);
        out.lit(pad);
      }
    }
    // An empty struct stays on one line: `struct empty {}`.
    if (n || size) {
      out.ch(10);
      out.lit(pfx(lvl));
    }
    out.ch(125);
    if (packed) out.lit(" __attribute__((packed))");
  }

  // ---- declarators ----

  /**
   * `type name` in C declarator syntax: pointers, arrays and function pointers wrapped around the
   * name, which is the string at offset fOff with `___fDup` appended when fDup > 1.
   */
  private typeDecl(id: number, fOff: number, fDup: number, lvl: number): void {
    const v = this.v;
    const out = this.out;
    // Fast path: a plain named base type or typedef, the common member.
    const k0 = v.kinds[id];
    if (k0 === K.INT || k0 === K.FLOAT) {
      out.name(v.nameOff(id));
      this.declName(fOff, fDup, false);
      return;
    }
    if (k0 === K.TYPEDEF) {
      this.identName(id);
      this.declName(fOff, fDup, false);
      return;
    }
    if (k0 === K.PTR) {
      // `T *name` for a pointer to void, a base type, a typedef or a named struct/union.
      const to = v.st(id);
      const k1 = v.kinds[to];
      let done = true;
      if (to === 0) out.lit("void");
      else if (k1 === K.INT || k1 === K.FLOAT) out.name(v.nameOff(to));
      else if (k1 === K.TYPEDEF) this.identName(to);
      else if ((k1 === K.STRUCT || k1 === K.UNION) && v.hasName(to)) this.structFwd(to);
      else done = false;
      if (done) {
        out.lit(" *");
        this.declName(fOff, fDup, true);
        return;
      }
    }
    const ids: number[] = [];
    for (;;) {
      // A loop in the chain cannot be written as C; libbpf prints nothing for it.
      if (ids.includes(id)) return;
      ids.push(id);
      if (id === 0) break;
      const k = v.kinds[id];
      if (k === K.PTR || k === K.VOLATILE || k === K.CONST || k === K.RESTRICT || k === K.TYPE_TAG || k === K.FUNC_PROTO) {
        id = v.st(id);
      } else if (k === K.ARRAY) {
        id = v.words(id)[v.rec(id) + 3];
      } else if (k === K.INT || k === K.ENUM || k === K.ENUM64 || k === K.FWD || k === K.STRUCT || k === K.UNION || k === K.TYPEDEF || k === K.FLOAT) {
        break;
      } else {
        return;
      }
    }
    this.typeChain({ ids, cnt: ids.length }, fOff, fDup, lvl);
  }

  /** Print the chain innermost type first, the way C nests declarators. */
  private typeChain(decls: DeclStack, fOff: number, fDup: number, lvl: number): void {
    const v = this.v;
    const out = this.out;
    // `int ***p`, not `int * * *p`: a pointer right after a pointer takes no space.
    let lastWasPtr = true;
    while (decls.cnt) {
      const id = decls.ids[--decls.cnt];
      if (id === 0) {
        this.mods(decls);
        out.lit("void");
        lastWasPtr = false;
        continue;
      }
      const kind = v.kinds[id];
      switch (kind) {
        case K.INT:
        case K.FLOAT:
          this.mods(decls);
          out.name(v.nameOff(id));
          break;
        case K.STRUCT:
        case K.UNION:
          this.mods(decls);
          if (v.hasName(id)) this.structFwd(id);
          else this.structDef(id, lvl);
          break;
        case K.ENUM:
        case K.ENUM64:
          this.mods(decls);
          if (v.hasName(id)) {
            out.lit("enum ");
            this.typeName(id);
          } else {
            this.enumDef(id, lvl);
          }
          break;
        case K.FWD:
          this.mods(decls);
          this.fwdDecl(id);
          break;
        case K.TYPEDEF:
          this.mods(decls);
          this.identName(id);
          break;
        case K.PTR:
          out.lit(lastWasPtr ? "*" : " *");
          break;
        case K.VOLATILE:
          out.lit(" volatile");
          break;
        case K.CONST:
          out.lit(" const");
          break;
        case K.RESTRICT:
          out.lit(" restrict");
          break;
        case K.TYPE_TAG:
          this.mods(decls);
          out.lit(' __attribute__((btf_type_tag("');
          out.name(v.nameOff(id));
          out.lit('")))');
          break;
        case K.ARRAY: {
          const nelems = v.words(id)[v.rec(id) + 5];
          // Qualifiers on an array (a GCC quirk) mean nothing in C: dropped.
          this.dropMods(decls);
          if (decls.cnt === 0) {
            this.declName(fOff, fDup, lastWasPtr);
          } else {
            const multidim = v.kinds[decls.ids[decls.cnt - 1]] === K.ARRAY;
            if (!lastWasPtr && !emptyName(this.strs, fOff)) out.ch(32);
            if (!multidim) out.ch(40);
            this.typeChain(decls, fOff, fDup, lvl);
            if (!multidim) out.ch(41);
          }
          out.ch(91);
          out.uint(nelems);
          out.ch(93);
          return;
        }
        case K.FUNC_PROTO: {
          // GCC's volatile on noreturn function pointers is dropped too.
          this.dropMods(decls);
          if (decls.cnt) {
            out.lit(" (");
            this.typeChain(decls, fOff, fDup, lvl);
            out.ch(41);
          } else {
            this.declName(fOff, fDup, lastWasPtr);
          }
          const w = v.words(id);
          const at = v.rec(id);
          const n = v.vlen(id);
          // No parameters, or clang's single void parameter, is `(void)`.
          if (n === 0 || (n === 1 && w[at + 4] === 0)) {
            out.lit("(void)");
            return;
          }
          out.ch(40);
          for (let i = 0; i < n; i++) {
            if (i > 0) out.lit(", ");
            const pType = w[at + 4 + 2 * i];
            if (i === n - 1 && pType === 0) {
              out.lit("...");
              break;
            }
            this.typeDecl(pType, w[at + 3 + 2 * i], 1, lvl);
          }
          out.ch(41);
          return;
        }
        default:
          return;
      }
      lastWasPtr = kind === K.PTR;
    }
    this.declName(fOff, fDup, lastWasPtr);
  }

  /** Leading qualifiers (`const volatile `) sitting right above a base type in the chain. */
  private mods(decls: DeclStack): void {
    while (decls.cnt) {
      const k = this.v.kinds[decls.ids[decls.cnt - 1]];
      if (k === K.VOLATILE) this.out.lit("volatile ");
      else if (k === K.CONST) this.out.lit("const ");
      else if (k === K.RESTRICT) this.out.lit("restrict ");
      else break;
      decls.cnt--;
    }
  }

  private dropMods(decls: DeclStack): void {
    while (decls.cnt) {
      const k = this.v.kinds[decls.ids[decls.cnt - 1]];
      if (k !== K.VOLATILE && k !== K.CONST && k !== K.RESTRICT && k !== K.TYPE_TAG) break;
      decls.cnt--;
    }
  }
}

// One dump runs these methods too briefly to repay JavaScriptCore's top tier (see src/jit-tier.ts),
// when there are enough types for it to be tried at all.
const LARGE_BTF = 5000;
belowTopTier([CDumper, BtfView, Layout, COut, NameCounter], [run, paddingFields, pointerSize, emptyName, nameEquals]);
