// The kernel as the oracle for applied CO-RE: a program reading task->tgid through a local
// task_struct with another layout, relocated by us against the running kernel's BTF and loaded
// with our loader, must return our tgid when run; a program whose read cannot be relocated must
// be refused by the verifier with the message the poison call is meant to produce.

import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseBtf } from "../../btf/index.ts";
import { applyObjectCore, objectCoreFixups } from "../../btf/core/index.ts";
import { loadObject, type ObjectSpec } from "../../src/elf/index.ts";
import { linkProgram } from "../../src/link/index.ts";
import { Program, VerifierError } from "../../src/load/index.ts";
import { ROOT, haveBun, haveKernelBtf, haveRoot, haveTool } from "../support/env.ts";
import { compileBpf } from "./oracle.ts";

const ready = haveTool("clang-19") && haveRoot() && haveKernelBtf() && haveBun();

describe.skipIf(!ready)("CO-RE applied by us, judged by the kernel", () => {
  let obj: ObjectSpec;

  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-core-run-"));
    const path = compileBpf(join(ROOT, "test/core/src/core_run.bpf.c"), join(dir, "core_run.o"));
    const raw = loadObject(new Uint8Array(readFileSync(path)), { file: path });
    const fixups = objectCoreFixups(raw, parseBtf(new Uint8Array(readFileSync("/sys/kernel/btf/vmlinux"))));
    expect(fixups.map((f) => f.outcome.kind)).toEqual(["patch", "poison"]);
    obj = applyObjectCore(raw, fixups);
  });

  const load = (name: string): Program => {
    const prog = obj.programs.find((p) => p.name === name)!;
    return Program.load({ type: prog.type, insns: linkProgram(obj, prog).insns, license: obj.license, name });
  };

  it("a relocated read returns what the kernel's task_struct holds", () => {
    using p = load("read_tgid");
    expect(p.run().retval).toBe(process.pid);
  });

  it("a poisoned read is refused with 'invalid func unknown#195896080'", () => {
    let err: unknown;
    try {
      load("read_old").close();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VerifierError);
    expect((err as VerifierError).log).toContain("invalid func unknown#195896080");
  });
});
