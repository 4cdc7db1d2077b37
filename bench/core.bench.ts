// CO-RE benchmark: relocate every fixture object that has CO-RE relocations against the running
// kernel's BTF — in process (loadObject + objectCoreFixups + applyObjectCore) and as whole
// processes (`tsbpf core OBJ`) — against libbpf doing the same open + load preparation in a C
// program built here with clang-19 -lbpf, its bpf() calls answered by a stand-in (fake fds, no
// kernel work), so it measures libbpf's own work: ELF, BTF, vmlinux BTF, CO-RE, linking.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyObjectCore, objectCoreFixups, objectExt } from "../btf/core/index.ts";
import { parseBtf, type Btf } from "../btf/index.ts";
import { loadObject } from "../src/elf/index.ts";
import { tsbpfExe, tsbpfPre } from "./cli.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const VMLINUX = "/sys/kernel/btf/vmlinux";
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number): string => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);

const files: string[] = [];
for (const d of ["fixtures/obj", "fixtures/obj/verifier"]) {
  for (const f of readdirSync(join(ROOT, d)).sort()) {
    if (!f.endsWith(".o")) continue;
    try {
      const obj = loadObject(new Uint8Array(readFileSync(join(ROOT, d, f))), { file: f });
      if ((objectExt(obj)?.coreRelos.length ?? 0) > 0) files.push(join(ROOT, d, f));
    } catch {
      // objects we refuse are not part of this benchmark
    }
  }
}
const bytes = files.map((f) => new Uint8Array(readFileSync(f)));
const vmlinuxBytes = new Uint8Array(readFileSync(VMLINUX));

/** Relocate objects against a parsed target; returns the number of fix-ups. */
function relocate(which: number[], target: Btf): number {
  let n = 0;
  for (const i of which) {
    const obj = loadObject(bytes[i], { file: files[i] });
    const fx = objectCoreFixups(obj, target);
    applyObjectCore(obj, fx.filter((f) => f.outcome.kind !== "error"));
    n += fx.length;
  }
  return n;
}

const all = files.map((_, i) => i);
const one = [Math.max(0, files.findIndex((f) => f.endsWith("core_parent_tp.o")))];
const N = 30;
const runOurs = (which: number[], parseEach: boolean): number => {
  const ts: number[] = [];
  let shared = parseBtf(vmlinuxBytes);
  relocate(which, shared); // warm-up
  for (let r = 0; r < N; r++) {
    const t0 = performance.now();
    if (parseEach) shared = parseBtf(vmlinuxBytes);
    relocate(which, shared);
    ts.push(performance.now() - t0);
  }
  return median(ts);
};
const fixups = relocate(all, parseBtf(vmlinuxBytes));
const oursAll = runOurs(all, true);
const oursOne = runOurs(one, true);

// ---- libbpf ----
const C = `
#define _GNU_SOURCE
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
/* Every bpf() call is answered here: object-creating commands get a /dev/null fd, the rest 0. */
long syscall(long nr, ...) {
  va_list ap; va_start(ap, nr);
  long a = va_arg(ap, long); va_end(ap);
  if (nr != __NR_bpf) return -1;
  if (a == BPF_MAP_CREATE || a == BPF_PROG_LOAD || a == BPF_BTF_LOAD) return open("/dev/null", O_RDONLY | O_CLOEXEC);
  return 0;
}
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
const dir = mkdtempSync(join(tmpdir(), "tsbpf-core-bench-"));
writeFileSync(join(dir, "b.c"), C);
const exe = join(dir, "b");
const build = spawnSync("clang-19", ["-O2", "-o", exe, join(dir, "b.c"), "-lbpf"], { encoding: "utf8" });
const copies = files.map((f, i) => {
  const p = join(dir, `${i}.o`);
  writeFileSync(p, bytes[i]);
  return p;
});
const libbpfIn = (which: number[]): number | undefined => {
  if (build.status !== 0) return undefined;
  const r = spawnSync(exe, [String(N), ...which.map((i) => copies[i])], { encoding: "utf8" });
  return r.status === 0 ? Number(r.stdout.trim()) : undefined;
};
const libAll = libbpfIn(all);
const libOne = libbpfIn(one);

// ---- whole process ----
const P = 9;
const time = (cmd: string, args: string[]): number => {
  const ts: number[] = [];
  for (let i = 0; i < P; i++) {
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { stdio: "ignore" });
    ts.push(performance.now() - t0);
    if (r.status !== 0 && r.status !== 1) throw new Error(`${cmd} ${args.slice(0, 3).join(" ")} exited ${r.status}`);
  }
  return median(ts);
};
// A private copy, so both sides read the same bytes while fixtures may be rebuilt.
const oneCopy = join(dir, "one.o");
writeFileSync(oneCopy, bytes[one[0]]);
const oursProc = time(tsbpfExe, [...tsbpfPre, "core", oneCopy]);
const libProc = build.status === 0 ? time(exe, ["1", oneCopy]) : undefined;

const ratio = (a: number, b: number | undefined) => (b === undefined ? "n/a" : `${(a / b).toFixed(2)}×`);
const show = (x: number | undefined) => (x === undefined ? "n/a" : fmt(x));
console.log(`${files.length} fixture objects with ${fixups} CO-RE relocations, against ${VMLINUX}; median of ${N} runs in process, ${P} processes\n`);
console.log("| work | tsbpf | libbpf (open + load, bpf() stubbed) | tsbpf / libbpf |");
console.log("| --- | --- | --- | --- |");
console.log(`| all objects, in process (tsbpf parses vmlinux once per pass, libbpf once per object) | ${fmt(oursAll)} | ${show(libAll)} | ${ratio(oursAll, libAll)} |`);
const oneName = files[one[0]].slice(files[one[0]].lastIndexOf("/") + 1);
console.log(`| ${oneName} incl. vmlinux parse, in process | ${fmt(oursOne)} | ${show(libOne)} | ${ratio(oursOne, libOne)} |`);
console.log(`| ${oneName}, whole process (tsbpf core) | ${fmt(oursProc)} | ${show(libProc)} | ${ratio(oursProc, libProc)} |`);
if (build.status !== 0) console.log(`\n(libbpf side not built: ${build.stderr.trim().split("\n")[0]})`);
