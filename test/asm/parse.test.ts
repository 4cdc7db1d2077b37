// The text parser on its own: error positions and messages, statements, and random text that must
// never throw anything but TsbpfError.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parse, parseInsnText } from "../../asm/parse.ts";
import { TsbpfError } from "../../src/errors.ts";
import { llvmInsnLine } from "./llvm-mc-gen.ts";

function errorOf(text: string): TsbpfError {
  try {
    parse(text, { file: "t.s" });
  } catch (e) {
    if (e instanceof TsbpfError) return e;
    throw e;
  }
  throw new Error(`no error for ${JSON.stringify(text)}`);
}

describe("parse errors carry file:line:column and what was expected", () => {
  const cases: [string, number, number, RegExp][] = [
    ["exit\n  r11 = 1\n", 2, 3, /invalid register r11/],
    ["r1 = 4294967296\n", 1, 6, /does not fit in 32 bits/],
    ["r1 = *(u32 *)(r2 + 40000)\n", 1, 20, /does not fit in 16 bits/],
    ["frobnicate r1\n", 1, 1, /unknown instruction 'frobnicate'/],
    ["if r1 == r2 goto\n", 1, 17, /expected a jump target/],
    ["if r1 ~ r2 goto +1\n", 1, 7, /comparison/],
    ["w1 += r2\n", 1, 7, /must be w2/],
    ["r1 = *(u64 *)(w2 + 0)\n", 1, 15, /base register must be r2/],
    ["r1 = *(s64 *)(r2 + 0)\n", 1, 8, /access type/],
    ["r1 = map_value\n", 1, 15, /expected 'll'/],
    ["(bf) r1 = 5\n", 1, 6, /opcode \(bf\) does not match/],
    ['.ascii "abc\n', 1, 8, /unexpected character/],
    ["r1 = 1 ll extra\n", 1, 11, /expected end of line/],
    ["goto +40000\n", 1, 6, /does not fit in 16 bits/],
    ["r1 = 0x1g\n", 1, 6, /malformed number/],
    ["r0 = cmpxchg_64(r1 + 0, r2, r3)\n", 1, 25, /r0/],
  ];
  for (const [text, line, column, msg] of cases) {
    it(JSON.stringify(text.trim()), () => {
      const e = errorOf(text);
      expect(e.code).toBe("ASM_SYNTAX");
      expect(e.message).toMatch(msg);
      expect({ file: e.where.file, line: e.where.line, column: e.where.column }).toEqual({ file: "t.s", line, column });
    });
  }
});

describe("statements", () => {
  it("labels, directives and instructions keep their positions", () => {
    const s = parse(".text\nLBB0_1: r0 = 0 # c\n\t.section xdp,\"ax\",@progbits\n// x\n  exit ; y\n", { file: "f.s" });
    expect(s.map((x) => [x.kind, x.at.line, x.at.column])).toEqual([
      ["directive", 1, 1], ["label", 2, 1], ["insn", 2, 9], ["directive", 3, 2], ["insn", 5, 3],
    ]);
    const sec = s[3];
    expect(sec.kind === "directive" && sec.args.map((a) => a.text)).toEqual(["xdp", '"ax"', "@progbits"]);
  });

  it("symbolic references stay in meta.ref", () => {
    expect(parseInsnText("r1 = my_map ll").meta?.ref).toEqual({ kind: "map", name: "my_map" });
    expect(parseInsnText("r1 = data + 16 ll").meta?.ref).toEqual({ kind: "map_value", name: "data", offset: 16 });
    expect(parseInsnText("call sub").meta?.ref).toEqual({ kind: "func", name: "sub" });
    expect(parseInsnText("if r1 > 3 goto out").meta?.ref).toEqual({ kind: "label", name: "out" });
    expect(parseInsnText("gotol L1").meta?.ref).toEqual({ kind: "label", name: "L1" });
  });

  it("kernel map references pick the pseudo source", () => {
    const m = (t: string) => { const i = parseInsnText(t); return [i.src, i.imm64]; };
    expect(m("(18) r1 = map[id:5]")).toEqual([1, 5n]);
    expect(m("(18) r1 = map[id:5][0]+16")).toEqual([2, (16n << 32n) | 5n]);
    expect(m("r1 = map[idx:3]")).toEqual([5, 3n]);
    expect(m("r1 = map[idx:3][0]+8")).toEqual([6, (8n << 32n) | 3n]);
  });

  it("bpftool's function headers and objdump's symbol lines become labels", () => {
    const s = parse("int prog(struct xdp_md * ctx):\n   0: (b7) r0 = 2\n0000000000000000 <sub>:\n  1:\t95 00 00 00 00 00 00 00\texit\n");
    expect(s.filter((x) => x.kind === "label").map((x) => (x as { name: string }).name)).toEqual(["prog", "sub"]);
  });
});

describe("random text", () => {
  const text = fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.array(fc.constantFrom("r1", "w2", "=", "*", "(", ")", "u32", "+", "-", "0x", "1", "goto", "if", "==", "ll", "call", "#", ":", "lock", "[", "]", "skb", "map", "id", ",", "\"", ".section", "pc", "s>>="), { maxLength: 12 }).map((a) => a.join(" ")),
    fc.array(fc.constantFrom("r1", "w2", "=", "*", "(", ")", "u32", "+", "-", "0x", "1", "goto", "if", "==", "ll", "#", ":", "[", "]", "pc"), { maxLength: 12 }).map((a) => a.join("")),
    llvmInsnLine.chain((l) => fc.integer({ min: 0, max: l.length }).map((n) => l.slice(0, n))),
  );
  it("never throws anything but TsbpfError", () => {
    fc.assert(
      fc.property(fc.array(text, { maxLength: 5 }), (lines) => {
        try {
          parse(lines.join("\n"));
        } catch (e) {
          if (!(e instanceof TsbpfError)) throw e;
          expect(e.where.line).toBeGreaterThanOrEqual(1);
          expect(e.where.column).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
