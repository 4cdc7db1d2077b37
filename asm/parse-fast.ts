// The parser's fast path: the common llvm-mc/llvm-objdump instruction lines (labels, ALU and moves,
// loads, stores, jumps, calls, exit, ld_imm64) read straight from character codes, with no tokens.
// It accepts only what the full grammar (parse-insn.ts) accepts and builds the same Insn; any other
// line, and every malformed one, is left to the lexer and grammar, which also produce the errors.

import { joinImm64, type Insn, type SymbolRef } from "./insn.ts";
import { ALU_OP, CALL_SRC, CLASS, JMP_OP, MODE, PSEUDO, SIZE, SRC, type AluOp, type JmpCond } from "./opcodes.ts";
import type { Pos, StmtSink } from "./parse.ts";
import { belowTopTier } from "../src/jit-tier.ts";

// Operators as the lexer matches them (longest first), with the signed ones glued to an "s".
const ALU_ASSIGN: Record<string, AluOp | undefined> = {
  "+=": "add", "-=": "sub", "*=": "mul", "/=": "div", "|=": "or", "&=": "and", "<<=": "lsh", ">>=": "rsh", "%=": "mod", "^=": "xor",
  "s>>=": "arsh", "s/=": "div", "s%=": "mod",
};
const JMP_CMP: Record<string, JmpCond | undefined> = {
  "==": "jeq", ">": "jgt", ">=": "jge", "&": "jset", "!=": "jne", "s>": "jsgt", "s>=": "jsge", "<": "jlt", "<=": "jle", "s<": "jslt", "s<=": "jsle",
};
const SIGNED_OPS = new Set(["<", ">", "<=", ">=", ">>=", "/=", "%="]);
// Names the full grammar treats specially after "rN =": left to it.
const SPECIAL_RHS = /^(?:(?:be|le|bswap)(?:16|32|64)|atomic.*|xchg.*|cmpxchg.*|load_acquire|map|addr_space_cast|skb)$/;

// The line being read: text, position, end (past the last character, CR excluded).
let s = "";
let p = 0;
let e = 0;
// Set by reg(): whether the register read was rN (64-bit view).
let wide = false;

function isIdStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 46 || c === 36;
}
function isIdPart(c: number): boolean {
  return isIdStart(c) || (c >= 48 && c <= 57);
}

/** Skip blanks; true if any were skipped. */
function ws(): boolean {
  const from = p;
  for (; p < e; p++) {
    const c = s.charCodeAt(p);
    if (c !== 32 && c !== 9 && c !== 13) break;
  }
  return p > from;
}

/** End of the identifier starting at p (p itself if none starts there). */
function idEnd(): number {
  if (p >= e || !isIdStart(s.charCodeAt(p))) return p;
  let j = p + 1;
  while (j < e && isIdPart(s.charCodeAt(j))) j++;
  return j;
}

/** The keyword `kw` as a whole identifier at p: consume it. */
function keyword(kw: string): boolean {
  ws();
  if (!s.startsWith(kw, p) || idEnd() !== p + kw.length) return false;
  p += kw.length;
  return true;
}

/** r0..r10 / w0..w10 as a whole identifier at p: its number (sets `wide`), else -1 without moving. */
function reg(): number {
  ws();
  const c = s.charCodeAt(p);
  if (c !== 114 && c !== 119) return -1;
  const d = s.charCodeAt(p + 1) - 48;
  if (p + 1 >= e || d < 0 || d > 9) return -1;
  let n = d;
  let j = p + 2;
  if (d === 1 && j < e && s.charCodeAt(j) === 48) {
    n = 10;
    j++;
  }
  if (j < e && isIdPart(s.charCodeAt(j))) return -1;
  wide = c === 114;
  p = j;
  return n;
}

/** The operator at p, matched as the lexer matches it ("s" glued to a signed one), or undefined. */
function punct(): string | undefined {
  ws();
  if (p >= e) return undefined;
  let glued = false;
  if (s.charCodeAt(p) === 115 /* s */) {
    if (p + 1 >= e || isIdPart(s.charCodeAt(p + 1))) return undefined;
    glued = true;
    p++;
  }
  const op = opAt();
  if (op === undefined || (glued && !SIGNED_OPS.has(op))) {
    if (glued) p--;
    return undefined;
  }
  p += op.length;
  return glued ? SIGNED[op] : op;
}

const SIGNED: Record<string, string> = { "<": "s<", ">": "s>", "<=": "s<=", ">=": "s>=", ">>=": "s>>=", "/=": "s/=", "%=": "s%=" };

/** The operator text at p (not consumed), longest match first, as constants (no string building per line). */
function opAt(): string | undefined {
  const c = s.charCodeAt(p);
  const eq = p + 1 < e && s.charCodeAt(p + 1) === 61;
  switch (c) {
    case 60: // <
    case 62: { // >
      const lt = c === 60;
      if (p + 1 < e && s.charCodeAt(p + 1) === c) {
        const eq2 = p + 2 < e && s.charCodeAt(p + 2) === 61;
        return lt ? (eq2 ? "<<=" : "<<") : eq2 ? ">>=" : ">>";
      }
      return lt ? (eq ? "<=" : "<") : eq ? ">=" : ">";
    }
    case 61: return eq ? "==" : "=";
    case 33: return eq ? "!=" : "!";
    case 43: return eq ? "+=" : "+";
    case 45: return eq ? "-=" : "-";
    case 42: return eq ? "*=" : "*";
    case 47: return eq ? "/=" : "/";
    case 37: return eq ? "%=" : "%";
    case 124: return eq ? "|=" : "|";
    case 38: return eq ? "&=" : "&";
    case 94: return eq ? "^=" : "^";
    case 40: return "(";
    case 41: return ")";
    case 44: return ",";
  }
  return undefined;
}

/** The single-character token `ch` (not the start of a longer operator): consume it. */
function char(ch: string): boolean {
  ws();
  if (s[p] !== ch) return false;
  const n1 = s[p + 1];
  if (n1 === "=" && ch !== "(" && ch !== ")" && ch !== ",") return false;
  if ((ch === "<" || ch === ">") && n1 === ch) return false;
  p++;
  return true;
}

/**
 * An integer with an optional sign: plain decimal, 0x hex or 0, safely within 2^53 (anything else,
 * octal and binary included, is NaN: the full grammar reads it).
 */
function num(): number {
  ws();
  let neg = false;
  const c0 = s.charCodeAt(p);
  if (c0 === 45 || c0 === 43) {
    if (s.charCodeAt(p + 1) === 61) return NaN;
    neg = c0 === 45;
    p++;
    ws();
  }
  const from = p;
  let c = s.charCodeAt(p);
  if (p >= e || c < 48 || c > 57) return NaN;
  let v = 0;
  if (c === 48 && (s.charCodeAt(p + 1) | 0x20) === 120) {
    p += 2;
    const h0 = p;
    for (; p < e; p++) {
      c = s.charCodeAt(p);
      const d = c >= 48 && c <= 57 ? c - 48 : (c | 0x20) >= 97 && (c | 0x20) <= 102 ? (c | 0x20) - 87 : -1;
      if (d < 0) break;
      v = v * 16 + d;
    }
    if (p === h0 || p - h0 > 13) return NaN;
  } else if (c === 48) {
    p++;
  } else {
    for (; p < e; p++) {
      c = s.charCodeAt(p);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
    }
    if (p - from > 15) return NaN;
  }
  if (p < e && isIdPart(s.charCodeAt(p))) return NaN;
  return neg ? -v : v;
}

/** A signed 32-bit immediate (values up to 0xffffffff taken as their pattern), or NaN. */
function imm32(): number {
  const v = num();
  return v >= -0x80000000 && v <= 0xffffffff ? v | 0 : NaN;
}

/** At the end of the line, or at a comment that runs to it. */
function atEnd(): boolean {
  const spaced = ws();
  if (p >= e) return true;
  const c = s.charCodeAt(p);
  return c === 59 || (c === 47 && s.charCodeAt(p + 1) === 47) || (c === 35 && spaced);
}

// The instruction read, as scalars: an object is built only when the sink wants one (an
// Insn per line costs the garbage collector more than reading the line).
let iOp = 0;
let iDst = 0;
let iSrc = 0;
let iOff = 0;
let iImm = 0;
/** ld_imm64 only: the high 32 bits of the immediate. */
let iHi = 0;

function mk(op: number, dst: number, src: number, off: number, imm: number): boolean {
  iOp = op;
  iDst = dst;
  iSrc = src;
  iOff = off;
  iImm = imm;
  iHi = 0;
  return true;
}

/** ld_imm64 of v (a safe integer; negative ones as their 64-bit pattern). */
function lddw(dst: number, src: number, v: number): boolean {
  mk(CLASS.LD | MODE.IMM | SIZE.DW, dst, src, 0, v | 0);
  iHi = Math.floor(v / 2 ** 32) | 0;
  return true;
}

function built(): Insn {
  if (iOp === (CLASS.LD | MODE.IMM | SIZE.DW)) return { op: iOp, dst: iDst, src: iSrc, off: iOff, imm: iImm, imm64: joinImm64(iImm, iHi) };
  return { op: iOp, dst: iDst, src: iSrc, off: iOff, imm: iImm };
}

// A symbolic reference the instruction read, if any.
let ref: SymbolRef | undefined;

/** A branch target: +N / -N / N within `bits`, or a label. NaN if not one the fast path reads. */
function target(bits: 16 | 32): number {
  ws();
  const c = s.charCodeAt(p);
  if (c === 43 || c === 45 || (c >= 48 && c <= 57)) {
    const v = num();
    if (!(bits === 16 ? v >= -32768 && v <= 32767 : v >= -(2 ** 31) && v < 2 ** 31)) return NaN;
    return v;
  }
  const from = p;
  const j = idEnd();
  if (j === p) return NaN;
  if (reg() >= 0) return NaN;
  const name = s.slice(from, j);
  if (name === "pc") return NaN;
  p = j;
  ref = { kind: "label", name };
  return 0;
}

/** "(u32 *)" after '*': the size code (negative for the signed types), NaN if not one. */
function memType(): number {
  if (!char("(")) return NaN;
  ws();
  const j = idEnd();
  const sz = memSize(p, j);
  if (sz !== sz) return NaN;
  p = j;
  return char("*") && char(")") ? sz : NaN;
}

/** The access type s[from, to) (u8..u64, s8..s32) as its size code, the signed ones as -1 - code; NaN if none. */
function memSize(from: number, to: number): number {
  const n = to - from;
  if (n < 2 || n > 3) return NaN;
  const u = s.charCodeAt(from);
  if (u !== 117 && u !== 115) return NaN;
  const d1 = s.charCodeAt(from + 1) - 48;
  const d2 = n === 3 ? s.charCodeAt(from + 2) - 48 : 0;
  if (d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return NaN;
  const bits = n === 2 ? d1 : d1 * 10 + d2;
  const code = bits === 8 && n === 2 ? SIZE.B : bits === 16 ? SIZE.H : bits === 32 ? SIZE.W : bits === 64 && u === 117 ? SIZE.DW : -1;
  if (code < 0) return NaN;
  return u === 117 ? code : -1 - code;
}

// The base register and offset memRef() read.
let memBase = 0;
let memOff = 0;

/** "(rN + off)" / "(rN - off)" / "(rN)" with a 64-bit base; false if not that. */
function memRef(): boolean {
  if (!char("(")) return false;
  memBase = reg();
  if (memBase < 0 || !wide) return false;
  memOff = 0;
  ws();
  const c = s.charCodeAt(p);
  if (c === 43 || c === 45) {
    if (!char(c === 43 ? "+" : "-")) return false;
    const v = num();
    const off = c === 45 ? -v : v;
    if (!(off >= -32768 && off <= 32767)) return false;
    memOff = off;
  }
  return char(")");
}

/** "rD …": assignments, loads and ALU operations. */
function assign(): boolean {
  const dst = reg();
  const dw = wide;
  const cls = dw ? CLASS.ALU64 : CLASS.ALU;
  const op = punct();
  if (op === undefined) return false;
  if (op !== "=") {
    const alu = ALU_ASSIGN[op];
    if (alu === undefined) return false;
    const off = op === "s/=" || op === "s%=" ? 1 : 0;
    const src = reg();
    if (src >= 0) return wide !== dw ? false : mk(cls | ALU_OP[alu] | SRC.X, dst, src, off, 0);
    const imm = imm32();
    return imm !== imm ? false : mk(cls | ALU_OP[alu] | SRC.K, dst, 0, off, imm);
  }
  ws();
  const c = s.charCodeAt(p);
  if (c === 42) {
    // rD = *(u32 *)(rS + off)
    if (!char("*")) return false;
    const sz = memType();
    if (sz !== sz || !memRef()) return false;
    if (sz >= 0) return mk(CLASS.LDX | MODE.MEM | sz, dst, memBase, memOff, 0);
    const code = -1 - sz;
    if (!dw) return false;
    return mk(CLASS.LDX | MODE.MEMSX | code, dst, memBase, memOff, 0);
  }
  if (c === 40) {
    // rD = (s8)rS
    p++;
    ws();
    const j = idEnd();
    const t = s.slice(p, j);
    const bits = t === "s8" ? 8 : t === "s16" ? 16 : t === "s32" ? 32 : 0;
    if (bits === 0) return false;
    p = j;
    if (!char(")")) return false;
    const src = reg();
    if (src < 0 || wide !== dw || (!dw && bits === 32)) return false;
    return mk(cls | ALU_OP.mov | SRC.X, dst, src, bits, 0);
  }
  if (c === 45) {
    // rD = -rD
    const save = p;
    if (!char("-")) return false;
    const src = reg();
    if (src >= 0) return src !== dst || wide !== dw ? false : mk(cls | ALU_OP.neg | SRC.K, dst, 0, 0, 0);
    p = save;
  }
  const src = reg();
  if (src >= 0) {
    if (dw && !wide) return mk(CLASS.ALU | ALU_OP.mov | SRC.X, dst, src, 0, 0);
    return wide !== dw ? false : mk(cls | ALU_OP.mov | SRC.X, dst, src, 0, 0);
  }
  if (c === 43 || c === 45 || (c >= 48 && c <= 57)) {
    const v = num();
    if (v !== v) return false;
    if (keyword("ll")) return dw ? lddw(dst, PSEUDO.NONE, v) : false;
    return v < -0x80000000 || v > 0xffffffff ? false : mk(cls | ALU_OP.mov | SRC.K, dst, 0, 0, v | 0);
  }
  // rD = symbol [± N] ll
  const j = idEnd();
  if (j === p) return false;
  const name = s.slice(p, j);
  if (SPECIAL_RHS.test(name)) return false;
  p = j;
  let offset = 0;
  ws();
  const sc = s.charCodeAt(p);
  if (sc === 43 || sc === 45) {
    if (!char(sc === 43 ? "+" : "-")) return false;
    const v = num();
    const o = sc === 45 ? -v : v;
    if (!(o >= -(2 ** 31) && o <= 0xffffffff)) return false;
    offset = o | 0;
  }
  if (!keyword("ll") || !dw) return false;
  ref = offset === 0 ? { kind: "map", name } : { kind: "map_value", name, offset };
  return lddw(dst, PSEUDO.NONE, offset);
}

/** "*(u32 *)(rD + off) = rS | imm". */
function store(): boolean {
  if (!char("*")) return false;
  const sz = memType();
  if (!(sz >= 0) || !memRef() || !char("=")) return false;
  const src = reg();
  if (src >= 0) return mk(CLASS.STX | MODE.MEM | sz, memBase, src, memOff, 0);
  const imm = imm32();
  return imm !== imm ? false : mk(CLASS.ST | MODE.MEM | sz, memBase, 0, memOff, imm);
}

function cond(): boolean {
  const dst = reg();
  if (dst < 0) return false;
  const dw = wide;
  const opText = punct();
  const cnd = opText === undefined ? undefined : JMP_CMP[opText];
  if (cnd === undefined) return false;
  const cls = dw ? CLASS.JMP : CLASS.JMP32;
  const src = reg();
  if (src >= 0) {
    if (wide !== dw) return false;
    mk(cls | JMP_OP[cnd] | SRC.X, dst, src, 0, 0);
  } else {
    const imm = imm32();
    if (imm !== imm) return false;
    mk(cls | JMP_OP[cnd] | SRC.K, dst, 0, 0, imm);
  }
  if (!keyword("goto")) return false;
  const off = target(16);
  if (off !== off) return false;
  iOff = off;
  return true;
}

function call(): boolean {
  ws();
  const c = s.charCodeAt(p);
  if (c === 43 || c === 45 || (c >= 48 && c <= 57)) {
    const imm = imm32();
    return imm !== imm ? false : mk(CLASS.JMP | JMP_OP.call, 0, CALL_SRC.HELPER, 0, imm);
  }
  const j = idEnd();
  if (j === p || reg() >= 0) return false;
  const name = s.slice(p, j);
  if (name === "pc" || name === "kernel") return false;
  p = j;
  ref = { kind: "func", name };
  return mk(CLASS.JMP | JMP_OP.call, 0, CALL_SRC.HELPER, 0, 0);
}

function ldPseudo(): boolean {
  const dst = reg();
  if (dst < 0 || !char(",")) return false;
  const src = num();
  if (!(src >= 0 && src <= 15) || !char(",")) return false;
  const imm = imm32();
  return imm !== imm ? false : lddw(dst, src, imm >>> 0);
}

/** Read the instruction at p into the scalars above; false if the fast path does not read it. */
function insnAt(): boolean {
  const c = s.charCodeAt(p);
  if (c === 42) return store();
  const j = idEnd();
  switch (j - p) {
    case 2:
      if (s.startsWith("if", p)) { p = j; return cond(); }
      break;
    case 4:
      if (s.startsWith("exit", p)) { p = j; return mk(CLASS.JMP | JMP_OP.exit, 0, 0, 0, 0); }
      if (s.startsWith("goto", p)) {
        p = j;
        const off = target(16);
        return off !== off ? false : mk(CLASS.JMP | JMP_OP.ja, 0, 0, off, 0);
      }
      if (s.startsWith("call", p)) { p = j; return call(); }
      break;
    case 5:
      if (s.startsWith("gotol", p)) {
        p = j;
        const off = target(32);
        return off !== off ? false : mk(CLASS.JMP32 | JMP_OP.ja, 0, 0, 0, off);
      }
      break;
    case 8:
      if (s.startsWith("may_goto", p)) {
        p = j;
        const off = target(16);
        return off !== off ? false : mk(CLASS.JMP | JMP_OP.jcond, 0, 0, off, 0);
      }
      break;
    case 9:
      if (s.startsWith("ld_pseudo", p)) { p = j; return ldPseudo(); }
      break;
  }
  if (reg() < 0) return false;
  p = insnStart; // assign() reads the destination itself
  return assign();
}

// Where the instruction starts (its column).
let insnStart = 0;

/**
 * Read the line src[start, end) (end excludes the newline) if the fast path knows its form,
 * appending its labels and instruction to `out`; false (and nothing appended) otherwise.
 */
export function fastLine(src: string, start: number, end: number, lineNo: number, file: string, keep: boolean, out: StmtSink): boolean {
  s = src;
  p = start;
  e = end > start && src.charCodeAt(end - 1) === 13 ? end - 1 : end;
  const textEnd = e;
  let labels: { name: string; at: Pos }[] | undefined;
  let comment = false;
  for (;;) {
    const sp = ws() || p === start;
    if (p >= e) break;
    const c = s.charCodeAt(p);
    if (c === 59 || (c === 47 && s.charCodeAt(p + 1) === 47) || (c === 35 && sp)) {
      comment = true;
      break;
    }
    const from = p;
    const j = idEnd();
    if (j === p) break;
    p = j;
    ws();
    if (s.charCodeAt(p) === 58) {
      const colon = p;
      p = from;
      if (reg() < 0) {
        // label:
        p = colon + 1;
        (labels ??= []).push({ name: s.slice(from, j), at: { file, line: lineNo, column: from - start + 1 } });
        continue;
      }
    }
    p = from;
    break;
  }
  if (comment || p >= e) {
    if (labels) for (const l of labels) out.label(l.name, l.at);
    return true;
  }
  if (s.charCodeAt(p) === 46) return false; // a directive
  insnStart = p;
  ref = undefined;
  if (!insnAt() || !atEnd()) return false;
  const column = insnStart - start + 1;
  if (labels) for (const l of labels) out.label(l.name, l.at);
  if (!keep && ref === undefined && out.packed) {
    out.packed(iOp, iDst, iSrc, iOff, iImm, iHi, lineNo, column);
    return true;
  }
  const insn = built();
  if (keep) {
    const source = { file, line: lineNo, column, text: src.slice(start, textEnd) };
    insn.meta = ref ? { ref, source } : { source };
  } else if (ref) insn.meta = { ref };
  out.insn(insn, lineNo, column);
  return true;
}

// One `tsbpf asm` reads each form too few times to repay JavaScriptCore's top tier (src/jit-tier.ts):
// a 171k-line file took 295-304 ms CPU with it, 263-281 ms without.
belowTopTier([], [fastLine, insnAt, assign, store, cond, call, ldPseudo, target, memType, memSize, memRef, num, imm32, atEnd,
  char, punct, opAt, reg, keyword, idEnd, ws, isIdStart, isIdPart, mk, lddw, built]);
