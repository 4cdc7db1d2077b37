// Our own llvm listing read back by `tsbpf asm` when section names hold characters the assembler
// syntax gives meaning to ('//' starts a comment, '?' is no token): llvm-objdump-19 of the
// reassembled object must show the same sections and instructions as of the clang-built one.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { ROOT, haveBun, haveTool, run } from "../support/env.ts";

const SRC = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("uprobe//proc/self/exe:uprobed_sub") int up(void *ctx) { return 1; }
SEC("?tc") int tcp(void *ctx) { return 2; }
SEC("kprobe/do_sys_open") int kp(void *ctx) { return 3; }
char LICENSE[] SEC("license") = "GPL";
`;

describe.skipIf(!haveTool("clang-19") || !haveTool("llvm-objdump-19", "--version") || !haveBun())("llvm listing headers with '//' and '?'", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-hdr-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("disasm → asm keeps every section and instruction", () => {
    writeFileSync(join(dir, "h.c"), SRC);
    run("clang-19", ["-O2", "-g", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu", "-c", join(dir, "h.c"), "-o", join(dir, "h.o")]);
    const cli = (...a: string[]) => spawnSync(join(ROOT, "node_modules/.bin/bun"), [join(ROOT, "src/cli/tsbpf.ts"), ...a], { encoding: "utf8" });
    const listing = cli("disasm", join(dir, "h.o"));
    expect(listing.status, listing.stderr).toBe(0);
    writeFileSync(join(dir, "h.s"), listing.stdout);
    const asm = cli("asm", join(dir, "h.s"), "-o", join(dir, "h2.o"));
    expect(asm.status, asm.stderr).toBe(0);
    const body = (f: string) => run("llvm-objdump-19", ["-d", f]).split("\n").filter((l) => !l.includes("file format"));
    expect(body(join(dir, "h2.o"))).toEqual(body(join(dir, "h.o")));
  });
});
