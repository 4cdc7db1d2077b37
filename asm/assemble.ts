// Statements → an object: sections of code and data, symbols, relocations, maps and license,
// ready for src/elf/write.ts (ELF) or for raw instruction bytes.
//
// Directives (GNU as / llvm-mc spelling unless marked tsbpf):
//   .text | .data | .rodata | .bss              switch to that section
//   .section NAME[,"flags"[,@progbits|@nobits]] switch to NAME (quoted or bare, e.g. xdp, "tp/a/b");
//                                               flags a=alloc w=write x=exec; without flags, .data*,
//                                               .rodata*, .bss*, .maps, license are data, others code
//   .globl/.global NAME   .weak NAME   .local NAME          symbol binding
//   .type NAME,@function|@object|@notype                   symbol type
//   .size NAME, EXPR      EXPR: number, label, '.', and + / - between them (.Lend-f, .-f)
//   .p2align N  .align N  .balign N                          align (2^N; bytes; bytes)
//   .byte/.short/.hword/.2byte/.long/.int/.4byte/.quad/.8byte V, …   data (numbers)
//   .ascii "s"  .asciz/.string "s"  .zero/.skip/.space N[, fill]      data
//   .file/.ident/.addrsig/.addrsig_sym                       accepted and ignored
//   .map NAME, type=hash, key=4, value=8, max_entries=1024[, flags=N][, pinning=by_name]   (tsbpf)
//        a BTF-defined map in .maps (with the BTF libbpf needs); `rN = NAME ll` loads it
//   .license "GPL"                                            (tsbpf) the "license" section + LICENSE
//
// Labels not starting with ".L" become symbols (local unless .globl), as llvm-mc makes them.
// `call NAME`: a label in the same section → bpf-to-bpf call; a label elsewhere → R_BPF_64_32
// relocation; a kernel helper name → helper call; otherwise an extern (kfunc) relocation.
// `rN = NAME [+ off] ll` → R_BPF_64_64 against NAME (map, data object or extern).

import { TsbpfError, type Where } from "../src/errors.ts";
import { R_BPF, writeElf, writeElfParts, type ObjFile, type ObjReloc, type ObjSection, type ObjSymbol, type SymbolBind, type SymbolType } from "../src/elf/write.ts";
import { mapDefSize, mapsBtf, type BtfDataVar, type BtfMapDef } from "../src/elf/write-btf.ts";
import { resolveRef } from "./assemble-labels.ts";
import { Section, type AsmSection } from "./assemble-code.ts";
import { parseMapDirective } from "./assemble-maps.ts";
import { helperId } from "./helper-names.ts";
import { encode } from "./encode.ts";
import { decodeAt } from "./decode.ts";
import { joinImm64, type Insn } from "./insn.ts";
import { parseIntLiteral, type Token } from "./lexer.ts";
import { CALL_SRC, opDesc } from "./opcodes.ts";
import { parseTo, type DirectiveArg, type Pos, type Stmt, type StmtSink } from "./parse.ts";
import { belowTopTier } from "../src/jit-tier.ts";

export type { AsmSection } from "./assemble-code.ts";

export interface AssembleOptions {
  /**
   * Record each instruction's source line on its meta.source (default true). Without it, messages
   * still carry line:column (from AsmSection.pos) and assembly allocates much less.
   */
  keepSource?: boolean;
}

export interface AsmResult {
  sections: AsmSection[];
  symbols: ObjSymbol[];
  maps: BtfMapDef[];
  license?: string;
  /** BTF for .maps (and data sections) when the source declares maps with .map. */
  btf?: Uint8Array;
  /** The input's name, for messages. */
  file: string;
}

interface Label {
  section: string;
  /** Instruction index (code) or byte offset (data). */
  index: number;
  at: Pos;
}

interface SymAttrs {
  bind?: SymbolBind;
  type?: SymbolType;
  size?: { args: DirectiveArg; section: string; dot: number; at: Pos };
  /** Sizes the assembler knows itself (maps, LICENSE). */
  fixedSize?: number;
}

const IGNORED = new Set([".file", ".ident", ".addrsig", ".addrsig_sym", ".loc", ".cfi_sections", ".cfi_startproc", ".cfi_endproc"]);
const DATA_SIZES: Record<string, number> = {
  ".byte": 1, ".short": 2, ".hword": 2, ".2byte": 2, ".long": 4, ".int": 4, ".4byte": 4, ".quad": 8, ".8byte": 8,
};

function fail(message: string, at: Pos | Where, hint?: string): never {
  throw new TsbpfError("ASM_SYNTAX", message, at, hint);
}

function isDataName(name: string): boolean {
  return /^\.(data|rodata|bss|maps)(\.|$)/.test(name) || name === "license" || name === "version" || name === "maps" || name.startsWith(".BTF");
}

class Assembler implements StmtSink {
  private sections = new Map<string, Section>();
  private cur!: Section;
  private labels = new Map<string, Label>();
  private attrs = new Map<string, SymAttrs>();
  private maps: BtfMapDef[] = [];
  private license: string | undefined;

  /** At most this many instructions are still to come (see Section's sizeHint); 0 once given out. */
  private hint: number;

  constructor(private readonly file: string, private readonly keep = true, textLength = 0) {
    // The shortest instruction line is "exit" and a newline.
    this.hint = Math.ceil(textLength / 5) + 1;
    this.switchTo(".text", undefined, undefined);
  }

  private takeHint = (): number => {
    const h = this.hint;
    this.hint = 0;
    return h;
  };

  private switchTo(name: string, flags: string | undefined, type: string | undefined): void {
    let s = this.sections.get(name);
    if (!s) {
      const code = flags !== undefined ? flags.includes("x") : !isDataName(name);
      const f = flags ?? (code ? "ax" : name.startsWith(".BTF") ? "" : name.startsWith(".rodata") ? "a" : "aw");
      s = new Section(name, code, { alloc: f.includes("a"), write: f.includes("w"), exec: f.includes("x") },
        type === "@nobits" || type === "%nobits" || (type === undefined && /^\.bss(\.|$)/.test(name)),
        // As llvm-mc: .text starts 4-aligned, other sections 1-aligned, until an align directive.
        name === ".text" ? 4 : 1, this.takeHint);
      this.sections.set(name, s);
    }
    this.cur = s;
  }

  /** Current location in the section: a byte offset. */
  private dot(): number {
    const s = this.cur;
    return s.code ? s.byteLength : s.data.length;
  }

  run(stmts: Stmt[]): AsmResult {
    for (const st of stmts) {
      if (st.kind === "insn") this.insn(st.insn, st.at.line, st.at.column, st.at.file);
      else if (st.kind === "label") this.label(st.name, st.at);
      else this.directive(st.name, st.args, st.at);
    }
    return this.finish();
  }

  insn(insn: Insn, line: number, column: number, file = this.file): void {
    const s = this.cur;
    if (!s.code || s.data.length !== 0) {
      const at: Pos = { file, line, column };
      this.checkCodeBoundary(at);
      fail(`instruction in data section '${s.name}'`, at, "switch to a code section with .text or .section NAME,\"ax\"");
    }
    s.addInsn(insn, packPos(line, column));
  }

  packed(op: number, dst: number, src: number, off: number, imm: number, hi: number, line: number, column: number): void {
    const s = this.cur;
    if (s.code && s.data.length === 0 && s.addFields(op, dst, src, off, imm, hi, packPos(line, column))) return;
    const insn: Insn = { op, dst, src, off, imm };
    if (op === 0x18) insn.imm64 = joinImm64(imm, hi);
    this.insn(insn, line, column);
  }

  unpackLast(): Insn {
    return this.cur.keep(this.cur.count - 1);
  }

  label(name: string, at: Pos): void {
    this.checkCodeBoundary(at);
    const prev = this.labels.get(name);
    if (prev) fail(`label '${name}' is already defined at line ${prev.at.line}`, at);
    this.labels.set(name, { section: this.cur.name, index: this.cur.code ? this.cur.count : this.cur.data.length, at });
  }

  private attr(name: string): SymAttrs {
    let a = this.attrs.get(name);
    if (!a) this.attrs.set(name, (a = {}));
    return a;
  }

  directive(name: string, args: DirectiveArg[], at: Pos): void {
    if (IGNORED.has(name)) return;
    const argAt = (a: DirectiveArg | undefined): Pos => ({ ...at, column: a?.column ?? at.column });
    const symName = (a: DirectiveArg | undefined): string => {
      if (!a || a.tokens.length !== 1 || (a.tokens[0].kind !== "id" && a.tokens[0].kind !== "str")) fail(`${name} expects a symbol name`, argAt(a));
      return a.tokens[0].text;
    };
    if (/^\.(text|data|rodata|bss|section)$/.test(name)) this.checkCodeBoundary(at);
    switch (name) {
      case ".text": case ".data": case ".rodata": case ".bss":
        this.switchTo(name, undefined, undefined);
        return;
      case ".section": {
        if (args.length === 0) fail(".section expects a name", at);
        const n = args[0].tokens.length === 1 && args[0].tokens[0].kind === "str" ? args[0].tokens[0].text : args[0].text;
        let flags: string | undefined;
        if (args[1]) {
          if (args[1].tokens.length !== 1 || args[1].tokens[0].kind !== "str") fail('section flags are a quoted string like "ax"', argAt(args[1]));
          flags = args[1].tokens[0].text;
          if (!/^[awxMSGTRoe]*$/.test(flags)) fail(`unknown section flags "${flags}"`, argAt(args[1]), "use a (alloc), w (write), x (code)");
        }
        this.switchTo(n, flags, args[2]?.text);
        return;
      }
      case ".globl": case ".global": case ".weak": case ".local":
        for (const a of args) this.attr(symName(a)).bind = name === ".weak" ? "weak" : name === ".local" ? "local" : "global";
        return;
      case ".type": {
        const s = symName(args[0]);
        const t = args[1]?.text.replace(/^[@%]/, "").toLowerCase();
        const type: SymbolType | undefined = t === "function" || t === "stt_func" ? "func" : t === "object" || t === "stt_object" ? "object" : t === "notype" || t === "stt_notype" ? "notype" : undefined;
        if (!type) fail(`expected @function, @object or @notype`, argAt(args[1]));
        this.attr(s).type = type;
        return;
      }
      case ".size": {
        const s = symName(args[0]);
        if (!args[1]) fail(".size expects NAME, SIZE", at);
        this.attr(s).size = { args: args[1], section: this.cur.name, dot: this.dot(), at: argAt(args[1]) };
        return;
      }
      case ".p2align": case ".align": case ".balign": {
        const v = this.number(args[0], at);
        const bytes = name === ".p2align" ? 2 ** v : v;
        if (!Number.isInteger(bytes) || bytes < 1 || bytes > 4096 || (bytes & (bytes - 1)) !== 0) fail(`bad alignment ${v}`, argAt(args[0]), "alignment is a power of two up to 4096");
        this.cur.align = Math.max(this.cur.align, bytes);
        if (!this.cur.code) while (this.cur.data.length % bytes !== 0) this.cur.data.push(0);
        else if (bytes > 8) fail("code sections are aligned to 8 bytes", argAt(args[0]));
        return;
      }
      case ".ascii": case ".asciz": case ".string":
        this.needData(name, at);
        for (const a of args) {
          if (a.tokens.length !== 1 || a.tokens[0].kind !== "str") fail(`${name} expects string literals`, argAt(a));
          for (const ch of Buffer.from(a.tokens[0].text, "latin1")) this.cur.data.push(ch);
          if (name !== ".ascii") this.cur.data.push(0);
        }
        return;
      case ".zero": case ".skip": case ".space": {
        this.needData(name, at);
        if (this.cur.code) fail(`${name} in code section '${this.cur.name}'`, at, "write instructions, or raw bytes with .byte");
        const n = this.number(args[0], at);
        const fill = args[1] ? this.number(args[1], at) & 0xff : 0;
        if (n < 0 || n > 1 << 24) fail(`bad size ${n}`, argAt(args[0]));
        for (let i = 0; i < n; i++) this.cur.data.push(fill);
        return;
      }
      case ".map": {
        const m = parseMapDirective(args);
        if ("error" in m) fail(m.error, { ...at, column: m.column });
        const prev = this.cur;
        this.switchTo(".maps", "aw", undefined);
        const maps = this.cur;
        while (maps.data.length % 8 !== 0) maps.data.push(0);
        maps.align = 8;
        const def: BtfMapDef = { name: m.name, offset: maps.data.length, fields: m.fields };
        this.label(m.name, at);
        for (let i = 0; i < mapDefSize(def); i++) maps.data.push(0);
        const a = this.attr(m.name);
        a.bind ??= "global";
        a.type = "object";
        a.fixedSize = mapDefSize(def);
        this.maps.push(def);
        this.cur = prev;
        return;
      }
      case ".comm": case ".lcomm": {
        // Common symbols live in .bss, placed where they are declared (as llvm-mc places local ones).
        const sym = symName(args[0]);
        const size = this.number(args[1], at);
        const align = args[2] ? this.number(args[2], at) : 1;
        if (size < 0 || size > 1 << 24 || align < 1 || (align & (align - 1)) !== 0) fail(`bad ${name} size or alignment`, argAt(args[1]));
        const prev = this.cur;
        this.switchTo(".bss", "aw", "@nobits");
        const bss = this.cur;
        bss.align = Math.max(bss.align, align);
        while (bss.data.length % align !== 0) bss.data.push(0);
        this.label(sym, at);
        for (let i = 0; i < size; i++) bss.data.push(0);
        const a = this.attr(sym);
        a.bind ??= name === ".lcomm" ? "local" : "global";
        a.type ??= "object";
        a.fixedSize = size;
        this.cur = prev;
        return;
      }
      case ".license": {
        if (args.length !== 1 || args[0].tokens.length !== 1 || args[0].tokens[0].kind !== "str") fail('.license expects a string, e.g. .license "GPL"', at);
        if (this.license !== undefined) fail("the license is already set", at);
        this.license = args[0].tokens[0].text;
        return;
      }
    }
    const size = DATA_SIZES[name];
    if (size === undefined) fail(`unknown directive '${name}'`, at, "see the directive list at the top of asm/assemble.ts");
    this.needData(name, at);
    for (const a of args) this.dataValue(a, size, argAt(a));
    if (this.cur.code) this.drainCode(at);
  }

  private needData(name: string, at: Pos): void {
    if (this.cur.code && name.startsWith(".a")) fail(`${name} in code section '${this.cur.name}'`, at, "strings belong in data sections such as .rodata");
  }

  /** Raw bytes written into a code section (e.g. ".byte 0x18, 0x11, …") become instructions. */
  private drainCode(at: Pos): void {
    const s = this.cur;
    while (s.data.length >= 8) {
      const need = s.data[0] === 0x18 ? 16 : 8;
      if (s.data.length < need) return;
      const r = decodeAt(new Uint8Array(s.data.slice(0, need)), 0);
      if (!r.ok) fail(`raw bytes in code section '${s.name}' are not an instruction: ${r.error.message}`, at);
      const insn = r.insn;
      insn.meta = { source: { file: at.file, line: at.line, column: at.column, text: "" } };
      s.data.splice(0, need);
      s.addInsn(insn, packPos(at.line, at.column));
    }
  }

  /** Code may not continue while raw bytes are half an instruction. */
  private checkCodeBoundary(at: Pos): void {
    const s = this.cur;
    if (s.code && s.data.length > 0) fail(`${s.data.length} raw byte${s.data.length > 1 ? "s" : ""} in code section '${s.name}' do not make whole instructions`, at, "instructions are 8 bytes (16 for ld_imm64)");
  }

  private number(a: DirectiveArg | undefined, at: Pos): number {
    if (!a) fail("expected a number", at);
    const v = this.constExpr(a.tokens, { ...at, column: a.column });
    if (v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`number ${v} too large`, { ...at, column: a.column });
    return Number(v);
  }

  private constExpr(toks: Token[], at: Pos): bigint {
    let v = 0n;
    let sign = 1n;
    let expectTerm = true;
    for (const t of toks) {
      if (expectTerm) {
        if (t.text === "-" && t.kind === "punct") { sign = -sign; continue; }
        if (t.kind !== "num") fail(`expected a number, found '${t.text}'`, { ...at, column: t.col });
        const n = parseIntLiteral(t.text);
        if (n === undefined) fail(`malformed number '${t.text}'`, { ...at, column: t.col });
        v += sign * n;
        sign = 1n;
        expectTerm = false;
      } else {
        if (t.text !== "+" && t.text !== "-") fail(`expected '+' or '-', found '${t.text}'`, { ...at, column: t.col });
        sign = t.text === "-" ? -1n : 1n;
        expectTerm = true;
      }
    }
    if (expectTerm) fail("expected a number", at);
    return v;
  }

  private dataValue(a: DirectiveArg, size: number, at: Pos): void {
    const d = this.cur.data;
    if (a.tokens.length === 1 && a.tokens[0].kind === "id") {
      if (this.cur.code) fail("symbol references in code are written as instructions (r1 = sym ll, call f)", at);
      // .long sym / .quad sym: an absolute relocation, as in .BTF.ext or jump tables.
      if (size !== 4 && size !== 8) fail(`a symbol needs .long or .quad`, at);
      this.cur.relocs.push({ offset: d.length, type: size === 8 ? R_BPF.ABS64 : R_BPF.ABS32, symbol: a.tokens[0].text });
      for (let i = 0; i < size; i++) d.push(0);
      return;
    }
    const v = this.constExpr(a.tokens, at);
    const bits = BigInt(size * 8);
    if (v < -(1n << (bits - 1n)) || v >= 1n << bits) fail(`value ${v} does not fit in ${size} byte${size > 1 ? "s" : ""}`, at);
    let u = BigInt.asUintN(size * 8, v);
    for (let i = 0; i < size; i++) {
      d.push(Number(u & 0xffn));
      u >>= 8n;
    }
  }

  finish(): AsmResult {
    for (const s of this.sections.values()) {
      if (s.code && s.data.length > 0) fail(`${s.data.length} raw bytes at the end of code section '${s.name}' do not make whole instructions`, { file: this.file });
    }
    if (this.license !== undefined) {
      const prev = this.cur;
      this.switchTo("license", "aw", undefined);
      const at = { file: this.file, line: 0, column: 0 };
      if (!this.labels.has("LICENSE")) this.label("LICENSE", at);
      for (const ch of Buffer.from(this.license, "latin1")) this.cur.data.push(ch);
      this.cur.data.push(0);
      const a = this.attr("LICENSE");
      a.bind ??= "global";
      a.type ??= "object";
      a.fixedSize ??= this.license.length + 1;
      this.cur = prev;
    }
    for (const s of this.sections.values()) if (s.code) this.refIndex.set(s.name, s.refIndices());
    const symbols = this.symbols();
    const symSet = new Map(symbols.map((s) => [s.name, s]));
    for (const s of this.sections.values()) if (s.code) this.relocate(s, symSet, symbols);
    for (const s of this.sections.values()) if (!s.code) this.relocateData(s, symSet, symbols);
    const result: AsmResult = { sections: [...this.sections.values()], symbols, maps: this.maps, file: this.file };
    if (this.license !== undefined) result.license = this.license;
    if (this.maps.length > 0) result.btf = mapsBtf(this.maps, this.dataVars(symbols));
    return result;
  }

  /** Data-section object symbols, for the DATASECs libbpf reads when it creates .data/.rodata maps. */
  private dataVars(symbols: ObjSymbol[]): Map<string, { size: number; vars: BtfDataVar[] }> {
    const out = new Map<string, { size: number; vars: BtfDataVar[] }>();
    for (const s of this.sections.values()) {
      if (s.code || !/^\.(data|rodata|bss)(\.|$)/.test(s.name)) continue;
      const vars = symbols.filter((y) => y.section === s.name && y.type === "object" && y.size > 0)
        .map((y) => ({ name: y.name, offset: y.value, size: y.size }));
      out.set(s.name, { size: s.data.length, vars });
    }
    return out;
  }

  /** Indices of the instructions of each code section that carry a meta.ref (found once, in finish()). */
  private refIndex = new Map<string, number[]>();

  private refs(s: Section): number[] {
    return this.refIndex.get(s.name) ?? [];
  }

  private sectionBytes(s: Section): number {
    return s.code ? s.byteLength : s.data.length;
  }

  private byteOffset(l: Label): number {
    const s = this.sections.get(l.section)!;
    if (!s.code) return l.index;
    return s.slots[l.index] * 8;
  }

  /**
   * Function entries in code sections, which libbpf finds through STT_FUNC symbols: the start of
   * each code section, every call target, every label typed @function. Programs (entries at offset
   * 0 outside .text) must be global; a section whose start has no label gets one named after it.
   */
  private functionStarts(): Map<string, Set<number>> {
    const starts = new Map<string, Set<number>>();
    for (const s of this.sections.values()) if (s.code && s.count > 0) starts.set(s.name, new Set([0]));
    const mark = (l: Label | undefined) => { if (l) starts.get(l.section)?.add(l.index); };
    for (const s of this.sections.values()) {
      for (const k of this.refs(s)) {
        const i = s.get(k);
        if (i.meta?.ref?.kind === "func" && i.op === 0x85) mark(this.labels.get(i.meta.ref.name));
      }
    }
    for (const [name, a] of this.attrs) if (a.type === "func") mark(this.labels.get(name));
    for (const [sec, set] of starts) {
      const hasLabel = [...this.labels.values()].some((l) => l.section === sec && l.index === 0);
      if (!hasLabel) {
        const name = sec.replace(/[^A-Za-z0-9_]/g, "_").replace(/^(\d)/, "_$1");
        if (this.labels.has(name)) fail(`section '${sec}' starts without a label and '${name}' is taken`, { file: this.file }, "put a label before the first instruction");
        this.labels.set(name, { section: sec, index: 0, at: { file: this.file, line: 0, column: 0 } });
      }
      void set;
    }
    return starts;
  }

  private symbols(): ObjSymbol[] {
    const out: ObjSymbol[] = [];
    const starts = this.functionStarts();
    const bounds = new Map<string, number[]>();
    for (const [sec, set] of starts) {
      const s = this.sections.get(sec)!;
      const offs = s.slots;
      bounds.set(sec, [...set].map((i) => offs[i] * 8).concat(this.sectionBytes(s)).sort((a, b) => a - b));
    }
    for (const [name, l] of this.labels) {
      const a = this.attrs.get(name);
      const entry = starts.get(l.section)?.has(l.index) === true && !name.startsWith(".L");
      if (name.startsWith(".L") && !a) continue;
      const value = this.byteOffset(l);
      let size = a?.size ? this.sizeOf(name, a.size, value) : a?.fixedSize ?? 0;
      let type: SymbolType = a?.type ?? "notype";
      let bind: SymbolBind = a?.bind ?? "local";
      if (entry) {
        if (type === "notype") type = "func";
        const b = bounds.get(l.section)!;
        if (!a?.size) size = (b.find((x) => x > value) ?? value) - value;
        if (a?.bind === undefined && l.index === 0 && l.section !== ".text") bind = "global";
      }
      out.push({ name, section: l.section, value, size, type, bind });
    }
    for (const [name, a] of this.attrs) {
      if (this.labels.has(name)) continue;
      if (a.size) fail(`.size of undefined symbol '${name}'`, a.size.at);
    }
    return out;
  }

  /** Evaluate a .size expression: numbers, labels, '.', joined by + and -. */
  private sizeOf(name: string, s: NonNullable<SymAttrs["size"]>, _value: number): number {
    let v = 0;
    let sign = 1;
    let expectTerm = true;
    for (const t of s.args.tokens) {
      const at = { ...s.at, column: t.col };
      if (expectTerm) {
        if (t.kind === "punct" && t.text === "-") { sign = -sign; continue; }
        let term: number;
        if (t.kind === "num") {
          const n = parseIntLiteral(t.text);
          if (n === undefined || n > 0xffffffffn) fail(`bad size '${t.text}'`, at);
          term = Number(n);
        } else if (t.kind === "id" && t.text === ".") term = s.dot;
        else if (t.kind === "id") {
          const l = this.labels.get(t.text);
          if (!l) fail(`undefined label '${t.text}' in .size of '${name}'`, at);
          term = this.byteOffset(l);
        } else fail(`unexpected '${t.text}' in .size`, at);
        v += sign * term;
        sign = 1;
        expectTerm = false;
      } else {
        if (t.text !== "+" && t.text !== "-") fail(`expected '+' or '-' in .size, found '${t.text}'`, at);
        sign = t.text === "-" ? -1 : 1;
        expectTerm = true;
      }
    }
    if (expectTerm || v < 0) fail(`bad .size expression for '${name}'`, s.at);
    return v;
  }

  /** Resolve labels within a code section, then turn the remaining symbolic refs into relocations. */
  private relocate(s: Section, symSet: Map<string, ObjSymbol>, symbols: ObjSymbol[]): void {
    const local = new Map<string, number>();
    for (const [name, l] of this.labels) if (l.section === s.name) local.set(name, l.index);
    const refs = this.refs(s);
    for (const i of refs) {
      const ref = s.get(i).meta?.ref;
      if (ref?.kind === "label" && !local.has(ref.name)) {
        const where = this.where(s, i);
        const l = this.labels.get(ref.name);
        fail(l ? `jump to '${ref.name}' in another section ('${l.section}')` : `undefined label '${ref.name}'`, where,
          l ? "jumps stay within a section; use 'call' for another function" : "define it with 'NAME:' before an instruction");
      }
    }
    const offs = s.slots;
    for (const i of refs) {
      const insn = s.get(i);
      const ref = insn.meta?.ref;
      if (!ref || (ref.kind !== "label" && ref.kind !== "func")) continue;
      const target = local.get(ref.name);
      if (target === undefined) continue; // a func elsewhere: relocated below (labels were checked above)
      s.set(i, resolveRef(insn, ref.name, offs[target] - offs[i + 1], () => ({ ...this.where(s, i), insn: i })));
    }
    for (const i of refs) {
      const insn = s.get(i);
      const ref = insn.meta?.ref;
      if (!ref) continue;
      const d = opDesc(insn.op);
      const offset = offs[i] * 8;
      const drop = () => {
        const meta = { ...insn.meta };
        delete meta.ref;
        const next: Insn = { ...insn };
        if (meta.source) next.meta = meta;
        else delete next.meta;
        return next;
      };
      if (d?.kind === "call" && ref.kind === "func") {
        const l = this.labels.get(ref.name);
        if (l) {
          // A function in another section: clang's encoding, src=1 and imm=-1 plus R_BPF_64_32.
          // Like LLVM's ELF writer: global symbols are relocated against; local ones through their
          // section's symbol, with the target's slot (minus one) as the addend in imm.
          const sym = symSet.get(ref.name);
          const next = drop();
          next.src = CALL_SRC.PSEUDO_CALL;
          if (sym && sym.bind !== "local") {
            next.imm = -1;
            s.relocs.push({ offset, type: R_BPF.R_64_32, symbol: ref.name });
          } else {
            next.imm = this.byteOffset(l) / 8 - 1;
            s.relocs.push({ offset, type: R_BPF.R_64_32, symbol: l.section, section: true });
          }
          s.set(i, next);
          continue;
        }
        const id = helperId(ref.name);
        if (id !== undefined) {
          const next = drop();
          next.imm = id;
          s.set(i, next);
          continue;
        }
        this.extern(ref.name, symSet, symbols);
        const next = drop();
        next.src = CALL_SRC.PSEUDO_CALL;
        next.imm = -1;
        s.set(i, next);
        s.relocs.push({ offset, type: R_BPF.R_64_32, symbol: ref.name });
        continue;
      }
      if (d?.kind === "lddw" && (ref.kind === "map" || ref.kind === "map_value")) {
        const next = drop();
        const l = this.labels.get(ref.name);
        const addend = ref.kind === "map_value" ? ref.offset : 0;
        const sym = symSet.get(ref.name);
        if (l && (!sym || sym.bind === "local")) {
          const v = this.byteOffset(l) + addend;
          next.imm = v;
          next.imm64 = BigInt(v >>> 0);
          s.relocs.push({ offset, type: R_BPF.R_64_64, symbol: l.section, section: true });
        } else {
          if (!l) this.extern(ref.name, symSet, symbols);
          s.relocs.push({ offset, type: R_BPF.R_64_64, symbol: ref.name });
        }
        s.set(i, next);
        continue;
      }
    }
  }

  /** Where instruction i of a code section came from: its meta.source, else (without sources) its line:column, else its index. */
  private where(s: Section, i: number): Where {
    return whereOf(s, i, this.file, this.keep);
  }

  /** `.long sym`/`.quad sym` in data: locals through their section symbol (addend in the bytes), unknown names as externs. */
  private relocateData(s: Section, symSet: Map<string, ObjSymbol>, symbols: ObjSymbol[]): void {
    if (s.nobits && (s.relocs.length > 0 || s.data.some((b) => b !== 0))) {
      fail(`section '${s.name}' holds no file data (nobits) but is given non-zero contents`, { file: this.file }, "put initialized data in .data or .rodata");
    }
    for (const r of s.relocs) {
      if (r.section) continue;
      const sym = symSet.get(r.symbol);
      const l = this.labels.get(r.symbol);
      if (l && (!sym || sym.bind === "local")) {
        const v = this.byteOffset(l);
        const size = r.type === R_BPF.ABS64 ? 8 : 4;
        let u = BigInt(v);
        for (let i = 0; i < size; i++) {
          s.data[r.offset + i] = Number(u & 0xffn);
          u >>= 8n;
        }
        r.symbol = l.section;
        r.section = true;
      } else if (!l) this.extern(r.symbol, symSet, symbols);
    }
  }

  private extern(name: string, symSet: Map<string, ObjSymbol>, symbols: ObjSymbol[]): void {
    if (symSet.has(name)) return;
    const sym: ObjSymbol = { name, value: 0, size: 0, type: "notype", bind: "global" };
    symSet.set(name, sym);
    symbols.push(sym);
  }
}

/**
 * Where instruction i of code section s came from: its meta.source; without one, its line:column
 * from s.pos unless `keep` (sources were kept, so this one has none: say its index).
 */
function whereOf(s: Section, i: number, file: string, keep: boolean): Where {
  const src = s.objs.get(i)?.meta?.source;
  if (src) return { file: src.file, line: src.line, column: src.column };
  const p = s.posOf(i);
  return keep || !p ? { insn: i } : { file, line: Math.floor(p / COL), column: p % COL };
}

const COL = 2 ** 20;

/** One number for a line:column (columns past 2^20 are not kept: the message then gives the instruction index). */
function packPos(line: number, column: number): number {
  return column < COL ? line * COL + column : 0;
}

/** Assemble parsed statements. */
export function assembleStmts(stmts: Stmt[], file = "<input>", opts: AssembleOptions = {}): AsmResult {
  return new Assembler(file, opts.keepSource ?? true).run(stmts);
}

/** Assemble source text. Errors are TsbpfError(ASM_SYNTAX) with file:line:column. */
export function assemble(text: string, file = "<input>", opts: AssembleOptions = {}): AsmResult {
  const keepSource = opts.keepSource ?? true;
  const a = new Assembler(file, keepSource, text.length);
  parseTo(text, { file, keepSource }, a);
  return a.finish();
}

/** The object file model for src/elf/write.ts. */
export function toObjFile(r: AsmResult): ObjFile {
  const sections: ObjSection[] = r.sections
    .filter((s) => s.name === ".text" || s.code || s.data.length > 0 || s.relocs.length > 0 || r.symbols.some((y) => y.section === s.name))
    .map((s) => ({
      name: s.name,
      type: s.nobits ? "nobits" : "progbits",
      flags: s.flags,
      align: s.align,
      bytes: s.code ? sectionCode(s) : new Uint8Array(s.nobits ? [] : s.data),
      ...(s.nobits ? { size: s.data.length } : {}),
      relocs: s.relocs,
    }));
  if (r.btf) sections.push({ name: ".BTF", type: "progbits", flags: { alloc: false, write: false, exec: false }, align: 4, bytes: r.btf, relocs: [] });
  return { sections, symbols: r.symbols };
}

/** A relocatable ELF object (EM_BPF) for the assembled source. */
export function elfObject(r: AsmResult): Uint8Array {
  return writeElf(toObjFile(r));
}

/** elfObject's bytes as consecutive pieces (see writeElfParts), for writing without joining them. */
export function elfObjectParts(r: AsmResult): Uint8Array[] {
  return writeElfParts(toObjFile(r));
}

/** Raw instruction bytes of one code section (the only one, or the named one); no relocations allowed. */
export function rawCode(r: AsmResult, section?: string): Uint8Array {
  const code = r.sections.filter((s) => s.code && (section === undefined || s.name === section) && (s.insns.length > 0 || section !== undefined));
  if (code.length === 0) fail(section ? `no code section '${section}'` : "no instructions to write", {});
  if (code.length > 1) fail(`raw output takes one code section, found ${code.map((s) => s.name).join(", ")}`, {}, "pick one with --section, or write an ELF object (.o)");
  const s = code[0];
  if (s.relocs.length > 0) {
    const first = s.relocs[0];
    const slot = first.offset / 8;
    const i = s instanceof Section ? s.slots.subarray(0, s.count + 1).indexOf(slot) : -1;
    const w = i < 0 || !(s instanceof Section) ? undefined : whereOf(s, i, r.file, false);
    fail(`raw output cannot carry relocations: '${first.symbol}' needs one`, w?.line !== undefined ? w : { insn: slot },
      "write an ELF object (-o prog.o), or use absolute forms such as 'r1 = map[id:5]'");
  }
  return s instanceof Section ? s.bytes().slice() : encode(s.insns);
}

/** A code section's bytes: kept encoded while assembling. */
function sectionCode(s: AsmSection): Uint8Array {
  return s instanceof Section ? s.bytes() : encode(s.insns);
}

// Run once per file: not worth JavaScriptCore's top tier (src/jit-tier.ts).
belowTopTier([Assembler], []);
