// Differential checks of tsbpf against the native tools on a corpus of BPF objects (anyone's):
// `bun bench/corpus.ts [--checks abcdef] [--json FILE] [--pin-prefix NAME] DIR...` runs each check on every .o/.elf
// (and raw .btf) below the directories and prints agree/disagree per check with the first
// differing line. Not part of `npm test` or `npm run bench`; it needs the native tools and, for
// the checks that run libbpf or load (c, d, e), root and bpffs. Exit 1 if any check disagrees.
//
//   a  disasm      tsbpf disasm OBJ              vs llvm-objdump-19 -d OBJ (byte for byte)
//   b  btf         tsbpf btf dump --format raw | --json | --format c  vs bpftool btf dump (raw, -j, c);
//                  our C header must also compile (clang-19 -fsyntax-only)
//   c  inspect     tsbpf inspect --json: no crash, and its programs and maps are the ones libbpf opens
//   d  core        tsbpf core --json vs libbpf's CO-RE debug log (same spec, candidates, patch/poison)
//   e  load        tsbpf load vs bpftool prog loadall: verdicts (per program where they differ) and,
//                  where both load, the kernel's translated instructions (map ids by map name)
//                  and the program tags
//   f  roundtrip   tsbpf disasm | tsbpf asm: the same code bytes, except fields the llvm text drops

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { attachTypeName, mapTypeName, progTypeName } from "../src/elf/uapi.ts";
import { TsbpfError } from "../src/errors.ts";
import { loadCollectionFile } from "../src/load/index.ts";
import { buildTracer, traceObjects, type TracedObject } from "../test/link/oracle.ts";
import { runOracle, type LibbpfObject } from "../test/core/oracle.ts";
import { buildObjectTracer, traceLibbpf } from "../test/load/object-oracle.ts";

type CheckId = "a" | "b" | "c" | "d" | "e" | "f";
type Status = "agree" | "disagree" | "skip";

interface Outcome {
  check: CheckId;
  /** Sub-check: "raw", "json", "c", "c-compile", "programs", "verdict", "xlated", … */
  what: string;
  file: string;
  status: Status;
  detail?: string;
}

interface Proc {
  status: number;
  stdout: Buffer;
  stderr: string;
}

interface Obj {
  path: string;
  dir: string;
  name: string;
  /** ELF object (else raw BTF). */
  elf: boolean;
  bigEndian: boolean;
}

interface CoreFixupJson {
  program: string;
  relo: number;
  kind: string;
  slot: number;
  local?: { text: string };
  target?: { text: string };
  candidates: { matched: number };
  outcome: { kind: "patch" | "poison" | "error"; field?: string; oldValue?: string; newValue?: string; memSize?: { old: number; new: number }; message?: string };
}

interface InspectJson {
  programs: { name: string; section: string; type: string; expectedAttachType: string; insns: number; autoload: boolean }[];
  maps: { name: string; type: string; keySize: number; valueSize: number; maxEntries: number; flags: number }[];
}

const CHECKS: Record<CheckId, string> = { a: "disasm", b: "btf", c: "inspect", d: "core", e: "load", f: "roundtrip" };
const ROOT = resolve(new URL("..", import.meta.url).pathname);
const TSBPF = join(ROOT, "src/cli/tsbpf.ts");
const BUN = process.execPath;
const PIN_ROOT = "/sys/fs/bpf";
let pinPrefix = `tsbpf-corpus-${process.pid}`;
const TIMEOUT_MS = 180_000;

// ---------------------------------------------------------------------------------------------
// Processes and text

function exec(cmd: string, args: string[], opts: { cwd?: string; input?: string | Buffer } = {}): Proc {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, input: opts.input, maxBuffer: 1 << 30, timeout: TIMEOUT_MS, encoding: "buffer" });
  const timedOut = r.error !== undefined && (r.error as NodeJS.ErrnoException).code === "ETIMEDOUT";
  return {
    status: r.status ?? (timedOut ? 124 : -1),
    stdout: r.stdout ?? Buffer.alloc(0),
    stderr: (r.stderr?.toString() ?? "") + (timedOut ? `\n(timed out after ${TIMEOUT_MS / 1000} s)` : r.signal ? `\n(killed by ${r.signal})` : ""),
  };
}

const tsbpf = (args: string[], cwd?: string, input?: Buffer): Proc => exec(BUN, [TSBPF, ...args], { cwd, input });

function haveTool(cmd: string, arg = "--version"): boolean {
  return spawnSync(cmd, [arg], { stdio: "ignore" }).status === 0;
}

/** A JavaScript stack trace on stderr: any exception that is not a TsbpfError reaching the top. */
function crashed(p: Proc): string | undefined {
  if (/^\s+at .*:\d+:\d+\)?$/m.test(p.stderr) || /^(\w*Error|panic)[:(]/m.test(p.stderr) || p.status > 2 || p.status < 0) {
    return `exit ${p.status}: ${p.stderr.trim().split("\n").slice(0, 3).join(" | ")}`;
  }
  return undefined;
}

/** The first line where the texts differ, as "line N: ours «…» | theirs «…»"; undefined when equal. */
function firstDiff(ours: string, theirs: string): string | undefined {
  if (ours === theirs) return undefined;
  const a = ours.split("\n");
  const b = theirs.split("\n");
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}: ours «${a[i] ?? "<end>"}» | theirs «${b[i] ?? "<end>"}»`;
  }
  return "texts differ";
}

/** The first path where two JSON values differ. */
function jsonDiff(a: unknown, b: unknown, path = "$"): string | undefined {
  if (a === b) return undefined;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") {
    return `${path}: ours ${JSON.stringify(a)?.slice(0, 120)} | theirs ${JSON.stringify(b)?.slice(0, 120)}`;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return `${path}: array vs object`;
  const ka = Object.keys(a as object), kb = Object.keys(b as object);
  for (const k of new Set([...ka, ...kb])) {
    const d = jsonDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    if (d) return d;
  }
  return undefined;
}

const oneLine = (s: string, n = 200) => s.trim().replace(/\s+/g, " ").slice(0, n);

// ---------------------------------------------------------------------------------------------
// The corpus

function findObjects(dirs: string[]): Obj[] {
  const out: Obj[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && /\.(o|elf|btf)$/.test(n)) {
        const head = Buffer.alloc(6);
        readFileSync(p).copy(head, 0, 0, 6);
        const elf = head.readUInt32BE(0) === 0x7f454c46;
        out.push({ path: p, dir: d, name: n, elf, bigEndian: elf ? head[5] === 2 : head[0] === 0xeb && head[1] === 0x9f });
      }
    }
  };
  for (const d of dirs) walk(resolve(d));
  return out;
}

// ---------------------------------------------------------------------------------------------
// The CO-RE oracle: libbpf's debug log of every relocation, printed in the format test/core/oracle.ts
// parses. Unlike the test suite's oracle it first gives a size to maps that real-world objects
// leave for their user-space loader to size (max_entries 0, a stack map's value_size), since
// libbpf creates maps before it relocates and would otherwise stop before logging any CO-RE.
// Program loads are answered with a stand-in fd, so every program is relocated and logged.

const CORE_ORACLE_C = String.raw`#define _GNU_SOURCE
#include <bpf/libbpf.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long (*next_syscall)(long, ...);

long syscall(long nr, ...) {
  va_list ap;
  va_start(ap, nr);
  long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long), d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
  va_end(ap);
  if (!next_syscall) next_syscall = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
  if (nr == __NR_bpf && a == BPF_PROG_LOAD) {
    union bpf_attr *at = (union bpf_attr *)b;
    const unsigned char *insn = (const unsigned char *)(unsigned long)at->insns;
    printf("@prog\t%s\t", at->prog_name);
    for (unsigned i = 0; i < at->insn_cnt * 8; i++) printf("%02x", insn[i]);
    printf("\n");
    fflush(stdout);
    if (at->prog_name[0] && strcmp(at->prog_name, "libbpf_nametest") != 0) return open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  return next_syscall(nr, a, b, c, d, e, f);
}

static int to_stdout(enum libbpf_print_level level, const char *fmt, va_list ap) {
  (void)level;
  return vfprintf(stdout, fmt, ap);
}

int main(int argc, char **argv) {
  libbpf_set_print(to_stdout);
  for (int i = 1; i < argc; i++) {
    printf("@object\t%s\n", argv[i]);
    struct bpf_object *obj = bpf_object__open_file(argv[i], NULL);
    if (!obj) { printf("@open-failed\n"); continue; }
    struct bpf_map *m;
    bpf_object__for_each_map(m, obj) {
      enum bpf_map_type t = bpf_map__type(m);
      if (t == BPF_MAP_TYPE_STACK_TRACE && bpf_map__value_size(m) == 0) bpf_map__set_value_size(m, 127 * 8);
      if (bpf_map__max_entries(m) == 0 && t != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
        bpf_map__set_max_entries(m, t == BPF_MAP_TYPE_RINGBUF || t == BPF_MAP_TYPE_USER_RINGBUF ? 4096 : 1);
    }
    printf("@run\t*\n");
    printf("@load\t%d\n", bpf_object__load(obj));
    bpf_object__close(obj);
    fflush(stdout);
  }
  return 0;
}
`;

function buildCoreOracle(scratch: string): string {
  writeFileSync(join(scratch, "core-oracle.c"), CORE_ORACLE_C);
  const exe = join(scratch, "core-oracle");
  const r = exec("clang-19", ["-O1", "-o", exe, join(scratch, "core-oracle.c"), "-lbpf", "-ldl"]);
  if (r.status !== 0) throw new Error(`building the CO-RE oracle failed: ${r.stderr}`);
  return exe;
}

// ---------------------------------------------------------------------------------------------
// a: disassembly

/** One llvm-objdump-19 run per directory and byte order, split per file at its "NAME:\tfile format" header. */
function objdumpListings(objs: Obj[]): Map<string, Proc> {
  const out = new Map<string, Proc>();
  const byDir = new Map<string, Obj[]>();
  // llvm-objdump-19 keeps the first file's byte order for the rest of a run (a little-endian object
  // after a big-endian one is decoded big-endian): one run per directory and byte order.
  for (const o of objs) byDir.set(`${o.bigEndian ? "eb" : "el"}${o.dir}`, [...(byDir.get(`${o.bigEndian ? "eb" : "el"}${o.dir}`) ?? []), o]);
  for (const list of byDir.values()) {
    const dir = list[0].dir;
    const p = exec("llvm-objdump-19", ["-d", ...list.map((o) => o.name)], { cwd: dir });
    const text = p.stdout.toString("latin1");
    const starts = list.map((o) => {
      const i = text.indexOf(`\n${o.name}:\tfile format `);
      return i < 0 ? -1 : i;
    });
    list.forEach((o, k) => {
      const at = starts[k];
      if (at < 0) {
        const err = p.stderr.split("\n").filter((l) => l.includes(`'${o.name}'`) || l.includes(o.name)).join("\n");
        out.set(o.path, { status: 1, stdout: Buffer.alloc(0), stderr: err || "no listing" });
        return;
      }
      const later = starts.filter((s) => s > at);
      const end = later.length ? Math.min(...later) : text.length;
      out.set(o.path, { status: 0, stdout: Buffer.from(text.slice(at, end), "latin1"), stderr: "" });
    });
  }
  return out;
}

function checkDisasm(o: Obj, theirs: Proc): Outcome {
  const base = { check: "a" as const, what: "listing", file: o.path };
  const ours = tsbpf(["disasm", o.name], o.dir);
  const crash = crashed(ours);
  if (crash) return { ...base, status: "disagree", detail: `crash: ${crash}` };
  if (theirs.status !== 0) {
    return ours.status === 2 ? { ...base, status: "agree", detail: "both refuse" } : { ...base, status: "disagree", detail: `llvm-objdump refuses (${oneLine(theirs.stderr)}), we exit ${ours.status}` };
  }
  if (ours.status !== 0) return { ...base, status: "disagree", detail: `we exit ${ours.status}: ${oneLine(ours.stderr)}` };
  const d = firstDiff(ours.stdout.toString("latin1"), theirs.stdout.toString("latin1"));
  return d ? { ...base, status: "disagree", detail: d } : { ...base, status: "agree" };
}

// ---------------------------------------------------------------------------------------------
// b: BTF listings

/** bpftool -j prints an unsigned 32-bit ENUM value through a signed int (sign-extended into u64). */
function asBpftoolJson(doc: { types?: { kind: string; encoding?: string; values?: { val: number }[] }[] }): unknown {
  for (const t of doc.types ?? []) {
    if (t.kind !== "ENUM" || t.encoding !== "UNSIGNED" || !t.values) continue;
    for (const v of t.values) if (v.val >= 2 ** 31) v.val = 2 ** 64 - (2 ** 32 - v.val);
  }
  return doc;
}

function checkBtf(o: Obj, scratch: string): Outcome[] {
  const out: Outcome[] = [];
  const at = (what: string, status: Status, detail?: string): Outcome => ({ check: "b", what, file: o.path, status, ...(detail ? { detail } : {}) });
  const compareText = (what: string, ours: Proc, theirs: Proc): boolean => {
    const crash = crashed(ours);
    if (crash) return out.push(at(what, "disagree", `crash: ${crash}`)), false;
    if (theirs.status !== 0) {
      out.push(ours.status === 0 ? at(what, "disagree", `bpftool refuses (${oneLine(theirs.stderr)}), we list it`) : at(what, "agree", "both refuse"));
      return false;
    }
    if (ours.status !== 0) return out.push(at(what, "disagree", `we exit ${ours.status}: ${oneLine(ours.stderr)}`)), false;
    return true;
  };

  const rawOurs = tsbpf(["btf", "dump", o.path, "--format", "raw"]);
  const rawTheirs = exec("bpftool", ["btf", "dump", "file", o.path, "format", "raw"]);
  if (compareText("raw", rawOurs, rawTheirs)) {
    const d = firstDiff(rawOurs.stdout.toString(), rawTheirs.stdout.toString());
    out.push(at("raw", d ? "disagree" : "agree", d));
  }
  const jOurs = tsbpf(["btf", "dump", o.path, "--json"]);
  const jTheirs = exec("bpftool", ["-j", "btf", "dump", "file", o.path, "format", "raw"]);
  if (compareText("json", jOurs, jTheirs)) {
    try {
      const d = jsonDiff(asBpftoolJson(JSON.parse(jOurs.stdout.toString())), JSON.parse(jTheirs.stdout.toString()));
      out.push(at("json", d ? "disagree" : "agree", d));
    } catch (e) {
      out.push(at("json", "disagree", `unparsable JSON: ${(e as Error).message}`));
    }
  }
  const cOurs = tsbpf(["btf", "dump", o.path, "--format", "c"]);
  const cTheirs = exec("bpftool", ["btf", "dump", "file", o.path, "format", "c"]);
  if (compareText("c", cOurs, cTheirs)) {
    const d = firstDiff(cOurs.stdout.toString(), cTheirs.stdout.toString());
    out.push(at("c", d ? "disagree" : "agree", d));
    // The header must compile on its own, as bpftool's does (both judged by clang).
    const h = join(scratch, "corpus-btf.h"), c = join(scratch, "corpus-btf.c");
    writeFileSync(h, cOurs.stdout);
    writeFileSync(c, `#include "corpus-btf.h"\n`);
    const cc = exec("clang-19", ["-fsyntax-only", "-target", "bpf", "-w", c]);
    if (cc.status === 0) out.push(at("c-compile", "agree"));
    else {
      writeFileSync(h, cTheirs.stdout);
      const cc2 = exec("clang-19", ["-fsyntax-only", "-target", "bpf", "-w", c]);
      const first = cc.stderr.split("\n").find((l) => l.includes("error:")) ?? oneLine(cc.stderr);
      out.push(cc2.status === 0 ? at("c-compile", "disagree", `ours does not compile, bpftool's does: ${first}`) : at("c-compile", "agree", "neither header compiles"));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// c: inspect

function checkInspect(o: Obj, lib: TracedObject | undefined): Outcome[] {
  const at = (what: string, status: Status, detail?: string): Outcome => ({ check: "c", what, file: o.path, status, ...(detail ? { detail } : {}) });
  const r = tsbpf(["inspect", o.path, "--json"]);
  const crash = crashed(r);
  if (crash) return [at("crash", "disagree", crash)];
  if (r.status === 2) {
    // A typed refusal: fine when libbpf cannot open it either.
    if (!lib || lib.defs.length === 0) return [at("crash", "agree", `both refuse: ${oneLine(r.stderr, 120)}`)];
    return [at("crash", "disagree", `we refuse what libbpf opens: ${oneLine(r.stderr)}`)];
  }
  let rep: InspectJson;
  try {
    rep = JSON.parse(r.stdout.toString()) as InspectJson;
  } catch (e) {
    return [at("crash", "disagree", `unparsable JSON: ${(e as Error).message}`)];
  }
  const out = [at("crash", "agree")];
  if (!lib || lib.defs.length === 0) return [...out, at("programs", "skip", "libbpf did not open the object")];
  // libbpf 1.1 classifies sections it knows; unknown ones (type 0) are compared without type.
  const known = (i: number) => lib.defs[i]?.type !== 0;
  const ours = rep.programs.map((p, i) => ({ name: p.name, section: p.section, type: known(i) ? p.type : "", attach: known(i) ? p.expectedAttachType : "", insns: p.insns }));
  const theirs = lib.defs.map((d) => ({ name: d.name, section: d.section.replace(/^\?/, ""), type: d.type ? progTypeName(d.type) : "", attach: d.type ? attachTypeName(d.attach) : "", insns: d.insnCount }));
  const pd = jsonDiff(ours, theirs);
  out.push(at("programs", pd ? "disagree" : "agree", pd));
  // The map list itself: libbpf's names, in libbpf's order.
  let md = jsonDiff(rep.maps.map((m) => m.name), lib.mapDefs);
  for (const m of rep.maps) {
    // Names are cut to 15 bytes in MAP_CREATE: a map-in-map's inner map ("NAME.inner") can share
    // its outer map's cut name, so prefer the candidate of our type, else the last created.
    const named = lib.maps.filter((x) => x.name === m.name.slice(0, 15));
    const lm = named.find((x) => mapTypeName(x.type) === m.type) ?? named.at(-1);
    if (!lm) continue;
    const sizedAtCreate = m.type === "RINGBUF" || m.type === "USER_RINGBUF" || (m.type === "PERF_EVENT_ARRAY" && m.maxEntries === 0);
    md ??= jsonDiff(
      { name: m.name, type: m.type, key: m.keySize, value: m.valueSize, max: sizedAtCreate ? lm.maxEntries : m.maxEntries, flags: m.flags },
      { name: m.name, type: mapTypeName(lm.type), key: lm.keySize, value: lm.valueSize, max: lm.maxEntries, flags: lm.flags },
    );
  }
  out.push(at("maps", md ? "disagree" : "agree", md));
  return out;
}

// ---------------------------------------------------------------------------------------------
// d: CO-RE

function checkCore(o: Obj, lib: LibbpfObject | undefined): Outcome[] {
  const at = (what: string, status: Status, detail?: string): Outcome => ({ check: "d", what, file: o.path, status, ...(detail ? { detail } : {}) });
  const r = tsbpf(["core", o.path, "--json"]);
  const crash = crashed(r);
  if (crash) return [at("fixups", "disagree", `crash: ${crash}`)];
  if (r.status === 2) {
    return !lib || !lib.opened ? [at("fixups", "agree", "both refuse")] : [at("fixups", lib.relos.size ? "disagree" : "skip", `we refuse: ${oneLine(r.stderr)}`)];
  }
  let fixups: CoreFixupJson[];
  try {
    fixups = (JSON.parse(r.stdout.toString()) as { fixups: CoreFixupJson[] }).fixups;
  } catch (e) {
    return [at("fixups", "disagree", `unparsable JSON: ${(e as Error).message}`)];
  }
  if (!lib || !lib.opened) return [at("fixups", fixups.length ? "skip" : "agree", "libbpf did not open the object")];
  if (fixups.length === 0 && lib.relos.size === 0) return [at("fixups", "skip", "no CO-RE relocations")];
  // libbpf creates maps (and sanitises BTF) before it relocates: a failure there leaves no CO-RE log.
  if (lib.relos.size === 0 && lib.load < 0) return [at("fixups", "skip", `libbpf stopped before CO-RE (load ${lib.load})`)];
  const firstError = fixups.find((f) => f.outcome.kind === "error");
  // libbpf stops at the first failing relocation: compare up to it.
  const ours = firstError ? fixups.slice(0, fixups.indexOf(firstError) + 1) : fixups;
  for (const f of ours) {
    const where = `prog '${f.program}' relo #${f.relo} (${f.kind})`;
    const l = lib.relos.get(`${f.program}/${f.relo}`);
    if (!l) return [at("fixups", "disagree", `${where}: libbpf logged no such relocation`)];
    const libSays = oneLine(l.lines.join(" | "), 300);
    if (f.outcome.kind === "error") {
      if (!l.failed) return [at("fixups", "disagree", `${where}: we fail (${f.outcome.message ?? ""}), libbpf: ${libSays}`)];
      continue;
    }
    if (l.failed) return [at("fixups", "disagree", `${where}: libbpf fails (${l.failed}), we ${f.outcome.kind}`)];
    if (f.local?.text !== l.local) return [at("fixups", "disagree", `${where}: local spec ours «${f.local?.text}» | theirs «${l.local}»`)];
    if (f.target?.text !== l.matching[0]) return [at("fixups", "disagree", `${where}: target ours «${f.target?.text}» | theirs «${l.matching[0]}»`)];
    if (f.kind !== "type_id_local" && f.candidates.matched !== l.matching.length) return [at("fixups", "disagree", `${where}: matching candidates ours ${f.candidates.matched} | theirs ${l.matching.length}`)];
    if (f.outcome.kind === "poison") {
      if (l.patches.length || Math.min(...l.poisoned) !== f.slot) return [at("fixups", "disagree", `${where}: we poison slot ${f.slot}, libbpf: ${libSays}`)];
      continue;
    }
    const want = [`${f.slot} ${f.outcome.field} ${f.outcome.oldValue} -> ${f.outcome.newValue}`];
    if (f.outcome.memSize) want.push(`${f.slot} mem_sz ${f.outcome.memSize.old} -> ${f.outcome.memSize.new}`);
    const got = l.patches.map((p) => `${p.insn} ${p.what} ${p.from} -> ${p.to}`);
    if (l.poisoned.length || want.join(",") !== got.join(",")) return [at("fixups", "disagree", `${where}: ours patch ${want.join(", ")} | libbpf ${got.join(", ") || `poisons ${l.poisoned.join(",")}`}`)];
  }
  const mine = new Set(ours.map((f) => `${f.program}/${f.relo}`));
  const extra = [...lib.relos.keys()].find((k) => !mine.has(k));
  if (extra && !firstError) return [at("fixups", "disagree", `libbpf relocates ${extra} (${oneLine(lib.relos.get(extra)!.lines[0] ?? "", 120)}), we list no such relocation`)];
  return [at("fixups", "agree", `${ours.length} relocations`)];
}

// ---------------------------------------------------------------------------------------------
// e: load

/**
 * What bpftool 7.1 / libbpf 1.1 refuse at open because they predate it (newer libbpf and tsbpf
 * accept it): iproute2/legacy "maps" sections (refused since libbpf 1.0), map_extra written
 * as an enum64 by newer bpf_helpers.h (__ulong), tcx/ and netkit/ sections (libbpf 1.3+), and
 * bpftool 7.1 pinning programs that are not autoloaded.
 */
const LIBBPF_TOO_OLD = [
  /legacy map definitions in 'maps' section are not supported/,
  /expected PTR, got enum64/,
  /failed to guess program type from ELF section '(tcx|netkit)\//,
  // bpftool 7.1's loadall then fails pinning a SEC("?...") program libbpf rightly did not load.
  /can't pin program that wasn't loaded/,
];

interface LoadedView {
  /**
   * program pin name → bpftool's xlated text, map ids replaced by map names and subprogram tags
   * ("call pc+28#bpf_prog_<tag>_f") dropped: tags are compared on their own (check e/tag).
   */
  xlated: Map<string, string>;
  /** program pin name → the kernel's tag (a hash of the instructions as loaded). */
  tags: Map<string, string>;
}

function pinnedXlated(dir: string, mapNames: Map<number, string>): LoadedView {
  const xlated = new Map<string, string>(), tags = new Map<string, string>();
  for (const n of existsSync(dir) ? readdirSync(dir).sort() : []) {
    const p = exec("bpftool", ["prog", "dump", "xlated", "pinned", join(dir, n)]);
    const text = p.status === 0 ? p.stdout.toString() : `(bpftool: ${oneLine(p.stderr)})`;
    xlated.set(n, text.replace(/map\[id:(\d+)\]/g, (_m, id: string) => `map[${mapNames.get(Number(id)) ?? `?${id}`}]`).replace(/#bpf_prog_[0-9a-f]{16}_/g, "#bpf_prog_TAG_"));
    const show = exec("bpftool", ["-j", "prog", "show", "pinned", join(dir, n)]);
    try {
      tags.set(n, (JSON.parse(show.stdout.toString()) as { tag: string }).tag);
    } catch {
      tags.set(n, `(bpftool: ${oneLine(show.stderr)})`);
    }
  }
  return { xlated, tags };
}

function mapNamesById(): Map<number, string> {
  const out = new Map<number, string>();
  const p = exec("bpftool", ["-j", "map", "show"]);
  try {
    for (const m of JSON.parse(p.stdout.toString() || "[]") as { id: number; name?: string }[]) out.set(m.id, m.name ?? "");
  } catch {
    /* an empty or broken listing leaves ids unnamed: they then differ visibly */
  }
  return out;
}

function checkLoad(o: Obj, objectTracer: string): Outcome[] {
  const at = (what: string, status: Status, detail?: string): Outcome => ({ check: "e", what, file: o.path, status, ...(detail ? { detail } : {}) });
  const oursDir = join(PIN_ROOT, `${pinPrefix}-ours`), theirsDir = join(PIN_ROOT, `${pinPrefix}-theirs`);
  const clean = () => {
    rmSync(oursDir, { recursive: true, force: true });
    rmSync(theirsDir, { recursive: true, force: true });
  };
  clean();
  try {
    const ours = tsbpf(["load", o.path, "--pin", oursDir, "--json"]);
    const crash = crashed(ours);
    if (crash) return [at("verdict", "disagree", `crash: ${crash}`)];
    const theirs = exec("bpftool", ["prog", "loadall", o.path, theirsDir]);
    const out: Outcome[] = [];
    if (ours.status === 0 && theirs.status === 0) {
      out.push(at("verdict", "agree", "both load"));
      const names = mapNamesById();
      const a = pinnedXlated(oursDir, names), b = pinnedXlated(theirsDir, names);
      const sd = jsonDiff([...a.xlated.keys()], [...b.xlated.keys()]);
      if (sd) return [...out, at("xlated", "disagree", `pinned programs: ${sd}`)];
      const td = [...a.tags].find(([n, t]) => b.tags.get(n) !== t);
      out.push(td ? at("tag", "disagree", `${td[0]}: ours ${td[1]} | theirs ${b.tags.get(td[0])}`) : at("tag", "agree"));
      for (const [n, text] of a.xlated) {
        const d = firstDiff(text, b.xlated.get(n)!);
        if (d) return [...out, at("xlated", "disagree", `${n}: ${d}`)];
      }
      return [...out, at("xlated", "agree", `${a.xlated.size} programs`)];
    }
    clean();
    const tooOld = LIBBPF_TOO_OLD.find((r) => r.test(theirs.stderr));
    if (ours.status === 0 && tooOld) return [at("verdict", "skip", `the installed bpftool/libbpf is too old: ${oneLine(theirs.stderr.split("\n").find((l) => tooOld.test(l)) ?? "", 120)}`)];
    // A verdict per program: ours one --prog at a time, libbpf's with the others' autoload off.
    const progs = listPrograms(o);
    if (progs === undefined) {
      return [at("verdict", ours.status === 2 && theirs.status !== 0 ? "agree" : "disagree", `whole object: ours exit ${ours.status} ${oneLine(ours.stderr, 120)} | bpftool exit ${theirs.status} ${oneLine(theirs.stderr, 120)}`)];
    }
    const lib = traceLibbpf(objectTracer, progs.map((p) => [o.path, p] as const));
    let bad: string | undefined;
    let agreeing = 0;
    for (const [i, p] of progs.entries()) {
      // In process (a spawn per program is slow on big objects); anything but a TsbpfError is a crash.
      let error: unknown;
      try {
        loadCollectionFile(o.path, { programs: [p] }).close();
      } catch (e) {
        error = e;
      }
      const libOk = lib[i]?.load === 0;
      if (error !== undefined && !(error instanceof TsbpfError)) bad ??= `${p}: crash: ${String((error as Error).stack ?? error).split("\n").slice(0, 3).join(" | ")}`;
      else if ((error === undefined) !== libOk) {
        const why = error === undefined ? `we load it, libbpf: ${lib[i]?.load}` : `we refuse (${oneLine((error as TsbpfError).message, 200)}), libbpf loads it`;
        bad ??= `${p}: ${why}`;
      } else agreeing++;
    }
    const whole = `whole object: ours ${ours.status === 0 ? "loads" : "refuses"}, bpftool ${theirs.status === 0 ? "loads" : "refuses"}`;
    out.push(bad ? at("verdict", "disagree", `${bad} (${whole})`) : at("verdict", (ours.status === 0) === (theirs.status === 0) ? "agree" : "disagree", `${agreeing} programs agree one by one; ${whole}`));
    return out;
  } finally {
    clean();
  }
}


/** The names of the programs libbpf would load (autoload), from tsbpf inspect. */
function listPrograms(o: Obj): string[] | undefined {
  const r = tsbpf(["inspect", o.path, "--json", "--no-kernel"]);
  if (r.status !== 0 && r.status !== 1) return undefined;
  try {
    return (JSON.parse(r.stdout.toString()) as InspectJson).programs.filter((p) => p.autoload).map((p) => p.name);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// f: disasm → asm round trip

/** Whether the llvm text of this instruction drops a field (so a difference there is expected). */
function lossy(b: Buffer, at: number): boolean {
  const op = b[at], src = b[at + 1] >> 4, off = b.readInt16LE(at + 2), imm = b.readInt32LE(at + 4);
  if (op === 0x85 && (src !== 0 || off !== 0)) return true; // "call 0x1" whatever the call kind
  if (op === 0x18 && src !== 0) return true; // pseudo ld_imm64 prints only the immediate
  if ((op & 0xe7) === 0xc3 && (imm === 0x100 || imm === 0x110)) return true; // acquire/release print as "lock +="
  if (op === 0xc3 && (imm & 1) === 1) return true; // 32-bit fetch atomics without +alu32
  if ((op & 0xe7) === 0x40 && imm !== 0) return true; // ld_ind drops its imm in LLVM 19
  return false;
}

/** Code bytes of an llvm-objdump listing, per "section/symbol" heading, in order. */
function listingCode(text: string): Map<string, Buffer> {
  const out = new Map<string, Buffer[]>();
  let section = "", key = "";
  for (const line of text.split("\n")) {
    let m: RegExpExecArray | null;
    if ((m = /^Disassembly of section (.*):$/.exec(line))) section = m[1];
    else if ((m = /^[0-9a-f]{16} <(.*)>:$/.exec(line))) key = `${section} <${m[1]}>`;
    else if ((m = /^\s+\d+:\t((?:[0-9a-f]{2} ?)+)\t/.exec(line))) {
      if (!out.has(key)) out.set(key, []);
      out.get(key)!.push(Buffer.from(m[1].replace(/ /g, ""), "hex"));
    }
  }
  return new Map([...out].map(([k, v]) => [k, Buffer.concat(v)]));
}

function checkRoundTrip(o: Obj, theirs: Proc, scratch: string): Outcome {
  const base = { check: "f" as const, what: "bytes", file: o.path };
  if (o.bigEndian) return { ...base, status: "skip", detail: "big-endian object (asm writes little-endian)" };
  if (theirs.status !== 0) return { ...base, status: "skip", detail: "llvm-objdump refuses the object" };
  const text = tsbpf(["disasm", o.name], o.dir);
  if (text.status !== 0) return { ...base, status: "skip", detail: "tsbpf disasm failed (see check a)" };
  // LLVM 19 prints some valid encodings as "<unknown>" (e.g. 32-bit xchg without +alu32): no text to reassemble.
  if (/\t<unknown>$/m.test(text.stdout.toString("latin1"))) return { ...base, status: "skip", detail: "the llvm listing has <unknown> instructions" };
  const out = join(scratch, "roundtrip.o");
  const asm = tsbpf(["asm", "-", "-o", out], scratch, text.stdout);
  const crash = crashed(asm);
  if (crash) return { ...base, status: "disagree", detail: `asm crash: ${crash}` };
  if (asm.status !== 0) return { ...base, status: "disagree", detail: `asm refuses our listing: ${oneLine(asm.stderr)}` };
  const again = exec("llvm-objdump-19", ["-d", out]);
  const a = listingCode(again.stdout.toString("latin1")), b = listingCode(theirs.stdout.toString("latin1"));
  const kd = jsonDiff([...a.keys()], [...b.keys()]);
  if (kd) return { ...base, status: "disagree", detail: `code sections/symbols: ${kd}` };
  let masked = 0;
  for (const [k, bytes] of b) {
    const mine = a.get(k)!;
    if (mine.length !== bytes.length) return { ...base, status: "disagree", detail: `${k}: ${mine.length} bytes reassembled, ${bytes.length} in the object` };
    for (let i = 0; i < bytes.length; i += 8) {
      if (mine.subarray(i, i + 8).equals(bytes.subarray(i, i + 8))) continue;
      if (lossy(bytes, i)) {
        masked++;
        continue;
      }
      return { ...base, status: "disagree", detail: `${k} slot ${i / 8}: reassembled ${mine.subarray(i, i + 8).toString("hex")} | object ${bytes.subarray(i, i + 8).toString("hex")}` };
    }
  }
  return { ...base, status: "agree", ...(masked ? { detail: `${masked} slots differ only in fields llvm text drops` } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Driver

function usage(): never {
  process.stderr.write("usage: bun bench/corpus.ts [--checks abcdef] [--json FILE] [--pin-prefix NAME] [--quiet] DIR...\n");
  process.exit(2);
}

function main(): number {
  const argv = process.argv.slice(2);
  let checks = new Set<CheckId>(["a", "b", "c", "d", "e", "f"]);
  let jsonOut: string | undefined;
  let quiet = false;
  const dirs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--checks") checks = new Set([...(argv[++i] ?? usage())].filter((c): c is CheckId => c in CHECKS));
    else if (a === "--json") jsonOut = argv[++i] ?? usage();
    else if (a === "--quiet") quiet = true;
    else if (a === "--pin-prefix") pinPrefix = `${argv[++i] ?? usage()}-${process.pid}`;
    else if (a.startsWith("-")) usage();
    else dirs.push(a);
  }
  if (dirs.length === 0) usage();
  const objs = findObjects(dirs);
  const elfs = objs.filter((o) => o.elf);
  const root = process.getuid?.() === 0;
  const need: [CheckId, boolean, string][] = [
    ["a", haveTool("llvm-objdump-19"), "llvm-objdump-19 missing"],
    ["b", haveTool("bpftool", "version") && haveTool("clang-19"), "bpftool or clang-19 missing"],
    ["c", haveTool("clang-19") && root, "needs clang-19 (libbpf tracer) and root"],
    ["d", haveTool("clang-19") && root, "needs clang-19 (libbpf oracle) and root"],
    ["e", haveTool("bpftool", "version") && haveTool("clang-19") && root && existsSync(PIN_ROOT), "needs bpftool, clang-19, root and bpffs"],
    ["f", haveTool("llvm-objdump-19"), "llvm-objdump-19 missing"],
  ];
  for (const [c, ok, why] of need) if (checks.has(c) && !ok) {
    process.stderr.write(`skipping check ${c} (${CHECKS[c]}): ${why}\n`);
    checks.delete(c);
  }
  const scratch = mkdtempSync(join(tmpdir(), "tsbpf-corpus-"));
  const results: Outcome[] = [];
  const note = (r: Outcome[]) => {
    results.push(...r);
    if (!quiet) for (const x of r) if (x.status === "disagree") process.stderr.write(`  ${x.check}/${x.what} ${relative(process.cwd(), x.file)}: ${x.detail}\n`);
  };
  try {
    process.stderr.write(`${objs.length} files (${elfs.length} ELF) under ${dirs.join(" ")}\n`);
    const listings = checks.has("a") || checks.has("f") ? objdumpListings(elfs) : new Map<string, Proc>();
    const tracer = checks.has("c") ? buildTracer() : "";
    const traced = new Map<string, TracedObject>();
    if (checks.has("c")) for (const t of batched(elfs, (ps) => traceObjects(tracer, ps))) traced.set(t.path, t);
    const coreOracle = checks.has("d") ? buildCoreOracle(scratch) : "";
    const coreLib = new Map<string, LibbpfObject>();
    if (checks.has("d")) for (const t of batched(elfs, (ps) => runOracle(coreOracle, ps))) coreLib.set(t.path, t);
    const objectTracer = checks.has("e") ? buildObjectTracer() : "";
    for (const [k, o] of objs.entries()) {
      if (!quiet) process.stderr.write(`[${k + 1}/${objs.length}] ${relative(process.cwd(), o.path)}\n`);
      if (checks.has("b")) note(checkBtf(o, scratch));
      if (!o.elf) continue;
      if (checks.has("a")) note([checkDisasm(o, listings.get(o.path)!)]);
      if (checks.has("c")) note(checkInspect(o, traced.get(o.path)));
      if (checks.has("d")) note(checkCore(o, coreLib.get(o.path)));
      if (checks.has("e")) note(o.bigEndian ? [{ check: "e", what: "verdict", file: o.path, status: "skip", detail: "big-endian object" }] : checkLoad(o, objectTracer));
      if (checks.has("f")) note([checkRoundTrip(o, listings.get(o.path)!, scratch)]);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  printTable(results, checks);
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify(results, null, 1));
  return results.some((r) => r.status === "disagree") ? 1 : 0;
}

/** Run a native oracle over the objects in chunks; a chunk whose run fails is retried one by one. */
function batched<T extends { path: string }>(objs: Obj[], fn: (paths: string[]) => T[]): T[] {
  const out: T[] = [];
  for (let i = 0; i < objs.length; i += 16) {
    const chunk = objs.slice(i, i + 16).filter((o) => !o.bigEndian).map((o) => o.path);
    try {
      out.push(...fn(chunk));
    } catch {
      for (const p of chunk) {
        try {
          out.push(...fn([p]));
        } catch {
          /* the oracle itself failed on this object: its checks report "libbpf did not open" */
        }
      }
    }
  }
  return out;
}

function printTable(results: Outcome[], checks: Set<CheckId>): void {
  const rows = new Map<string, { agree: number; disagree: number; skip: number }>();
  for (const r of results) {
    const k = `${r.check} ${CHECKS[r.check]}/${r.what}`;
    const row = rows.get(k) ?? { agree: 0, disagree: 0, skip: 0 };
    row[r.status]++;
    rows.set(k, row);
  }
  const lines = ["| check | agree | disagree | skip |", "|---|---:|---:|---:|"];
  for (const k of [...rows.keys()].sort()) if (checks.has(k[0] as CheckId)) {
    const r = rows.get(k)!;
    lines.push(`| ${k} | ${r.agree} | ${r.disagree} | ${r.skip} |`);
  }
  process.stdout.write(lines.join("\n") + "\n");
  const bad = results.filter((r) => r.status === "disagree");
  if (bad.length) {
    process.stdout.write(`\n${bad.length} disagreements:\n`);
    for (const r of bad) process.stdout.write(`- ${r.check}/${r.what} ${basename(dirname(r.file))}/${basename(r.file)}: ${r.detail}\n`);
  }
}

process.exit(main());
