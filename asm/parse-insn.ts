// The instruction grammar: one instruction in llvm-mc/llvm-objdump syntax or in the kernel's
// verifier-log/bpftool syntax → Insn. Jump and call targets that name a label or symbol are left in
// meta.ref for the assembler to resolve.

import type { Insn, SymbolRef } from "./insn.ts";
import {
  ALU_OP, ATOMIC, CALL_SRC, CLASS, JMP_OP, MODE, PSEUDO, SIZE, SIZE_CODE, SRC,
  type AluOp, type JmpCond, type Size,
} from "./opcodes.ts";
import { Cursor, type Reg } from "./parse-cursor.ts";
import type { Token } from "./lexer.ts";

const ALU_ASSIGN: Record<string, { alu: AluOp; signed?: boolean }> = {
  "+=": { alu: "add" }, "-=": { alu: "sub" }, "*=": { alu: "mul" }, "/=": { alu: "div" }, "|=": { alu: "or" },
  "&=": { alu: "and" }, "<<=": { alu: "lsh" }, ">>=": { alu: "rsh" }, "%=": { alu: "mod" }, "^=": { alu: "xor" },
  "s>>=": { alu: "arsh" }, "s/=": { alu: "div", signed: true }, "s%=": { alu: "mod", signed: true },
};

const JMP_CMP: Record<string, JmpCond> = {
  "==": "jeq", ">": "jgt", ">=": "jge", "&": "jset", "!=": "jne", "s>": "jsgt", "s>=": "jsge",
  "<": "jlt", "<=": "jle", "s<": "jslt", "s<=": "jsle",
};

const LOCK_OPS: Record<string, number> = { "+=": ATOMIC.ADD, "|=": ATOMIC.OR, "&=": ATOMIC.AND, "^=": ATOMIC.XOR };
const FETCH_OPS: Record<string, number> = { add: ATOMIC.ADD, or: ATOMIC.OR, and: ATOMIC.AND, xor: ATOMIC.XOR };

const MEM_TYPES: Record<string, { size: Size; signed: boolean }> = {
  u8: { size: 1, signed: false }, u16: { size: 2, signed: false }, u32: { size: 4, signed: false }, u64: { size: 8, signed: false },
  s8: { size: 1, signed: true }, s16: { size: 2, signed: true }, s32: { size: 4, signed: true },
};

const SWAPS = /^(be|le|bswap)(16|32|64)$/;
const ATOMIC_FN = /^(?:atomic(64)?_fetch_(add|or|and|xor)|(xchg_64|xchg32_32|atomic64_xchg|atomic_xchg)|(cmpxchg_64|cmpxchg32_32|atomic64_cmpxchg|atomic_cmpxchg)|(load_acquire))$/;

function mk(op: number, dst: number, src: number, off: number, imm: number): Insn {
  return { op, dst, src, off, imm };
}

/** Parse one instruction starting at the cursor. `prefix` is the kernel's "(xx)" opcode, if given. */
export function parseInsn(c: Cursor, prefix?: number): Insn {
  const t = c.peek();
  if (!t) c.fail("expected an instruction");
  let insn: Insn;
  if (t.kind === "id") {
    switch (t.text) {
      case "exit": c.i++; insn = mk(CLASS.JMP | JMP_OP.exit, 0, 0, 0, 0); break;
      case "goto": case "gotol": case "may_goto": insn = parseGoto(c); break;
      case "if": insn = parseIf(c); break;
      case "call": insn = parseCall(c); break;
      case "callx": { c.i++; const r = c.reg(); insn = mk(CLASS.JMP | JMP_OP.call | SRC.X, r.n, 0, 0, 0); break; }
      case "lock": insn = parseLock(c); break;
      case "store_release": insn = parseStoreRelease(c); break;
      case "ld_pseudo": insn = parseLdPseudo(c); break;
      default:
        if (c.isReg()) insn = parseAssign(c, prefix);
        else if (/^[rw]\d+$/.test(t.text)) c.fail(`invalid register ${t.text}`, t, "eBPF has registers r0..r10 (w0..w10 for their low 32 bits)");
        else c.fail(`unknown instruction '${t.text}'`, t, "see the BPF syntax printed by llvm-objdump -d or the kernel verifier log");
    }
  } else if (t.text === "*") {
    insn = parseStore(c);
  } else {
    c.fail("expected an instruction", t);
  }
  skipAnnotation(c);
  c.expectEnd();
  if (prefix !== undefined && prefix !== insn.op) {
    c.fail(`opcode (${hex2(prefix)}) does not match the instruction, which encodes as (${hex2(insn.op)})`, t);
  }
  return insn;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}

/** llvm-objdump appends "<sym+0x10>" to branch targets; it carries nothing we need. */
function skipAnnotation(c: Cursor): void {
  if (!c.at("<")) return;
  while (!c.done() && !c.at(">")) c.i++;
  c.expect(">");
}

/** A branch target: +N / -N / N / pc+N (kernel) or a label. */
function target(c: Cursor, bits: 16 | 32): { off: number; ref?: SymbolRef } {
  if (c.at("pc") && (c.at("+", 1) || c.at("-", 1))) c.i++;
  if (c.isInt()) {
    const { v, tok } = c.intNum("a jump offset");
    if (bits === 16) return { off: c.off16(v, tok, "jump offset") };
    if (v < -(2 ** 31) || v >= 2 ** 31) c.fail(`jump offset ${v} does not fit in 32 bits`, tok);
    return { off: v };
  }
  const name = c.ident("a jump target (label or +offset)");
  return { off: 0, ref: { kind: "label", name: name.text } };
}

function withRef(insn: Insn, ref: SymbolRef | undefined): Insn {
  if (ref) insn.meta = { ref };
  return insn;
}

function parseGoto(c: Cursor): Insn {
  const kw = c.take().text;
  if (kw === "gotol") {
    const { off, ref } = target(c, 32);
    return withRef(mk(CLASS.JMP32 | JMP_OP.ja, 0, 0, 0, off), ref);
  }
  const { off, ref } = target(c, 16);
  const op = kw === "goto" ? CLASS.JMP | JMP_OP.ja : CLASS.JMP | JMP_OP.jcond;
  return withRef(mk(op, 0, 0, off, 0), ref);
}

function parseIf(c: Cursor): Insn {
  c.i++;
  const dst = c.reg();
  const opTok = c.take();
  const cond = JMP_CMP[opTok.text];
  if (cond === undefined || opTok.kind !== "punct") c.fail("expected a comparison (==, !=, >, >=, <, <=, s>, s>=, s<, s<=, &)", opTok);
  const cls = dst.wide ? CLASS.JMP : CLASS.JMP32;
  let insn: Insn;
  if (c.isReg()) {
    const src = c.reg();
    sameWidth(c, dst, src);
    insn = mk(cls | JMP_OP[cond] | SRC.X, dst.n, src.n, 0, 0);
  } else {
    insn = mk(cls | JMP_OP[cond] | SRC.K, dst.n, 0, 0, c.imm32("a register or immediate to compare with"));
  }
  const g = c.peek();
  if (!c.eat("goto")) c.fail("expected 'goto'", g);
  const { off, ref } = target(c, 16);
  insn.off = off;
  return withRef(insn, ref);
}

function sameWidth(c: Cursor, a: Reg, b: Reg): void {
  if (a.wide !== b.wide) c.fail(`register ${b.tok.text} must be ${a.wide ? "r" : "w"}${b.n} to match ${a.tok.text}`, b.tok, "use rN with rN (64-bit) or wN with wN (32-bit)");
}

function parseCall(c: Cursor): Insn {
  c.i++;
  const op = CLASS.JMP | JMP_OP.call;
  // Kernel: "call pc+7" or "call pc+7#bpf_prog_…_sub" — a bpf-to-bpf call by relative offset.
  if (c.at("pc") && (c.at("+", 1) || c.at("-", 1))) {
    c.i++;
    const { v, tok } = c.int("a call offset");
    const imm = int32(c, v, tok);
    skipHashName(c);
    return mk(op, 0, CALL_SRC.PSEUDO_CALL, 0, imm);
  }
  if (c.isInt()) return mk(op, 0, CALL_SRC.HELPER, 0, c.imm32("a helper number"));
  const name = c.ident("a helper number, helper name or function label");
  // Kernel: "call bpf_map_lookup_elem#1": the number after '#' is the immediate as encoded.
  if (c.at("#") && !c.peek()!.spaced) {
    c.i++;
    const { v, tok } = c.int("the call immediate after '#'");
    return mk(op, 0, name.text === "kernel-function" ? CALL_SRC.KFUNC_CALL : CALL_SRC.HELPER, 0, int32(c, v, tok));
  }
  if (name.text === "kernel" && c.at("-")) c.fail("'call kernel-function' needs its '#imm'", name);
  return withRef(mk(op, 0, CALL_SRC.HELPER, 0, 0), { kind: "func", name: name.text });
}

function skipHashName(c: Cursor): void {
  if (c.at("#") && !c.peek()!.spaced) {
    c.i++;
    c.ident("a function name after '#'");
  }
}

function int32(c: Cursor, v: bigint, tok: Token): number {
  if (v < -(1n << 31n) || v > 0xffffffffn) c.fail(`value ${v} does not fit in 32 bits`, tok);
  return Number(BigInt.asIntN(32, v));
}

/** "*(u32 *)" after the leading '*' or '(' has been seen: returns the access type. */
function memType(c: Cursor): { size: Size; signed: boolean; tok: Token } {
  c.expect("(");
  const t = c.peek();
  const mt = t && t.kind === "id" ? MEM_TYPES[t.text] : undefined;
  if (!t || !mt) c.fail("expected an access type (u8, u16, u32, u64, s8, s16, s32)", t);
  c.i++;
  c.expect("*");
  c.expect(")");
  return { ...mt, tok: t };
}

/** "(rN + off)" / "(rN -8)" / "rN + off" (the xchg/cmpxchg forms have no parentheses). */
function memRef(c: Cursor, parens = true): { base: Reg; off: number } {
  if (parens) c.expect("(");
  const base = c.reg("a base register");
  if (!base.wide) c.fail(`base register must be r${base.n}`, base.tok, "addresses are 64-bit: write rN, not wN");
  let off = 0;
  if (c.at("+") || c.at("-")) {
    const neg = c.take().text === "-";
    const { v, tok } = c.intNum("an offset");
    off = c.off16(neg ? -v : v, tok);
  }
  if (parens) c.expect(")");
  return { base, off };
}

function unsignedOnly(c: Cursor, mt: { signed: boolean; tok: Token }, what: string): void {
  if (mt.signed) c.fail(`${what} take an unsigned access type (u8..u64)`, mt.tok);
}

function parseStore(c: Cursor): Insn {
  c.expect("*");
  const mt = memType(c);
  unsignedOnly(c, mt, "stores");
  const { base, off } = memRef(c);
  c.expect("=");
  if (c.isReg()) {
    const src = c.reg();
    return mk(CLASS.STX | MODE.MEM | SIZE_CODE[mt.size], base.n, src.n, off, 0);
  }
  return mk(CLASS.ST | MODE.MEM | SIZE_CODE[mt.size], base.n, 0, off, c.imm32("a register or immediate to store"));
}

function parseLock(c: Cursor): Insn {
  c.i++;
  c.expect("*");
  const mt = memType(c);
  unsignedOnly(c, mt, "atomic operations");
  const { base, off } = memRef(c);
  const opTok = c.take();
  const aop = LOCK_OPS[opTok.text];
  if (aop === undefined) c.fail("expected an atomic operation (+=, |=, &=, ^=)", opTok);
  const src = c.reg();
  return mk(CLASS.STX | MODE.ATOMIC | SIZE_CODE[mt.size], base.n, src.n, off, aop);
}

function parseStoreRelease(c: Cursor): Insn {
  c.i++;
  c.expect("(");
  const mt = memType(c);
  unsignedOnly(c, mt, "store_release");
  const { base, off } = memRef(c);
  c.expect(",");
  const src = c.reg();
  c.expect(")");
  return mk(CLASS.STX | MODE.ATOMIC | SIZE_CODE[mt.size], base.n, src.n, off, ATOMIC.STORE_REL);
}

function parseLdPseudo(c: Cursor): Insn {
  c.i++;
  const dst = c.reg();
  c.expect(",");
  const { v: srcV, tok } = c.int("a pseudo source number");
  if (srcV < 0n || srcV > 15n) c.fail(`pseudo source ${srcV} out of range`, tok, "ld_imm64 pseudo sources are 0..6 (BPF_PSEUDO_*)");
  c.expect(",");
  // Like llvm-mc, the operand is the 32-bit imm field; the upper half stays zero.
  const imm = c.imm32("an immediate");
  return lddw(c, dst, Number(srcV), BigInt(imm >>> 0), tok);
}

function lddw(c: Cursor, dst: Reg, src: number, v: bigint, tok: Token): Insn {
  if (v < -(1n << 63n) || v >= 1n << 64n) c.fail(`64-bit immediate ${v} out of range`, tok, "ld_imm64 takes a value in [-2^63, 2^64)");
  const imm64 = BigInt.asUintN(64, v);
  return { op: CLASS.LD | MODE.IMM | SIZE.DW, dst: dst.n, src, off: 0, imm: Number(BigInt.asIntN(32, imm64)), imm64 };
}

/** Everything that starts "rN": assignments (mov, loads, swaps, atomics returning a value) and ALU ops. */
function parseAssign(c: Cursor, prefix: number | undefined): Insn {
  const dst = c.reg();
  const opTok = c.take();
  if (opTok.kind === "punct" && opTok.text !== "=") {
    const a = ALU_ASSIGN[opTok.text];
    if (!a) c.fail("expected an assignment operator (=, +=, -=, *=, /=, %=, |=, &=, ^=, <<=, >>=, s>>=, s/=, s%=)", opTok);
    const cls = dst.wide ? CLASS.ALU64 : CLASS.ALU;
    const off = a.signed ? 1 : 0;
    if (c.isReg()) {
      const src = c.reg();
      sameWidth(c, dst, src);
      return mk(cls | ALU_OP[a.alu] | SRC.X, dst.n, src.n, off, 0);
    }
    return mk(cls | ALU_OP[a.alu] | SRC.K, dst.n, 0, off, c.imm32("a register or immediate"));
  }
  if (opTok.text !== "=") c.fail("expected an assignment operator", opTok);
  const t = c.peek();
  if (!t) c.fail("expected a value after '='");
  const cls = dst.wide ? CLASS.ALU64 : CLASS.ALU;

  // rD = *(u32 *)(rS + off)  |  r0 = *(u8 *)skb[…]
  if (t.text === "*" && t.kind === "punct") {
    c.i++;
    const mt = memType(c);
    if (c.at("skb")) return parseSkb(c, dst, mt);
    const { base, off } = memRef(c);
    if (mt.size === 8 && mt.signed) c.fail("there is no sign-extending 64-bit load", mt.tok);
    if (mt.signed && !dst.wide) c.fail(`sign-extending loads write the whole register: use r${dst.n}`, dst.tok);
    return mk(CLASS.LDX | (mt.signed ? MODE.MEMSX : MODE.MEM) | SIZE_CODE[mt.size], dst.n, base.n, off, 0);
  }
  // rD = (s8)rS: sign-extending move
  if (t.text === "(" && c.peek(1)?.kind === "id" && /^s(8|16|32)$/.test(c.peek(1)!.text)) {
    c.i += 2;
    const bits = Number(c.peek(-1)!.text.slice(1));
    c.expect(")");
    const src = c.reg();
    sameWidth(c, dst, src);
    if (!dst.wide && bits === 32) c.fail("(s32) needs 64-bit registers", c.peek(-1));
    return mk(cls | ALU_OP.mov | SRC.X, dst.n, src.n, bits, 0);
  }
  // rD = -rD: negation
  if (t.text === "-" && c.isReg(1)) {
    c.i++;
    const src = c.reg();
    sameWidth(c, dst, src);
    if (src.n !== dst.n) c.fail(`negation is in place: write ${dst.tok.text} = -${dst.tok.text}`, src.tok);
    return mk(cls | ALU_OP.neg | SRC.K, dst.n, 0, 0, 0);
  }
  if (c.isReg()) {
    const src = c.reg();
    // "r0 = w1" is how clang -S prints its zero-extending move (MOV_32_64): a 32-bit mov.
    if (dst.wide && !src.wide) return mk(CLASS.ALU | ALU_OP.mov | SRC.X, dst.n, src.n, 0, 0);
    sameWidth(c, dst, src);
    return mk(cls | ALU_OP.mov | SRC.X, dst.n, src.n, 0, 0);
  }
  if (c.isInt()) {
    const save = c.i;
    const { v, tok } = c.int("an immediate");
    if (c.eat("ll") || prefix === 0x18) {
      if (!dst.wide) c.fail(`64-bit immediate loads write r${dst.n}, not w${dst.n}`, dst.tok);
      return lddw(c, dst, PSEUDO.NONE, v, tok);
    }
    c.i = save;
    return mk(cls | ALU_OP.mov | SRC.K, dst.n, 0, 0, c.imm32("an immediate"));
  }
  if (t.kind !== "id") c.fail("expected a register, immediate, memory load or operation", t);
  const sw = SWAPS.exec(t.text);
  if (sw) {
    c.i++;
    const src = c.reg();
    if (src.n !== dst.n) c.fail(`byte swaps are in place: write ${dst.tok.text} = ${t.text} ${dst.tok.text}`, src.tok);
    const bits = Number(sw[2]);
    const op = sw[1] === "bswap" ? CLASS.ALU64 | ALU_OP.end : CLASS.ALU | ALU_OP.end | (sw[1] === "be" ? SRC.X : SRC.K);
    return mk(op, dst.n, 0, 0, bits);
  }
  if (t.text === "addr_space_cast" && c.at("(", 1)) return parseAddrSpaceCast(c, dst);
  const af = ATOMIC_FN.exec(t.text);
  if (af) return parseAtomicFn(c, dst, af);
  if (t.text === "map" && c.at("[", 1)) return parseMapRef(c, dst);
  // rD = symbol ll | rD = symbol + N ll: a relocated 64-bit load of a map or data address.
  const name = c.ident("a register, immediate, memory load or symbol");
  let offset = 0;
  if (c.at("+") || c.at("-")) {
    const neg = c.take().text === "-";
    const { v, tok } = c.int("an offset");
    offset = int32(c, neg ? -v : v, tok);
  }
  if (!c.eat("ll")) c.fail(`expected 'll' after the symbol: ${dst.tok.text} = ${name.text} ll`, c.peek());
  if (!dst.wide) c.fail(`64-bit immediate loads write r${dst.n}, not w${dst.n}`, dst.tok);
  const insn = lddw(c, dst, PSEUDO.NONE, BigInt(offset), name);
  insn.meta = { ref: offset === 0 ? { kind: "map", name: name.text } : { kind: "map_value", name: name.text, offset } };
  return insn;
}

function parseSkb(c: Cursor, dst: Reg, mt: { size: Size; signed: boolean; tok: Token }): Insn {
  c.i++;
  if (dst.n !== 0 || !dst.wide) c.fail("packet loads write r0", dst.tok);
  unsignedOnly(c, mt, "packet loads");
  if (mt.size === 8) c.fail("packet loads are u8, u16 or u32", mt.tok);
  c.expect("[");
  let insn: Insn;
  if (c.isReg()) {
    const src = c.reg();
    let imm = 0;
    if (c.eat("+")) imm = c.imm32("an offset");
    else if (c.at("-")) imm = c.imm32("an offset");
    insn = mk(CLASS.LD | MODE.IND | SIZE_CODE[mt.size], 0, src.n, 0, imm);
  } else {
    insn = mk(CLASS.LD | MODE.ABS | SIZE_CODE[mt.size], 0, 0, 0, c.imm32("a packet offset"));
  }
  c.expect("]");
  return insn;
}

function parseAtomicFn(c: Cursor, dst: Reg, m: RegExpExecArray): Insn {
  const fnTok = c.take();
  c.expect("(");
  if (m[5]) {
    // rD = load_acquire((u64 *)(rS + off)): the address register is src.
    const mt = memType(c);
    unsignedOnly(c, mt, "load_acquire");
    const { base, off } = memRef(c);
    c.expect(")");
    return mk(CLASS.STX | MODE.ATOMIC | SIZE_CODE[mt.size], dst.n, base.n, off, ATOMIC.LOAD_ACQ);
  }
  // llvm's xchg_64/cmpxchg_64 take a bare "rB + off"; the kernel's atomic64_* take "(u64 *)(rB +off)".
  let size: Size;
  let bare = false;
  if (c.at("(")) {
    const mt = memType(c);
    unsignedOnly(c, mt, "atomic operations");
    size = mt.size;
  } else {
    bare = true;
    size = /32/.test(fnTok.text) ? 4 : 8;
  }
  if (bare && (m[1] !== undefined || m[2] !== undefined)) c.fail("expected '(u32 *)' or '(u64 *)'", c.peek());
  const { base, off } = memRef(c, !bare);
  if (size !== 4 && size !== 8) c.fail("atomic operations are 32 or 64 bits wide", fnTok);
  c.expect(",");
  let imm: number;
  if (m[4]) {
    const r0 = c.reg();
    if (r0.n !== 0 || dst.n !== 0) c.fail("cmpxchg compares with and returns in r0", r0.n !== 0 ? r0.tok : dst.tok);
    c.expect(",");
    imm = ATOMIC.CMPXCHG;
  } else {
    imm = m[3] ? ATOMIC.XCHG : FETCH_OPS[m[2]] | ATOMIC.FETCH;
  }
  const src = c.reg();
  if (!m[4] && src.n !== dst.n) c.fail(`the value register must be the result register ${dst.tok.text}`, src.tok);
  c.expect(")");
  return mk(CLASS.STX | MODE.ATOMIC | SIZE_CODE[size], base.n, src.n, off, imm);
}

/** Kernel/bpftool: map[id:5], map[id:5][0]+16, map[idx:0], map[idx:0][0]+8, map[fd:3]. */
function parseMapRef(c: Cursor, dst: Reg): Insn {
  const start = c.take();
  c.expect("[");
  const kindTok = c.ident("'id', 'idx' or 'fd'");
  if (!["id", "idx", "fd"].includes(kindTok.text)) c.fail("expected 'id', 'idx' or 'fd'", kindTok);
  c.expect(":");
  const { v, tok } = c.int("a map number");
  const n = int32(c, v, tok);
  c.expect("]");
  let value: number | undefined;
  if (c.eat("[")) {
    const z = c.int("0");
    if (z.v !== 0n) c.fail("expected [0]", z.tok);
    c.expect("]");
    c.expect("+");
    const o = c.int("a value offset");
    value = int32(c, o.v, o.tok);
  }
  const idx = kindTok.text === "idx";
  const src = value === undefined ? (idx ? PSEUDO.MAP_IDX : PSEUDO.MAP_FD) : idx ? PSEUDO.MAP_IDX_VALUE : PSEUDO.MAP_VALUE;
  const imm64 = (BigInt((value ?? 0) >>> 0) << 32n) | BigInt(n >>> 0);
  return lddw(c, dst, src, imm64, start);
}

/** rD = addr_space_cast(rS, DST_AS, SRC_AS): a 64-bit mov with off 1 and imm = DST_AS << 16 | SRC_AS. */
function parseAddrSpaceCast(c: Cursor, dst: Reg): Insn {
  c.i++;
  c.expect("(");
  const src = c.reg();
  if (!dst.wide || !src.wide) c.fail("addr_space_cast works on 64-bit registers", !dst.wide ? dst.tok : src.tok);
  c.expect(",");
  const a = c.int("the destination address space");
  c.expect(",");
  const b = c.int("the source address space");
  c.expect(")");
  for (const x of [a, b]) if (x.v < 0n || x.v > 0xffffn) c.fail(`address space ${x.v} out of range 0..65535`, x.tok);
  return mk(CLASS.ALU64 | ALU_OP.mov | SRC.X, dst.n, src.n, 1, Number((a.v << 16n) | b.v) | 0);
}
