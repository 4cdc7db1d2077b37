// Whole-object load time: `tsbpf load OBJ --pin DIR` against `bpftool prog loadall OBJ DIR` (libbpf
// 1.1) as whole processes on every fixture object bpftool loads, in the same run; plus our
// in-process loadCollectionFile (BTF, maps, link + CO-RE, PROG_LOAD; then close). Needs root and
// a bpffs at /sys/fs/bpf. Goal: whole process within 1.2× of bpftool.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { loadCollectionFile, sharedKernel } from "../src/load/index.ts";
import { tsbpfExe, tsbpfLabel, tsbpfPre } from "./cli.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const FIXTURES = join(ROOT, "fixtures/obj");
const RUNS = 5;
const pinRoot = mkdtempSync("/sys/fs/bpf/tsbpf-bench-");

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number): string => (ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`);

function timed(cmd: string, args: string[]): { ms: number; ok: boolean } {
  const t = performance.now();
  const r = spawnSync(cmd, args, { stdio: "ignore" });
  return { ms: performance.now() - t, ok: r.status === 0 };
}

// The objects bpftool loads here (others fail for environmental reasons: fentry/lsm EPERM, a
// deliberately rejected program, sections libbpf 1.1 does not know).
const objects = readdirSync(FIXTURES).filter((f) => f.endsWith(".o")).sort().map((f) => join(FIXTURES, f)).filter((p) => {
  const dir = join(pinRoot, "probe");
  const ok = timed("bpftool", ["prog", "loadall", p, dir]).ok;
  rmSync(dir, { recursive: true, force: true });
  return ok;
});

function wholeProcess(cmd: string, pre: string[], tail: (obj: string, dir: string) => string[]): number[] {
  const totals: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    let sum = 0;
    for (const o of objects) {
      const dir = join(pinRoot, "p");
      const t = timed(cmd, [...pre, ...tail(o, dir)]);
      if (!t.ok) throw new Error(`${cmd} ${tail(o, dir).join(" ")} failed`);
      sum += t.ms;
      rmSync(dir, { recursive: true, force: true });
    }
    totals.push(sum);
  }
  return totals;
}

const bpftool = median(wholeProcess("bpftool", [], (o, d) => ["prog", "loadall", o, d]));
const ours = median(wholeProcess(tsbpfExe, tsbpfPre, (o, d) => ["load", o, "--pin", d]));

// In process: kernel BTF parsed once (as a long-running loader would), every object loaded and closed.
sharedKernel().btf;
const inproc: number[] = [];
for (let r = 0; r < RUNS; r++) {
  const t = performance.now();
  for (const o of objects) loadCollectionFile(o).close();
  inproc.push(performance.now() - t);
}
const inMs = median(inproc);

rmSync(pinRoot, { recursive: true, force: true });
console.log(`### object load: ${objects.length} fixture objects, median of ${RUNS} runs (sum over objects)\n`);
console.log("| what | tsbpf | bpftool prog loadall | ratio |");
console.log("| --- | --- | --- | --- |");
console.log(`| whole process (${tsbpfLabel} load --pin) | ${fmt(ours)} | ${fmt(bpftool)} | ${(ours / bpftool).toFixed(2)}× |`);
console.log(`| in-process loadCollectionFile vs whole-process bpftool | ${fmt(inMs)} | ${fmt(bpftool)} | ${(inMs / bpftool).toFixed(2)}× |`);
console.log(`| per object, whole process | ${fmt(ours / objects.length)} | ${fmt(bpftool / objects.length)} | |`);
