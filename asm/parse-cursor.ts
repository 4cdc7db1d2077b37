// A cursor over one line's tokens with the small "expect this" helpers the grammar uses; every
// failure becomes TsbpfError(ASM_SYNTAX) at the offending token's line:column, saying what was expected.

import { TsbpfError } from "../src/errors.ts";
import { parseIntLiteral, parseSmallInt, type LexedLine, type Token } from "./lexer.ts";

export interface Reg {
  n: number;
  /** true for rN (64-bit view), false for wN (32-bit view). */
  wide: boolean;
  tok: Token;
}

/** r0..r10 / w0..w10 → register number, else -1 (hot: every operand is tested). */
function regNumber(text: string): number {
  const c = text.charCodeAt(0);
  if (c !== 114 && c !== 119) return -1;
  if (text.length === 2) {
    const d = text.charCodeAt(1) - 48;
    return d >= 0 && d <= 9 ? d : -1;
  }
  return text.length === 3 && text[1] === "1" && text[2] === "0" ? 10 : -1;
}

export class Cursor {
  i = 0;
  constructor(readonly line: LexedLine, readonly file: string, start = 0) {
    this.i = start;
  }

  get toks(): Token[] {
    return this.line.tokens;
  }
  peek(k = 0): Token | undefined {
    return this.line.tokens[this.i + k];
  }
  done(): boolean {
    return this.i >= this.line.tokens.length;
  }
  /** True if the next token's text is `text` (any kind but str). */
  at(text: string, k = 0): boolean {
    const t = this.line.tokens[this.i + k];
    return t !== undefined && t.kind !== "str" && t.text === text;
  }
  eat(text: string): boolean {
    if (!this.at(text)) return false;
    this.i++;
    return true;
  }
  take(): Token {
    const t = this.line.tokens[this.i];
    if (!t) this.fail("unexpected end of line");
    this.i++;
    return t;
  }
  expect(text: string, what = `'${text}'`): Token {
    const t = this.peek();
    if (!t || t.kind === "str" || t.text !== text) this.fail(`expected ${what}`, t);
    this.i++;
    return t;
  }
  expectEnd(what = "end of line"): void {
    if (!this.done()) this.fail(`expected ${what}`, this.peek());
  }

  /** Throw ASM_SYNTAX at `tok` (or at the end of the line). */
  fail(message: string, tok: Token | undefined = this.peek(), hint?: string): never {
    const column = tok ? tok.col : this.line.text.length + 1;
    const found = tok ? `'${tok.kind === "str" ? JSON.stringify(tok.text) : tok.text}'` : "end of line";
    const msg = message.startsWith("expected") ? `${message}, found ${found}` : message;
    throw new TsbpfError("ASM_SYNTAX", msg, { file: this.file, line: this.line.line, column }, hint);
  }

  isReg(k = 0): boolean {
    const t = this.peek(k);
    return t !== undefined && t.kind === "id" && regNumber(t.text) >= 0;
  }
  reg(what = "a register (r0..r10 or w0..w10)"): Reg {
    const t = this.peek();
    const n = t && t.kind === "id" ? regNumber(t.text) : -1;
    if (!t || n < 0) {
      const hint = t && /^[rw]\d+$/.test(t.text) ? "eBPF has registers r0..r10 (w0..w10 for their low 32 bits)" : undefined;
      this.fail(`expected ${what}`, t, hint);
    }
    this.i++;
    return { n, wide: t.text.charCodeAt(0) === 114, tok: t };
  }

  /** An integer with an optional leading sign ('-' or '+'), as a bigint. */
  int(what = "a number"): { v: bigint; tok: Token } {
    let neg = false;
    const first = this.peek();
    if (this.at("-")) {
      neg = true;
      this.i++;
    } else if (this.at("+")) this.i++;
    const t = this.peek();
    if (t && t.kind === "id" && /^[rw]\d+$/.test(t.text)) this.fail(`invalid register ${t.text}`, t, "eBPF has registers r0..r10 (w0..w10 for their low 32 bits)");
    if (!t || t.kind !== "num") this.fail(`expected ${what}`, t);
    const v = parseIntLiteral(t.text);
    if (v === undefined) this.fail(`malformed number '${t.text}'`, t, "numbers are decimal, 0x hex, 0b binary or 0-prefixed octal");
    this.i++;
    return { v: neg ? -v : v, tok: first ?? t };
  }
  isInt(k = 0): boolean {
    const t = this.peek(k);
    if (!t) return false;
    if (t.kind === "num") return true;
    return (t.text === "-" || t.text === "+") && this.peek(k + 1)?.kind === "num";
  }

  /** Like int(), as a number: the fast path for the small literals most operands are. */
  intNum(what = "a number"): { v: number; tok: Token } {
    const first = this.line.tokens[this.i];
    let k = this.i;
    let neg = false;
    if (first && first.kind === "punct" && (first.text === "-" || first.text === "+")) {
      neg = first.text === "-";
      k++;
    }
    const t = this.line.tokens[k];
    const small = t && t.kind === "num" ? parseSmallInt(t.text) : undefined;
    if (small !== undefined) {
      this.i = k + 1;
      return { v: neg ? -small : small, tok: first };
    }
    const { v, tok } = this.int(what);
    if (v < -(1n << 52n) || v > 1n << 52n) return { v: v < 0n ? -(2 ** 53) : 2 ** 53, tok };
    return { v: Number(v), tok };
  }

  /** A signed 32-bit immediate; values up to 0xffffffff are taken as their 32-bit pattern. */
  imm32(what = "an immediate"): number {
    const { v, tok } = this.intNum(what);
    if (v < -0x80000000 || v > 0xffffffff) {
      this.fail(`immediate ${this.int32Text(tok)} does not fit in 32 bits`, tok, "32-bit immediates range over [-2^31, 2^32); use 'rN = VALUE ll' for 64-bit constants");
    }
    return v | 0;
  }

  /** The source text of a (possibly signed) literal starting at `tok`, for messages. */
  private int32Text(tok: Token): string {
    const i = this.line.tokens.indexOf(tok);
    const t = this.line.tokens;
    if (t[i].kind === "punct") return (t[i].text === "-" ? "-" : "") + String(parseIntLiteral(t[i + 1].text));
    return String(parseIntLiteral(t[i].text));
  }

  /** A signed 16-bit offset. */
  off16(v: bigint | number, tok: Token, what = "offset"): number {
    if (v < -32768 || v > 32767) this.fail(`${what} ${v} does not fit in 16 bits`, tok, "offsets are signed 16-bit: -32768..32767");
    return Number(v);
  }
  /** An identifier that is not a register. */
  ident(what = "a name"): Token {
    const t = this.peek();
    if (!t || t.kind !== "id" || regNumber(t.text) >= 0) this.fail(`expected ${what}`, t);
    this.i++;
    return t;
  }
}
