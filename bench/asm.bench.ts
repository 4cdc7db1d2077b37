// Assembly benchmarks: `tsbpf asm X.s -o X.o` against `llvm-mc-19 -filetype=obj X.s -o X.o` as
// whole processes, on the code of every fixture object printed as llvm-mc text and on a large
// generated file (200k instructions), plus our in-process throughput on the same text.
// Goal: whole process at least as fast as llvm-mc. Whole-process figures come from hyperfine.

import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { arbRealisticProgram } from "../asm/arbitrary.ts";
import { printLlvm } from "../asm/print-llvm.ts";
import { decode } from "../asm/decode.ts";
import type { Insn } from "../asm/insn.ts";
import { assemble, elfObject } from "../asm/assemble.ts";
import { parseElf } from "../src/elf/file.ts";
import { tsbpfExe, tsbpfLabel, tsbpfPre } from "./cli.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const FIXTURES = join(ROOT, "fixtures/obj");
const N_PROCS = 7;
const dir = mkdtempSync(join(tmpdir(), "tsbpf-asm-bench-"));

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

/** Text llvm-mc-19 accepts for an instruction, or undefined where its parser has no spelling. */
function mcText(i: Insn): string | undefined {
  const t = printLlvm(i);
  if (t === "<unknown>") return undefined;
  if (i.op === 0x06 && (i.imm < -32768 || i.imm > 32767)) return undefined; // LLVM 19 parses 16-bit gotol only
  if ((i.op & 0xe7) === 0xc3 && (i.imm === 0x100 || i.imm === 0x110)) return undefined;
  return t;
}

/** Each fixture object's code sections as one llvm-mc source file. */
function fixtureSources(): string[] {
  const out: string[] = [];
  objects(FIXTURES).forEach((f, k) => {
    const elf = parseElf(new Uint8Array(readFileSync(f)));
    let s = "";
    for (const sec of elf.sections) {
      if ((sec.flags & 4n) === 0n || sec.size === 0) continue;
      s += `\t.section "${sec.name}","ax",@progbits\n`;
      for (const i of decode(sec.data)) {
        const t = mcText(i);
        if (t !== undefined) s += `\t${t}\n`;
      }
    }
    const p = join(dir, `fx${k}.s`);
    writeFileSync(p, s);
    out.push(p);
  });
  return out;
}

function bigSource(): { path: string; insns: number } {
  const insns = fc.sample(arbRealisticProgram(), { numRuns: 8000, seed: 42 }).flat().filter((i) => mcText(i) !== undefined);
  const text = "\t.text\n" + insns.map((i) => `\t${mcText(i)}\n`).join("");
  const p = join(dir, "big.s");
  writeFileSync(p, text);
  return { path: p, insns: insns.length };
}

interface Timing {
  wall: number;
  /** user + system CPU of the processes: steadier than wall time on a busy machine. */
  cpu: number;
}

/** hyperfine over a shell loop running every command once; wall and CPU means in ms. */
function timeProcs(cmds: [string, string[]][]): Timing {
  const q = (x: string) => `'${x.replace(/'/g, "'\\''")}'`;
  const script = cmds.map(([c, a]) => [c, ...a].map(q).join(" ") + " >/dev/null").join(" && ");
  const out = join(dir, "hf.json");
  const r = spawnSync("hyperfine", ["-w", "1", "-r", String(N_PROCS), "--export-json", out, script], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  if (r.status !== 0) throw new Error(`hyperfine failed: ${r.stderr}`);
  const res = JSON.parse(readFileSync(out, "utf8")).results[0] as { mean: number; user: number; system: number };
  return { wall: res.mean * 1000, cpu: (res.user + res.system) * 1000 };
}

function timeInProcess(files: string[], rounds: number): number {
  const texts = files.map((f) => ({ f, text: readFileSync(f, "utf8") }));
  const t: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    // As `tsbpf asm` assembles: no per-instruction source records kept (messages still have line:column).
    for (const x of texts) elfObject(assemble(x.text, x.f, { keepSource: false }));
    t.push(performance.now() - t0);
  }
  return median(t);
}

/** The code bytes both tools produced for a source, section by section. */
function codeOf(obj: string): string {
  const elf = parseElf(new Uint8Array(readFileSync(obj)));
  return elf.sections.filter((s) => (s.flags & 4n) !== 0n).map((s) => `${s.name}:${Buffer.from(s.data).toString("hex")}`).join("\n");
}

const ours = (f: string): [string, string[]] => [tsbpfExe, [...tsbpfPre, "asm", f, "-o", f.replace(/\.s$/, ".ours.o")]];
const mc = (f: string): [string, string[]] => ["llvm-mc-19", ["-triple", "bpfel", "-mcpu=v4", "-filetype=obj", "-o", f.replace(/\.s$/, ".mc.o"), f]];

try {
  const fixtures = fixtureSources();
  const big = bigSource();
  // The outputs must agree before the timings mean anything.
  for (const f of [...fixtures, big.path]) {
    for (const cmd of [ours(f), mc(f)]) {
      const r = spawnSync(cmd[0], cmd[1], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`${cmd[0]} ${cmd[1].join(" ")}: ${r.stderr}`);
    }
    if (codeOf(f.replace(/\.s$/, ".ours.o")) !== codeOf(f.replace(/\.s$/, ".mc.o"))) throw new Error(`code differs for ${f}`);
  }
  const fxInsns = fixtures.reduce((n, f) => n + readFileSync(f, "utf8").split("\n").filter((l) => l.startsWith("\t") && !l.startsWith("\t.")).length, 0);
  const rows: string[][] = [];
  const add = (what: string, insns: number, files: string[], inRounds: number) => {
    const a = timeProcs(files.map(ours));
    const b = timeProcs(files.map(mc));
    const c = timeInProcess(files, inRounds);
    rows.push([what, String(insns), `${fmt(a.wall)} (cpu ${fmt(a.cpu)})`, `${fmt(b.wall)} (cpu ${fmt(b.cpu)})`,
      `${(b.wall / a.wall).toFixed(2)}× (cpu ${(b.cpu / a.cpu).toFixed(2)}×)`, fmt(c), `${(b.wall / c).toFixed(1)}×`]);
  };
  add(`fixture corpus (${fixtures.length} files, one process each)`, fxInsns, fixtures, 15);
  add("generated file (1 process)", big.insns, [big.path], 5);
  console.log("| input | insns | tsbpf asm (process) | llvm-mc-19 (process) | speed-up (process) | tsbpf in-process | speed-up (in-process vs llvm-mc process) |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of rows) console.log(`| ${r.join(" | ")} |`);
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  console.log(`\nwhole process: hyperfine means of ${N_PROCS} runs (wall, and user+system CPU); in-process: median, warm, assembled as the CLI does (keepSource: false).`);
  console.log(`speed-up = llvm-mc time / tsbpf time (>1 means tsbpf is faster); code bytes checked identical first.`);
  console.log(`machine load average during the run: ${load} (on ${navigator.hardwareConcurrency} CPUs); whole-process timing: ${tsbpfLabel}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
