// BTF benchmarks: parsing /sys/kernel/btf/vmlinux in-process (goal ≤ 60 ms) against libbpf's
// btf__parse (a C program built here with clang-19 -lbpf), and whole-process dumps — `tsbpf btf
// dump` raw and JSON against `bpftool btf dump file … format raw` (-j) — on the same input.

import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dumpRawBytes, parseBtf } from "../btf/index.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const VMLINUX = "/sys/kernel/btf/vmlinux";
const N_PARSE = 40;
const N_PROCS = 9;
const dir = mkdtempSync(join(tmpdir(), "tsbpf-btf-bench-"));

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;

// ---- in-process parse ----
const bytes = new Uint8Array(readFileSync(VMLINUX));
const parseTimes: number[] = [];
let types = 0;
for (let i = 0; i < N_PARSE; i++) {
  const t0 = performance.now();
  const btf = parseBtf(bytes);
  parseTimes.push(performance.now() - t0);
  types = btf.typeCount;
}
// Parse plus a lookup that must decode: what a loader resolving one kernel type pays.
const lookupTimes: number[] = [];
for (let i = 0; i < N_PARSE; i++) {
  const t0 = performance.now();
  const btf = parseBtf(bytes);
  if (!btf.find("task_struct", "struct")) throw new Error("task_struct not found");
  lookupTimes.push(performance.now() - t0);
}
const dumpTimes: number[] = [];
for (let i = 0; i < 5; i++) {
  const btf = parseBtf(bytes);
  const t0 = performance.now();
  dumpRawBytes(btf);
  dumpTimes.push(performance.now() - t0);
}

const C = `
#include <bpf/btf.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec * 1e-6; }
static int cmp(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return x < y ? -1 : x > y; }
int main(int argc, char **argv) {
  int n = atoi(argv[2]);
  double *t = calloc(n, sizeof(double));
  for (int i = 0; i < n; i++) {
    double t0 = now();
    struct btf *b = btf__parse(argv[1], NULL);
    if (!b) return 1;
    t[i] = now() - t0;
    btf__free(b);
  }
  qsort(t, n, sizeof(double), cmp);
  printf("%f\\n", t[n / 2]);
  return 0;
}`;
writeFileSync(join(dir, "parse.c"), C);
let libbpfParse = NaN;
const cc = spawnSync("clang-19", ["-O2", "-o", join(dir, "parse"), join(dir, "parse.c"), "-lbpf"], { encoding: "utf8" });
if (cc.status === 0) {
  const r = spawnSync(join(dir, "parse"), [VMLINUX, String(N_PARSE)], { encoding: "utf8" });
  if (r.status === 0) libbpfParse = Number(r.stdout.trim());
}

// ---- whole process ----
function wall(cmd: string, args: string[]): number {
  const times: number[] = [];
  for (let i = 0; i < N_PROCS; i++) {
    const out = openSync("/dev/null", "w");
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { stdio: ["ignore", out, "inherit"] });
    times.push(performance.now() - t0);
    closeSync(out);
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}`);
  }
  return median(times);
}
const bun = process.execPath;
const cli = join(ROOT, "src/cli/tsbpf.ts");
const oursRaw = wall(bun, [cli, "btf", "dump", VMLINUX, "--format", "raw"]);
const toolRaw = wall("bpftool", ["btf", "dump", "file", VMLINUX, "format", "raw"]);
const oursJson = wall(bun, [cli, "btf", "dump", VMLINUX, "--json"]);
const toolJson = wall("bpftool", ["-j", "btf", "dump", "file", VMLINUX, "format", "raw"]);

const ratio = (ours: number, theirs: number): string => (Number.isNaN(theirs) ? "n/a" : `${(ours / theirs).toFixed(2)}×`);
console.log(`vmlinux: ${bytes.length} bytes, ${types - 1} types; medians of ${N_PARSE} runs in-process, ${N_PROCS} processes\n`);
console.log("| task | tsbpf | native | tsbpf / native |");
console.log("| --- | --- | --- | --- |");
console.log(`| parse vmlinux in-process (goal ≤ 60 ms) | ${fmt(median(parseTimes))} | ${fmt(libbpfParse)} (libbpf btf__parse) | ${ratio(median(parseTimes), libbpfParse)} |`);
console.log(`| parse + find struct task_struct | ${fmt(median(lookupTimes))} | | |`);
console.log(`| raw listing in-process (dumpRawBytes) | ${fmt(median(dumpTimes))} | | |`);
console.log(`| \`btf dump\` raw, whole process | ${fmt(oursRaw)} | ${fmt(toolRaw)} (bpftool) | ${ratio(oursRaw, toolRaw)} |`);
console.log(`| \`btf dump --json\`, whole process | ${fmt(oursJson)} | ${fmt(toolJson)} (bpftool -j) | ${ratio(oursJson, toolJson)} |`);
