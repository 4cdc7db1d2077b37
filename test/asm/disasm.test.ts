// Listings of real objects: every fixtures/obj/*.o (and every .o below it) disassembled by one
// llvm-objdump-19 -d run must equal our llvmObjdumpText of the same files, byte for byte.

import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { codeOfFile, listCode, llvmObjdumpText } from "../../asm/disasm.ts";
import { haveTool, ROOT, run } from "../support/env.ts";
import { firstDifference } from "./support/objdump.ts";

const FIXTURES = join(ROOT, "fixtures/obj");

function objects(dir: string): string[] {
  let out: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const n of names) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out = out.concat(objects(p));
    else if (n.endsWith(".o")) out.push(p);
  }
  return out;
}

const objs = objects(FIXTURES).map((p) => relative(FIXTURES, p));
if (objs.length === 0) console.warn("skipping fixture listings: fixtures/obj has no .o files yet");

describe.skipIf(!haveTool("llvm-objdump-19"))("fixtures: tsbpf llvm listing = llvm-objdump-19 -d", () => {
  it.skipIf(objs.length === 0)(`all ${objs.length} fixture objects, one llvm-objdump run`, () => {
    const theirs = run("sh", ["-c", 'cd "$1" && shift && exec llvm-objdump-19 -d "$@"', "sh", FIXTURES, ...objs]);
    let ours = "";
    for (const name of objs) {
      const { elf, sections } = codeOfFile(new Uint8Array(readFileSync(join(FIXTURES, name))), name);
      expect(elf).toBe(true);
      ours += llvmObjdumpText(name, sections);
    }
    expect(firstDifference(ours, theirs)).toBeUndefined();
  });

  it.skipIf(objs.length === 0)("every fixture's code decodes with tsbpf's own decoder", () => {
    for (const name of objs) {
      const { sections } = codeOfFile(new Uint8Array(readFileSync(join(FIXTURES, name))), name);
      for (const s of sections) {
        const list = listCode(s, name);
        const slots = list.reduce((n, x) => n + x.bytes.length / 8, 0);
        expect(slots * 8, `${name} ${s.name}`).toBe(s.bytes.length);
      }
    }
  });
});
