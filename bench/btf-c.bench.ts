// BTF → C header benchmark: `tsbpf btf dump /sys/kernel/btf/vmlinux --format c` against `bpftool
// btf dump file … format c`, whole process (wall and CPU time, medians), plus the in-process dump
// (cold first run and warm median, streamed to a discarding sink as the CLI streams to stdout; and
// the whole header as one string, dumpC). Checks the two headers are identical before timing.

import { closeSync, openSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import { join } from "node:path";
import { dumpC, loadBtfFile } from "../btf/index.ts";
import { dumpCTo } from "../btf/cdump.ts";
import { tsbpfExe, tsbpfPre } from "./cli.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const VMLINUX = "/sys/kernel/btf/vmlinux";
const N_PROCS = 9;
const N_IN = 7;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number): string => `${ms.toFixed(0)} ms`;
const bun = process.execPath;
const cli = join(ROOT, "src/cli/tsbpf.ts");
const ours = [tsbpfExe, ...tsbpfPre, "btf", "dump", VMLINUX, "--format", "c"];
const theirs = ["bpftool", "btf", "dump", "file", VMLINUX, "format", "c"];

// Same output first: a faster wrong header is no result.
const a = spawnSync(ours[0], ours.slice(1), { maxBuffer: 1 << 30 });
const b = spawnSync(theirs[0], theirs.slice(1), { maxBuffer: 1 << 30 });
if (a.status !== 0 || b.status !== 0) throw new Error(`dump failed: tsbpf ${a.status}, bpftool ${b.status}`);
const identical = Buffer.compare(a.stdout, b.stdout) === 0;

/** Wall time of the process and CPU time of its children (user + sys), via /usr/bin/time if present. */
function proc(cmd: string[]): { wall: number; cpu: number } {
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < N_PROCS; i++) {
    const out = openSync("/dev/null", "w");
    const t0 = performance.now();
    const r = spawnSync("/usr/bin/time", ["-f", "%U %S", ...cmd], { stdio: ["ignore", out, "pipe"], encoding: "utf8" });
    walls.push(performance.now() - t0);
    closeSync(out);
    if (r.status !== 0) throw new Error(`${cmd.join(" ")} exited ${r.status}: ${r.stderr}`);
    const [u, s] = r.stderr.trim().split("\n").pop()!.split(" ").map(Number);
    cpus.push((u + s) * 1000);
  }
  return { wall: median(walls), cpu: median(cpus) };
}

const tool = proc(theirs);
const mine = proc(ours);

// In-process: the first dump pays for JIT warm-up; later ones show the steady state.
const bytes = readFileSync(VMLINUX).length;
const inproc: number[] = [];
const parse: number[] = [];
let sunk = 0;
for (let i = 0; i < N_IN; i++) {
  const p0 = performance.now();
  const btf = loadBtfFile(VMLINUX);
  const t0 = performance.now();
  dumpCTo(btf, (chunk) => (sunk += chunk.length));
  inproc.push(performance.now() - t0);
  parse.push(t0 - p0);
}
const asString: number[] = [];
for (let i = 0; i < 3; i++) {
  const btf = loadBtfFile(VMLINUX);
  const t0 = performance.now();
  dumpC(btf);
  asString.push(performance.now() - t0);
}
if (sunk !== a.stdout.length * N_IN) throw new Error(`dumpCTo wrote ${sunk / N_IN} bytes, the CLI ${a.stdout.length}`);

const ratio = (x: number, y: number): string => `${(x / y).toFixed(2)}×`;
console.log(`vmlinux: ${bytes} bytes; headers identical: ${identical ? "yes" : "NO"}; ${N_PROCS} processes each, medians; load average ${loadavg()[0].toFixed(1)}\n`);
console.log("| task | tsbpf | bpftool | tsbpf / bpftool |");
console.log("| --- | --- | --- | --- |");
console.log(`| \`btf dump --format c\` vmlinux, whole process, wall | ${fmt(mine.wall)} | ${fmt(tool.wall)} | ${ratio(mine.wall, tool.wall)} |`);
console.log(`| same, CPU (user+sys) | ${fmt(mine.cpu)} | ${fmt(tool.cpu)} | ${ratio(mine.cpu, tool.cpu)} |`);
console.log(`| loadBtfFile (read + parse) in-process, median | ${fmt(median(parse))} | | |`);
console.log(`| dumpCTo in-process, first run (cold JIT) | ${fmt(inproc[0])} | | |`);
console.log(`| dumpCTo in-process, warm median | ${fmt(median(inproc.slice(1)))} | | |`);
console.log(`| dumpC (one string) in-process, after those, median | ${fmt(median(asString))} | | |`);
console.log(`\nload average at the end ${loadavg()[0].toFixed(1)}`);
