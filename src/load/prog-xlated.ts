// `bpftool prog dump xlated` for a loaded program, text and -j JSON: the kernel's translated
// instructions in its own syntax, prototypes from func_info and source lines from line_info (the
// kernel's copies), helper, kfunc and subprogram calls named from /proc/kallsyms, maps by id.

import { closeSync, openSync, readSync } from "node:fs";
import type { Insn } from "../../asm/insn.ts";
import { bpftoolImm, printKernel } from "../../asm/print-kernel.ts";
import type { Btf } from "../../btf/btf.ts";
import { parseBtf } from "../../btf/parse.ts";
import { TsbpfError } from "../errors.ts";
import { Attr } from "../sys/attr.ts";
import { objGetInfoByFd } from "../sys/bpf.ts";
import { BtfHandle } from "./btf.ts";

/** One struct bpf_line_info as the kernel returns it (offsets already moved by its rewrites). */
export interface LineInfo {
  insnOff: number;
  fileNameOff: number;
  lineOff: number;
  /** line << 10 | column. */
  lineCol: number;
}

/** What OBJ_GET_INFO_BY_FD gives a dump: the image and the arrays that annotate it. */
export interface XlatedImage {
  insns: Uint8Array;
  btfId: number;
  funcInfo: { insnOff: number; typeId: number }[];
  lineInfo: LineInfo[];
  /** Start address of each JITed function (subprogram), in subprogram order. */
  jitedKsyms: bigint[];
  jitedFuncLens: number[];
  /** Address of each line's JITed code (nr_jited_line_info); empty when not JITed. */
  jitedLineInfo: bigint[];
}

/** One row of bpftool's dump. */
export interface XlatedRow {
  /** Slot index. */
  index: number;
  /** "int name(struct __sk_buff * skb)" where a function starts. */
  proto?: string;
  source?: { text: string; file: string | undefined; line: number; column: number };
  disasm: string;
  /** The instruction's 8 bytes (16 for ld_imm64). */
  bytes: Uint8Array;
}

export interface XlatedOptions {
  /** bpftool's `opcodes`: the bytes after each instruction. */
  opcodes?: boolean;
  /** bpftool's `linum`: file, line and column after each source line. */
  linum?: boolean;
}

// struct bpf_prog_info field offsets (include/uapi/linux/bpf.h).
const INFO_SIZE = 232;
const F = {
  xlatedLen: 20, xlatedInsns: 32, nrJitedKsyms: 104, nrJitedFuncLens: 108, jitedKsyms: 112, jitedFuncLens: 120,
  btfId: 128, funcInfoRecSize: 132, funcInfo: 136, nrFuncInfo: 144, nrLineInfo: 148, lineInfo: 152,
  jitedLineInfo: 160, nrJitedLineInfo: 168, lineInfoRecSize: 172, jitedLineInfoRecSize: 176,
} as const;

/**
 * The xlated image and its annotations: one call for the counts, one for the arrays, as bpftool
 * does. (src/sys/info.ts's progInfo/progXlated fetch neither the JIT nor the func/line arrays, and
 * would cost three more calls.)
 */
export function readXlatedImage(fd: number): XlatedImage {
  const w = new Attr(INFO_SIZE);
  // A map, link or BTF fd fills its own (shorter) info struct: only a program's fills all of ours.
  if (objGetInfoByFd(fd, w.bytes) < INFO_SIZE) {
    throw new TsbpfError("LOAD_BAD_INPUT", `fd ${fd} is not a BPF program`, {}, "give the id or pin path of a program (`tsbpf prog list`)");
  }
  const n = {
    xl: w.getU32(F.xlatedLen), ks: w.getU32(F.nrJitedKsyms), fl: w.getU32(F.nrJitedFuncLens),
    fi: w.getU32(F.nrFuncInfo), fiRec: w.getU32(F.funcInfoRecSize), li: w.getU32(F.nrLineInfo),
    liRec: w.getU32(F.lineInfoRecSize), jl: w.getU32(F.nrJitedLineInfo), jlRec: w.getU32(F.jitedLineInfoRecSize),
  };
  if (n.xl === 0) {
    throw new TsbpfError("SYS", "error retrieving insn dump: the kernel returned no instructions", {}, "is kernel.kptr_restrict set, or is this process without CAP_SYS_ADMIN/CAP_PERFMON?");
  }
  const insns = new Uint8Array(n.xl);
  const ksyms = new BigUint64Array(n.ks), lens = new Uint32Array(n.fl);
  const funcs = new Uint8Array(n.fi * n.fiRec), lines = new Uint8Array(n.li * n.liRec), jlines = new Uint8Array(n.jl * n.jlRec);
  w.reset(INFO_SIZE)
    .u32(F.xlatedLen, n.xl).ptr(F.xlatedInsns, insns)
    .u32(F.nrJitedKsyms, n.ks).ptr(F.jitedKsyms, ksyms)
    .u32(F.nrJitedFuncLens, n.fl).ptr(F.jitedFuncLens, lens)
    .u32(F.nrFuncInfo, n.fi).u32(F.funcInfoRecSize, n.fiRec).ptr(F.funcInfo, funcs)
    .u32(F.nrLineInfo, n.li).u32(F.lineInfoRecSize, n.liRec).ptr(F.lineInfo, lines)
    .u32(F.nrJitedLineInfo, n.jl).u32(F.jitedLineInfoRecSize, n.jlRec).ptr(F.jitedLineInfo, jlines);
  objGetInfoByFd(fd, w.bytes);
  const fv = new DataView(funcs.buffer), lv = new DataView(lines.buffer), jv = new DataView(jlines.buffer);
  const count = (off: number, asked: number) => Math.min(asked, w.getU32(off));
  return {
    insns: insns.subarray(0, count(F.xlatedLen, n.xl)),
    btfId: w.getU32(F.btfId),
    funcInfo: Array.from({ length: count(F.nrFuncInfo, n.fi) }, (_, i) => ({ insnOff: fv.getUint32(i * n.fiRec, true), typeId: fv.getUint32(i * n.fiRec + 4, true) })),
    lineInfo: Array.from({ length: count(F.nrLineInfo, n.li) }, (_, i) => {
      const at = i * n.liRec;
      return { insnOff: lv.getUint32(at, true), fileNameOff: lv.getUint32(at + 4, true), lineOff: lv.getUint32(at + 8, true), lineCol: lv.getUint32(at + 12, true) };
    }),
    jitedKsyms: Array.from(ksyms.subarray(0, count(F.nrJitedKsyms, n.ks))),
    jitedFuncLens: Array.from(lens.subarray(0, count(F.nrJitedFuncLens, n.fl))),
    jitedLineInfo: n.jlRec >= 8 ? Array.from({ length: count(F.nrJitedLineInfo, n.jl) }, (_, i) => jv.getBigUint64(i * n.jlRec, true)) : [],
  };
}

// ---- /proc/kallsyms, searched as bpftool searches it ----------------------------------------------

/** A /proc file (its size reads as 0) in few large reads; readFileSync reads it in small steps. */
function readAll(path: string): Buffer {
  const fd = openSync(path, "r");
  try {
    let buf = Buffer.allocUnsafe(8 << 20), n = 0;
    for (;;) {
      if (n === buf.length) {
        const b = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(b);
        buf = b;
      }
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) return buf.subarray(0, n);
      n += r;
    }
  } finally {
    closeSync(fd);
  }
}

const ZEROS = Buffer.from("00000000");
/** Room for a file position under each low-bits value in KernelSymbols' sort keys. */
const POS = 2 ** 21;

/**
 * Kernel symbols by address, found as bpftool finds them. It sorts /proc/kallsyms (glibc's stable
 * merge sort) with a comparator that returns the 64-bit address difference truncated to int — so
 * only the low 32 bits count — and looks an address up with glibc's bsearch; where several symbols
 * share an address, the one the search lands on is the one it prints. We sort by the low bits
 * (ties in file order, as a stable sort leaves them), count for each wanted address the symbols
 * bpftool's comparator puts before it (a half-circle of low-bit values), and replay the bsearch
 * over those positions.
 */
export class KernelSymbols {
  /** Per symbol (lines with a name and a non-zero address): where its name starts, and the search order. */
  private idx: { at: Uint32Array; keyed: Float64Array } | undefined;

  private constructor(
    private readonly text: Buffer,
    /** Address of __bpf_call_base, which xlated helper and kfunc call immediates are relative to. */
    readonly callBase: bigint,
  ) {}

  static read(path = "/proc/kallsyms"): KernelSymbols {
    try {
      return KernelSymbols.parse(readAll(path));
    } catch (e) {
      if (e instanceof TsbpfError) throw e;
      // bpftool carries on without names (it prints addresses instead).
      return new KernelSymbols(Buffer.alloc(0), 0n);
    }
  }

  static parse(text: Buffer): KernelSymbols {
    // bpftool keeps the last line naming it; a zero address (kptr_restrict) makes it drop every symbol.
    const hit = text.lastIndexOf(" __bpf_call_base\n");
    if (hit < 0) return new KernelSymbols(text, 0n);
    const line = text.lastIndexOf(10, hit) + 1;
    const hex = text.toString("latin1", line, text.indexOf(32, line));
    const base = /^[0-9a-fA-F]+$/.test(hex) ? BigInt("0x" + hex) : 0n;
    return new KernelSymbols(base === 0n ? Buffer.alloc(0) : text, base);
  }

  /** One pass over the text: every symbol's low address bits and name, as bpftool's sscanf takes them. */
  private index(): { at: Uint32Array; keyed: Float64Array } {
    if (this.idx) return this.idx;
    const t = this.text;
    let lo = new Uint32Array(t.length / 32 + 16), at = new Uint32Array(lo.length), n = 0;
    for (let line = 0; line < t.length; ) {
      let end = t.indexOf(10, line);
      if (end < 0) end = t.length;
      // "%p %*c %s": hex digits, white space, the type character, white space, a name. Only the
      // low 32 bits matter (see above); `any` tells a zero address, which bpftool skips.
      let i = line, low = 0, any = 0;
      if (t[line + 16] === 0x20 && end > line + 19) {
        // The usual line: 16 hex digits (x86_64's %px). No validation needed beyond the fast test.
        for (i = line + 8; i < line + 16; i++) {
          const c = t[i] | 0x20;
          low = ((low << 4) | (c <= 0x39 ? c - 0x30 : c - 0x57)) >>> 0;
        }
        any = low || t.compare(ZEROS, 0, 8, line, line + 8);
      } else {
        for (;; i++) {
          const c = t[i] | 0x20;
          const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
          if (d < 0 || i >= end) break;
          low = ((low << 4) | d) >>> 0;
          any |= d;
        }
      }
      const named = i > line && i + 3 < end && t[i] === 0x20 && t[i + 2] === 0x20 && t[i + 3] > 0x20;
      if (named && any !== 0) {
        if (n === lo.length) {
          const grow = (a: Uint32Array) => { const b = new Uint32Array(a.length * 2); b.set(a); return b; };
          lo = grow(lo);
          at = grow(at);
        }
        lo[n] = low;
        at[n] = i + 3;
        n++;
      }
      line = end + 1;
    }
    if (n >= POS) throw new TsbpfError("IO", `/proc/kallsyms has ${n} symbols, more than ${POS} this reader indexes`);
    // Symbols ordered by their low bits, ties in file order: low bits and file position in one
    // exactly representable double (lo * 2^21 + position < 2^53), sorted natively.
    const keyed = new Float64Array(n);
    for (let k = 0; k < n; k++) keyed[k] = lo[k] * POS + k;
    keyed.sort();
    this.idx = { at: at.subarray(0, n), keyed };
    return this.idx;
  }

  /** The symbol bpftool prints for each address (absent where it finds none). */
  names(addresses: Iterable<bigint>): Map<bigint, string> {
    const out = new Map<bigint, string>();
    if (this.text.length === 0) return out;
    const { at, keyed } = this.index();
    const n = keyed.length;
    // First position whose (low bits, file position) is at or after (lo, 0).
    const lowerBound = (lo: number) => {
      const x = lo * POS;
      let l = 0, u = n;
      while (l < u) {
        const m = (l + u) >>> 1;
        if (keyed[m] < x) l = m + 1;
        else u = m;
      }
      return l;
    };
    for (const key of new Set(addresses)) {
      const kl = Number(key & 0xffffffffn);
      // Sorted below the key: low bits in [kl - (2^31 - 1), kl - 1], a range that may wrap past 0.
      const from = kl - 0x7fffffff;
      const before = from >= 0 ? lowerBound(kl) - lowerBound(from) : n - lowerBound(from + 2 ** 32) + lowerBound(kl);
      const first = lowerBound(kl), equal = lowerBound(kl + 1) - first;
      // glibc's bsearch over the sorted array: [0, before) below the key, then the equal run in file order.
      let l = 0, u = n;
      while (l < u) {
        const m = (l + u) >>> 1;
        if (m < before) l = m + 1;
        else if (m >= before + equal) u = m;
        else {
          out.set(key, this.nameAt(at[keyed[first + m - before] % POS]));
          break;
        }
      }
    }
    return out;
  }

  private nameAt(start: number): string {
    let end = start;
    while (end < this.text.length && this.text[end] > 0x20) end++;
    return this.text.toString("latin1", start, end);
  }
}

// ---- BTF text -------------------------------------------------------------------------------------

/** Longest signature bpftool's 1024-byte buffer holds; a longer one prints as none. */
const SIG_MAX = 1023;

/** bpftool's btf_dumper_type_only: C-ish type text with a space after each part ("struct x * "). */
function typeText(btf: Btf, id: number, depth = 0): string {
  if (id === 0) return "void ";
  if (depth > 64) throw new TsbpfError("BTF_BAD_TYPE", `type ${id} nests too deeply`);
  const t = btf.type(id);
  switch (t.kind) {
    case "int": case "typedef": case "float": return `${t.name} `;
    case "struct": case "union": return `${t.kind} ${t.name} `;
    case "enum": case "enum64": return `enum ${t.name} `;
    case "array": return `${typeText(btf, t.type, depth + 1)}[${t.nelems}]`;
    case "ptr": return `${typeText(btf, t.type, depth + 1)}* `;
    case "fwd": return `${t.fwdKind} ${t.name} `;
    case "volatile": case "const": case "restrict": return `${t.kind} ${typeText(btf, t.type, depth + 1)}`;
    case "func_proto": return funcText(btf, t.returnType, t.params, undefined, depth);
    case "func": {
      const p = btf.type(t.type);
      if (p.kind !== "func_proto") throw new TsbpfError("BTF_BAD_TYPE", `func ${t.name} has no prototype`);
      return funcText(btf, p.returnType, p.params, t.name, depth);
    }
    default: throw new TsbpfError("BTF_BAD_TYPE", `bpftool prints no ${t.kind} in a signature`);
  }
}

function funcText(btf: Btf, ret: number, params: { name: string; type: number }[], name: string | undefined, depth: number): string {
  let s = typeText(btf, ret, depth + 1) + (name ?? "") + "(";
  params.forEach((p, i) => {
    if (i) s += ", ";
    if (p.type === 0) s += "...";
    else {
      s += typeText(btf, p.type, depth + 1);
      // A nameless parameter loses the trailing space of its type.
      if (p.name) s += p.name;
      else if (s.endsWith(" ")) s = s.slice(0, -1);
    }
  });
  return s + ")";
}

/** The prototype line of a function, or "" where bpftool prints none. */
function signature(btf: Btf, typeId: number): string {
  try {
    const s = typeText(btf, typeId);
    return s.length > SIG_MAX ? "" : s;
  } catch (e) {
    if (e instanceof TsbpfError) return "";
    throw e;
  }
}

function btfString(btf: Btf, off: number): string | undefined {
  if (!btf.strings.has(off)) return undefined;
  return btf.strings.get(off);
}

/**
 * Whether libbpf's bpf_prog_linfo__new accepts the line info: with JITed line addresses present,
 * each function must start at a line, and addresses must rise within a function. bpftool prints
 * no source lines when it refuses.
 */
function linesUsable(x: XlatedImage): boolean {
  const nl = x.lineInfo.length, nf = x.jitedKsyms.length;
  if (nl === 0) return false;
  const jl = x.jitedLineInfo, ks = x.jitedKsyms;
  if (nf === 0 || jl.length !== nl || x.jitedFuncLens.length !== nf) return true;
  if (ks[0] !== jl[0]) return false;
  let f = 1;
  for (let i = 1; i < nl && f < nf; i++) {
    const last = jl[i - 1];
    if (ks[f] === jl[i]) {
      if (BigInt.asUintN(64, last - ks[f - 1] + 1n) > BigInt(x.jitedFuncLens[f - 1])) return false;
      f++;
    } else if (jl[i] <= last) return false;
  }
  return f === nf;
}

// ---- rows -----------------------------------------------------------------------------------------

/** __BPF_FUNC_MAX_ID of Linux 6.1 (user_ringbuf_drain is 209): bpftool 7.1 names smaller ids from its table. */
const HELPERS_61 = 210;

/** Slot fields without validation: the kernel's image holds its own registers (r11) and codes. */
function slotInsn(b: Uint8Array, at: number): Insn {
  const dv = new DataView(b.buffer, b.byteOffset + at, 8);
  const insn: Insn = { op: b[at], dst: b[at + 1] & 15, src: b[at + 1] >> 4, off: dv.getInt16(2, true), imm: dv.getInt32(4, true) };
  if (insn.op === 0x18 && at + 16 <= b.length) {
    insn.imm64 = (BigInt(new DataView(b.buffer, b.byteOffset + at + 8, 8).getUint32(4, true)) << 32n) | BigInt(insn.imm >>> 0);
  }
  return insn;
}

/** The address bpftool names a call by: a subprogram's JITed start, else __bpf_call_base + imm. */
function callAddress(x: XlatedImage, base: bigint, insn: Insn): bigint {
  if (insn.src === 1 && (insn.imm >>> 0) < x.jitedKsyms.length) return x.jitedKsyms[insn.imm >>> 0];
  return BigInt.asUintN(64, base + BigInt(insn.imm));
}

/** bpftool's call naming: helpers and kfuncs by symbol, subprograms as "+off#symbol" (just "+off" when not JITed). */
function callNamer(x: XlatedImage, base: bigint, names: Map<bigint, string>): (insn: Insn) => string {
  return (insn) => {
    const addr = callAddress(x, base, insn);
    const name = names.get(addr) ?? `0x${addr.toString(16)}`;
    if (insn.src !== 1) return name;
    const off = `${insn.off >= 0 ? "+" : ""}${insn.off}`;
    return x.jitedKsyms.length === 0 ? off : `${off}#${name}`;
  };
}

/** The rows of `bpftool prog dump xlated`, from an image, the program's BTF and the kernel's symbols. */
export function xlatedRows(x: XlatedImage, btf: Btf | undefined, syms: KernelSymbols): XlatedRow[] {
  const rows: XlatedRow[] = [];
  const total = x.insns.length >> 3;
  const insns: Insn[] = [];
  for (let i = 0; i < total; i++) {
    insns.push(slotInsn(x.insns, i * 8));
    if (insns[insns.length - 1].op === 0x18) i++;
  }
  // Calls name their targets (all but helpers with ids bpftool knows): one pass over the symbols.
  const isCall = (op: number) => (op & 0xf0) === 0x80 && ((op & 7) === 5 || (op & 7) === 6);
  const calls = insns.filter((insn) => isCall(insn.op) && !(insn.src === 0 && insn.imm >= 0 && insn.imm < HELPERS_61));
  const callName = callNamer(x, syms.callBase, syms.names(calls.map((insn) => callAddress(x, syms.callBase, insn))));
  const lines = linesUsable(x) ? x.lineInfo : [];
  let func = 0, skip = 0;
  for (let i = 0, k = 0; i < total; i++, k++) {
    const insn = insns[k];
    const wide = insn.op === 0x18;
    const row: XlatedRow = { index: i, disasm: "", bytes: x.insns.subarray(i * 8, Math.min(x.insns.length, i * 8 + (wide ? 16 : 8))) };
    // Records are taken in order and only when their offset is reached, as bpftool walks them.
    if (btf && func < x.funcInfo.length && x.funcInfo[func].insnOff === i) {
      const sig = signature(btf, x.funcInfo[func].typeId);
      if (sig) row.proto = sig;
      func++;
    }
    // libbpf's bpf_prog_linfo__lfind(i, skip): the last record from `skip` on at or before i.
    if (btf && skip < lines.length && lines[skip].insnOff <= i) {
      let last = skip;
      while (last + 1 < lines.length && lines[last + 1].insnOff <= i) last++;
      const l = lines[last];
      const text = btfString(btf, l.lineOff);
      if (text !== undefined) row.source = { text: text.replace(/^[ \t\n\v\f\r]+/, ""), file: btfString(btf, l.fileNameOff), line: l.lineCol >>> 10, column: l.lineCol & 0x3ff };
      skip++;
    }
    row.disasm = printKernel(insn, { imm: bpftoolImm, callName, helperIds: HELPERS_61 });
    rows.push(row);
    if (wide) i++;
  }
  return rows;
}

// ---- output ---------------------------------------------------------------------------------------

const hexByte = (b: number) => b.toString(16).padStart(2, "0");

/** bpftool's plain dump. */
export function xlatedText(rows: readonly XlatedRow[], o: XlatedOptions = {}): string {
  const out: string[] = [];
  for (const r of rows) {
    if (r.proto !== undefined) out.push(`${r.proto}:\n`);
    if (r.source) {
      const s = r.source;
      out.push(o.linum ? `; ${s.text} [file:${s.file ?? ""} line_num:${s.line} line_col:${s.column}]\n` : `; ${s.text}\n`);
    }
    // printf("% 4d: "): width 4 with a space for the sign, so " 1000:" from 1000 on.
    out.push(`${r.index < 1000 ? String(r.index).padStart(4) : " " + r.index}: ${r.disasm}\n`);
    if (o.opcodes) {
      const b = Array.from(r.bytes, hexByte);
      out.push(`       ${b.slice(0, 8).join(" ")}${b.length > 8 ? " " + b.slice(8).join(" ") : ""}\n`);
    }
  }
  return out.join("");
}

/**
 * A JSON string as bpftool's json_writer writes one: C escapes only, other bytes as they are. One
 * exception: bpftool 7.1 (Linux 6.1's json_writer) writes a backslash as "\n", which reads back as
 * a newline; we write "\\", so a source line with a backslash reads back as it is in the BTF.
 */
function jsonString(s: string): string {
  let o = '"';
  for (const ch of s) {
    switch (ch) {
      case "\t": o += "\\t"; break;
      case "\n": o += "\\n"; break;
      case "\r": o += "\\r"; break;
      case "\f": o += "\\f"; break;
      case "\b": o += "\\b"; break;
      case "\\": o += "\\\\"; break;
      case '"': o += '\\"'; break;
      default: o += ch;
    }
  }
  return o + '"';
}

const hexArray = (b: Uint8Array) => "[" + Array.from(b, (x) => `"0x${hexByte(x)}"`).join(",") + "]";

/** bpftool -j's dump: an array of {proto?, src?, file?, line_num?, line_col?, disasm, opcodes?}. */
export function xlatedJson(rows: readonly XlatedRow[], o: XlatedOptions = {}): string {
  const items = rows.map((r) => {
    const f: string[] = [];
    if (r.proto !== undefined) f.push(`"proto":${jsonString(r.proto)}`);
    if (r.source) {
      f.push(`"src":${jsonString(r.source.text)}`);
      if (o.linum) {
        if (r.source.file !== undefined) f.push(`"file":${jsonString(r.source.file)}`);
        if (r.source.line) f.push(`"line_num":${r.source.line}`);
        if (r.source.column) f.push(`"line_col":${r.source.column}`);
      }
    }
    // bpftool quotes the disassembly without escaping it (it holds no quotes or backslashes).
    f.push(`"disasm":"${r.disasm}"`);
    if (o.opcodes) {
      // ld_imm64's "imm" runs on through its second slot (12 bytes), as bpftool prints it.
      const b = r.bytes;
      f.push(`"opcodes":{"code":"0x${hexByte(b[0])}","src_reg":"0x${(b[1] >> 4).toString(16)}","dst_reg":"0x${(b[1] & 15).toString(16)}","off":${hexArray(b.subarray(2, 4))},"imm":${hexArray(b.subarray(4))}}`);
    }
    return `{${f.join(",")}}`;
  });
  return `[${items.join(",")}]\n`;
}

/** Everything for one program fd: image, BTF (when it has one) and rows. */
export function dumpXlated(fd: number, syms: KernelSymbols = KernelSymbols.read()): XlatedRow[] {
  const x = readXlatedImage(fd);
  let btf: Btf | undefined;
  if (x.btfId) {
    using h = BtfHandle.fromId(x.btfId);
    btf = parseBtf(h.data());
  }
  return xlatedRows(x, btf, syms);
}
