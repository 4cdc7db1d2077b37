// The assembler and ELF writer against LLVM: C programs compiled once with `clang-19 -S` (we
// assemble the text) and once with `clang-19 -c` (the reference object), and the hand-written .s
// fixtures assembled by clang-19; both objects read back with llvm-readelf-19 and compared section
// by section (bytes, flags), relocation by relocation and symbol by symbol.

import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { assemble, elfObject, rawCode } from "../../asm/assemble.ts";
import { parseElf } from "../../src/elf/file.ts";
import { TsbpfError } from "../../src/errors.ts";
import { spawnSync } from "node:child_process";
import { haveTool, run, ROOT } from "../support/env.ts";
import { readelfSummary as normalize } from "./llvm-mc-gen.ts";

/** Small programs covering what the assembler must reproduce: maps, globals, calls, externs. */
const C_PROGRAMS: Record<string, string> = {
  maps_calls: `
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 64); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); } totals SEC(".maps");
static __attribute__((noinline)) __u64 mix(__u64 x) { return x * 31 + 7; }
__attribute__((noinline)) int global_helper(int x) { return x ^ 0x55; }
SEC("xdp") int count(struct xdp_md *ctx) {
  __u32 k = ctx->ingress_ifindex, z = 0;
  __u64 one = 1, *v = bpf_map_lookup_elem(&counts, &k);
  if (v) __sync_fetch_and_add(v, mix(one)); else bpf_map_update_elem(&counts, &k, &one, BPF_ANY);
  __u64 *t = bpf_map_lookup_elem(&totals, &z);
  if (t) *t += 1;
  return global_helper(k) & 1 ? XDP_PASS : XDP_DROP;
}
SEC("tc") int second(struct __sk_buff *skb) { return mix(skb->len) > 100; }`,
  globals: `
int counter = 5;
const volatile int limit = 10;
static int hidden[4];
char buf[16];
SEC("socket") int g(void *ctx) {
  for (int i = 0; i < 4 && i < limit; i++) hidden[i] += counter;
  buf[3] = hidden[2];
  return counter + buf[1];
}`,
  loops_atomics: `
__u64 total;
__u32 small;
SEC("tp/syscalls/sys_enter_getpid") int a(void *ctx) {
  __u64 old = __sync_fetch_and_add(&total, 3);
  __sync_fetch_and_or(&total, 8);
  __sync_val_compare_and_swap(&small, 1, 2);
  __u64 x = __sync_lock_test_and_set(&total, old);
  for (int i = 0; i < 16; i++) { if (x & (1ULL << i)) small++; }
  return 0;
}`,
  kfuncs: `
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;
SEC("tp_btf/sched_switch") int k(void *ctx) { bpf_rcu_read_lock(); bpf_rcu_read_unlock(); return 0; }`,
};

const PRELUDE = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
`;
const LICENSE = `\nchar LICENSE[] SEC("license") = "GPL";\n`;

describe.skipIf(!haveTool("clang-19") || !haveTool("llvm-readelf-19"))("tsbpf asm vs clang-19", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "tsbpf-asm-"));
    const files = Object.keys(C_PROGRAMS).map((n) => `${n}.c`);
    for (const [n, src] of Object.entries(C_PROGRAMS)) writeFileSync(join(dir, `${n}.c`), PRELUDE + src + LICENSE);
    const flags = ["-O2", "-target", "bpf", "-mcpu=v3", "-I/usr/include/x86_64-linux-gnu"];
    // One invocation each: -S writes NAME.s, -c writes NAME.o into the working directory.
    run("sh", ["-c", `cd ${dir} && clang-19 ${flags.join(" ")} -S ${files.join(" ")} && clang-19 ${flags.join(" ")} -c ${files.join(" ")}`]);
    for (const f of readdirSync(join(ROOT, "fixtures/src")).filter((f) => f.endsWith(".s"))) {
      const text = readFileSync(join(ROOT, "fixtures/src", f), "utf8");
      writeFileSync(join(dir, `fx_${f}`), text);
      run("clang-19", ["-target", "bpf", "-mcpu=v4", "-c", join(dir, `fx_${f}`), "-o", join(dir, `fx_${f.replace(/\.s$/, ".o")}`)]);
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cases = [...Object.keys(C_PROGRAMS), ...readdirSync(join(ROOT, "fixtures/src")).filter((f) => f.endsWith(".s")).map((f) => `fx_${f.replace(/\.s$/, "")}`)];
  for (const name of cases) {
    it(`${name}: same sections, relocations and symbols`, () => {
      const text = readFileSync(join(dir, `${name}.s`), "utf8");
      writeFileSync(join(dir, `${name}.ours.o`), elfObject(assemble(text, `${name}.s`)));
      const ours = normalize(join(dir, `${name}.ours.o`));
      const theirs = normalize(join(dir, `${name}.o`));
      expect(ours.sections).toEqual(theirs.sections);
      expect(ours.relocs).toEqual(theirs.relocs);
      expect(ours.symbols).toEqual(theirs.symbols);
    });
  }
});

describe("assembler errors and directives", () => {
  const err = (text: string): TsbpfError => {
    try {
      assemble(text, "t.s");
    } catch (e) {
      if (e instanceof TsbpfError) return e;
      throw e;
    }
    throw new Error("no error");
  };
  it("undefined labels, cross-section jumps, duplicates and bad directives name the line", () => {
    const cases: [string, number, RegExp][] = [
      ["r0 = 0\nif r0 == 0 goto nowhere\nexit\n", 2, /undefined label 'nowhere'/],
      [".section a,\"ax\"\nx: exit\n.section b,\"ax\"\ngoto x\n", 4, /another section/],
      ["a: exit\na: exit\n", 2, /already defined/],
      [".frobnicate 1\n", 1, /unknown directive/],
      [".data\n.byte 300\n", 2, /does not fit in 1 byte/],
      [".data\nr0 = 0\n", 2, /instruction in data section/],
      ['.ascii "x"\n', 1, /in code section/],
      [".byte 0x95, 0, 0, 0\nexit\n", 2, /do not make whole instructions/],
      [".byte 0xff, 0, 0, 0, 0, 0, 0, 0\n", 1, /not an instruction: unknown opcode 0xff/],
      [".map m, type=nosuch, key=4\n", 1, /bad value 'nosuch'/],
      [".map m, key=4\n", 1, /needs type=/],
      [".section x,\"ax\"\n.size f, .Lnope-f\nf: exit\n", 2, /undefined label '.Lnope'/],
    ];
    for (const [text, line, msg] of cases) {
      const e = err(text);
      expect(e.message).toMatch(msg);
      expect(e.where.line).toBe(line);
      expect(e.where.file).toBe("t.s");
    }
  });

  it("raw bytes in a code section become instructions", () => {
    const r = assemble(".byte 0x18, 0x11, 0, 0, 3, 0, 0, 0\n.long 0, 7\n.quad 0x95\n");
    expect(r.sections[0].insns.map((i) => [i.op, i.src, i.imm64])).toEqual([[0x18, 1, (7n << 32n) | 3n], [0x95, 0, undefined]]);
  });

  it("a 40000-instruction forward goto is out of range, gotol is not", () => {
    const body = "r0 = 0\n".repeat(40000);
    expect(err(`goto far\n${body}far: exit\n`).message).toMatch(/16-bit offset range/);
    const r = assemble(`gotol far\n${body}far: exit\n`);
    expect(r.sections[0].insns[0].imm).toBe(40000);
  });

  it("raw output refuses relocations and takes one code section", () => {
    expect(() => rawCode(assemble(".map m, type=array, key=4, value=4, max_entries=1\n.section s,\"ax\"\nr1 = m ll\nexit\n"))).toThrow(/relocations/);
    expect(() => rawCode(assemble(".section a,\"ax\"\nexit\n.section b,\"ax\"\nexit\n"))).toThrow(/one code section/);
    expect(Buffer.from(rawCode(assemble("r0 = 1\nexit\n"))).toString("hex")).toBe("b7000000010000009500000000000000");
  });
});

describe("tsbpf asm (the command)", () => {
  const cli = (args: string[], input?: string) =>
    spawnSync(process.execPath, [join(ROOT, "src/cli/tsbpf.ts"), "asm", ...args], { encoding: "utf8", input });
  it("writes an ELF object or raw bytes, and reports bad input with file:line:column and exit 2", () => {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-asm-cli-"));
    try {
      const src = join(dir, "p.s");
      writeFileSync(src, '.section socket,"ax"\nprog:\n\tr0 = 1\n\texit\n');
      expect(cli([src, "-o", join(dir, "p.o")]).status).toBe(0);
      const elf = readFileSync(join(dir, "p.o"));
      expect([...elf.subarray(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]);
      expect(elf.readUInt16LE(18)).toBe(247);
      expect(cli([src, "-o", join(dir, "p.bin")]).status).toBe(0);
      expect(readFileSync(join(dir, "p.bin")).toString("hex")).toBe("b7000000010000009500000000000000");
      writeFileSync(src, "r0 = 1\n  r0 += r11\n");
      const bad = cli([src, "-o", join(dir, "q.o")]);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain(`${src}:2:9: invalid register r11`);
      expect(cli([src]).status).toBe(2);
      expect(cli([join(dir, "missing.s"), "-o", join(dir, "m.o")]).status).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("random assembler input", () => {
  const piece = fc.constantFrom(
    ".text", ".data", ".bss", '.section xdp,"ax",@progbits', ".section .rodata", '.section s,"zz"', ".globl f", ".type f,@function",
    ".type f,@bogus", ".size f, .Lend-f", ".size f, 8", ".size g, .-g", ".p2align 3", ".p2align 40", ".align 3", ".byte 1, 2",
    ".byte 0x18", ".long f", ".quad 1, 2", ".short -1", '.ascii "ab"', '.asciz "x\\n"', ".zero 4", ".zero -1", ".comm c, 8, 8",
    ".local c", ".map m, type=hash, key=4, value=8, max_entries=4", ".map m, type=array", ".map", '.license "GPL"', ".license",
    "f:", "g:", ".Lend:", "m:", "r0 = 0", "exit", "call f", "call g", "call bpf_ktime_get_ns", "call nosuch", "r1 = m ll",
    "r1 = c + 4 ll", "r1 = f ll", "goto f", "goto .Lend", "gotol g", "if r1 > 2 goto f", "r1 = map[id:3]", "(95) exit", "ld_pseudo r1, 4, 1",
  );
  it("never throws anything but TsbpfError, and what it accepts writes and reads back as ELF", () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 14 }), (lines) => {
        let r;
        try {
          r = assemble(lines.join("\n") + "\n", "r.s");
        } catch (e) {
          if (!(e instanceof TsbpfError)) throw e;
          return;
        }
        // Whatever assembles must also write, and read back with our ELF reader, without complaint.
        const elf = parseElf(elfObject(r));
        expect(elf.sections.map((x) => x.name)).toEqual(expect.arrayContaining([".text", ".symtab", ".strtab"]));
      }),
      { numRuns: 1500 },
    );
  });
});
