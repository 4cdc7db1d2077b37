// Whole-object loads against libbpf, in the same run: for every fixture object (and the verifier
// fixtures) libbpf's bpf() calls are traced (test/load/object-trace.c) and ours recorded by a door.
// Same verdict (and errno, and failing program); the BTF bytes sent to BTF_LOAD identical; every
// MAP_CREATE with identical attributes; identical initial values, slot writes and freezes; every
// PROG_LOAD with identical attributes and instructions (map fds, as libbpf sends them, compared by map name).
// Then the kernel's view: objects loaded by `bpftool prog loadall` and by us hold the same
// translated instructions (xlated bytes from the kernel, map ids compared by map name) and the
// same program tags, and bpftool's own xlated dump of both is the same.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { loadObject, type ObjectSpec } from "../../src/elf/index.ts";
import { Program, loadCollectionFile, type Collection } from "../../src/load/index.ts";
import { progXlated } from "../../src/sys/info.ts";
import { fixtureObjects } from "../elf/objects.ts";
import { ROOT, haveKernelBtf, haveRoot, haveTool, run } from "../support/env.ts";
import { buildObjectTracer, emptyTrace, recordOurs, traceLibbpf, type Trace } from "./object-oracle.ts";

const VERIFIER_DIR = join(ROOT, "fixtures/obj/verifier");
const verifierObjects = (): string[] => readdirSync(VERIFIER_DIR).filter((f) => f.endsWith(".o")).sort().map((f) => join(VERIFIER_DIR, f));

/** Sections the installed libbpf (1.1) does not know but libbpf ≥ 1.3 and we do. */
const NEWER_THAN_LIBBPF_1_1 = [/^tcx\//, /^netkit\//];

const MAP_FD_TYPES = new Set([3, 12, 13]); // prog array, array/hash of maps: values are fds

interface Ours { trace: Trace; error?: { errno?: number; message: string }; obj: ObjectSpec }

function loadOurs(path: string, only?: string): Ours {
  const trace = emptyTrace(path, only ?? "");
  const obj = loadObject(readFileSync(path), { file: path });
  let error: Ours["error"];
  recordOurs(trace, () => {
    try {
      loadCollectionFile(path, only ? { programs: [only] } : {}).close();
    } catch (e) {
      const x = e as { errno?: number; message: string };
      error = { ...(x.errno !== undefined ? { errno: x.errno } : {}), message: x.message };
    }
  });
  return { trace, obj, ...(error ? { error } : {}) };
}

/** fd → the name of the last map (or program) created with it. */
function fdNames(t: Trace, kind: "map" | "prog"): (fd: number) => string | undefined {
  const list = kind === "map" ? t.maps : t.progs;
  return (fd) => list.filter((x) => x.ret === fd).at(-1)?.name;
}

const probe = (name: string) => name === "" || name.startsWith("libbpf_");
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function mapView(t: Trace) {
  return t.maps.filter((m) => !probe(m.name)).map((m) => ({ ...m, ret: m.ret >= 0, extra: String(m.extra) }));
}

function updateView(t: Trace) {
  const mapName = fdNames(t, "map"), progName = fdNames(t, "prog");
  const mapOf = new Map(t.maps.filter((m) => m.ret >= 0).map((m) => [m.ret, m] as const));
  return t.updates.filter((u) => mapOf.has(u.fd) && !probe(mapOf.get(u.fd)!.name)).map((u) => {
    const m = mapOf.get(u.fd)!;
    const fd = new DataView(u.value.buffer, u.value.byteOffset).getInt32(0, true);
    const v = m.type === 3 ? `prog ${progName(fd)}` : MAP_FD_TYPES.has(m.type) ? `map ${mapName(fd)}` : hex(u.value);
    return { map: m.name, key: hex(u.key), value: v, ok: u.ret >= 0 };
  });
}

function freezeView(t: Trace) {
  const mapOf = new Map(t.maps.filter((m) => m.ret >= 0).map((m) => [m.ret, m.name] as const));
  return t.freezes.map((fd) => mapOf.get(fd)).filter((n) => n !== undefined && !probe(n)).sort();
}

/**
 * PROG_LOAD instructions with ld_imm64 map references by fd (MAP_FD / MAP_VALUE, what libbpf sends)
 * replaced by "map NAME +off" markers. Any other ld_imm64 (MAP_IDX included) stays raw bytes, so an
 * index where libbpf puts an fd is a difference, as it is for the kernel's program tag.
 */
function insnView(insns: Uint8Array, mapName: (fd: number) => string | undefined): string[] {
  const out: string[] = [];
  const dv = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
  for (let at = 0; at < insns.length; at += 8) {
    const op = insns[at], src = insns[at + 1] >> 4;
    if (op === 0x18 && at + 16 <= insns.length) {
      if (src === 1 || src === 2) {
        const kind = src === 1 ? "fd" : "value";
        out.push(`ld_imm64 r${insns[at + 1] & 15} map ${kind} ${mapName(dv.getInt32(at + 4, true)) ?? "?"} +${dv.getUint32(at + 12, true)}`);
      } else out.push(hex(insns.subarray(at, at + 16)));
      at += 8;
    } else out.push(hex(insns.subarray(at, at + 8)));
  }
  return out;
}

function progView(t: Trace, mapName: (fd: number) => string | undefined) {
  // The first attempt of each program (a rejected load is retried with a log by both).
  return t.progs.filter((p) => !probe(p.name) && p.logLevel === 0).map((p) => ({
    name: p.name, type: p.type, attach: p.attach, flags: p.flags, attachBtfId: p.attachBtfId, kernVersion: p.kernVersion,
    btf: p.btf, funcCnt: p.funcCnt, lineCnt: p.lineCnt, ok: p.ret >= 0, insns: insnView(p.insns, mapName),
  }));
}

function compare(theirs: Trace, ours: Ours): void {
  // Verdict, errno and the failing program.
  expect(ours.error === undefined, ours.error?.message).toBe(theirs.load === 0);
  if (ours.error?.errno !== undefined) expect(-ours.error.errno).toBe(theirs.load);
  else if (ours.error) expect(theirs.load).toBeLessThan(0);
  // BTF: libbpf probes features with small BTF loads first; its last load is the object's.
  expect(ours.trace.btf.map((b) => hex(b.bytes))).toEqual(theirs.btf.slice(-1).map((b) => hex(b.bytes)));
  expect(mapView(ours.trace)).toEqual(mapView(theirs));
  expect(updateView(ours.trace)).toEqual(updateView(theirs));
  expect(freezeView(ours.trace)).toEqual(freezeView(theirs));
  // Map fds differ between the two runs: each side's fds are named by that side's MAP_CREATE calls.
  const tv = progView(theirs, fdNames(theirs, "map")), ov = progView(ours.trace, fdNames(ours.trace, "map"));
  expect(ov.map((p) => p.name)).toEqual(tv.map((p) => p.name));
  for (let i = 0; i < tv.length; i++) expect(ov[i]).toEqual(tv[i]);
}

/** Whether libbpf 1.1 cannot classify one of the object's program sections. */
function tooNewForLibbpf(obj: ObjectSpec): boolean {
  return obj.programs.some((p) => NEWER_THAN_LIBBPF_1_1.some((r) => r.test(p.section)));
}

describe.skipIf(!haveRoot() || !haveTool("clang-19") || !haveKernelBtf())("whole-object load vs libbpf", () => {
  const exe = buildObjectTracer();
  const objects = [...fixtureObjects(), ...verifierObjects()];
  const whole = traceLibbpf(exe, objects.map((p) => [p] as const));
  // Per-program loads (the others' autoload off) give a verdict for every program, not just up to the first rejection.
  const single: [string, string][] = [];
  for (const p of objects) {
    const o = loadObject(readFileSync(p), { file: p });
    if (o.programs.length > 1) for (const prog of o.programs) single.push([p, prog.name]);
  }
  const each = traceLibbpf(exe, single);
  let compared = 0;

  test.each(whole.map((t) => [t.path.replace(`${ROOT}fixtures/obj/`, ""), t] as const))("%s", (_n, t) => {
    const ours = loadOurs(t.path);
    if (tooNewForLibbpf(ours.obj)) {
      // libbpf 1.1 refuses the object at open (unknown section); we load it (as libbpf ≥ 1.3 does).
      expect(t.load).toBe(-22);
      expect(t.progs.filter((p) => !probe(p.name))).toEqual([]);
      expect(ours.error).toBeUndefined();
      return;
    }
    compare(t, ours);
    compared++;
  });

  test.each(each.map((t) => [`${t.path.replace(`${ROOT}fixtures/obj/`, "")} --one ${t.only}`, t] as const))("%s", (_n, t) => {
    const ours = loadOurs(t.path, t.only);
    if (tooNewForLibbpf(ours.obj)) return;
    compare(t, ours);
    compared++;
  });

  test("compared every object and program", () => {
    expect(compared).toBeGreaterThan(objects.length + 20);
  });
});

/** Loaded programs' xlated bytes from the kernel, ld_imm64 map ids replaced by the map's name. */
function normalisedXlated(x: Uint8Array, mapNames: Map<number, string>): string[] {
  const out: string[] = [];
  const dv = new DataView(x.buffer, x.byteOffset, x.byteLength);
  for (let at = 0; at < x.length; at += 8) {
    const src = x[at + 1] >> 4;
    if (x[at] === 0x18 && (src === 1 || src === 2)) {
      out.push(`ld_imm64 r${x[at + 1] & 15} map ${src} ${mapNames.get(dv.getUint32(at + 4, true)) ?? "?"} +${dv.getUint32(at + 12, true)}`);
      at += 8;
    } else out.push(hex(x.subarray(at, at + 8)));
  }
  return out;
}

describe.skipIf(!haveRoot() || !haveTool("bpftool") || !haveKernelBtf())("kernel holds the same programs as bpftool prog loadall", () => {
  const pinDir = mkdtempSync("/sys/fs/bpf/tsbpf-parity-");
  afterAll(() => rmSync(pinDir, { recursive: true, force: true }));
  const objects = fixtureObjects();
  let bpftoolDumps = 0;
  let tagsCompared = 0;

  // bpftool re-reads /proc/kallsyms for every dump (~0.3 s): its text rendering is compared on every
  // third object; the kernel's xlated bytes on all of them.
  test.each(objects.map((p, i) => [p.replace(/.*\//, ""), p, i % 3 === 0] as const))("%s", (name, path, render) => {
    const dir = join(pinDir, name.replace(/\W/g, "_"));
    let theirsOk = true;
    try {
      run("bpftool", ["prog", "loadall", path, dir]);
    } catch {
      theirsOk = false;
    }
    let ours: Collection | undefined;
    try {
      ours = loadCollectionFile(path);
    } catch {
      ours = undefined;
    }
    const obj = loadObject(readFileSync(path), { file: path });
    if (obj.programs.some((p) => NEWER_THAN_LIBBPF_1_1.some((r) => r.test(p.section)))) {
      expect(theirsOk).toBe(false);
      ours?.close();
      return;
    }
    expect(ours !== undefined).toBe(theirsOk);
    if (!ours) return;
    try {
      const mapNames = new Map<number, string>();
      for (const m of JSON.parse(run("bpftool", ["-j", "map", "show"])) as { id: number; name?: string }[]) mapNames.set(m.id, m.name ?? "");
      const pinned = readdirSync(dir);
      expect(pinned.sort()).toEqual([...ours.programs.keys()].sort());
      const batch: string[] = [];
      for (const [pname, prog] of ours.programs) {
        using theirs = Program.fromPin(join(dir, pname));
        expect(normalisedXlated(progXlated(prog.fd), mapNames)).toEqual(normalisedXlated(progXlated(theirs.fd), mapNames));
        // The kernel's tag hashes the instructions as loaded (map fd imms zeroed): equal only if we sent what libbpf sent.
        expect(prog.tag, `${pname} tag`).toMatch(/^[0-9a-f]{16}$/);
        expect(prog.tag, `${pname} tag`).toBe(theirs.tag);
        tagsCompared++;
        batch.push(`prog dump xlated id ${prog.id}`, `prog dump xlated pinned ${join(dir, pname)}`);
      }
      if (!render) return;
      // bpftool's own rendering of both (source lines from line_info included), one bpftool process.
      const file = join(mkdtempSync("/tmp/tsbpf-batch-"), "cmds");
      writeFileSync(file, batch.join("\n") + "\n");
      const outs = JSON.parse(run("bpftool", ["-j", "batch", "file", file])) as { output: unknown }[];
      const norm = (o: unknown) => JSON.stringify(o).replace(/map\[id:(\d+)\]/g, (_m, id: string) => `map[${mapNames.get(+id)}]`);
      for (let i = 0; i < outs.length; i += 2) expect(norm(outs[i].output)).toBe(norm(outs[i + 1].output));
      bpftoolDumps += outs.length / 2;
    } finally {
      ours.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("compared a meaningful number of programs", () => {
    expect(bpftoolDumps).toBeGreaterThan(15);
    expect(tagsCompared).toBeGreaterThan(40);
  });
});

