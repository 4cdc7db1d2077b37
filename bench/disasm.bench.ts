// Disassembly benchmarks: `tsbpf disasm X` against `llvm-objdump-19 -d X` as whole processes on
// every fixture object and on a large generated object (200k instructions assembled by llvm-mc-19),
// plus our in-process time on the same inputs. Goal: whole process at least 2× llvm-objdump.
// Whole-process figures come from hyperfine (wall and user+system CPU means).

import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { arbRealisticProgram, programBytes } from "../asm/arbitrary.ts";
import { llvmListing } from "../asm/disasm.ts";
import { tsbpfExe, tsbpfPre } from "./cli.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const FIXTURES = join(ROOT, "fixtures/obj");
const N_PROCS = 5;
const dir = mkdtempSync(join(tmpdir(), "tsbpf-disasm-bench-"));

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number): string => (ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`);

function objects(d: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(d).sort()) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) out.push(...objects(p));
    else if (n.endsWith(".o")) out.push(p);
  }
  return out;
}

interface Timing {
  wall: number;
  /** user + system CPU of the processes: steadier than wall time on a busy machine. */
  cpu: number;
}

/** hyperfine over a shell loop running every command once; wall and CPU means in ms. */
function timeProcs(cmds: [string, string[]][]): Timing {
  const q = (x: string) => `'${x.replace(/'/g, "'\\''")}'`;
  const script = cmds.map(([c, a]) => [c, ...a].map(q).join(" ") + " >/dev/null").join("; ");
  const out = join(dir, "hf.json");
  const r = spawnSync("hyperfine", ["-w", "1", "-r", String(N_PROCS), "--export-json", out, script], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  if (r.status !== 0) throw new Error(`hyperfine failed: ${r.stderr}`);
  const res = JSON.parse(readFileSync(out, "utf8")).results[0] as { mean: number; user: number; system: number };
  return { wall: res.mean * 1000, cpu: (res.user + res.system) * 1000 };
}

function timeInProcess(files: string[], rounds: number): number {
  const inputs = files.map((f) => ({ f, bytes: new Uint8Array(readFileSync(f)) }));
  const t: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    for (const x of inputs) llvmListing(x.bytes, x.f);
    t.push(performance.now() - t0);
  }
  return median(t);
}

// A big object: realistic programs back to back in one section, written as .byte lines for llvm-mc.
function bigObject(): { path: string; insns: number } {
  const progs = fc.sample(arbRealisticProgram(), { numRuns: 8000, seed: 42 });
  const bytes = programBytes(progs.flat());
  let s = ".text\n.globl big\n.type big,@function\nbig:\n";
  for (let at = 0; at < bytes.length; at += 64) s += `.byte ${Array.from(bytes.subarray(at, at + 64)).join(",")}\n`;
  writeFileSync(join(dir, "big.s"), s);
  const r = spawnSync("llvm-mc-19", ["-triple", "bpfel", "-filetype=obj", "-o", join(dir, "big.o"), join(dir, "big.s")]);
  if (r.status !== 0) throw new Error(`llvm-mc-19 failed: ${r.stderr}`);
  return { path: join(dir, "big.o"), insns: bytes.length / 8 };
}

try {
  // A snapshot of the fixtures, so a concurrent rebuild cannot pull files away mid-run.
  const fixtures = objects(FIXTURES).map((f, i) => {
    const copy = join(dir, `fx${i}_${f.slice(f.lastIndexOf("/") + 1)}`);
    writeFileSync(copy, readFileSync(f));
    return copy;
  });
  const big = bigObject();
  // Outputs must agree before timing means anything.
  for (const f of [...fixtures, big.path]) {
    const a = spawnSync(tsbpfExe, [...tsbpfPre, "disasm", f], { maxBuffer: 1 << 30 }).stdout;
    const b = spawnSync("llvm-objdump-19", ["-d", f], { maxBuffer: 1 << 30 }).stdout;
    if (Buffer.compare(a, b) !== 0) throw new Error(`outputs differ on ${f}`);
  }
  const rows: string[] = [];
  const row = (what: string, ours: Timing, theirs: Timing) =>
    rows.push(`| ${what} | ${fmt(ours.wall)} (cpu ${fmt(ours.cpu)}) | ${fmt(theirs.wall)} (cpu ${fmt(theirs.cpu)}) | ${(theirs.wall / ours.wall).toFixed(2)}× (cpu ${(theirs.cpu / ours.cpu).toFixed(2)}×) |`);

  const fxOurs = timeProcs(fixtures.map((f) => [tsbpfExe, [...tsbpfPre, "disasm", f]]));
  const fxTheirs = timeProcs(fixtures.map((f) => ["llvm-objdump-19", ["-d", f]]));
  row(`whole process, ${fixtures.length} fixture objects one by one`, fxOurs, fxTheirs);
  const bigOurs = timeProcs([[tsbpfExe, [...tsbpfPre, "disasm", big.path]]]);
  const bigTheirs = timeProcs([["llvm-objdump-19", ["-d", big.path]]]);
  row(`whole process, generated object (${big.insns} slots)`, bigOurs, bigTheirs);
  const ipFx = timeInProcess(fixtures, 20);
  const ipBig = timeInProcess([big.path], 9);
  const inProc = (what: string, ours: number, theirs: Timing) =>
    rows.push(`| ${what} | ${fmt(ours)} | ${fmt(theirs.wall)} | ${(theirs.wall / ours).toFixed(2)}× |`);
  inProc(`in-process, ${fixtures.length} fixtures (median of 20; vs llvm-objdump whole process)`, ipFx, fxTheirs);
  inProc(`in-process, generated object (median of 9; vs llvm-objdump whole process)`, ipBig, bigTheirs);

  process.stdout.write("| input | tsbpf disasm | llvm-objdump-19 -d | speed-up |\n|---|---|---|---|\n" + rows.join("\n") + "\n");
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  process.stdout.write(`\nmachine load average during the run: ${load} (on ${navigator.hardwareConcurrency} CPUs)\n`);
  process.stdout.write(`\nin-process throughput on the generated object: ${((big.insns / ipBig) * 1000 / 1e6).toFixed(2)} M slots/s\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
