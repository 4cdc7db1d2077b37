// The assembler's scanner: splits BPF assembly text into lines of tokens that keep their line and
// column, for both the llvm-mc/llvm-objdump syntax and the kernel verifier-log/bpftool syntax.
// Interface: `new Lexer(text).next(): LexedLine | undefined`, one source line per call.

/** id: names, registers, directives (may start with '.'); num: integer literal text; str: "…" contents. */
export type TokenKind = "id" | "num" | "str" | "punct";

export interface Token {
  kind: TokenKind;
  /** Source text (for str: the unescaped contents). */
  text: string;
  /** 1-based column of the first character. */
  col: number;
  /** 1-based column just past the last character. */
  end: number;
  /** Whitespace (or the line start) comes right before this token. */
  spaced: boolean;
}

export interface LexedLine {
  /** 1-based line number. */
  line: number;
  /** The line's text, without the newline. */
  text: string;
  tokens: Token[];
  /** Set when a character cannot start any token: its column and the character. */
  bad?: { col: number; ch: string };
}

// Operators: <<= >>= == != >= <= += -= *= /= %= |= &= ^= and single characters, matched longest
// first; "s<=" etc. are glued to a preceding "s" by the scanner.
const SIGNED_OPS = new Set(["<", ">", "<=", ">=", ">>=", "/=", "%="]);

const enum C {
  TAB = 9, LF = 10, CR = 13, SPACE = 32, QUOTE = 34, HASH = 35, DOLLAR = 36, SLASH = 47, SEMI = 59,
  BACKSLASH = 92, UNDERSCORE = 95, DOT = 46, STAR = 42,
}

function isIdStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === C.UNDERSCORE || c === C.DOT || c === C.DOLLAR;
}
function isIdPart(c: number): boolean {
  return isIdStart(c) || (c >= 48 && c <= 57);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export class Lexer {
  private pos = 0;
  private lineNo = 0;
  private inBlockComment = false;

  constructor(private readonly src: string) {}

  /** Offset of the next line's first character (>= the text's length at the end). */
  get position(): number {
    return this.pos;
  }
  /** Number of the last line returned or skipped (0 before the first). */
  get lineNumber(): number {
    return this.lineNo;
  }
  /** A block comment is open: the next line starts inside it. */
  get inComment(): boolean {
    return this.inBlockComment;
  }
  /** Step over the next line, which ends at `end` (its newline or the text's end), unscanned. */
  skipLine(end: number): void {
    this.pos = end + 1;
    this.lineNo++;
  }

  /** The next line of tokens (comments removed), or undefined at the end of the text. */
  next(): LexedLine | undefined {
    const src = this.src;
    if (this.pos >= src.length) return undefined;
    const start = this.pos;
    let end = src.indexOf("\n", start);
    if (end < 0) end = src.length;
    this.pos = end + 1;
    this.lineNo++;
    let textEnd = end;
    if (textEnd > start && src.charCodeAt(textEnd - 1) === C.CR) textEnd--;
    const out: LexedLine = { line: this.lineNo, text: src.slice(start, textEnd), tokens: [] };
    this.scan(start, textEnd, out);
    return out;
  }

  private scan(start: number, end: number, out: LexedLine): void {
    const src = this.src;
    const toks = out.tokens;
    let i = start;
    let spaced = true;
    while (i < end) {
      if (this.inBlockComment) {
        const close = src.indexOf("*/", i);
        if (close < 0 || close >= end) return;
        this.inBlockComment = false;
        i = close + 2;
        spaced = true;
        continue;
      }
      const c = src.charCodeAt(i);
      if (c === C.SPACE || c === C.TAB || c === C.CR) {
        i++;
        spaced = true;
        continue;
      }
      // '#' opens a comment only where a token could start fresh: kernel text glues it to a name (call f#1).
      if (c === C.SEMI || (c === C.HASH && spaced)) return;
      if (c === C.SLASH && src.charCodeAt(i + 1) === C.SLASH) return;
      if (c === C.SLASH && src.charCodeAt(i + 1) === C.STAR) {
        this.inBlockComment = true;
        i += 2;
        continue;
      }
      const col = i - start + 1;
      if (isIdStart(c)) {
        let j = i + 1;
        while (j < end && isIdPart(src.charCodeAt(j))) j++;
        const text = src.slice(i, j);
        // "s>>=", "s<", "s/=", "s%=": the signed operators start with a letter.
        if (text === "s" && j < end) {
          const p = matchPunct(src, j, end);
          if (p !== undefined && SIGNED_OPS.has(p)) {
            toks.push({ kind: "punct", text: "s" + p, col, end: j + p.length - start + 1, spaced });
            i = j + p.length;
            spaced = false;
            continue;
          }
        }
        toks.push({ kind: "id", text, col, end: j - start + 1, spaced });
        i = j;
      } else if (isDigit(c)) {
        let j = i + 1;
        while (j < end && isIdPart(src.charCodeAt(j))) j++;
        toks.push({ kind: "num", text: src.slice(i, j), col, end: j - start + 1, spaced });
        i = j;
      } else if (c === C.QUOTE) {
        const r = scanString(src, i, end);
        if (r === undefined) {
          out.bad = { col, ch: '"' };
          return;
        }
        toks.push({ kind: "str", text: r.value, col, end: r.end - start + 1, spaced });
        i = r.end;
      } else if (c === 39 /* ' */ && i + 2 < end && src.charCodeAt(i + 2) === 39) {
        toks.push({ kind: "num", text: String(src.charCodeAt(i + 1)), col, end: col + 3, spaced });
        i += 3;
      } else {
        const p = matchPunct(src, i, end);
        if (p === undefined) {
          out.bad = { col, ch: src[i] };
          return;
        }
        toks.push({ kind: "punct", text: p, col, end: col + p.length, spaced });
        i += p.length;
      }
      spaced = false;
    }
  }
}

/** The operator at src[i], longest match first, or undefined. */
function matchPunct(src: string, i: number, end: number): string | undefined {
  const c = src[i];
  const n1 = i + 1 < end ? src[i + 1] : "";
  switch (c) {
    case "(": case ")": case "[": case "]": case ",": case ":": case "#": case "~": case "@": case "{": case "}":
      return c;
    case "<": case ">":
      if (n1 === c) return i + 2 < end && src[i + 2] === "=" ? c + c + "=" : c;
      return n1 === "=" ? c + "=" : c;
    case "=": case "!":
      return n1 === "=" ? c + "=" : c === "=" ? c : "!";
    case "+": case "-": case "*": case "/": case "%": case "|": case "&": case "^":
      return n1 === "=" ? c + "=" : c;
  }
  return undefined;
}

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", "0": "\0", "\\": "\\", '"': '"', "'": "'", b: "\b", f: "\f" };

/** A "…" literal with C escapes (\n, \t, \\, \", \xNN, octal \NNN). */
function scanString(src: string, i: number, end: number): { value: string; end: number } | undefined {
  let j = i + 1;
  let value = "";
  while (j < end) {
    const ch = src[j];
    if (ch === '"') return { value, end: j + 1 };
    if (ch === "\\") {
      const e = src[j + 1];
      if (e === undefined || j + 1 >= end) return undefined;
      if (e === "x") {
        const m = /^[0-9a-fA-F]{1,2}/.exec(src.slice(j + 2, Math.min(end, j + 4)));
        if (!m) return undefined;
        value += String.fromCharCode(parseInt(m[0], 16));
        j += 2 + m[0].length;
        continue;
      }
      if (e >= "0" && e <= "7") {
        const m = /^[0-7]{1,3}/.exec(src.slice(j + 1, Math.min(end, j + 4)))!;
        value += String.fromCharCode(parseInt(m[0], 8) & 0xff);
        j += 1 + m[0].length;
        continue;
      }
      const v = ESCAPES[e];
      if (v === undefined) return undefined;
      value += v;
      j += 2;
      continue;
    }
    value += ch;
    j++;
  }
  return undefined;
}

/** A literal's value as a number when it is plain decimal or hex and safely below 2^53, else undefined. */
export function parseSmallInt(text: string): number | undefined {
  const n = text.length;
  if (n <= 15 && text.charCodeAt(0) !== 48) {
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) return undefined;
    }
    return Number(text);
  }
  if (text === "0") return 0;
  if (n > 2 && n <= 14 && (text[1] === "x" || text[1] === "X") && text[0] === "0") {
    const v = Number(text);
    return Number.isNaN(v) ? undefined : v;
  }
  return undefined;
}

/** The value of an integer literal: decimal, 0x hex, 0b binary, 0-prefixed octal; undefined if malformed. */
export function parseIntLiteral(text: string): bigint | undefined {
  let body = text;
  let radix = 10;
  if (/^0[xX]/.test(text)) {
    radix = 16;
    body = text.slice(2);
  } else if (/^0[bB]/.test(text)) {
    radix = 2;
    body = text.slice(2);
  } else if (text.length > 1 && text[0] === "0") {
    radix = 8;
    body = text.slice(1);
  }
  const ok = radix === 16 ? /^[0-9a-fA-F]+$/ : radix === 2 ? /^[01]+$/ : radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!ok.test(body)) return undefined;
  if (body.length <= 12 && radix !== 2) return BigInt(parseInt(body, radix));
  const prefix = radix === 16 ? "0x" : radix === 2 ? "0b" : radix === 8 ? "0o" : "";
  return BigInt(prefix + body);
}
