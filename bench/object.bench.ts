// Object benchmarks: open every fixture object and link every program, in process (loadObject +
// linkProgram) and as whole processes, against libbpf doing the same preparation with no kernel
// calls (bpf_object__open_file, then bpf_object__load in gen_loader mode, which relocates and
// links but only records syscalls) in a C program built here with clang-19 -lbpf. gen_loader
// defers CO-RE and ksym/kfunc resolution to the kernel, so the compared rows skip them too (kernel
// symbols stubbed); a separate row shows our full preparation against the running kernel's BTF.
// `bun bench/object.bench.ts --child FILES…` is the whole-process worker: open + link once.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadObject } from "../src/elf/index.ts";
import { linkProgram, runningKernel, type KernelSymbols } from "../src/link/index.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const OBJ_DIR = join(ROOT, "fixtures/obj");

// The CO-RE engine only for the full row, so the whole-process worker does not load it.
const core = process.argv[2] === "--child" ? undefined : await import("../btf/core/index.ts");

/** Stubbed kernel: what gen_loader-mode libbpf also leaves to load time. */
const STUB_KERNEL: KernelSymbols = { address: () => 0n };

/**
 * Open and link every program. `full`: also CO-RE against the running kernel's BTF and real
 * kfunc/ksym resolution (the kernel BTF parsed once per run, on first need).
 */
function openAndLink(files: string[], bytes: Uint8Array[], full = false): number {
  let programs = 0;
  const kernel = full ? runningKernel() : STUB_KERNEL;
  for (let i = 0; i < files.length; i++) {
    let obj = loadObject(bytes[i], { file: files[i] });
    if (full && core && (core.objectExt(obj)?.coreRelos.length ?? 0) > 0) obj = core.applyObjectCore(obj, core.objectCoreFixups(obj, kernel.btf!));
    for (const p of obj.programs) {
      try {
        linkProgram(obj, p, { kernel });
      } catch {
        // an extern this kernel lacks: libbpf fails that object the same way
      }
      programs++;
    }
  }
  return programs;
}

if (process.argv[2] === "--child") {
  const files = process.argv.slice(3);
  openAndLink(files, files.map((f) => new Uint8Array(readFileSync(f))));
  process.exit(0);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number): string => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);

// Objects both sides accept (libbpf refuses some fixtures on purpose; so do we).
const all = readdirSync(OBJ_DIR).filter((f) => f.endsWith(".o")).sort().map((f) => join(OBJ_DIR, f));
const files: string[] = [];
for (const f of all) {
  try {
    loadObject(new Uint8Array(readFileSync(f)), { file: f });
    files.push(f);
  } catch {
    // skipped on both sides
  }
}
const bytes = files.map((f) => new Uint8Array(readFileSync(f)));

// ---- in process ----
const N = 50;
openAndLink(files, bytes); // warm-up
const ours: number[] = [];
let programs = 0;
for (let i = 0; i < N; i++) {
  const t0 = performance.now();
  programs = openAndLink(files, bytes);
  ours.push(performance.now() - t0);
}

const fullRuns: number[] = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  openAndLink(files, bytes, true);
  fullRuns.push(performance.now() - t0);
}

// Open alone, for reference: what the ELF/BTF reading costs without CO-RE and linking.
const openOnly: number[] = [];
for (let i = 0; i < N; i++) {
  const t0 = performance.now();
  for (let k = 0; k < files.length; k++) loadObject(bytes[k], { file: files[k] });
  openOnly.push(performance.now() - t0);
}

// ---- libbpf ----
const C = `
#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec * 1e-6; }
static int cmp(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return x < y ? -1 : x > y; }
static int quiet(enum libbpf_print_level l, const char *f, va_list ap) { (void)l; (void)f; (void)ap; return 0; }
int main(int argc, char **argv) {
  libbpf_set_print(quiet);
  int n = atoi(argv[1]);
  double *t = calloc(n, sizeof(double));
  for (int i = 0; i < n; i++) {
    double t0 = now();
    for (int k = 2; k < argc; k++) {
      struct bpf_object *obj = bpf_object__open_file(argv[k], NULL);
      if (!obj) continue;
      LIBBPF_OPTS(gen_loader_opts, gen);
      bpf_object__gen_loader(obj, &gen);
      bpf_object__load(obj);
      bpf_object__close(obj);
    }
    t[i] = now() - t0;
  }
  qsort(t, n, sizeof(double), cmp);
  printf("%f\\n", t[n / 2]);
  return 0;
}
`;
const dir = mkdtempSync(join(tmpdir(), "tsbpf-obj-bench-"));
writeFileSync(join(dir, "b.c"), C);
const build = spawnSync("clang-19", ["-O2", "-o", join(dir, "b"), join(dir, "b.c"), "-lbpf"], { encoding: "utf8" });
let libbpfMs: number | undefined;
if (build.status === 0) {
  const r = spawnSync(join(dir, "b"), [String(N), ...files], { encoding: "utf8" });
  if (r.status === 0) libbpfMs = Number(r.stdout.trim());
}

// ---- whole process ----
const P = 9;
const time = (cmd: string, args: string[]): number => {
  const ts: number[] = [];
  for (let i = 0; i < P; i++) {
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { stdio: "ignore" });
    ts.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 2).join(" ")} exited ${r.status}`);
  }
  return median(ts);
};
const bun = process.execPath;
const oursProc = time(bun, [new URL(import.meta.url).pathname, "--child", ...files]);
const libbpfProc = build.status === 0 ? time(join(dir, "b"), ["1", ...files]) : undefined;

const ratio = (a: number, b: number | undefined) => (b === undefined ? "n/a" : `${(a / b).toFixed(2)}×`);
console.log(`${files.length} fixture objects, ${programs} programs; median of ${N} runs in process, ${P} processes\n`);
console.log("| work | tsbpf | libbpf (gen_loader, no syscalls) | tsbpf / libbpf |");
console.log("| --- | --- | --- | --- |");
console.log(`| open + link all, in process | ${fmt(median(ours))} | ${libbpfMs === undefined ? "n/a" : fmt(libbpfMs)} | ${ratio(median(ours), libbpfMs)} |`);
console.log(`| open only (no CO-RE, no link), in process | ${fmt(median(openOnly))} | | |`);
console.log(`| full: + vmlinux BTF parse, CO-RE (btf/core), kfunc/ksym ids, in process | ${fmt(median(fullRuns))} | (libbpf does this at real load) | |`);
console.log(`| open + link all, whole process | ${fmt(oursProc)} | ${libbpfProc === undefined ? "n/a" : fmt(libbpfProc)} | ${ratio(oursProc, libbpfProc)} |`);
if (build.status !== 0) console.log(`\n(libbpf side not built: ${build.stderr.trim().split("\n")[0]})`);
