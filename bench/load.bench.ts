// Loader benchmarks on the live kernel (root): map update/lookup operations per second, ring
// buffer drain rate and program load time, in-process against libbpf (a C program linked with -lbpf, built here with
// clang-19), and whole-process (one bun process loading a program vs `bpftool prog load`).

import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BpfMap, Program, RingBuffer } from "../src/load/index.ts";
import { encode, type Insn } from "../asm/index.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "tsbpf-bench-"));
const N_OPS = 200_000;
const N_LOADS = 300;
const N_PROCS = 15;

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

// A 202-instruction straight-line XDP program: enough work for the verifier to be measurable.
const insns: Insn[] = [];
for (let i = 0; i < 100; i++) insns.push({ op: 0xb7, dst: (i % 6) + 1, src: 0, off: 0, imm: i }, { op: 0x07, dst: (i % 6) + 1, src: 0, off: 0, imm: 1 });
insns.push({ op: 0xb7, dst: 0, src: 0, off: 0, imm: 2 }, { op: 0x95, dst: 0, src: 0, off: 0, imm: 0 });
const bytes = encode(insns);
writeFileSync(join(dir, "prog.bin"), bytes);

// The same program as an object file for bpftool.
const asm = [`\t.section\txdp,"ax",@progbits`, `\t.globl\tp`, `\t.type\tp,@function`, `p:`];
for (let i = 0; i < 100; i++) asm.push(`\tr${(i % 6) + 1} = ${i}`, `\tr${(i % 6) + 1} += 1`);
asm.push(`\tr0 = 2`, `\texit`, `\t.size\tp, .-p`, `\t.section\tlicense,"aw",@progbits`, `\t.asciz\t"GPL"`, "");
writeFileSync(join(dir, "prog.s"), asm.join("\n"));
sh("clang-19", ["-target", "bpf", "-c", join(dir, "prog.s"), "-o", join(dir, "prog.o")]);

const C = `
#include <bpf/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
static long events;
static int count_cb(void *ctx, void *data, size_t size) { (void)ctx; (void)data; (void)size; events++; return 0; }
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
  int n = atoi(argv[2]);
  if (!strcmp(argv[1], "maps")) {
    int fd = bpf_map_create(BPF_MAP_TYPE_HASH, NULL, 4, 8, 1024, NULL);
    unsigned k; unsigned long long v = 0;
    for (k = 0; k < 1024; k++) bpf_map_update_elem(fd, &k, &v, 0);
    double t0 = now();
    for (int i = 0; i < n; i++) { k = i & 1023; v = i; if (bpf_map_update_elem(fd, &k, &v, 0)) return 1; }
    double t1 = now();
    for (int i = 0; i < n; i++) { k = i & 1023; if (bpf_map_lookup_elem(fd, &k, &v)) return 1; }
    double t2 = now();
    printf("%f %f\\n", n / (t1 - t0), n / (t2 - t1));
  } else if (!strcmp(argv[1], "ringbuf")) {
    /* argv[3] map pin, argv[4] prog pin: fill the ring with n XDP test runs, then time one consume. */
    int map = bpf_obj_get(argv[3]), prog = bpf_obj_get(argv[4]);
    struct ring_buffer *rb = ring_buffer__new(map, count_cb, NULL, NULL);
    char pkt[64] = {0};
    LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof pkt, .repeat = n);
    if (!rb || bpf_prog_test_run_opts(prog, &o)) return 1;
    double t0 = now();
    ring_buffer__consume(rb);
    double t1 = now();
    printf("%f %ld\\n", events / (t1 - t0), events);
  } else {
    static struct bpf_insn ins[4096];
    FILE *f = fopen(argv[3], "rb"); size_t cnt = fread(ins, 8, 4096, f); fclose(f);
    double t0 = now();
    for (int i = 0; i < n; i++) { int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, NULL, "GPL", ins, cnt, NULL); if (fd < 0) return 1; close(fd); }
    printf("%f\\n", (now() - t0) / n * 1e6);
  }
  return 0;
}`;
writeFileSync(join(dir, "native.c"), C);
sh("clang-19", ["-O2", "-o", join(dir, "native"), join(dir, "native.c"), "-lbpf"]);

// ---- in-process: ours ----
const m = BpfMap.create({ mapType: "HASH", keySize: 4, valueSize: 8, maxEntries: 1024 });
const keys = Array.from({ length: 1024 }, (_, i) => m.key(i));
const val = new Uint8Array(8);
const vdv = new DataView(val.buffer);
for (const k of keys) m.set(k, val);
let t0 = performance.now();
for (let i = 0; i < N_OPS; i++) {
  vdv.setUint32(0, i, true);
  m.set(keys[i & 1023], val);
}
const oursUpdate = N_OPS / ((performance.now() - t0) / 1000);
const out = new Uint8Array(8);
t0 = performance.now();
for (let i = 0; i < N_OPS; i++) m.getInto(keys[i & 1023], out);
const oursLookup = N_OPS / ((performance.now() - t0) / 1000);
m.close();

// Program loads: alternate rounds of ours and libbpf's and take medians, since the kernel's own
// work dominates and a busy machine shifts it between rounds.
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (let i = 0; i < 20; i++) Program.load({ type: "XDP", insns: bytes, license: "GPL" }).close();
const oursRounds: number[] = [];
const nativeRounds: number[] = [];
for (let round = 0; round < 7; round++) {
  t0 = performance.now();
  for (let i = 0; i < N_LOADS / 5; i++) Program.load({ type: "XDP", insns: bytes, license: "GPL" }).close();
  oursRounds.push(((performance.now() - t0) / (N_LOADS / 5)) * 1000);
  nativeRounds.push(Number(sh(join(dir, "native"), ["load", String(N_LOADS / 5), join(dir, "prog.bin")]).trim()));
}
const oursLoadUs = median(oursRounds);
const nativeLoadUs = median(nativeRounds);

// ---- ring buffer: fill with XDP test runs calling bpf_ringbuf_output, time one full drain ----
const N_EVENTS = 500_000;
const rbMap = BpfMap.create({ mapType: "RINGBUF", keySize: 0, valueSize: 0, maxEntries: 16 << 20 });
const emit: Insn[] = [
  { op: 0x7a, dst: 10, src: 0, off: -8, imm: 42 }, // *(u64 *)(r10 - 8) = 42
  { op: 0xbf, dst: 2, src: 10, off: 0, imm: 0 }, // r2 = r10
  { op: 0x07, dst: 2, src: 0, off: 0, imm: -8 }, // r2 += -8
  { op: 0x18, dst: 1, src: 1, off: 0, imm: rbMap.fd, imm64: BigInt(rbMap.fd) }, // r1 = map
  { op: 0xb7, dst: 3, src: 0, off: 0, imm: 8 }, // r3 = 8
  { op: 0xb7, dst: 4, src: 0, off: 0, imm: 0 }, // r4 = 0
  { op: 0x85, dst: 0, src: 0, off: 0, imm: 130 }, // call bpf_ringbuf_output
  { op: 0xb7, dst: 0, src: 0, off: 0, imm: 2 }, // r0 = XDP_PASS
  { op: 0x95, dst: 0, src: 0, off: 0, imm: 0 }, // exit
];
const rbProg = Program.load({ type: "XDP", insns: emit, license: "GPL" });
spawnSync("mount", ["-t", "bpf", "bpf", "/sys/fs/bpf"]); // harmless if already mounted
const rbPin = `/sys/fs/bpf/tsbpf_bench_rb_${process.pid}`;
const progPin = `/sys/fs/bpf/tsbpf_bench_rbprog_${process.pid}`;
rbMap.pin(rbPin);
rbProg.pin(progPin);
const ring = new RingBuffer(rbMap);
let seen = 0;
// Warm up the JIT on the drain loop as a long-running consumer would be.
for (let i = 0; i < 5; i++) {
  rbProg.run({ data: new Uint8Array(64), repeat: 50_000 });
  ring.consume(() => {
    seen++;
  });
}
// Alternate rounds: ours, then libbpf's consumer on the same (pinned) map and program; medians.
const ringOurs: number[] = [];
const ringNative: number[] = [];
for (let round = 0; round < 5; round++) {
  seen = 0;
  rbProg.run({ data: new Uint8Array(64), repeat: N_EVENTS });
  t0 = performance.now();
  ring.consume(() => {
    seen++;
  });
  ringOurs.push(seen / ((performance.now() - t0) / 1000));
  if (seen !== N_EVENTS) throw new Error(`ring buffer drain saw ${seen} of ${N_EVENTS} events`);
  const [rate, nseen] = sh(join(dir, "native"), ["ringbuf", String(N_EVENTS), rbPin, progPin]).trim().split(" ").map(Number);
  if (nseen !== N_EVENTS) throw new Error(`libbpf ring buffer drain saw ${nseen} of ${N_EVENTS} events`);
  ringNative.push(rate);
}
const oursRing = median(ringOurs);
const nativeRing = median(ringNative);
ring.close();

// ---- in-process: libbpf ----
const [nativeUpdate, nativeLookup] = sh(join(dir, "native"), ["maps", String(N_OPS)]).trim().split(" ").map(Number);
unlinkSync(rbPin);
unlinkSync(progPin);
rbMap.close();
rbProg.close();

// ---- whole process: bun loading the program once vs bpftool prog load ----
const child = join(dir, "child.ts");
writeFileSync(child, `import { Program } from ${JSON.stringify(join(ROOT, "src/load/index.ts"))};\nimport { readFileSync } from "node:fs";\nProgram.load({ type: "XDP", insns: new Uint8Array(readFileSync(process.argv[2])), license: "GPL" }).close();\n`);
t0 = performance.now();
for (let i = 0; i < N_PROCS; i++) sh(process.execPath, [child, join(dir, "prog.bin")]);
const oursProcMs = (performance.now() - t0) / N_PROCS;
const pin = `/sys/fs/bpf/tsbpf_bench_${process.pid}`;
t0 = performance.now();
for (let i = 0; i < N_PROCS; i++) {
  sh("bpftool", ["prog", "load", join(dir, "prog.o"), pin, "type", "xdp"]);
  unlinkSync(pin);
}
const bpftoolProcMs = (performance.now() - t0) / N_PROCS;
rmSync(dir, { recursive: true, force: true });

const fmt = (x: number) => (x >= 1000 ? Math.round(x).toLocaleString("en-US") : x.toFixed(1));
console.log("| measure | tsbpf | native | tsbpf / native |");
console.log("| --- | ---: | ---: | ---: |");
console.log(`| hash map update, ops/s (in-process, libbpf) | ${fmt(oursUpdate)} | ${fmt(nativeUpdate)} | ${(oursUpdate / nativeUpdate).toFixed(2)} |`);
console.log(`| hash map lookup, ops/s (in-process, libbpf) | ${fmt(oursLookup)} | ${fmt(nativeLookup)} | ${(oursLookup / nativeLookup).toFixed(2)} |`);
console.log(`| load 202-insn XDP program, µs, median of 7 alternating rounds (in-process, libbpf bpf_prog_load) | ${fmt(oursLoadUs)} | ${fmt(nativeLoadUs)} | ${(oursLoadUs / nativeLoadUs).toFixed(2)} |`);
console.log(`| ring buffer drain, events/s, median of 5 alternating 500k-record rounds (libbpf ring_buffer__consume) | ${fmt(oursRing)} | ${fmt(nativeRing)} | ${(oursRing / nativeRing).toFixed(2)} |`);
console.log(`| load same program, ms per process (bun script vs bpftool prog load) | ${fmt(oursProcMs)} | ${fmt(bpftoolProcMs)} | ${(oursProcMs / bpftoolProcMs).toFixed(2)} |`);
