// Loading a subset of programs relocates only those, as libbpf does (it skips CO-RE for programs
// whose autoload is off): an object whose second program has a relocation that fails the load
// (an offset past the 16-bit LDX field) loads when only the first program is asked for. libbpf,
// with the other program's autoload off, is the oracle for which relocations are done and that
// the load succeeds; the kernel loads our selected program.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseBtf } from "../../btf/index.ts";
import { objectCoreFixups } from "../../btf/core/index.ts";
import { loadObject, type ObjectSpec } from "../../src/elf/index.ts";
import { loadCollection } from "../../src/load/index.ts";
import { haveKernelBtf, haveRoot, haveTool } from "../support/env.ts";
import { buildOracle, compileBpf, runOracle, type LibbpfObject } from "./oracle.ts";

const ready = haveTool("clang-19") && haveRoot() && haveKernelBtf();

// vcpu_pvm.trace_pos sits past 32 KB in the kernel's struct: a direct load of it cannot be relocated.
const SOURCE = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
char LICENSE[] SEC("license") = "GPL";
__u64 out[4];
struct vcpu_pvm___far { int trace_pos; } __attribute__((preserve_access_index));

SEC("tp_btf/sched_switch") int good(u64 *ctx) {
  struct task_struct *t = (void *)ctx[1];
  out[0] = BPF_CORE_READ(t, cred, euid.val);
  return 0;
}
SEC("tp_btf/sched_switch") int bad(u64 *ctx) {
  struct vcpu_pvm___far *v = (void *)ctx[1];
  out[1] = v->trace_pos;
  return 0;
}
`;

function open(path: string): ObjectSpec {
  return loadObject(new Uint8Array(readFileSync(path)), { file: path });
}

describe.skipIf(!ready)("load --prog relocates only the selected programs", () => {
  let path: string;
  let all: LibbpfObject;
  let onlyGood: LibbpfObject;

  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-core-select-"));
    writeFileSync(join(dir, "select.bpf.c"), SOURCE);
    path = compileBpf(join(dir, "select.bpf.c"), join(dir, "select.o"));
    const exe = buildOracle();
    [all] = runOracle(exe, [path]);
    [onlyGood] = runOracle(exe, [path], undefined, "good");
  }, 120_000);

  it("libbpf fails the whole object on bad's relocation, and so do we", () => {
    expect(all.load).toBeLessThan(0);
    expect([...all.relos.values()].some((r) => r.prog === "bad" && r.failed !== undefined)).toBe(true);
    const fixups = objectCoreFixups(open(path), parseBtf(new Uint8Array(readFileSync("/sys/kernel/btf/vmlinux"))));
    expect(fixups.find((f) => f.program === "bad")?.outcome.kind).toBe("error");
    // (src/load requires btf/core lazily, so its TsbpfError class may be another module instance: compare the code.)
    let err: unknown;
    try {
      loadCollection(open(path)).close();
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ name: "TsbpfError", code: "CORE_RELO", message: expect.stringContaining("prog 'bad'") });
  });

  it("with only 'good' selected, libbpf relocates and loads just it, and our loader loads it", () => {
    expect(onlyGood.load).toBe(0);
    const progs = new Set([...onlyGood.relos.values()].map((r) => r.prog));
    expect([...progs]).toEqual(["good"]);
    const coll = loadCollection(open(path), { programs: ["good"] });
    try {
      expect([...coll.programs.keys()]).toEqual(["good"]);
      expect(coll.programs.get("good")!.fd).toBeGreaterThan(0);
    } finally {
      coll.close();
    }
  });
});
