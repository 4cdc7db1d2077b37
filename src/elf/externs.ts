// Extern symbols: `.kconfig` values and `.ksyms` kernel symbols/kfuncs, classified from the
// object's BTF and laid out (kconfig offsets) in libbpf's order (bpf_object__collect_externs).

import type { Btf } from "../../btf/index.ts";
import { TsbpfError } from "../errors.ts";
import { alignOf, sizeOf, skipMods } from "./btf-util.ts";
import { SHN, STB, STT, type ElfFile } from "./file.ts";
import type { ExternSpec, KconfigExtern, KsymExtern } from "./spec.ts";

function kcfgType(btf: Btf, id: number): { t: KconfigExtern["valueType"]; signed: boolean } {
  const t = skipMods(btf, id);
  if (!t) return { t: "unknown", signed: false };
  switch (t.kind) {
    case "int":
      if (t.encoding & 4) return { t: t.size === 1 ? "bool" : "unknown", signed: false };
      if (t.size === 1) return { t: "char", signed: (t.encoding & 1) !== 0 };
      if (t.size < 1 || t.size > 8 || (t.size & (t.size - 1)) !== 0) return { t: "unknown", signed: false };
      return { t: "int", signed: (t.encoding & 1) !== 0 };
    case "enum":
    case "enum64":
      return { t: t.name === "libbpf_tristate" && (t.kind === "enum64" || t.size === 4) ? "tristate" : "unknown", signed: false };
    case "array":
      return { t: t.nelems > 0 && kcfgType(btf, t.type).t === "char" ? "char_array" : "unknown", signed: false };
    default:
      return { t: "unknown", signed: false };
  }
}

/** Collect externs (UNDEF, GLOBAL/WEAK, NOTYPE symbols) sorted as libbpf sorts them. */
export function collectExterns(elf: ElfFile, btf: Btf | undefined, file?: string): ExternSpec[] {
  const out: ExternSpec[] = [];
  const aligns = new Map<ExternSpec, number>();
  for (const sym of elf.symbols) {
    if (sym.shndx !== SHN.UNDEF || sym.type !== STT.NOTYPE || (sym.bind !== STB.GLOBAL && sym.bind !== STB.WEAK) || sym.name === "") continue;
    const where = { file, offset: sym.fileOffset };
    if (!btf) throw new TsbpfError("LINK_UNRESOLVED", `extern '${sym.name}' needs BTF, and the object has none`, where, "compile with -g");
    const id = btf.idsByName(sym.name).find((i) => btf.kindOf(i) === "var" || btf.kindOf(i) === "func");
    if (id === undefined) throw new TsbpfError("LINK_UNRESOLVED", `failed to find BTF for extern '${sym.name}'`, where, "declare externs with __kconfig or __ksym");
    const t = btf.type(id);
    if ((t.kind === "var" && t.linkage !== "extern") || (t.kind === "func" && t.linkage !== "extern")) {
      throw new TsbpfError("LINK_UNRESOLVED", `BTF for extern '${sym.name}' is not extern`, where, "the object's BTF is inconsistent");
    }
    const sec = btf.idsByKind("datasec").map((d) => btf.typeAs(d, "datasec")!).find((d) => d.vars.some((v) => v.type === id));
    if (!sec) throw new TsbpfError("LINK_UNRESOLVED", `failed to find BTF for extern '${sym.name}' [${id}] section`, where, "declare externs with __kconfig or __ksym");
    const weak = sym.bind === STB.WEAK;
    if (sec.name === ".kconfig") {
      if (t.kind !== "var") throw new TsbpfError("LINK_UNRESOLVED", `extern function ${sym.name} is unsupported under .kconfig section`, where, "kconfig externs are variables");
      const size = sizeOf(btf, t.type);
      const align = alignOf(btf, t.type);
      const kt = kcfgType(btf, t.type);
      if (size !== undefined && size > 1 << 20) throw new TsbpfError("LINK_UNRESOLVED", `extern (kcfg) '${sym.name}' is ${size} bytes`, where, "kconfig values are small scalars or strings");
      if (!size || !align) throw new TsbpfError("LINK_UNRESOLVED", `failed to resolve size of extern (kcfg) '${sym.name}'`, where, "kconfig externs need a sized type");
      if (kt.t === "unknown") throw new TsbpfError("LINK_UNRESOLVED", `extern (kcfg) '${sym.name}': type is unsupported`, where, "use bool, char, an integer, enum libbpf_tristate or a char array");
      const e: KconfigExtern = { kind: "kconfig", name: sym.name, symbol: sym.index, weak, valueType: kt.t, size, signed: kt.signed, dataOffset: 0, btfId: id };
      aligns.set(e, align);
      out.push(e);
    } else if (sec.name === ".ksyms") {
      let ksymType: KsymExtern["ksymType"] = "func";
      let btfId = id;
      if (t.kind === "var") {
        const target = skipMods(btf, t.type);
        btfId = target ? target.id : 0;
        ksymType = !target || target.kind === "void" ? "typeless" : "typed";
      }
      out.push({ kind: "ksym", name: sym.name, symbol: sym.index, weak, ksymType, btfId });
    } else {
      throw new TsbpfError("LINK_UNRESOLVED", `unrecognized extern section '${sec.name}'`, where, "externs live in .kconfig or .ksyms");
    }
  }
  // kconfig first (by alignment down, size up, then name), then ksyms by name: libbpf's cmp_externs.
  out.sort((a, b) => {
    if (a.kind !== b.kind) return a.kind === "kconfig" ? -1 : 1;
    if (a.kind === "kconfig" && b.kind === "kconfig") {
      const aa = aligns.get(a)!, ba = aligns.get(b)!;
      if (aa !== ba) return ba - aa;
      if (a.size !== b.size) return a.size - b.size;
    }
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
  let off = 0;
  for (const e of out) {
    if (e.kind !== "kconfig") continue;
    const a = aligns.get(e)!;
    e.dataOffset = Math.ceil(off / a) * a;
    off = e.dataOffset + e.size;
  }
  return out;
}

/** Size of the kconfig map's value: the end of the last kconfig extern. */
export function kconfigSize(externs: ExternSpec[]): number {
  let end = 0;
  for (const e of externs) if (e.kind === "kconfig") end = Math.max(end, e.dataOffset + e.size);
  return end;
}
