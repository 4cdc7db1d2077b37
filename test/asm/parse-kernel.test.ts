// Kernel syntax against the kernel: `bpftool prog dump xlated` text of loaded programs parses to
// exactly the bytes bpftool reports with `opcodes`, and the instruction lines of a verifier log
// parse back to the instructions that were loaded.

import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encode, slotOffsets, type Insn } from "../../asm/index.ts";
import { assemble, elfObject } from "../../asm/assemble.ts";
import { parse } from "../../asm/parse.ts";
import { haveRoot, haveTool, run } from "../support/env.ts";

const C_SRC = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 16); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");
int bump = 3;
const volatile __u64 scale = 7;
static __attribute__((noinline)) int triple(int x) { return x * 3; }
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 k = ctx->ingress_ifindex;
  __u64 *v = bpf_map_lookup_elem(&counts, &k);
  if (!v) return triple(k) > 5 ? XDP_PASS : XDP_DROP;
  __sync_fetch_and_add(v, bump * scale);
  for (int i = 0; i < 8; i++) if (k & (1 << i)) bump++;
  return bpf_ktime_get_ns() & 1 ? XDP_PASS : XDP_DROP;
}
SEC("socket") int sock(struct __sk_buff *skb) {
  __u64 x = skb->len;
  return (x % 3) ^ __builtin_bswap32(skb->mark) ^ (skb->protocol == 8 ? -1 : 1);
}
char LICENSE[] SEC("license") = "GPL";
`;

const UNCHECKED = `
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
	r6 = r0
	r1 = 1
	w1 <<= 3
	*(u64 *)(r6 + 0) = r1
	r0 = 2
	exit
`;

/** The hex bytes bpftool's "opcodes" listing shows under each instruction. */
function opcodeBytes(listing: string): string {
  return listing.split("\n").filter((l) => /^\s+([0-9a-f]{2} )*[0-9a-f]{2}\s*$/.test(l)).map((l) => l.trim().replace(/ /g, "")).join("");
}

/**
 * bpf-to-bpf calls: the verifier log's "call pc+N" has N in imm, but in xlated code the kernel
 * moved N to off and put the callee's subprogram index in imm, which the text does not show.
 * Compare such calls by their target only.
 */
function canonicalCalls(hex: string): string {
  let out = "";
  for (let i = 0; i < hex.length; i += 16) {
    const slot = hex.slice(i, i + 16);
    if (!slot.startsWith("8510")) {
      out += slot;
      continue;
    }
    const b = Buffer.from(slot, "hex");
    const target = b.readInt16LE(2) !== 0 ? b.readInt16LE(2) : b.readInt32LE(4);
    out += `call:${target};`;
  }
  return out;
}

function insnsOf(text: string, log = false): Insn[] {
  return parse(text, { log, keepSource: false }).flatMap((s) => (s.kind === "insn" ? [s.insn] : []));
}

describe.skipIf(!haveRoot() || !haveTool("bpftool", "version") || !haveTool("clang-19"))("kernel syntax vs bpftool and the verifier", () => {
  let dir = "";
  const pin = `/sys/fs/bpf/tsbpf-parse-${process.pid}`;
  beforeAll(() => {
    if (!existsSync("/sys/fs/bpf")) mkdirSync("/sys/fs/bpf", { recursive: true });
    if (spawnSync("mountpoint", ["-q", "/sys/fs/bpf"]).status !== 0) run("mount", ["-t", "bpf", "bpf", "/sys/fs/bpf"]);
    dir = mkdtempSync(join(tmpdir(), "tsbpf-parse-kernel-"));
    writeFileSync(join(dir, "p.c"), C_SRC);
    run("clang-19", ["-g", "-O2", "-target", "bpf", "-mcpu=v3", "-I/usr/include/x86_64-linux-gnu", "-c", join(dir, "p.c"), "-o", join(dir, "p.o")]);
    run("bpftool", ["prog", "loadall", join(dir, "p.o"), pin]);
  });
  afterAll(() => {
    rmSync(pin, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  for (const prog of ["prog", "sock"]) {
    it(`xlated text of '${prog}' parses to the bytes bpftool shows`, () => {
      const text = run("bpftool", ["prog", "dump", "xlated", "pinned", `${pin}/${prog}`]);
      const bytes = opcodeBytes(run("bpftool", ["prog", "dump", "xlated", "pinned", `${pin}/${prog}`, "opcodes"]));
      expect(bytes.length).toBeGreaterThan(0);
      // (-mcpu=v3: bpftool 7.1's own disassembler prints v4 instructions as "BUG_ldx_81".)
    // The whole listing, function headers and source-line comments included, parses as is.
      expect(canonicalCalls(Buffer.from(encode(insnsOf(text))).toString("hex"))).toBe(canonicalCalls(bytes));
    });
  }

  it("a verifier log's instruction lines parse to the loaded instructions", () => {
    const ours = assemble(UNCHECKED, "unchecked.s");
    writeFileSync(join(dir, "u.o"), elfObject(ours));
    const r = spawnSync("bpftool", ["prog", "loadall", join(dir, "u.o"), `${pin}-u`], { encoding: "utf8" });
    rmSync(`${pin}-u`, { recursive: true, force: true });
    expect(r.status).not.toBe(0);
    const logged = insnsOf(r.stderr, true);
    const loaded = ours.sections.find((s) => s.name === "xdp")!.insns;
    const slots = slotOffsets(loaded);
    // The log shows instructions up to the one refused, by slot index.
    const indices = r.stderr.split("\n").filter((l) => /^\d+: \(/.test(l)).map((l) => Number(l.split(":")[0]));
    expect(logged.length).toBe(indices.length);
    expect(logged.length).toBeGreaterThan(5);
    logged.forEach((insn, k) => {
      const orig = loaded[slots.indexOf(indices[k])];
      // ld_imm64 of a map: the log shows the kernel's map pointer where the object had a relocation.
      const norm = (i: Insn) => (i.op === 0x18 ? { op: i.op, dst: i.dst } : { op: i.op, dst: i.dst, src: i.src, off: i.off, imm: i.imm });
      expect(norm(insn)).toEqual(norm(orig));
    });
  });
});
