// Disassembly benchmarks: `tsbpf disasm X` against `llvm-objdump-19 -d X` as whole processes on
// every fixture object and on a large generated object (200k instructions assembled by llvm-mc-19),
// plus our in-process throughput on the same inputs. Goal: whole process at least 2× llvm-objdump.

import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { arbRealisticProgram, programBytes } from "../asm/arbitrary.ts";
import { disassemble } from "../asm/listing.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const FIXTURES = join(ROOT, "fixtures/obj");
const BUN = process.execPath;
const CLI = join(ROOT, "src/cli/tsbpf.ts");
const N_PROCS = 7;
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

/** Median wall time of running every command in `cmds` once, over N_PROCS rounds; checks exit 0. */
function timeProcs(cmds: [string, string[]][]): number {
  const t: number[] = [];
  for (let i = 0; i < N_PROCS; i++) {
    const t0 = performance.now();
    for (const [c, a] of cmds) {
      const r = spawnSync(c, a, { stdio: ["ignore", "ignore", "pipe"], cwd: dir });
      if (r.status !== 0) throw new Error(`${c} ${a.join(" ")} failed: ${r.stderr}`);
    }
    t.push(performance.now() - t0);
  }
  return median(t);
}

function timeInProcess(files: string[], rounds: number): number {
  const inputs = files.map((f) => ({ f, bytes: new Uint8Array(readFileSync(f)) }));
  const t: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    for (const x of inputs) disassemble(x.bytes, { file: x.f });
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
    const a = spawnSync(BUN, [CLI, "disasm", f], { maxBuffer: 1 << 30 }).stdout;
    const b = spawnSync("llvm-objdump-19", ["-d", f], { maxBuffer: 1 << 30 }).stdout;
    if (Buffer.compare(a, b) !== 0) throw new Error(`outputs differ on ${f}`);
  }
  const rows: string[] = [];
  const row = (what: string, ours: number, theirs: number) =>
    rows.push(`| ${what} | ${fmt(ours)} | ${fmt(theirs)} | ${(theirs / ours).toFixed(2)}× |`);

  const fxOurs = timeProcs(fixtures.map((f) => [BUN, [CLI, "disasm", f]]));
  const fxTheirs = timeProcs(fixtures.map((f) => ["llvm-objdump-19", ["-d", f]]));
  row(`whole process, ${fixtures.length} fixture objects one by one`, fxOurs, fxTheirs);
  const bigOurs = timeProcs([[BUN, [CLI, "disasm", big.path]]]);
  const bigTheirs = timeProcs([[`llvm-objdump-19`, ["-d", big.path]]]);
  row(`whole process, generated object (${big.insns} slots)`, bigOurs, bigTheirs);
  const ipFx = timeInProcess(fixtures, 20);
  row(`in-process, ${fixtures.length} fixtures (vs llvm-objdump whole process)`, ipFx, fxTheirs);
  const ipBig = timeInProcess([big.path], 9);
  row(`in-process, generated object (vs llvm-objdump whole process)`, ipBig, bigTheirs);

  process.stdout.write("| input | tsbpf disasm | llvm-objdump-19 -d | speed-up |\n|---|---|---|---|\n" + rows.join("\n") + "\n");
  process.stdout.write(`\nin-process throughput on the generated object: ${((big.insns / ipBig) * 1000 / 1e6).toFixed(2)} M slots/s\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
