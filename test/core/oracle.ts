// The libbpf oracle for CO-RE: builds test/core/libbpf-core.c against the system libbpf, runs it
// over objects (optionally with a custom target BTF) and parses what libbpf said about each
// relocation ("prog 'p': relo #N: …" debug lines) and the instructions it handed to the kernel.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, run } from "../support/env.ts";

export interface LibbpfPatch {
  insn: number;
  what: "imm" | "off" | "imm64" | "mem_sz";
  from: bigint;
  to: bigint;
}

/** Everything libbpf logged about one relocation of one program. */
export interface LibbpfRelo {
  prog: string;
  relo: number;
  /** The local spec line ("<byte_off> [7] struct task_struct.pid (0:0 @ offset 0)"). */
  local?: string;
  matching: string[];
  nonMatching: number;
  patches: LibbpfPatch[];
  /** Slots libbpf replaced with the poison call. */
  poisoned: number[];
  /** A line saying the relocation failed the load. */
  failed?: string;
  lines: string[];
}

export interface LibbpfObject {
  path: string;
  opened: boolean;
  /** "prog/relo" → what libbpf logged (from the run that loads every program). */
  relos: Map<string, LibbpfRelo>;
  /** Result of loading everything. */
  load: number;
  /** Per program: the instructions libbpf sent in its BPF_PROG_LOAD, by the kernel's 15-char name. */
  insns: Map<string, Uint8Array>;
}

export function buildOracle(): string {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-core-oracle-"));
  const exe = join(dir, "libbpf-core");
  run("clang-19", ["-O1", "-o", exe, join(ROOT, "test/core/libbpf-core.c"), "-lbpf", "-ldl"]);
  return exe;
}

/** Compile a C file with clang-19 for BPF with BTF (-g). */
export function compileBpf(src: string, out: string, extra: string[] = []): string {
  run("clang-19", ["-O2", "-g", "-target", "bpf", "-mcpu=v3", "-I", join(ROOT, "fixtures/include"), ...extra, "-c", src, "-o", out]);
  return out;
}

const RELO = /^libbpf: prog '([^']*)': relo #(\d+): (.*)$/;
const PATCH = /^patched insn #(\d+) \((?:ALU\/ALU64|LDX\/ST\/STX|LDIMM64)\) (imm|off|imm64|mem_sz) (\d+) -> (\d+)$/;
const POISON = /^substituting insn #(\d+) w\/ invalid insn$/;

/** `only`: load just that program of each object (libbpf's autoload turned off for the others). */
export function runOracle(exe: string, paths: string[], btf?: string, only?: string): LibbpfObject[] {
  const out: LibbpfObject[] = [];
  let cur: LibbpfObject | undefined;
  let runName = "";
  for (const line of run(exe, [...(btf ? ["--btf", btf] : []), ...(only ? ["--only", only] : []), ...paths]).split("\n")) {
    const f = line.split("\t");
    if (f[0] === "@object") {
      out.push((cur = { path: f[1], opened: true, relos: new Map(), load: 0, insns: new Map() }));
      continue;
    }
    if (!cur) continue;
    if (f[0] === "@open-failed") cur.opened = false;
    else if (f[0] === "@run") runName = f[1];
    else if (f[0] === "@load") {
      if (runName === "*") cur.load = Number(f[1]);
    } else if (f[0] === "@prog") {
      if (f[1] !== "" && f[1] !== "libbpf_nametest") cur.insns.set(f[1], Uint8Array.from(Buffer.from(f[2], "hex")));
    } else if (runName === "*") {
      const m = RELO.exec(line);
      if (!m) continue;
      const key = `${m[1]}/${m[2]}`;
      let r = cur.relos.get(key);
      if (!r) cur.relos.set(key, (r = { prog: m[1], relo: Number(m[2]), matching: [], nonMatching: 0, patches: [], poisoned: [], lines: [] }));
      const msg = m[3];
      r.lines.push(msg);
      let p: RegExpExecArray | null;
      if (msg.startsWith("<") && r.local === undefined) r.local = msg;
      else if (msg.startsWith("matching candidate #")) r.matching.push(msg.replace(/^matching candidate #\d+ /, ""));
      else if (msg.startsWith("non-matching candidate #")) r.nonMatching++;
      else if ((p = PATCH.exec(msg))) r.patches.push({ insn: Number(p[1]), what: p[2] as LibbpfPatch["what"], from: BigInt(p[3]), to: BigInt(p[4]) });
      else if ((p = POISON.exec(msg))) r.poisoned.push(Number(p[1]));
      else if (/failed to|ambiguity|unexpected insn|value too big|invalid new mem size/.test(msg)) r.failed ??= msg;
    }
  }
  return out;
}
