// The libbpf oracle: test/link/libbpf-trace.c, built against the system libbpf, loads objects
// and prints each BPF_MAP_CREATE and BPF_PROG_LOAD it makes (attributes and instructions).

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, run } from "../support/env.ts";

export interface TracedMap { fd: number; name: string; type: number; keySize: number; valueSize: number; maxEntries: number; flags: number; /** First value written after creation. */ initial?: Uint8Array }
export interface TracedProg { fd: number; name: string; type: number; attach: number; flags: number; license: string; insns: Uint8Array;
  /** func_info: [insn_off, type_id]; line_info: [insn_off, file_name_off, line_off, line_col]. */
  funcInfo: number[][]; lineInfo: number[][] }
export interface TracedUpdate { fd: number; value: Uint8Array; key: Uint8Array; map?: TracedMap }
export interface TracedProgDef { name: string; section: string; autoload: boolean; type: number; attach: number; insnCount: number }
export interface TracedObject { path: string; load: number; defs: TracedProgDef[]; mapDefs: string[]; maps: TracedMap[]; progs: TracedProg[]; mapFds: Map<number, string>; updates: TracedUpdate[] }

export function buildTracer(): string {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-trace-"));
  const exe = join(dir, "libbpf-trace");
  run("clang-19", ["-O1", "-o", exe, join(ROOT, "test/link/libbpf-trace.c"), "-lbpf", "-ldl"]);
  return exe;
}

function records(field: string | undefined): number[][] {
  const body = (field ?? "").replace(/^\w+:/, "");
  return body === "" ? [] : body.split(",").map((r) => r.split(":").map(Number));
}

/** Run the tracer over objects (one process) and split its output per object. */
export function traceObjects(exe: string, paths: string[]): TracedObject[] {
  const out: TracedObject[] = [];
  let cur: TracedObject | undefined;
  for (const line of run(exe, paths).split("\n")) {
    const f = line.split("\t");
    if (f[0] === "object") out.push((cur = { path: f[1], load: 0, defs: [], mapDefs: [], maps: [], progs: [], mapFds: new Map(), updates: [] }));
    else if (!cur) continue;
    else if (f[0] === "map") cur.maps.push({ fd: +f[1], name: f[2], type: +f[3], keySize: +f[4], valueSize: +f[5], maxEntries: +f[6], flags: +f[7] });
    else if (f[0] === "prog") cur.progs.push({ fd: +f[1], name: f[2], type: +f[3], attach: +f[4], flags: +f[5], license: f[6], insns: Uint8Array.from(Buffer.from(f[7], "hex")), funcInfo: records(f[8]), lineInfo: records(f[9]) });
    else if (f[0] === "update") {
      const value = Uint8Array.from(Buffer.from(f[3], "hex"));
      const m = cur.maps.filter((x) => x.fd === +f[2]).at(-1); // the latest map created with this fd
      cur.updates.push({ fd: +f[2], value, key: Uint8Array.from(Buffer.from(f[4] ?? "", "hex")), ...(m ? { map: m } : {}) });
      if (m && !m.initial) m.initial = value;
    }
    else if (f[0] === "progdef") cur.defs.push({ name: f[1], section: f[2], autoload: f[3] === "1", type: +f[4], attach: +f[5], insnCount: +f[6] });
    else if (f[0] === "mapdef") cur.mapDefs.push(f[1]);
    else if (f[0] === "load") cur.load = +f[1];
    else if (f[0] === "mapfd") cur.mapFds.set(+f[1], f[2]);
  }
  return out;
}

/** libbpf_prog_type_by_name() for each name: undefined when libbpf does not know it. */
export function libbpfSectionTypes(exe: string, names: string[]): Map<string, { type: number; attach: number } | undefined> {
  const out = new Map<string, { type: number; attach: number } | undefined>();
  for (const line of run(exe, ["--sections", ...names]).split("\n")) {
    const f = line.split("\t");
    if (f[0] !== "section") continue;
    out.set(f[1], +f[2] === 0 ? { type: +f[3], attach: +f[4] } : undefined);
  }
  return out;
}
