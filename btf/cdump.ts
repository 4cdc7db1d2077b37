// BTF → C header (what `bpftool btf dump file F format c` prints, libbpf's btf_dump): every type
// in id order, each preceded by the types its definition depends on ("strong" deps: embedded
// structs, typedef targets) and by forward declarations where a pointer suffices ("weak" deps).

import { TsbpfError } from "../src/errors.ts";
import type { Btf } from "./btf.ts";
import { Layout, paddingFields, pointerSize } from "./cdump-layout.ts";
import type { BtfComposite, BtfEnum, BtfEnum64, BtfType } from "./types.ts";

/** Ordering and emission states per type id (libbpf's btf_dump_type_aux_state). */
const NOT_ORDERED = 0;
const ORDERING = 1;
const ORDERED = 2;
const NOT_EMITTED = 0;
const EMITTING = 1;
const EMITTED = 2;

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
const MISSING_ALIASES = new Map([
  ["__Poly8_t", "unsigned char"],
  ["__Poly16_t", "unsigned short"],
  ["__Poly64_t", "unsigned long long"],
  ["__Poly128_t", "unsigned __int128"],
]);

/** Tab indentation, capped like libbpf's prefix table. */
const TABS = "\t".repeat(24);
const pfx = (lvl: number): string => (lvl >= TABS.length ? TABS : TABS.slice(0, lvl));

/** A declaration chain under construction: type ids from the outermost declarator inward, consumed from the end. */
interface DeclStack {
  ids: number[];
  cnt: number;
}

/** The whole header for a Btf, prologue and epilogue included, as bpftool prints it. */
export function dumpC(btf: Btf): string {
  const d = new CDumper(btf);
  d.out.push(PROLOGUE);
  for (let id = 1; id < btf.typeCount; id++) d.dumpType(id);
  d.out.push(EPILOGUE);
  return d.out.join("");
}

/** The C declarations for the given root types only (and what they depend on), without prologue. */
export function dumpCTypes(btf: Btf, ids: Iterable<number>): string {
  const d = new CDumper(btf);
  for (const id of ids) {
    if (!btf.has(id) || id === 0) throw new TsbpfError("BTF_NOT_FOUND", `no BTF type with id ${id}`);
    d.dumpType(id);
  }
  return d.out.join("");
}

class CDumper {
  readonly out: string[] = [];
  private readonly layout: Layout;
  private readonly orderState: Uint8Array;
  private readonly emitState: Uint8Array;
  private readonly fwdEmitted: Uint8Array;
  private readonly referenced: Uint8Array;
  private readonly nameResolved: Uint8Array;
  private readonly cachedNames = new Map<number, string>();
  /** Tag names (struct/union/enum) and identifiers (typedefs, enumerators): how often each was seen. */
  private readonly typeNames = new Map<string, number>();
  private readonly identNames = new Map<string, number>();
  private queue: number[] = [];

  constructor(private readonly btf: Btf) {
    this.layout = new Layout(btf, pointerSize(btf));
    const n = btf.typeCount;
    this.orderState = new Uint8Array(n);
    this.emitState = new Uint8Array(n);
    this.fwdEmitted = new Uint8Array(n);
    this.referenced = new Uint8Array(n);
    this.nameResolved = new Uint8Array(n);
    this.markReferenced();
  }

  private t(id: number): BtfType {
    return this.btf.type(id);
  }

  /** Types some other type refers to: an anonymous enum nobody uses is a top-level declaration. */
  private markReferenced(): void {
    const r = this.referenced;
    for (let id = 1; id < this.btf.typeCount; id++) {
      const t = this.t(id);
      switch (t.kind) {
        case "volatile":
        case "const":
        case "restrict":
        case "ptr":
        case "typedef":
        case "func":
        case "var":
        case "decl_tag":
        case "type_tag":
          r[t.type] = 1;
          break;
        case "array":
          r[t.indexType] = 1;
          r[t.type] = 1;
          break;
        case "struct":
        case "union":
          for (const m of t.members) r[m.type] = 1;
          break;
        case "func_proto":
          r[t.returnType] = 1;
          for (const p of t.params) r[p.type] = 1;
          break;
        case "datasec":
          for (const v of t.vars) r[v.type] = 1;
          break;
        default:
          break;
      }
    }
  }

  dumpType(id: number): void {
    this.queue = [];
    this.order(id, false);
    for (const q of this.queue) this.emit(q, 0);
  }

  // ---- ordering ----

  /**
   * Put the named definitions `id` needs, then `id` itself, on the emit queue. Returns true when
   * the reference is strong (needs a complete definition before use), false when a forward
   * declaration would do (reached through a pointer).
   */
  private order(id: number, throughPtr: boolean): boolean {
    const state = this.orderState[id];
    if (state === ORDERED) return true;
    const t = this.t(id);
    if (state === ORDERING) {
      if ((t.kind === "struct" || t.kind === "union") && throughPtr && t.name !== "") return false;
      throw new TsbpfError("BTF_BAD_TYPE", `unsatisfiable type cycle, id:[${id}]`, { offset: this.btf.recordOffset(id) }, "the BTF has a loop no forward declaration can break");
    }
    switch (t.kind) {
      case "void":
        return false;
      case "int":
      case "float":
        this.orderState[id] = ORDERED;
        return false;
      case "ptr": {
        const strong = this.order(t.type, true);
        this.orderState[id] = ORDERED;
        return strong;
      }
      case "array":
        return this.order(t.type, false);
      case "struct":
      case "union": {
        // Only embedding, or an anonymous type that must be spelled out inline, makes it strong.
        if (throughPtr && t.name !== "") return false;
        this.orderState[id] = ORDERING;
        for (const m of t.members) this.order(m.type, false);
        if (t.name !== "") this.queue.push(id);
        this.orderState[id] = ORDERED;
        return true;
      }
      case "enum":
      case "enum64":
      case "fwd":
        if (t.name !== "" || !this.referenced[id]) this.queue.push(id);
        this.orderState[id] = ORDERED;
        return true;
      case "typedef": {
        const strong = this.order(t.type, throughPtr);
        if (throughPtr && !strong) return false;
        this.queue.push(id);
        this.orderState[id] = ORDERED;
        return true;
      }
      case "volatile":
      case "const":
      case "restrict":
      case "type_tag":
        return this.order(t.type, throughPtr);
      case "func_proto": {
        let strong = this.order(t.returnType, throughPtr);
        for (const p of t.params) if (this.order(p.type, throughPtr)) strong = true;
        return strong;
      }
      case "func":
      case "var":
      case "datasec":
      case "decl_tag":
        this.orderState[id] = ORDERED;
        return false;
    }
  }

  // ---- emission ----

  /** Emit `id` with whatever forward declarations it needs; contId is the struct being defined (0 = top level). */
  private emit(id: number, contId: number): void {
    const state = this.emitState[id];
    if (state === EMITTED) return;
    const t = this.t(id);
    if (state === EMITTING) {
      if (this.fwdEmitted[id]) return;
      if (t.kind === "struct" || t.kind === "union") {
        // A struct referring to itself needs no forward declaration.
        if (id === contId || t.name === "") return;
        this.out.push(this.structFwd(id, t), ";\n\n");
        this.fwdEmitted[id] = 1;
      } else if (t.kind === "typedef") {
        // The typedef's own definition doubles as its forward declaration (usable through pointers).
        if (!this.isBlacklisted(t)) this.out.push(this.typedefDef(id, t.type, 0), ";\n\n");
        this.fwdEmitted[id] = 1;
      }
      return;
    }
    switch (t.kind) {
      case "int": {
        const alias = MISSING_ALIASES.get(this.typeName(id));
        if (alias !== undefined) this.out.push(`typedef ${alias} ${this.typeName(id)};\n\n`);
        this.emitState[id] = EMITTED;
        break;
      }
      case "enum":
      case "enum64":
        if (contId === 0) this.out.push(this.enumDef(id, t, 0), ";\n\n");
        this.emitState[id] = EMITTED;
        break;
      case "ptr":
      case "volatile":
      case "const":
      case "restrict":
      case "type_tag":
      case "array":
        this.emit(t.type, contId);
        break;
      case "fwd":
        this.out.push(`${t.fwdKind} ${this.typeName(id)}`, ";\n\n");
        this.emitState[id] = EMITTED;
        break;
      case "typedef":
        this.emitState[id] = EMITTING;
        this.emit(t.type, id);
        if (!this.fwdEmitted[id] && !this.isBlacklisted(t)) this.out.push(this.typedefDef(id, t.type, 0), ";\n\n");
        this.emitState[id] = EMITTED;
        break;
      case "struct":
      case "union": {
        this.emitState[id] = EMITTING;
        const top = contId === 0;
        if (top || t.name === "") {
          // The members will be spelled out: their types need declarations first.
          const inner = t.name === "" ? contId : id;
          for (const m of t.members) this.emit(m.type, inner);
        } else if (!this.fwdEmitted[id] && id !== contId) {
          this.out.push(this.structFwd(id, t), ";\n\n");
          this.fwdEmitted[id] = 1;
        }
        if (top) {
          this.out.push(this.structDef(id, t, 0), ";\n\n");
          this.emitState[id] = EMITTED;
        } else {
          this.emitState[id] = NOT_EMITTED;
        }
        break;
      }
      case "func_proto":
        this.emit(t.returnType, contId);
        for (const p of t.params) this.emit(p.type, contId);
        break;
      default:
        break;
    }
  }

  /** __builtin_va_list is the compiler's own: redefining it breaks compilation. */
  private isBlacklisted(t: BtfType): boolean {
    return t.name === "__builtin_va_list";
  }

  // ---- naming ----

  /** The name to print, with `___N` appended to the Nth distinct type sharing a name in one namespace. */
  private resolveName(id: number, names: Map<string, number>): string {
    const t = this.t(id);
    if (t.name === "") return "";
    if (this.nameResolved[id]) return this.cachedNames.get(id) ?? t.name;
    this.nameResolved[id] = 1;
    // Forward declarations and enum forwards may repeat freely in C.
    if (t.kind === "fwd" || (t.kind === "enum" && t.values.length === 0)) return t.name;
    const dups = this.nameDups(names, t.name);
    if (dups > 1) {
      const renamed = `${t.name}___${dups}`;
      this.cachedNames.set(id, renamed);
      return renamed;
    }
    return t.name;
  }

  private nameDups(names: Map<string, number>, name: string): number {
    const n = (names.get(name) ?? 0) + 1;
    names.set(name, n);
    return n;
  }

  private typeName(id: number): string {
    return this.resolveName(id, this.typeNames);
  }

  private identName(id: number): string {
    return this.resolveName(id, this.identNames);
  }

  // ---- definitions ----

  private structFwd(id: number, t: BtfComposite): string {
    return `${t.kind}${t.name !== "" ? " " : ""}${this.typeName(id)}`;
  }

  private typedefDef(id: number, target: number, lvl: number): string {
    const name = this.identName(id);
    // Old GCC wrote __gnuc_va_list as a typedef of void.
    if (target === 0 && name === "__gnuc_va_list") return "typedef __builtin_va_list __gnuc_va_list";
    return `typedef ${this.typeDecl(target, name, lvl)}`;
  }

  private enumDef(id: number, t: BtfEnum | BtfEnum64, lvl: number): string {
    let s = `enum${t.name !== "" ? " " : ""}${this.typeName(id)}`;
    if (t.values.length === 0) return s;
    s += " {";
    const ind = pfx(lvl + 1);
    const suffix = t.kind === "enum64" ? (t.signed ? "LL" : "ULL") : "";
    for (const v of t.values) {
      // Enumerators share the ordinary identifier namespace with typedefs.
      const dups = this.nameDups(this.identNames, v.name);
      const name = dups > 1 ? `${v.name}___${dups}` : v.name;
      s += `\n${ind}${name} = ${v.value}${suffix},`;
    }
    return s + `\n${pfx(lvl)}}`;
  }

  private structDef(id: number, t: BtfComposite, lvl: number): string {
    const isStruct = t.kind === "struct";
    const layout = this.layout;
    const packed = isStruct && layout.isPacked(t);
    let s = `${t.kind}${t.name !== "" ? " " : ""}${this.typeName(id)} {`;
    const ind = pfx(lvl + 1);
    let off = 0;
    let prevBitfield = false;
    for (const m of t.members) {
      const mAlign = packed ? 1 : layout.alignOf(m.type);
      let mSize = m.bitfieldSize;
      for (const p of paddingFields(layout.ptrSize, off, m.bitOffset, mAlign, prevBitfield && mSize !== 0)) s += `\n${ind}${p}`;
      s += `\n${ind}${this.typeDecl(m.type, m.name, lvl + 1)}`;
      if (mSize) {
        s += `: ${mSize}`;
        off = m.bitOffset + mSize;
        prevBitfield = true;
      } else {
        mSize = Math.max(0, layout.resolveSize(m.type));
        off = m.bitOffset + mSize * 8;
        prevBitfield = false;
      }
      s += ";";
    }
    if (isStruct) {
      for (const p of paddingFields(layout.ptrSize, off, t.size * 8, layout.alignOf(id), false)) s += `\n${ind}${p}`;
    }
    // An empty struct stays on one line: `struct empty {}`.
    s += t.members.length || t.size ? `\n${pfx(lvl)}}` : "}";
    if (packed) s += " __attribute__((packed))";
    return s;
  }

  // ---- declarators ----

  /** `type name` in C declarator syntax: pointers, arrays and function pointers wrapped around the name. */
  private typeDecl(id: number, fname: string, lvl: number): string {
    const ids: number[] = [];
    for (;;) {
      // A loop in the chain cannot be written as C; libbpf prints nothing for it.
      if (ids.includes(id)) return "";
      ids.push(id);
      if (id === 0) break;
      const t = this.t(id);
      if (t.kind === "ptr" || t.kind === "volatile" || t.kind === "const" || t.kind === "restrict" || t.kind === "type_tag" || t.kind === "array") {
        id = t.type;
      } else if (t.kind === "func_proto") {
        id = t.returnType;
      } else if (t.kind === "int" || t.kind === "enum" || t.kind === "enum64" || t.kind === "fwd" || t.kind === "struct" || t.kind === "union" || t.kind === "typedef" || t.kind === "float") {
        break;
      } else {
        return "";
      }
    }
    return this.typeChain({ ids, cnt: ids.length }, fname, lvl);
  }

  /** Print the chain innermost type first, the way C nests declarators. */
  private typeChain(decls: DeclStack, fname: string, lvl: number): string {
    // `int ***p`, not `int * * *p`: a pointer right after a pointer takes no space.
    let lastWasPtr = true;
    let s = "";
    while (decls.cnt) {
      const id = decls.ids[--decls.cnt];
      if (id === 0) {
        s += this.mods(decls) + "void";
        lastWasPtr = false;
        continue;
      }
      const t = this.t(id);
      switch (t.kind) {
        case "int":
        case "float":
          s += this.mods(decls) + t.name;
          break;
        case "struct":
        case "union":
          s += this.mods(decls);
          s += t.name === "" ? this.structDef(id, t, lvl) : this.structFwd(id, t);
          break;
        case "enum":
        case "enum64":
          s += this.mods(decls);
          s += t.name === "" ? this.enumDef(id, t, lvl) : `enum ${this.typeName(id)}`;
          break;
        case "fwd":
          s += this.mods(decls) + `${t.fwdKind} ${this.typeName(id)}`;
          break;
        case "typedef":
          s += this.mods(decls) + this.identName(id);
          break;
        case "ptr":
          s += lastWasPtr ? "*" : " *";
          break;
        case "volatile":
          s += " volatile";
          break;
        case "const":
          s += " const";
          break;
        case "restrict":
          s += " restrict";
          break;
        case "type_tag":
          s += this.mods(decls) + ` __attribute__((btf_type_tag("${t.name}")))`;
          break;
        case "array": {
          // Qualifiers on an array (a GCC quirk) mean nothing in C: dropped.
          this.dropMods(decls);
          if (decls.cnt === 0) return s + name(fname, lastWasPtr) + `[${t.nelems}]`;
          const multidim = this.btf.kindOf(decls.ids[decls.cnt - 1]) === "array";
          if (fname !== "" && !lastWasPtr) s += " ";
          if (!multidim) s += "(";
          s += this.typeChain(decls, fname, lvl);
          if (!multidim) s += ")";
          return s + `[${t.nelems}]`;
        }
        case "func_proto": {
          // GCC's volatile on noreturn function pointers is dropped too.
          this.dropMods(decls);
          if (decls.cnt) s += " (" + this.typeChain(decls, fname, lvl) + ")";
          else s += name(fname, lastWasPtr);
          const ps = t.params;
          // No parameters, or clang's single void parameter, is `(void)`.
          if (ps.length === 0 || (ps.length === 1 && ps[0].type === 0)) return s + "(void)";
          s += "(";
          for (let i = 0; i < ps.length; i++) {
            if (i > 0) s += ", ";
            if (i === ps.length - 1 && ps[i].type === 0) {
              s += "...";
              break;
            }
            s += this.typeDecl(ps[i].type, ps[i].name, lvl);
          }
          return s + ")";
        }
        default:
          return s;
      }
      lastWasPtr = t.kind === "ptr";
    }
    return s + name(fname, lastWasPtr);
  }

  /** Leading qualifiers (`const volatile `) sitting right above a base type in the chain. */
  private mods(decls: DeclStack): string {
    let s = "";
    while (decls.cnt) {
      const k = this.btf.kindOf(decls.ids[decls.cnt - 1]);
      if (k === "volatile") s += "volatile ";
      else if (k === "const") s += "const ";
      else if (k === "restrict") s += "restrict ";
      else break;
      decls.cnt--;
    }
    return s;
  }

  private dropMods(decls: DeclStack): void {
    while (decls.cnt) {
      const k = this.btf.kindOf(decls.ids[decls.cnt - 1]);
      if (k !== "volatile" && k !== "const" && k !== "restrict" && k !== "type_tag") break;
      decls.cnt--;
    }
  }
}

function name(fname: string, lastWasPtr: boolean): string {
  return fname !== "" && !lastWasPtr ? " " + fname : fname;
}
