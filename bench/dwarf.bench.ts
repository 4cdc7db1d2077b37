// DWARF type reading: our reader (units, entries, every struct's type model) and the conversion of
// the ring buffer record type into BTF, in process, against llvm-dwarfdump-19 --debug-info on the
// same objects as whole processes (its start-up measured alone too). No tsbpf subcommand only reads
// DWARF, so our side is in-process. Run: bun bench/dwarf.bench.ts

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DwarfBtf } from "../src/elf/dwarf-btf.ts";
import { DwarfTypes } from "../src/elf/dwarf-types.ts";
import { readDwarf } from "../src/elf/dwarf.ts";
import { loadObject } from "../src/elf/object.ts";
import { recordType } from "../src/load/event-type.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const FILES = ["exec_events.o", "opensnoop.o", "biolatency_cgroup.o"];
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number): string => (ms >= 100 ? `${ms.toFixed(0)} ms` : ms >= 1 ? `${ms.toFixed(1)} ms` : `${(ms * 1000).toFixed(0)} µs`);

function time(n: number, f: () => void): number {
  for (let i = 0; i < 3; i++) f();
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    f();
    xs.push(performance.now() - t0);
  }
  return median(xs);
}

function proc(n: number, cmd: string, args: string[]): number {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { stdio: ["ignore", "ignore", "inherit"] });
    if (r.status !== 0) throw new Error(`${cmd} failed`);
    xs.push(performance.now() - t0);
  }
  return median(xs);
}

const startup = proc(7, "llvm-dwarfdump-19", ["--version"]);
const rows: string[] = [];
for (const f of FILES) {
  const path = join(ROOT, "fixtures/obj", f);
  const bytes = new Uint8Array(readFileSync(path));
  const obj = loadObject(bytes, { file: path });
  const debug = obj.debug!;
  const size = debug.info!.data.length;
  const read = time(f.startsWith("bio") ? 7 : 50, () => {
    const types = new DwarfTypes(readDwarf(debug));
    for (const h of types.structs()) types.type(h.offset);
  });
  const ring = obj.maps.find((m) => m.type === 27);
  // Record type from a fresh object each time: BTF lookup fails, DWARF read, struct converted.
  const record = ring ? time(30, () => recordType(loadObject(bytes, { file: path }), ring, 32)) : NaN;
  const all = time(f.startsWith("bio") ? 5 : 30, () => {
    const types = new DwarfTypes(readDwarf(debug));
    const conv = new DwarfBtf(types, obj.btf);
    for (const s of types.structs()) conv.id(s.offset);
  });
  const native = proc(f.startsWith("bio") ? 5 : 9, "llvm-dwarfdump-19", ["--debug-info", path]);
  rows.push(`| ${f} | ${(size / 1024).toFixed(0)} KB | ${fmt(read)} | ${ring ? fmt(record) : "–"} | ${fmt(all)} | ${fmt(native)} | ${(native / all).toFixed(1)}× |`);
}
console.log(`load average: ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}; llvm-dwarfdump-19 --version alone: ${fmt(startup)}\n`);
console.log("| object | .debug_info | read + type every struct | record type (load object, BTF miss, DWARF) | convert every struct to BTF | llvm-dwarfdump-19 --debug-info (process) | ratio |");
console.log("|---|---|---|---|---|---|---|");
for (const r of rows) console.log(r);
