// CO-RE parity with libbpf: for fixture objects and crafted ones (every relocation kind,
// bitfields, flavors, size changes, poisoning, ambiguity), our fix-ups must say what libbpf's
// debug log says — same local and target specs, same old/new values, same poisoned slots, same
// failure — against the running kernel's BTF and against a made-up target BTF (btf_custom_path).
// The relocated instructions must also equal the bytes libbpf hands to BPF_PROG_LOAD.

import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadBtfFile, parseBtf, type Btf } from "../../btf/index.ts";
import { objectCoreFixups, objectExt } from "../../btf/core/index.ts";
import { loadObject, type ObjectSpec } from "../../src/elf/index.ts";
import { ROOT, haveKernelBtf, haveRoot, haveTool } from "../support/env.ts";
import { compareInsns, compareLog } from "./compare.ts";
import { buildOracle, compileBpf, runOracle, type LibbpfObject } from "./oracle.ts";

/** Every fixture object with CO-RE relocations (BPF_CORE_READ, and context reads through vmlinux.h's preserve_access_index types). */
function fixturesWithCore(): string[] {
  const out: string[] = [];
  for (const d of ["fixtures/obj", "fixtures/obj/verifier"]) {
    for (const f of readdirSync(join(ROOT, d)).sort()) {
      if (!f.endsWith(".o")) continue;
      const obj = open(join(ROOT, d, f));
      if ((objectExt(obj)?.coreRelos.length ?? 0) > 0) out.push(join(ROOT, d, f));
    }
  }
  return out;
}
const CRAFTED = ["core_kinds", "core_more", "core_ambiguous", "core_bitfield"];
const ready = haveTool("clang-19") && haveRoot() && haveKernelBtf();

function open(path: string): ObjectSpec {
  return loadObject(new Uint8Array(readFileSync(path)), { file: path });
}

describe.skipIf(!ready)("CO-RE fix-ups equal libbpf's", () => {
  let dir: string;
  let objs: string[];
  let vmlinux: Btf;
  let custom: string;
  let kernelRuns: LibbpfObject[];
  let customRuns: LibbpfObject[];
  let customObjs: string[];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "tsbpf-core-"));
    const exe = buildOracle();
    objs = [...fixturesWithCore(), ...CRAFTED.map((n) => compileBpf(join(ROOT, "test/core/src", `${n}.bpf.c`), join(dir, `${n}.o`)))];
    custom = compileBpf(join(ROOT, "test/core/src/target_kernel.c"), join(dir, "target_kernel.o"));
    vmlinux = parseBtf(new Uint8Array(readFileSync("/sys/kernel/btf/vmlinux")));
    kernelRuns = runOracle(exe, objs);
    // The custom target knows only a few types: the crafted objects and the task_struct readers exercise it.
    customObjs = objs.filter((p) => /core_/.test(p));
    customRuns = runOracle(exe, customObjs, custom);
  }, 120_000);

  it("against the running kernel's BTF", () => {
    let n = 0;
    objs.forEach((path, i) => {
      const obj = open(path);
      const fixups = objectCoreFixups(obj, vmlinux);
      compareLog(obj, fixups, kernelRuns[i]);
      n += fixups.length;
    });
    // The crafted objects alone carry 47; the fixtures add theirs.
    expect(n).toBeGreaterThan(47);
  });

  it("against a custom target BTF (libbpf's btf_custom_path)", () => {
    const target = loadBtfFile(custom);
    let poisoned = 0;
    let failing = 0;
    customObjs.forEach((path, i) => {
      const obj = open(path);
      const fixups = objectCoreFixups(obj, target);
      compareLog(obj, fixups, customRuns[i]);
      poisoned += fixups.filter((f) => f.outcome.kind === "poison").length;
      if (fixups.some((f) => f.outcome.kind === "error")) failing++;
    });
    // The crafted target makes some relocations unsatisfiable, one ambiguous (core_ambiguous)
    // and one bitfield unloadable (core_bitfield): those two objects fail.
    expect(poisoned).toBeGreaterThan(0);
    expect(failing).toBe(2);
  });

  it("relocated instructions equal what libbpf loads", () => {
    let n = 0;
    objs.forEach((path, i) => {
      const obj = open(path);
      n += compareInsns(obj, objectCoreFixups(obj, vmlinux), kernelRuns[i]);
    });
    customObjs.forEach((path, i) => {
      const obj = open(path);
      n += compareInsns(obj, objectCoreFixups(obj, loadBtfFile(custom)), customRuns[i]);
    });
    expect(n).toBeGreaterThan(40);
  });
});
