// Listings of real objects: every fixtures/obj/*.o (and every .o below it) disassembled by one
// llvm-objdump-19 -d run must equal our llvmObjdumpText of the same files, byte for byte.

import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { codeOfFile, llvmObjdumpText } from "../../asm/disasm.ts";
import { listCode } from "../../asm/listing.ts";
import { haveTool, ROOT, run } from "../support/env.ts";
import { encode } from "../../asm/encode.ts";
import { assembleSections, firstDifference, scratch } from "./support/objdump.ts";

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

const bun = `${ROOT}node_modules/.bin/bun`;
const tsbpf = (cwd: string, ...args: string[]) => spawnSync(bun, [`${ROOT}src/cli/tsbpf.ts`, "disasm", ...args], { cwd, encoding: "buffer" });

describe.skipIf(!haveTool("llvm-objdump-19"))("tsbpf disasm (the command)", () => {
  it.skipIf(objs.length === 0)("prints exactly what llvm-objdump-19 -d prints, for each of a few fixtures", () => {
    for (const name of objs.filter((_, i) => i % Math.max(1, Math.floor(objs.length / 5)) === 0)) {
      const ours = tsbpf(FIXTURES, name);
      expect(ours.status, ours.stderr.toString()).toBe(0);
      const theirs = spawnSync("llvm-objdump-19", ["-d", name], { cwd: FIXTURES, encoding: "buffer" });
      expect(Buffer.compare(ours.stdout, theirs.stdout), name).toBe(0);
    }
  });

  it.skipIf(objs.length === 0)("--section, --syntax kernel and --json agree with the library and each other", () => {
    const name = objs[0];
    const { sections } = codeOfFile(new Uint8Array(readFileSync(join(FIXTURES, name))), name);
    const sec = sections[sections.length - 1];
    const j = tsbpf(FIXTURES, name, "--section", sec.name, "--json", "--syntax", "kernel");
    expect(j.status, j.stderr.toString()).toBe(0);
    const entries = JSON.parse(j.stdout.toString()) as { section: string; index: number; text: string; bytes: string }[];
    expect(entries.length).toBe(listCode(sec).length);
    expect(entries.every((e) => e.section === sec.name)).toBe(true);
    const k = tsbpf(FIXTURES, name, "-j", sec.name, "--syntax", "kernel").stdout.toString();
    for (const e of entries) expect(k).toContain(`${String(e.index).padStart(4, " ")}: ${e.text}\n`);
  });

  it.skipIf(!haveTool("llvm-mc-19"))("raw input: a file of instructions prints llvm-style lines; bad bytes and bad usage exit 2 with a position", () => {
    const s = scratch("tsbpf-disasm-cli-");
    try {
      writeFileSync(join(s.dir, "prog.bin"), encode([{ op: 0xb7, dst: 0, src: 0, off: 0, imm: 0 }, { op: 0x95, dst: 0, src: 0, off: 0, imm: 0 }]));
      const r = tsbpf(s.dir, "prog.bin");
      expect(r.status).toBe(0);
      expect(r.stdout.toString()).toBe("       0:\tb7 00 00 00 00 00 00 00\tr0 = 0x0\n       1:\t95 00 00 00 00 00 00 00\texit\n");
      expect(tsbpf(s.dir, "prog.bin", "--syntax", "kernel").stdout.toString()).toBe("Disassembly of section raw:\n\nraw:\n   0: (b7) r0 = 0\n   1: (95) exit\n");
      writeFileSync(join(s.dir, "bad.bin"), new Uint8Array([0xb7, 0, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0, 0, 0, 0, 0]));
      const bad = tsbpf(s.dir, "bad.bin", "--syntax", "kernel");
      expect(bad.status).toBe(2);
      expect(bad.stderr.toString()).toContain("unknown opcode 0xff (slot 1: ff 00 00 00 00 00 00 00)");
      expect(bad.stderr.toString()).toContain("offset 0x8");
      const obj = assembleSections(s.dir, "small.o", [{ name: ".text", bytes: readFileSync(join(s.dir, "prog.bin")), symbols: [{ name: "f", offset: 0, kind: "func" }] }]);
      writeFileSync(join(s.dir, "trunc.o"), readFileSync(obj).subarray(0, 100));
      const trunc = tsbpf(s.dir, "trunc.o");
      expect(trunc.status).toBe(2);
      expect(trunc.stderr.toString()).toMatch(/^tsbpf: trunc\.o/);
      expect(tsbpf(s.dir, "prog.bin", "--syntax", "intel").status).toBe(2);
      expect(tsbpf(s.dir).status).toBe(2);
      expect(tsbpf(s.dir, "missing.o").status).toBe(2);
    } finally {
      s.dispose();
    }
  });
});
