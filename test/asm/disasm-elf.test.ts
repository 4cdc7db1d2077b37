// asm/elf-code.ts (the disassembler's own small ELF reading) against src/elf's full reader: the
// same code sections, bytes and symbols on every fixture; and mutated objects either read or fail
// with a TsbpfError, never another exception.

import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { readCodeSections } from "../../asm/elf-code.ts";
import { parseElf, SHF, SHT, STT } from "../../src/elf/file.ts";
import { TsbpfError } from "../../src/errors.ts";
import { ROOT } from "../support/env.ts";

function objects(dir: string): string[] {
  const out: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const n of names) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...objects(p));
    else if (n.endsWith(".o")) out.push(p);
  }
  return out;
}

const objs = objects(join(ROOT, "fixtures/obj"));
const KIND: Record<number, string> = { [STT.NOTYPE]: "notype", [STT.OBJECT]: "object", [STT.FUNC]: "func", 5: "common" };

describe("readCodeSections = src/elf's reader", () => {
  it.skipIf(objs.length === 0)(`on all ${objs.length} fixture objects`, () => {
    for (const f of objs) {
      const bytes = new Uint8Array(readFileSync(f));
      const elf = parseElf(bytes);
      const expected = elf.sections
        .filter((s) => s.index !== 0 && (s.flags & BigInt(SHF.EXECINSTR)) !== 0n && s.type !== SHT.NOBITS)
        .map((s) => ({
          name: s.name,
          bytes: Buffer.from(s.data).toString("hex"),
          symbols: elf.symbols
            .filter((y) => y.index !== 0 && y.shndx === s.index && y.name !== "" && y.type !== STT.SECTION && y.type !== STT.FILE)
            .map((y) => ({ name: y.name, offset: Number(y.value), kind: KIND[y.type] ?? "other" })),
        }));
      const ours = readCodeSections(bytes, f).map((s) => ({ name: s.name, bytes: Buffer.from(s.bytes).toString("hex"), symbols: s.symbols }));
      expect(ours, f).toEqual(expected);
    }
  });

  it.skipIf(objs.length === 0)("mutated and truncated objects read or fail with TsbpfError", () => {
    const base = new Uint8Array(readFileSync(objs[0]));
    const mutation = fc.record({
      cut: fc.integer({ min: 0, max: base.length }),
      edits: fc.array(fc.tuple(fc.integer({ min: 0, max: base.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
    });
    fc.assert(
      fc.property(mutation, ({ cut, edits }) => {
        const b = base.slice(0, Math.max(cut, 64));
        for (const [at, v] of edits) if (at < b.length) b[at] = v;
        try {
          readCodeSections(b, "m.o");
        } catch (e) {
          expect(e).toBeInstanceOf(TsbpfError);
          expect((e as TsbpfError).where.file).toBe("m.o");
        }
      }),
      { numRuns: 1500 },
    );
  });
});
