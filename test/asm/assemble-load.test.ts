// Objects written by `tsbpf asm` load through bpftool (libbpf) and get the kernel's same verdict as
// the clang-19-built C equivalent: both accepted, or both refused with the same verifier message.

import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assemble, elfObject } from "../../asm/assemble.ts";
import { haveRoot, haveTool, run } from "../support/env.ts";

interface Pair { asm: string; c: string }

const PAIRS: Record<string, Pair> = {
  // A hash-map counter with a NULL check, a global in .data, and a bpf-to-bpf call: accepted.
  counter: {
    asm: `
.map counts, type=hash, key=4, value=8, max_entries=16
.license "GPL"
	.data
	.globl bump
	.type bump,@object
	.p2align 2
bump:
	.long 3
	.size bump, 4

	.section xdp,"ax",@progbits
	.globl prog
	.type prog,@function
prog:
	r1 = *(u32 *)(r1 + 0xc)
	*(u32 *)(r10 - 4) = r1
	r2 = r10
	r2 += -4
	r1 = counts ll
	call bpf_map_lookup_elem
	if r0 == 0 goto miss
	r1 = bump ll
	r1 = *(u32 *)(r1 + 0)
	lock *(u64 *)(r0 + 0) += r1
	r0 = 2
	exit
miss:
	r1 = *(u32 *)(r10 - 4)
	call triple
	r0 = 2
	exit

	.text
triple:
	w0 = w1
	w0 *= 3
	exit
`,
    c: `
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 16); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");
int bump = 3;
static __attribute__((noinline)) int triple(int x) { return x * 3; }
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 k = ctx->ingress_ifindex;
  __u64 *v = bpf_map_lookup_elem(&counts, &k);
  if (!v) { triple(k); return XDP_PASS; }
  __sync_fetch_and_add(v, bump);
  return XDP_PASS;
}`,
  },
  // The same lookup without the NULL check: the kernel refuses both.
  unchecked: {
    asm: `
.map counts, type=hash, key=4, value=8, max_entries=16
.license "GPL"
	.section xdp,"ax",@progbits
prog:
	r1 = 0
	*(u32 *)(r10 - 4) = r1
	r2 = r10
	r2 += -4
	r1 = counts ll
	call bpf_map_lookup_elem
	r1 = 1
	*(u64 *)(r0 + 0) = r1
	r0 = 2
	exit
`,
    c: `
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 16); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 k = 0;
  __u64 *v = bpf_map_lookup_elem(&counts, &k);
  *v = 1;
  return XDP_PASS;
}`,
  },
};

const PRELUDE = `#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n`;
const LICENSE = `\nchar LICENSE[] SEC("license") = "GPL";\n`;

interface Verdict { ok: boolean; error: string | undefined }

/** Load every program of an object with bpftool; the verdict and the verifier's error line. */
function load(obj: string, pin: string): Verdict {
  const r = spawnSync("bpftool", ["prog", "loadall", obj, pin], { encoding: "utf8" });
  rmSync(pin, { recursive: true, force: true });
  const log = `${r.stdout}\n${r.stderr}`;
  // The verifier's reason is the line before "processed N insns" in the log libbpf prints.
  const lines = log.split("\n");
  const i = lines.findIndex((l) => /^processed \d+ insns/.test(l));
  return { ok: r.status === 0, error: r.status === 0 ? undefined : (i > 0 ? lines[i - 1] : log.trim().split("\n").slice(-3).join(" | ")) };
}

describe.skipIf(!haveRoot() || !haveTool("bpftool", "version") || !haveTool("clang-19"))("tsbpf asm objects in the kernel", () => {
  let dir = "";
  beforeAll(() => {
    if (!existsSync("/sys/fs/bpf")) mkdirSync("/sys/fs/bpf", { recursive: true });
    if (spawnSync("mountpoint", ["-q", "/sys/fs/bpf"]).status !== 0) run("mount", ["-t", "bpf", "bpf", "/sys/fs/bpf"]);
    dir = mkdtempSync(join(tmpdir(), "tsbpf-asm-load-"));
    for (const [name, p] of Object.entries(PAIRS)) {
      writeFileSync(join(dir, `${name}.c`), PRELUDE + p.c + LICENSE);
      run("clang-19", ["-g", "-O2", "-target", "bpf", "-mcpu=v3", "-I/usr/include/x86_64-linux-gnu", "-c", join(dir, `${name}.c`), "-o", join(dir, `${name}.clang.o`)]);
      writeFileSync(join(dir, `${name}.ours.o`), elfObject(assemble(p.asm, `${name}.s`)));
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const name of Object.keys(PAIRS)) {
    it(`${name}: same verdict as clang's object`, () => {
      const pin = `/sys/fs/bpf/tsbpf-asm-${process.pid}-${name}`;
      const theirs = load(join(dir, `${name}.clang.o`), pin + "-clang");
      const ours = load(join(dir, `${name}.ours.o`), pin + "-ours");
      expect(ours).toEqual(theirs);
    });
  }

  it("the accepted pair really loads and the refused pair is refused", () => {
    const pin = `/sys/fs/bpf/tsbpf-asm-${process.pid}-check`;
    expect(load(join(dir, "counter.ours.o"), pin).ok).toBe(true);
    const bad = load(join(dir, "unchecked.ours.o"), pin);
    expect(bad.ok).toBe(false);
    expect(bad.error).toMatch(/invalid mem access 'map_value_or_null'/);
  });
});
