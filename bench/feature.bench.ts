// Feature probing: `tsbpf feature --json` (default threads, --threads 1, --threads 2) against
// `bpftool -j feature probe kernel` as whole processes (interleaved, wall time and user+system CPU
// from /usr/bin/time), plus our in-process probeKernel() and its two big parts (reading names from
// kernel BTF; the helper loads). Needs root.
// bpftool 7.1 probes 31 program types x 206 helpers; we probe the kernel's 32 x 209 (netfilter and
// the newer helpers too), so our kernel work is ~5% larger.

import { spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import { kernelFeatureNames, probeHelpers, probeProgramType } from "../src/load/feature.ts";
import { probeKernel } from "../src/load/feature-report.ts";
import { tsbpfExe, tsbpfLabel, tsbpfPre } from "./cli.ts";

const RUNS = 7;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number): string => (ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`);

/** One run under /usr/bin/time: wall, user, system in ms. */
function timed(cmd: string, args: string[]): { wall: number; cpu: number } {
  const r = spawnSync("/usr/bin/time", ["-f", "%e %U %S", cmd, ...args], { encoding: "utf8", stdio: ["ignore", "ignore", "pipe"] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  const [wall, user, sys] = r.stderr.trim().split("\n").pop()!.split(" ").map(Number);
  return { wall: wall * 1000, cpu: (user + sys) * 1000 };
}

const load0 = loadavg()[0];
const ours: { wall: number; cpu: number }[] = [];
const one: { wall: number; cpu: number }[] = [];
const two: { wall: number; cpu: number }[] = [];
const theirs: { wall: number; cpu: number }[] = [];
for (let i = 0; i < RUNS; i++) {
  theirs.push(timed("bpftool", ["-j", "feature", "probe", "kernel"]));
  ours.push(timed(tsbpfExe, [...tsbpfPre, "feature", "--json"]));
  one.push(timed(tsbpfExe, [...tsbpfPre, "feature", "--json", "--threads", "1"]));
  two.push(timed(tsbpfExe, [...tsbpfPre, "feature", "--json", "--threads", "2"]));
}

const inproc: number[] = [];
const names: number[] = [];
const helpers: number[] = [];
for (let i = 0; i < 3; i++) {
  let t = performance.now();
  await probeKernel({ threads: 1 });
  inproc.push(performance.now() - t);
  t = performance.now();
  const n = kernelFeatureNames();
  names.push(performance.now() - t);
  const types = n.progTypes.filter((p) => probeProgramType(p.id).status === "available");
  t = performance.now();
  for (const p of types) probeHelpers(p.id, n.helpers.map((h) => h.id));
  helpers.push(performance.now() - t);
}

const w = (xs: { wall: number }[]) => median(xs.map((x) => x.wall));
const c = (xs: { cpu: number }[]) => median(xs.map((x) => x.cpu));
console.log(`### feature probe: median of ${RUNS} interleaved runs (load average ${load0.toFixed(2)} → ${loadavg()[0].toFixed(2)} on ${navigator.hardwareConcurrency} CPUs)\n`);
console.log("| what | tsbpf | bpftool -j feature probe kernel | ratio |");
console.log("| --- | --- | --- | --- |");
for (const [label, xs] of [["", ours], [" --threads 1", one], [" --threads 2", two]] as const) {
  console.log(`| whole process, wall (${tsbpfLabel} feature --json${label}) | ${fmt(w(xs))} | ${fmt(w(theirs))} | ${(w(xs) / w(theirs)).toFixed(2)}× |`);
  console.log(`| whole process, user+system CPU${label} | ${fmt(c(xs))} | ${fmt(c(theirs))} | ${(c(xs) / c(theirs)).toFixed(2)}× |`);
}
console.log(`| in-process probeKernel({ threads: 1 }) vs whole-process bpftool | ${fmt(median(inproc))} | ${fmt(w(theirs))} | ${(median(inproc) / w(theirs)).toFixed(2)}× |`);
console.log(`| of which: names from /sys/kernel/btf/vmlinux | ${fmt(median(names))} | (none) | |`);
console.log(`| of which: helper loads (all types) | ${fmt(median(helpers))} | | |`);
