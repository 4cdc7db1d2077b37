// `tsbpf btf dump --format c` against `bpftool btf dump file F format c`, both generated in the run:
// vmlinux (whole text), every fixture object, the BTF test objects, C sources crafted here for the
// corner cases (cycles, bitfields, packing, name conflicts, tags…), random structs from fast-check,
// and the property that counts: our vmlinux.h builds every fixture program into the same object.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { haveKernelBtf, haveTool, ROOT, run } from "../support/env.ts";
import { dumpC, loadBtfFile } from "../../btf/index.ts";
import { isTsbpfError } from "../../src/errors.ts";
import { btfModel } from "./arbitrary.ts";
import { buildTestObjects, fixtureObjectsWithBtf } from "./objects.ts";

const VMLINUX = "/sys/kernel/btf/vmlinux";
const ready = haveTool("bpftool") && haveTool("clang-19") && haveTool("llvm-readelf-19") && haveKernelBtf();
const bpftoolC = (file: string): string => run("bpftool", ["btf", "dump", "file", file, "format", "c"]);

/** Compare line by line so a failure names the first differing line, not a 10 MB blob. */
function expectSameLines(ours: string, theirs: string, what: string): void {
  const a = ours.split("\n");
  const b = theirs.split("\n");
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      const context = b.slice(Math.max(0, i - 3), i + 1).join("\n");
      expect({ what, line: i + 1, ours: a[i] }, `bpftool's text up to there:\n${context}`).toEqual({ what, line: i + 1, ours: b[i] });
    }
  }
}

/** Crafted sources: each feature bpftool's C dump has a rule for. */
const CASES: Record<string, string> = {
  kinds: `
typedef unsigned int u32;
typedef u32 myu32;
typedef const volatile myu32 cvu;
struct b;
struct a { struct b *b; int x; };
struct b { struct a *a; struct a inl; struct b *self; };
struct bits { unsigned a:3; unsigned b:5; int c; unsigned long d:40; char e; unsigned f:1; long :0; char g:2; };
struct pk { char c; int i; long l; } __attribute__((packed));
struct pkbits { char c; unsigned x:20; short s; } __attribute__((packed));
struct al { char c; int i __attribute__((aligned(16))); };
struct al8 { char c; char d __attribute__((aligned(8))); short e; };
struct pad { char c; long l; char d; };
struct nested { int a; union { int b; struct { short c, d; }; }; struct { int e; union { char f; } u; } named; };
enum sgn { SA = -1, SB = 2 };
enum uns { UA = 1, UB = 0xffffffff };
enum e64 { E1 = 0xffffffffffULL, E2 = 1 };
enum s64 { N1 = -0xffffffffffLL, N2 = 3 };
enum small { S1 = 1 } __attribute__((packed));
enum { ANON1 = 5, ANON2 };
typedef void (*fp)(int, char *);
typedef int (*fparr[3])(void);
struct fps { fp arr[4]; int (*f)(void); void (*g[2])(int, ...); int (*(*h)(int))[3]; fparr fa; char *(*(*k)(void))(long); };
struct flex { int n; char data[]; };
struct zero { int n; char z[0]; };
struct flt { float f; double d; long double ld; };
struct empty {};
struct cv { const int *p; int * const q; const volatile char * restrict r; const char *const *pp; const int ca[2]; volatile struct pad *vp; };
typedef struct { int x, y; } point_t;
typedef union { int i; float f; } num_t;
typedef enum { RED, GREEN } color_t;
typedef struct named_s { int v; } named_t, *named_p;
struct dup { int x; };
struct conflict_user { struct dup d; };
#define __tag __attribute__((btf_type_tag("user")))
struct tagged { int __tag *p; int q __attribute__((btf_decl_tag("dt"))); char __tag __attribute__((btf_type_tag("rcu"))) **pp; };
struct arrs { int m[2][3][4]; char *names[5]; struct pad ps[2]; point_t pts[0]; };
struct everything { u32 a; myu32 b; cvu c; struct a sa; struct bits bi; struct pk p; struct pkbits pb; struct al al; struct al8 al8;
  struct pad pad; struct nested n; enum sgn s; enum uns u; enum e64 e; enum s64 e2; enum small sm; struct fps f; struct flex *fl;
  struct zero z; struct flt fl2; struct empty em; struct cv cv; struct conflict_user cu; struct tagged t; int (*arr)[3][4];
  point_t pt; num_t num; color_t col; named_t nt; named_p np; struct arrs ar; };
struct everything ev;
int anon_e = ANON1;
__attribute__((section("xdp"), used)) int prog(void *ctx) { return ev.a + anon_e; }
`,
  // Same names as in "conflict_b": linked into one object, they need ___2 suffixes.
  conflict_a: `
struct dup { int x; };
typedef int dup_t;
enum clash { C_ONE = 1, C_TWO };
struct user_a { struct dup d; dup_t t; enum clash c; };
struct user_a ua;
__attribute__((section("xdp"), used)) int prog_a(void *ctx) { return ua.t; }
`,
  conflict_b: `
struct dup { long y; char z; };
typedef long dup_t;
enum clash { C_ONE = 7 };
struct user_b { struct dup d; dup_t t; enum clash c; struct dup *pd; };
struct user_b ub;
__attribute__((section("xdp"), used)) int prog_b(void *ctx) { return ub.t; }
`,
};

interface Member {
  decl: (name: string) => string;
  /** Integer type usable as a bitfield, with its width in bits. */
  bits?: number;
}

// Random structs: members of every shape clang lays out, with bitfields, packing and alignment.
const scalar = fc.constantFrom<Member>(
  { decl: (n) => `char ${n}`, bits: 8 },
  { decl: (n) => `unsigned short ${n}`, bits: 16 },
  { decl: (n) => `int ${n}`, bits: 32 },
  { decl: (n) => `unsigned long ${n}`, bits: 64 },
  { decl: (n) => `long long ${n}`, bits: 64 },
  { decl: (n) => `void *${n}` },
  { decl: (n) => `float ${n}` },
  { decl: (n) => `double ${n}` },
  { decl: (n) => `int (*${n})(char, long)` },
);
const member: fc.Arbitrary<Member> = fc.oneof(
  { weight: 5, arbitrary: scalar },
  { weight: 1, arbitrary: fc.tuple(scalar, fc.integer({ min: 1, max: 5 })).map(([m, n]) => ({ decl: (x: string) => m.decl(`${x}[${n}]`) })) },
  { weight: 1, arbitrary: fc.tuple(scalar, scalar, fc.boolean()).map(([a, b, u]) => ({ decl: (x: string) => `${u ? "union" : "struct"} { ${a.decl("p")}; ${b.decl("q")}; } ${x}` })) },
);
const field = fc.record({
  m: member,
  bitfield: fc.integer({ min: 0, max: 64 }),
  align: fc.constantFrom(0, 0, 0, 0, 1, 2, 4, 8, 16),
  anonymous: fc.boolean(),
});
const structArb = fc.record({ fields: fc.array(field, { minLength: 1, maxLength: 8 }), packed: fc.boolean(), outerAlign: fc.constantFrom(0, 0, 0, 8, 16, 32) });

type RandomStruct = typeof structArb extends fc.Arbitrary<infer S> ? S : never;

function structSource(i: number, s: RandomStruct): string {
  const lines = s.fields.map((f, j) => {
    const bits = f.m.bits !== undefined && f.bitfield > 0 ? Math.min(f.bitfield, f.m.bits) : 0;
    // An anonymous wrapper turns the field into a nested anonymous struct/union member.
    if (f.anonymous && bits === 0 && f.align === 0) return `\tunion { ${f.m.decl(`f${j}`)}; char a${j}; };`;
    const al = f.align ? ` __attribute__((aligned(${f.align})))` : "";
    return bits ? `\t${f.m.decl(`f${j}`)}: ${bits};` : `\t${f.m.decl(`f${j}`)}${al};`;
  });
  const attrs = [s.packed ? "packed" : "", s.outerAlign ? `aligned(${s.outerAlign})` : ""].filter(Boolean);
  const attr = attrs.length ? ` __attribute__((${attrs.join(", ")}))` : "";
  return `struct r${i} {\n${lines.join("\n")}\n}${attr};\nstruct r${i} g${i};\n`;
}

/** Run commands with a few at a time in flight; resolves when all succeeded. */
async function runAll(jobs: { cmd: string; args: string[]; cwd?: string }[]): Promise<void> {
  const width = Math.max(1, cpus().length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const j = jobs[next++];
      await new Promise<void>((resolve, reject) => {
        const p = spawn(j.cmd, j.args, { cwd: j.cwd, stdio: ["ignore", "ignore", "pipe"] });
        let err = "";
        p.stderr.on("data", (b: Buffer) => (err += b.toString()));
        p.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${j.cmd} ${j.args.join(" ")}: exit ${code}\n${err}`))));
      });
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
}

describe.skipIf(!ready)("btf dump --format c vs bpftool", () => {
  it("vmlinux: the whole header is identical", () => {
    expectSameLines(dumpC(loadBtfFile(VMLINUX)), bpftoolC(VMLINUX), VMLINUX);
  });

  it("the CLI writes the same header", () => {
    const r = spawnSync(`${ROOT}node_modules/.bin/bun`, [`${ROOT}src/cli/tsbpf.ts`, "btf", "dump", VMLINUX, "--format", "c"], { encoding: "utf8", maxBuffer: 1 << 30 });
    expect(r.status).toBe(0);
    expectSameLines(r.stdout, bpftoolC(VMLINUX), "tsbpf btf dump --format c");
  });

  it("every fixture object and BTF test object", () => {
    const objects = [...fixtureObjectsWithBtf(), ...buildTestObjects()];
    expect(objects.length).toBeGreaterThan(10);
    for (const obj of objects) expectSameLines(dumpC(loadBtfFile(obj)), bpftoolC(obj), obj);
  });

  it("crafted objects: cycles, bitfields, packing, enums, declarators, tags, name conflicts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-cdump-"));
    const jobs = Object.entries(CASES).map(([name, src]) => {
      writeFileSync(join(dir, `${name}.c`), src);
      return { cmd: "clang-19", args: ["-g", "-O2", "-target", "bpf", "-c", join(dir, `${name}.c`), "-o", join(dir, `${name}.o`)] };
    });
    await runAll(jobs);
    // bpftool's linker keeps both distinct `struct dup`s, as two objects linked into one would.
    run("bpftool", ["gen", "object", join(dir, "conflict.o"), join(dir, "conflict_a.o"), join(dir, "conflict_b.o")]);
    for (const obj of ["kinds.o", "conflict.o"]) {
      const theirs = bpftoolC(join(dir, obj));
      if (obj === "conflict.o") expect(theirs).toContain("struct dup___2 {");
      expectSameLines(dumpC(loadBtfFile(join(dir, obj))), theirs, obj);
    }
  });

  it("random structs (fast-check): padding, packing and alignment inferred as bpftool does", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-cdump-rand-"));
    const files = 4;
    const perFile = 150;
    const jobs = [];
    for (let f = 0; f < files; f++) {
      const structs = fc.sample(structArb, { numRuns: perFile, seed: 0x5eed + f });
      const src = structs.map((s, i) => structSource(i, s)).join("\n");
      writeFileSync(join(dir, `r${f}.c`), src);
      jobs.push({ cmd: "clang-19", args: ["-g", "-O2", "-target", "bpf", "-w", "-c", join(dir, `r${f}.c`), "-o", join(dir, `r${f}.o`)] });
    }
    await runAll(jobs);
    for (let f = 0; f < files; f++) {
      const obj = join(dir, `r${f}.o`);
      expectSameLines(dumpC(loadBtfFile(obj)), bpftoolC(obj), obj);
    }
  });

  it("our vmlinux.h builds every fixture program into the same object as bpftool's", async () => {
    // Two copies of the fixture tree that differ only in include/vmlinux.h, built with the
    // fixture build script itself (relative paths, fixed debug directory: byte-reproducible).
    const sources = readdirSync(join(ROOT, "fixtures/src")).filter((f) => f.endsWith(".bpf.c") && readFileSync(join(ROOT, "fixtures/src", f), "utf8").includes('"vmlinux.h"')).sort();
    expect(sources.length).toBeGreaterThan(10);
    const trees = { theirs: bpftoolC(VMLINUX), ours: dumpC(loadBtfFile(VMLINUX)) };
    const jobs = [];
    const dirs: Record<string, string> = {};
    for (const [which, header] of Object.entries(trees)) {
      const t = mkdtempSync(join(tmpdir(), `tsbpf-cdump-${which}-`));
      dirs[which] = t;
      cpSync(join(ROOT, "fixtures/src"), join(t, "src"), { recursive: true });
      cpSync(join(ROOT, "fixtures/include"), join(t, "include"), { recursive: true });
      copyFileSync(join(ROOT, "fixtures/build.sh"), join(t, "build.sh"));
      writeFileSync(join(t, "include/vmlinux.h"), header);
      mkdirSync(join(t, "obj"));
      for (const src of sources) {
        const cpu = (/^\/\/ cpus:\s*(\S+)/m.exec(readFileSync(join(ROOT, "fixtures/src", src), "utf8"))?.[1]) ?? "v3";
        jobs.push({ cmd: "bash", args: [join(t, "build.sh"), "--one", `src/${src}`, cpu, `obj/${src.replace(/\.bpf\.c$/, ".o")}`], cwd: t });
      }
    }
    await runAll(jobs);
    for (const src of sources) {
      const o = src.replace(/\.bpf\.c$/, ".o");
      const a = readFileSync(join(dirs.ours, "obj", o));
      const b = readFileSync(join(dirs.theirs, "obj", o));
      expect(a.equals(b), `${o} built with our vmlinux.h differs from bpftool's build`).toBe(true);
    }
  }, 600_000);
});

describe("btf dump --format c on arbitrary BTF", () => {
  it("random valid-format models (loops, odd sizes, dangling kinds) give a header or a TsbpfError", () => {
    fc.assert(
      fc.property(btfModel, (btf) => {
        try {
          expect(typeof dumpC(btf)).toBe("string");
        } catch (e) {
          if (!isTsbpfError(e)) throw e;
        }
      }),
      { numRuns: 500 },
    );
  });
});
