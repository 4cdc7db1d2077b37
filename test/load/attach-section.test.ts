// Attach by section for uprobes: the course's uprobe/uretprobe pair is attached to a function of
// a host binary we build (its file offset read from the ELF symbol table), the binary calls it N
// times, and the kernel's latency histogram must count N calls; a missing symbol is a typed error.

import { describe, expect, test, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { haveBun, haveRoot, haveTool, haveKernelBtf, run, ROOT } from "../support/env.ts";

const live = haveBun() && haveRoot() && haveKernelBtf() && haveTool("clang-19") && haveTool("nm", "--version");
const load = live ? await import("../../src/load/index.ts") : ({} as typeof import("../../src/load/index.ts"));

describe.skipIf(!live)("uprobe attach by section", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-uprobe-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, "server");

  test("handle_request's symbol offset drives a uprobe pair; the histogram counts every call", () => {
    writeFileSync(join(dir, "server.c"), `#include <unistd.h>
__attribute__((noinline)) int handle_request(int n) { usleep(1000); return n + 1; }
int main(void) { int s = 0; for (int i = 0; i < 20; i++) s += handle_request(i); return s == 210 ? 0 : 1; }\n`);
    run("clang-19", ["-O1", "-o", bin, join(dir, "server.c")]);
    // The file offset never exceeds nm's virtual address (segments map offset ≤ address); the
    // kernel counting exactly our 20 calls below is what proves the offset right.
    const nmAddr = BigInt("0x" + /^([0-9a-f]+) T handle_request$/m.exec(run("nm", [bin]))![1]);
    const off = load.uprobeOffset(bin, "handle_request");
    expect(off).toBeGreaterThan(0n);
    expect(off <= nmAddr).toBe(true);
    using coll = load.loadCollectionFile(join(ROOT, "fixtures/obj/uprobe.o"));
    {
      using _att = load.attachCollection(coll, { uprobeBinary: bin, uprobeFunc: "handle_request" });
      expect(spawnSync(bin).status).toBe(0);
    }
    const hist = load.TypedMap.of(coll, "latency").get(0) as { slots: number[] };
    expect(hist.slots.reduce((a, b) => a + b, 0)).toBe(20);
    expect(hist.slots[0]).toBe(0); // usleep(1000): no call took 0 units
  });

  test("a missing symbol and a missing binary are typed errors", () => {
    expect(() => load.uprobeOffset(bin, "no_such_function")).toThrow(/no function symbol 'no_such_function'/);
    expect(() => load.uprobeOffset(join(dir, "absent"), "main")).toThrow(/cannot read/);
  });
});
