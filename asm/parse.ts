// BPF assembly text → statements (instructions, labels, directives), each with its line:column.
// Reads llvm-mc/llvm-objdump syntax and kernel verifier-log/bpftool syntax, including their line
// decorations ("12: (bf) r6 = r1", objdump's "7:  55 00 03 00 …  if r0 != 0x0 goto +0x3 <f+0x58>").

import { TsbpfError } from "../src/errors.ts";
import type { Insn } from "./insn.ts";
import { Lexer, type LexedLine, type Token } from "./lexer.ts";
import { Cursor } from "./parse-cursor.ts";
import { parseInsn } from "./parse-insn.ts";
import { fastLine } from "./parse-fast.ts";
import { belowTopTier, largeJob } from "../src/jit-tier.ts";

export interface Pos {
  file: string;
  line: number;
  column: number;
}

export interface DirectiveArg {
  /** The argument's source text, trimmed (string literals keep their quotes). */
  text: string;
  tokens: Token[];
  column: number;
}

export type Stmt =
  | { kind: "insn"; insn: Insn; at: Pos }
  | { kind: "label"; name: string; at: Pos }
  | { kind: "directive"; name: string; args: DirectiveArg[]; at: Pos };

/** Receives statements in source order as they are parsed (the assembler reads them this way, with no Stmt objects). */
export interface StmtSink {
  insn(insn: Insn, line: number, column: number): void;
  /**
   * An instruction without metadata, as its fields (hi: ld_imm64's high 32 bits), when the sink
   * takes them this way: the fast path then builds no Insn. Only used when sources are not kept.
   */
  packed?(op: number, dst: number, src: number, off: number, imm: number, hi: number, line: number, column: number): void;
  /** The last instruction given through packed(), as an Insn the sink keeps (objdump -r lines add a reference to it). */
  unpackLast?(): Insn;
  label(name: string, at: Pos): void;
  directive(name: string, args: DirectiveArg[], at: Pos): void;
}

export interface ParseOptions {
  file?: string;
  /** Record the source line on each instruction's meta.source (default true). */
  keepSource?: boolean;
  /**
   * The text is a kernel verifier log or a bpftool dump: take only the "N: (op) insn" lines and
   * skip the rest (register states, messages, source lines), which are not assembly.
   */
  log?: boolean;
  /** Read common lines through the fast path (default true; false checks it against the full grammar). */
  fast?: boolean;
}

const LOG_INSN = /^\s*\d+: \([0-9a-f]{2}\) /;

const HEX_BYTE = /^[0-9a-fA-F]{2}$/;

/** Parse a whole text. Throws TsbpfError(ASM_SYNTAX) at the first malformed line. */
export function parse(text: string, opts: ParseOptions = {}): Stmt[] {
  const file = opts.file ?? "<input>";
  const out: Stmt[] = [];
  parseTo(text, opts, {
    insn: (insn, line, column) => out.push({ kind: "insn", insn, at: { file, line, column } }),
    label: (name, at) => out.push({ kind: "label", name, at }),
    directive: (name, args, at) => out.push({ kind: "directive", name, args, at }),
  });
  return out;
}

/** Parse a whole text into `sink`. Throws TsbpfError(ASM_SYNTAX) at the first malformed line. */
export function parseTo(text: string, opts: ParseOptions, sink: StmtSink): void {
  if (text.length > LARGE_TEXT) largeJob();
  const file = opts.file ?? "<input>";
  const keep = opts.keepSource ?? true;
  const lx = new Lexer(text);
  const fast = !opts.log && opts.fast !== false;
  // The last statement, when it is an instruction: objdump -r's relocation lines attach to it.
  let last: Insn | undefined;
  // The last statement was an instruction given to sink.packed().
  let lastPacked = false;
  const track: StmtSink = {
    insn(insn, line, column) {
      last = insn;
      lastPacked = false;
      sink.insn(insn, line, column);
    },
    label(name, at) {
      last = undefined;
      lastPacked = false;
      sink.label(name, at);
    },
    directive(name, args, at) {
      last = undefined;
      lastPacked = false;
      sink.directive(name, args, at);
    },
  };
  if (sink.packed && sink.unpackLast) {
    const packed = sink.packed.bind(sink);
    track.packed = (op, dst, src, off, imm, hi, line, column) => {
      last = undefined;
      lastPacked = true;
      packed(op, dst, src, off, imm, hi, line, column);
    };
  }
  for (;;) {
    // Common lines go through the fast path; the rest (and every error) through the lexer and grammar.
    if (fast && !lx.inComment) {
      const start = lx.position;
      if (start >= text.length) break;
      let end = text.indexOf("\n", start);
      if (end < 0) end = text.length;
      if (fastLine(text, start, end, lx.lineNumber + 1, file, keep, track)) {
        lx.skipLine(end);
        continue;
      }
    }
    const line = lx.next();
    if (line === undefined) break;
    if (opts.log && !LOG_INSN.test(line.text)) continue;
    parseLine(line, file, keep, track, () => {
      if (lastPacked && sink.unpackLast) {
        last = sink.unpackLast();
        lastPacked = false;
      }
      return last;
    });
  }
}

/** Parse one instruction written on its own (no labels or directives). */
export function parseInsnText(text: string, file = "<input>"): Insn {
  const stmts = parse(text, { file, keepSource: false });
  const insns = stmts.filter((s) => s.kind === "insn");
  if (insns.length !== 1 || stmts.length !== 1) {
    throw new TsbpfError("ASM_SYNTAX", `expected exactly one instruction, found ${stmts.length} statements`, { file, line: 1, column: 1 });
  }
  return (insns[0] as { insn: Insn }).insn;
}

/** llvm-objdump's section header, matched on the raw line: names may hold '//' or '?' ("uprobe//bin/sh:f", "?tc"). */
const SECTION_HEADER = /^Disassembly of section (.+):\s*$/;

function parseLine(line: LexedLine, file: string, keep: boolean, out: StmtSink, last: () => Insn | undefined): void {
  const toks = line.tokens;
  const header = SECTION_HEADER.exec(line.text);
  if (header) {
    out.directive(".section", [{ text: header[1], tokens: [], column: 24 }], { file, line: line.line, column: 1 });
    return;
  }
  if (line.bad) {
    throw new TsbpfError("ASM_SYNTAX", `unexpected character '${line.bad.ch}'`, { file, line: line.line, column: line.bad.col },
      line.bad.ch === '"' ? "unterminated string literal" : undefined);
  }
  if (toks.length === 0) return;
  const c = new Cursor(line, file);
  const at = (t: Token): Pos => ({ file, line: line.line, column: t.col });

  // Line decorations from the tools that print BPF.
  if (skipToolHeader(c, out, at)) return;
  if (c.peek()?.kind === "num" && c.at(":", 1)) {
    c.i += 2;
    if (c.peek()?.text.startsWith("R_BPF_")) {
      attachRelocation(c, last());
      return;
    }
    skipRawBytes(c);
  }
  while (!c.done()) {
    const t = c.peek()!;
    // label:   (also ".LBB0_2:")
    if (t.kind === "id" && c.at(":", 1) && !isRegName(t.text)) {
      out.label(t.text, at(t));
      c.i += 2;
      continue;
    }
    if (t.kind === "id" && t.text.startsWith(".") && t.text.length > 1) {
      c.i++;
      out.directive(t.text, directiveArgs(c, line), at(t));
      return;
    }
    break;
  }
  if (c.done()) return;
  const first = c.peek()!;
  let prefix: number | undefined;
  // Kernel: "(bf) r6 = r1" — the opcode byte in parentheses.
  if (c.at("(") && c.at(")", 2) && HEX_BYTE.test(c.peek(1)!.text)) {
    prefix = parseInt(c.peek(1)!.text, 16);
    c.i += 3;
  }
  const insn = parseInsn(c, prefix);
  if (keep) {
    const meta = insn.meta ?? (insn.meta = {});
    meta.source = { file, line: line.line, column: first.col, text: line.text };
  }
  out.insn(insn, line.line, first.col);
}

/**
 * objdump -r prints "0000000000000020:  R_BPF_64_64  m" under the instruction it patches; turn it
 * back into the symbolic reference it came from so that "objdump -dr" output reassembles.
 */
function attachRelocation(c: Cursor, prev: Insn | undefined): void {
  const kindTok = c.take();
  const sym = c.ident("the relocation's symbol");
  c.expectEnd();
  if (!prev) c.fail("a relocation line must follow the instruction it applies to", kindTok);
  const meta = prev.meta ?? (prev.meta = {});
  if (kindTok.text === "R_BPF_64_64") meta.ref = { kind: "map", name: sym.text };
  else if (kindTok.text === "R_BPF_64_32") meta.ref = { kind: "func", name: sym.text };
  else c.fail(`unsupported relocation type ${kindTok.text}`, kindTok, "BPF code uses R_BPF_64_64 (ld_imm64) and R_BPF_64_32 (calls)");
}

function isRegName(s: string): boolean {
  return /^[rw](10|[0-9])$/.test(s);
}

/** objdump prints each instruction's bytes after its index: 8 (or 16) two-digit hex groups. */
function skipRawBytes(c: Cursor): void {
  let n = 0;
  while (n < 16 && HEX_BYTE.test(c.peek(n)?.text ?? "") && c.peek(n)!.kind !== "str") n++;
  if (n === 8 || n === 16) c.i += n;
}

/**
 * Lines the disassemblers print around the code: objdump's "0000000000000000 <prog>:" (a label),
 * "Disassembly of section xdp:" (a section), "f.o:\tfile format elf64-bpf"; bpftool's function
 * headers "int prog(struct xdp_md * ctx):" (a label). Returns true if the line was one of them.
 */
function skipToolHeader(c: Cursor, out: StmtSink, at: (t: Token) => Pos): boolean {
  const toks = c.toks;
  const n = toks.length;
  const last = toks[n - 1];
  if (last.text !== ":" || last.kind !== "punct") {
    return /\sfile format elf64-bpf\s*$/.test(c.line.text);
  }
  if (n === 5 && toks[0].kind === "num" && toks[1].text === "<" && toks[3].text === ">") {
    out.label(toks[2].text, at(toks[2]));
    return true;
  }
  if (n >= 5 && toks[0].text === "Disassembly" && toks[1].text === "of" && toks[2].text === "section") {
    const text = c.line.text;
    const name = text.slice(toks[3].col - 1, last.col - 1).trim();
    out.directive(".section", [{ text: name, tokens: toks.slice(3, n - 1), column: toks[3].col }], at(toks[0]));
    return true;
  }
  if (n >= 4 && toks[n - 2].text === ")" && toks[0].kind === "id" && !toks[0].text.startsWith(".")) {
    const open = toks.findIndex((t) => t.text === "(");
    if (open >= 2 && toks[open - 1].kind === "id") {
      out.label(toks[open - 1].text, at(toks[open - 1]));
      return true;
    }
  }
  return false;
}

/** The rest of a directive line, split at top-level commas. */
function directiveArgs(c: Cursor, line: LexedLine): DirectiveArg[] {
  const args: DirectiveArg[] = [];
  let cur: Token[] = [];
  const flush = () => {
    if (cur.length === 0) return;
    const from = cur[0].col - 1;
    const to = cur[cur.length - 1].end - 1;
    args.push({ text: line.text.slice(from, to).trim(), tokens: cur, column: cur[0].col });
    cur = [];
  };
  for (; !c.done(); c.i++) {
    const t = c.peek()!;
    if (t.kind === "punct" && t.text === ",") {
      if (cur.length === 0) c.fail("expected an argument before ','", t);
      flush();
    } else cur.push(t);
  }
  flush();
  return args;
}

// The line loop runs once per file: not worth JavaScriptCore's top tier (src/jit-tier.ts), applied
// (to the parser's and assembler's registered functions) when the text is long enough for that tier
// to be tried at all.
const LARGE_TEXT = 1 << 17;
belowTopTier([], [parseTo]);
