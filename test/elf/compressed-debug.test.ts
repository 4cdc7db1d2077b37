// Objects built with compressed debug info (clang -gz): relocations into .debug_* count offsets in
// the uncompressed bytes. Oracles: the same source built without -gz (identical programs and
// maps) and bpftool, which opens and loads the -gz object through libbpf.

import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { encode } from "../../asm/index.ts";
import { loadObject } from "../../src/elf/index.ts";
import { ROOT, haveRoot, haveTool, run } from "../support/env.ts";
import { compileC } from "./objects.ts";

describe.skipIf(!haveTool("clang-19"))("compressed debug sections", () => {
  const src = readFileSync(join(ROOT, "fixtures/src/exec_events.bpf.c"), "utf8");
  const plain = compileC({ ev: src });
  const gz = compileC({ ev: src }, ["-gz=zlib"]);

  test("the -gz object reads as the plain one: same programs, instructions and maps", () => {
    const a = loadObject(readFileSync(plain.ev), { file: plain.ev });
    const b = loadObject(readFileSync(gz.ev), { file: gz.ev });
    expect(run("llvm-objdump-19", ["-h", gz.ev])).toMatch(/\.debug_info/);
    expect(b.programs.map((p) => [p.name, p.section, Buffer.from(encode(p.insns)).toString("hex")])).toEqual(a.programs.map((p) => [p.name, p.section, Buffer.from(encode(p.insns)).toString("hex")]));
    expect(b.maps.map((m) => [m.name, m.type, m.maxEntries])).toEqual(a.maps.map((m) => [m.name, m.type, m.maxEntries]));
  });

  test.skipIf(!haveRoot() || !haveTool("bpftool", "version"))("bpftool (libbpf) loads the -gz object too", () => {
    const pin = "/sys/fs/bpf/tsbpf-gz-test";
    rmSync(pin, { recursive: true, force: true });
    try {
      run("bpftool", ["prog", "loadall", gz.ev, pin]);
    } finally {
      rmSync(pin, { recursive: true, force: true });
    }
  });
});
