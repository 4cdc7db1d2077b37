// CO-RE parity with libbpf: for fixture objects and crafted ones (every relocation kind,
// bitfields, flavors, size changes, poisoning, ambiguity), our fix-ups must say what libbpf's
// debug log says — same local and target specs, same old/new values, same poisoned slots, same
// failure — against the running kernel's BTF and against a made-up target BTF (btf_custom_path).
// The relocated instructions must also equal the bytes libbpf hands to BPF_PROG_LOAD.

import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { encode, isLdImm64, slotOffsets } from "../../asm/index.ts";
import { loadBtfFile, parseBtf, type Btf } from "../../btf/index.ts";
import { applyObjectCore, objectCoreFixups, objectExt, type CoreFixup } from "../../btf/core/index.ts";
import { loadObject, type ObjectSpec } from "../../src/elf/index.ts";
import { linkProgram, runningKernel } from "../../src/link/index.ts";
import { ROOT, haveKernelBtf, haveRoot, haveTool } from "../support/env.ts";
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

/** Compare our fix-ups for one object with what libbpf logged. */
function compareLog(obj: ObjectSpec, fixups: CoreFixup[], lib: LibbpfObject): void {
  expect(lib.opened).toBe(true);
  const firstError = fixups.find((f) => f.outcome.kind === "error");
  // libbpf stops relocating at the first failure; compare up to it.
  const ours = firstError ? fixups.slice(0, fixups.indexOf(firstError) + 1) : fixups;
  expect(ours.map((f) => `${f.program}/${f.relo}`).sort()).toEqual([...lib.relos.keys()].sort());
  for (const f of ours) {
    const l = lib.relos.get(`${f.program}/${f.relo}`)!;
    const ctx = `${obj.name} ${f.program} relo #${f.relo}: ${l.lines.join(" | ")}`;
    if (f.outcome.kind === "error") {
      expect(l.failed, ctx).toBeDefined();
      continue;
    }
    expect(l.failed, ctx).toBeUndefined();
    expect(f.local.text, ctx).toBe(l.local);
    expect(f.target?.text, ctx).toBe(l.matching[0]);
    if (f.kind !== "type_id_local") expect(f.candidates.matched, ctx).toBe(l.matching.length);
    if (f.outcome.kind === "poison") {
      expect(Math.min(...l.poisoned), ctx).toBe(f.slot);
      expect(l.patches, ctx).toEqual([]);
    } else {
      expect(l.poisoned, ctx).toEqual([]);
      const want = [{ insn: f.slot, what: f.outcome.field, from: f.outcome.oldValue, to: f.outcome.newValue }];
      if (f.outcome.memSize) want.push({ insn: f.slot, what: "mem_sz", from: BigInt(f.outcome.memSize.old), to: BigInt(f.outcome.memSize.new) } as never);
      expect(l.patches, ctx).toEqual(want);
    }
  }
}

const kernel = runningKernel();

/** Our relocated and linked code must equal libbpf's at every CO-RE-relocated slot. */
function compareInsns(obj: ObjectSpec, fixups: CoreFixup[], lib: LibbpfObject): number {
  if (fixups.some((f) => f.outcome.kind === "error")) return 0;
  const patched = applyObjectCore(obj, fixups);
  let compared = 0;
  for (const prog of patched.programs) {
    const theirs = lib.insns.get(prog.name.slice(0, 15));
    if (!theirs) continue;
    const linked = linkProgram(patched, prog, { kernel });
    const bytes = encode(linked.insns);
    const slots = slotOffsets(linked.insns);
    const startOf = new Map<string, number>([[prog.name, 0], ...linked.subprograms.map((s) => [s.name, slots[s.insn]] as const)]);
    for (const f of fixups) {
      const start = startOf.get(f.program);
      if (start === undefined || (f.program !== prog.name && !obj.subprograms.some((s) => s.name === f.program))) continue;
      const at = (start + f.slot) * 8;
      const fn = [...obj.programs, ...obj.subprograms].find((p) => p.name === f.program)!;
      const len = isLdImm64(fn.insns[f.insnIndex].op) ? 16 : 8;
      expect([...bytes.subarray(at, at + len)], `${prog.name} ${f.program} relo #${f.relo} slot ${f.slot}`).toEqual([...theirs.subarray(at, at + len)]);
      compared++;
    }
  }
  return compared;
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
