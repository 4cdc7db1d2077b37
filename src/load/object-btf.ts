// The object's BTF as libbpf hands it to the kernel: extern DATASECs laid out (.ksyms as 4-byte
// slots with a dummy VAR for kfuncs, .kconfig at the map offsets), clang's zero DATASEC sizes and
// VAR offsets filled in from the ELF, hidden globals made static; and, for kernels lacking a BTF
// kind, libbpf's sanitisation of a copy (a pure function of the blob and the kernel's features).

import type { ElfFile } from "../elf/file.ts";
import { STB, STT, STV } from "../elf/file.ts";
import type { ObjectSpec } from "../elf/spec.ts";
import { TsbpfError } from "../errors.ts";
import { KIND, RawBtf, info } from "./object-btf-raw.ts";

/** What the kernel's BTF loader accepts (libbpf's FEAT_BTF_* probes). */
export interface BtfFeatures {
  func: boolean;
  funcGlobal: boolean;
  datasec: boolean;
  qmarkDatasec: boolean;
  float: boolean;
  declTag: boolean;
  typeTag: boolean;
  enum64: boolean;
}

export const ALL_BTF_FEATURES: BtfFeatures = { func: true, funcGlobal: true, datasec: true, qmarkDatasec: true, float: true, declTag: true, typeTag: true, enum64: true };

const VAR_STATIC = 0, VAR_GLOBAL_ALLOCATED = 1, VAR_GLOBAL_EXTERN = 2;
const FUNC_STATIC = 0, FUNC_GLOBAL = 1;

function btfError(msg: string): TsbpfError {
  return new TsbpfError("LOAD_BAD_INPUT", msg, {}, "libbpf refuses such an object too; rebuild it with clang -g -target bpf");
}

/** First 32-bit INT (libbpf's find_int_btf_id). */
function int32Id(b: RawBtf): number {
  for (let id = 1; id < b.typeCount; id++) if (b.kind(id) === KIND.int && (b.words[b.at(id) + 3] & 0xff) === 32) return id;
  return 0;
}

/** libbpf's extern collection: .ksyms and .kconfig DATASECs rewritten for the kernel. */
function layoutExterns(b: RawBtf, obj: ObjectSpec): void {
  const ksyms = b.find(".ksyms", KIND.datasec);
  if (ksyms) {
    const n = b.vlen(ksyms);
    const at = b.at(ksyms);
    let hasFunc = false;
    for (let i = 0; i < n; i++) if (b.kind(b.words[at + 3 + 3 * i]) === KIND.func) hasFunc = true;
    const intId = int32Id(b);
    // A VAR kfunc slots can point to, since the kernel wants DATASEC members to be VARs.
    const dummy = hasFunc ? b.addType([b.addString("dummy_ksym"), info(KIND.var, 0), intId, VAR_GLOBAL_ALLOCATED]) : 0;
    const dummyName = dummy ? b.words[b.at(dummy)] : 0;
    const sec = b.at(ksyms);
    for (let i = 0; i < n; i++) {
      const vs = sec + 3 + 3 * i;
      const vt = b.words[vs];
      const name = b.name(vt);
      if (!obj.externs.some((e) => e.name === name)) throw btfError(`failed to find extern definition for BTF '${name}'`);
      const p = b.at(vt);
      if (b.kind(vt) === KIND.func) {
        const proto = b.words[p + 2];
        const pp = b.at(proto);
        for (let j = 0; j < b.vlen(proto); j++) {
          if (b.words[pp + 3 + 2 * j + 1] !== 0 && b.words[pp + 3 + 2 * j] === 0) b.words[pp + 3 + 2 * j] = dummyName;
        }
        b.words[vs] = dummy;
        b.words[p + 1] = ((b.words[p + 1] & ~0xffff) | FUNC_GLOBAL) >>> 0;
      } else {
        b.words[p + 3] = VAR_GLOBAL_ALLOCATED;
        b.words[p + 2] = intId;
      }
      b.words[vs + 1] = 4 * i;
      b.words[vs + 2] = 4;
    }
    b.words[sec + 2] = 4 * n;
  }
  const kcfg = b.find(".kconfig", KIND.datasec);
  if (kcfg) {
    const sec = b.at(kcfg);
    let size = 0;
    for (const e of obj.externs) if (e.kind === "kconfig") size = Math.max(size, e.dataOffset + e.size);
    b.words[sec + 2] = size;
    for (let i = 0; i < b.vlen(kcfg); i++) {
      const vs = sec + 3 + 3 * i;
      const name = b.name(b.words[vs]);
      const e = obj.externs.find((x) => x.kind === "kconfig" && x.name === name);
      if (!e || e.kind !== "kconfig") throw btfError(`failed to find extern definition for BTF var '${name}'`);
      b.words[b.at(b.words[vs]) + 3] = VAR_GLOBAL_ALLOCATED;
      b.words[vs + 1] = e.dataOffset;
    }
  }
}

/** Sort a DATASEC's secinfos by offset (stable, as glibc's merge-sort qsort is for these sizes). */
function sortVars(b: RawBtf, id: number): void {
  const at = b.at(id) + 3, n = b.vlen(id);
  const recs = Array.from({ length: n }, (_, i) => [b.words[at + 3 * i], b.words[at + 3 * i + 1], b.words[at + 3 * i + 2]]);
  recs.sort((x, y) => x[1] - y[1]);
  recs.forEach((r, i) => b.words.set(r, at + 3 * i));
}

/** libbpf's btf_fixup_datasec over every DATASEC. */
function fixDatasecs(b: RawBtf, elf: ElfFile): void {
  for (let id = 1; id < b.typeCount; id++) {
    if (b.kind(id) !== KIND.datasec) continue;
    const name = b.name(id);
    if (name !== ".kconfig" && name !== ".ksyms") {
      const sec = b.at(id);
      let fixOffsets = false;
      if (b.words[sec + 2] === 0) {
        const s = elf.section(name);
        if (!s || s.size === 0) throw btfError(`sec '${name}': failed to determine size from ELF`);
        b.words[sec + 2] = s.size;
        fixOffsets = true;
      }
      for (let i = 0; i < b.vlen(id); i++) {
        const vs = sec + 3 + 3 * i;
        const vt = b.words[vs];
        if (b.kind(vt) !== KIND.var) throw btfError(`sec '${name}': unexpected non-VAR type found`);
        const p = b.at(vt);
        const linkage = b.words[p + 3];
        if (linkage === VAR_STATIC || linkage === VAR_GLOBAL_EXTERN) continue;
        const vname = b.name(vt);
        const sym = elf.symbols.find((s) => s.type === STT.OBJECT && (s.bind === STB.GLOBAL || s.bind === STB.WEAK) && s.name === vname);
        if (!sym) throw btfError(`sec '${name}': failed to find ELF symbol for VAR '${vname}'`);
        if (fixOffsets) b.words[vs + 1] = Number(sym.value);
        if (sym.visibility === STV.HIDDEN || sym.visibility === STV.INTERNAL) b.words[p + 3] = VAR_STATIC;
      }
    }
    sortVars(b, id);
  }
}

/** Global .text functions with hidden visibility get a static BTF FUNC (libbpf's mark_btf_static). */
function markHiddenStatic(b: RawBtf, elf: ElfFile, obj: ObjectSpec): void {
  for (const sp of obj.subprograms) {
    if (!sp.global) continue;
    const sym = elf.symbols.find((s) => s.type === STT.FUNC && s.shndx === sp.sectionIndex && Number(s.value) === sp.offset && s.name === sp.name);
    if (!sym || (sym.visibility !== STV.HIDDEN && sym.visibility !== STV.INTERNAL)) continue;
    for (let id = 1; id < b.typeCount; id++) {
      if (b.kind(id) !== KIND.func || (b.vlen(id) !== FUNC_GLOBAL) || b.name(id) !== sp.name) continue;
      b.words[b.at(id) + 1] = info(KIND.func, FUNC_STATIC);
      break;
    }
  }
}

/** The object's BTF as libbpf would load it (before sanitisation). */
export function finalizeObjectBtf(raw: Uint8Array, elf: ElfFile, obj: ObjectSpec): Uint8Array {
  const b = new RawBtf(raw);
  layoutExterns(b, obj);
  fixDatasecs(b, elf);
  markHiddenStatic(b, elf, obj);
  return b.encode();
}

/** Whether any kind this BTF may hold is missing from the kernel (libbpf's btf_needs_sanitization). */
export function needsSanitizing(f: BtfFeatures): boolean {
  return !(f.func && f.funcGlobal && f.datasec && f.qmarkDatasec && f.float && f.declTag && f.typeTag && f.enum64);
}

/** libbpf's bpf_object__sanitize_btf: rewrite kinds the kernel lacks into ones it knows. */
export function sanitizeBtf(raw: Uint8Array, f: BtfFeatures): Uint8Array {
  const b = new RawBtf(raw);
  let enum64Placeholder = 0;
  const n = b.typeCount;
  for (let id = 1; id < n; id++) {
    const p = b.at(id);
    const kind = b.kind(id), vlen = b.vlen(id);
    const w = b.words;
    if ((!f.datasec && kind === KIND.var) || (!f.declTag && kind === KIND.decl_tag)) {
      // One byte: any larger and a VAR of a smaller type would fail the kernel's size checks.
      w[p + 1] = info(KIND.int, 0);
      w[p + 2] = 1;
      w[p + 3] = 8;
    } else if (!f.datasec && kind === KIND.datasec) {
      renameChars(b, w[p], (c) => c === 0x2e || c === 0x3f);
      w[p + 1] = info(KIND.struct, vlen);
      for (let j = 0; j < vlen; j++) {
        const m = p + 3 + 3 * j;
        const type = w[m], offset = w[m + 1];
        w[m + 2] = offset * 8;
        w[m + 1] = type;
        w[m] = w[b.at(type)];
      }
    } else if (!f.qmarkDatasec && kind === KIND.datasec && b.str(w[p]).startsWith("?")) {
      b.strings[w[p]] = 0x5f;
    } else if (!f.func && kind === KIND.func_proto) {
      w[p + 1] = info(KIND.enum, vlen);
      w[p + 2] = 4;
    } else if (!f.func && kind === KIND.func) {
      w[p + 1] = info(KIND.typedef, 0);
    } else if (!f.funcGlobal && kind === KIND.func) {
      w[p + 1] = info(KIND.func, 0);
    } else if (!f.float && kind === KIND.float) {
      w[p] = 0;
      w[p + 1] = info(KIND.struct, 0);
    } else if (!f.typeTag && kind === KIND.type_tag) {
      w[p] = 0;
      w[p + 1] = info(KIND.const, 0);
    } else if (!f.enum64 && kind === KIND.enum) {
      w[p + 1] = info(KIND.enum, vlen);
    } else if (!f.enum64 && kind === KIND.enum64) {
      if (enum64Placeholder === 0) enum64Placeholder = b.addType([b.addString("enum64_placeholder"), info(KIND.int, 0), 1, 8]);
      const q = b.at(id);
      b.words[q + 1] = info(KIND.union, vlen);
      for (let j = 0; j < vlen; j++) {
        b.words[q + 3 + 3 * j + 1] = enum64Placeholder;
        b.words[q + 3 + 3 * j + 2] = 0;
      }
    }
  }
  return b.encode();
}

/** Replace characters of a string in place with '_' (libbpf edits the shared string table). */
function renameChars(b: RawBtf, off: number, pick: (c: number) => boolean): void {
  for (let i = off; i < b.strings.length && b.strings[i] !== 0; i++) if (pick(b.strings[i])) b.strings[i] = 0x5f;
}
