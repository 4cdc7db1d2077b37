// BTF benchmarks: parsing /sys/kernel/btf/vmlinux in-process (goal ≤ 60 ms) against libbpf's
// btf__parse (a C program built here with clang-19 -lbpf), and whole-process dumps — `tsbpf btf
// dump` raw and JSON against `bpftool btf dump file … format raw` (-j) — on the same input.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { dumpRawChunks, parseBtf } from "../btf/index.ts";
import { tsbpfExe, tsbpfPre } from "./cli.ts";

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
  dumpRawChunks(btf);
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
// Wall time and CPU time (user + system, from the child's rusage): on a busy machine the wall
// time swings with the load, the CPU time much less.
function proc(cmd: string, args: string[]): { wall: number; cpu: number } {
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < N_PROCS; i++) {
    const t0 = performance.now();
    const r = Bun.spawnSync([cmd, ...args], { stdout: "ignore", stderr: "inherit" });
    walls.push(performance.now() - t0);
    if (r.exitCode !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.exitCode}`);
    cpus.push(Number(r.resourceUsage.cpuTime.total) / 1000);
  }
  return { wall: median(walls), cpu: median(cpus) };
}
const bun = process.execPath;
const cli = join(ROOT, "src/cli/tsbpf.ts");
const oursRaw = proc(tsbpfExe, [...tsbpfPre, "btf", "dump", VMLINUX, "--format", "raw"]);
const toolRaw = proc("bpftool", ["btf", "dump", "file", VMLINUX, "format", "raw"]);
const oursJson = proc(tsbpfExe, [...tsbpfPre, "btf", "dump", VMLINUX, "--json"]);
const toolJson = proc("bpftool", ["-j", "btf", "dump", "file", VMLINUX, "format", "raw"]);

const ratio = (ours: number, theirs: number): string => (Number.isNaN(theirs) ? "n/a" : `${(ours / theirs).toFixed(2)}×`);
console.log(`vmlinux: ${bytes.length} bytes, ${types - 1} types; medians of ${N_PARSE} runs in-process, ${N_PROCS} processes\n`);
console.log("| task | tsbpf | native | tsbpf / native |");
console.log("| --- | --- | --- | --- |");
console.log(`| parse vmlinux in-process (goal ≤ 60 ms) | ${fmt(median(parseTimes))} | ${fmt(libbpfParse)} (libbpf btf__parse) | ${ratio(median(parseTimes), libbpfParse)} |`);
console.log(`| parse + find struct task_struct | ${fmt(median(lookupTimes))} | | |`);
console.log(`| raw listing in-process (dumpRawChunks) | ${fmt(median(dumpTimes))} | | |`);
for (const [task, ours, tool, native] of [
  ["`btf dump` raw, whole process", oursRaw, toolRaw, "bpftool"],
  ["`btf dump --json`, whole process", oursJson, toolJson, "bpftool -j"],
] as const) {
  console.log(`| ${task}, wall | ${fmt(ours.wall)} | ${fmt(tool.wall)} (${native}) | ${ratio(ours.wall, tool.wall)} |`);
  console.log(`| ${task}, CPU | ${fmt(ours.cpu)} | ${fmt(tool.cpu)} (${native}) | ${ratio(ours.cpu, tool.cpu)} |`);
}
console.log(`\n(load average at the end: ${loadavg().map((x) => x.toFixed(1)).join(" ")})`);
