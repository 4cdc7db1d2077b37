// tsbpf inspect against libbpf: the programs and maps it reports are the ones libbpf opens and
// creates from the same object (traced in this run), and its verdict on missing kernel symbols is
// libbpf's load verdict.

import { describe, expect, test } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { progTypeName, attachTypeName, mapTypeName } from "../../src/elf/index.ts";
import { haveKernelBtf, haveRoot, haveTool, ROOT, run } from "../support/env.ts";
import { buildTracer, traceObjects } from "../link/oracle.ts";

const bun = join(ROOT, "node_modules/.bin/bun");

interface JsonReport {
  programs: { name: string; section: string; type: string; expectedAttachType: string; insns: number; linkedInsns?: number; autoload: boolean }[];
  maps: { name: string; type: string; keySize: number; valueSize: number; maxEntries: number; flags: number }[];
  externs: { name: string; kind: string; resolved?: boolean }[];
  warnings: string[];
}

function inspect(path: string): { status: number; report: JsonReport; stderr: string } {
  const r = spawnSync(bun, [join(ROOT, "src/cli/tsbpf.ts"), "inspect", path, "--json"], { encoding: "utf8", maxBuffer: 1 << 28 });
  return { status: r.status ?? -1, report: r.stdout ? (JSON.parse(r.stdout) as JsonReport) : ({} as JsonReport), stderr: r.stderr };
}

function fixtureObjects(): string[] {
  const dir = join(ROOT, "fixtures/obj");
  return readdirSync(dir).filter((f) => f.endsWith(".o")).map((f) => join(dir, f));
}

describe.skipIf(!haveRoot() || !haveTool("clang-19") || !haveKernelBtf())("tsbpf inspect vs libbpf", () => {
  const exe = buildTracer();
  const objects = fixtureObjects();
  const traced = traceObjects(exe, objects);

  test.each(traced.map((t) => [t.path.replace(/.*\//, ""), t] as const))("%s", (_n, t) => {
    const { status, report, stderr } = inspect(t.path);
    expect(stderr).toBe("");
    expect([0, 1]).toContain(status);
    // Programs: the ones libbpf finds, with its type, attach type and instruction count.
    // Section names newer than the system libbpf (1.1: no tcx/, netkit/, …) are unknown to it
    // (type 0); there we compare everything but the type.
    const known = (i: number) => t.defs[i]?.type !== 0;
    const ours = report.programs.map((p, i) => ({ name: p.name, section: p.section, type: known(i) ? p.type : "", attach: known(i) ? p.expectedAttachType : "", insns: p.insns }));
    const theirs = t.defs.map((d) => ({ name: d.name, section: d.section.replace(/^\?/, ""), type: d.type ? progTypeName(d.type) : "", attach: d.type === 27 /* STRUCT_OPS: a member index */ ? `member ${d.attach}` : d.type ? attachTypeName(d.attach) : "", insns: d.insnCount }));
    expect(ours).toEqual(theirs);
    // Linked size: what libbpf handed to BPF_PROG_LOAD (subprograms appended), when it got that far
    // and the kernel did not rewrite the count (libbpf sends linked code before the verifier sees it).
    for (const lp of t.progs) {
      const p = report.programs.find((x) => x.name.slice(0, 15) === lp.name && lp.name !== "");
      if (p?.linkedInsns !== undefined) expect(p.linkedInsns).toBe(lp.insns.length / 8);
    }
    // Maps: every map libbpf created under a name we report, with our attributes.
    for (const m of report.maps) {
      const lm = t.maps.find((x) => x.name === m.name.slice(0, 15));
      if (!lm) continue;
      // libbpf rounds ring buffers to the page size and sizes perf arrays by CPU count at create time.
      const sizedAtCreate = m.type === "RINGBUF" || m.type === "USER_RINGBUF" || (m.type === "PERF_EVENT_ARRAY" && m.maxEntries === 0);
      expect({ type: m.type, key: m.keySize, value: m.valueSize, max: sizedAtCreate ? lm.maxEntries : m.maxEntries, flags: m.flags }).toEqual({
        type: mapTypeName(lm.type), key: lm.keySize, value: lm.valueSize, max: lm.maxEntries, flags: lm.flags,
      });
    }
  });

  test("a missing kfunc: inspect warns and exits 1 exactly when libbpf's load fails", () => {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-inspect-"));
    writeFileSync(join(dir, "vmlinux.h"), run("bpftool", ["btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"]));
    const src = (weak: boolean) => `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern int tsbpf_no_such_kfunc(int x) __ksym${weak ? " __weak" : ""};
SEC("tp_btf/task_newtask") int probe(u64 *ctx) {
  struct task_struct *t = bpf_task_acquire((struct task_struct *)ctx[0]);
  int r = ${weak ? "bpf_ksym_exists(tsbpf_no_such_kfunc) ? tsbpf_no_such_kfunc(1) : 0" : "tsbpf_no_such_kfunc(1)"};
  if (t) bpf_task_release(t);
  return r;
}
char LICENSE[] SEC("license") = "GPL";
`;
    const objs: string[] = [];
    for (const weak of [false, true]) {
      const c = join(dir, `kf_${weak ? "weak" : "strong"}.bpf.c`);
      writeFileSync(c, src(weak).replace("bpf_ksym_exists(tsbpf_no_such_kfunc)", "(!!tsbpf_no_such_kfunc)"));
      const o = c.replace(/\.c$/, ".o");
      run("clang-19", ["-g", "-O2", "-target", "bpf", "-mcpu=v3", `-I${dir}`, "-c", c, "-o", o]);
      objs.push(o);
    }
    const traced = traceObjects(exe, objs);
    for (const t of traced) {
      const { status, report } = inspect(t.path);
      const libbpfFailed = t.load !== 0;
      expect(status === 1).toBe(libbpfFailed);
      const kf = report.externs.find((x) => x.name === "tsbpf_no_such_kfunc");
      expect(kf?.resolved).toBe(false);
      expect(report.warnings.some((w) => w.includes("tsbpf_no_such_kfunc"))).toBe(true);
    }
    // The strong reference fails in libbpf; the weak one loads.
    expect(traced.map((t) => t.load !== 0)).toEqual([true, false]);
  });
});

describe("tsbpf inspect on bad input", () => {
  test("a file that is not an object exits 2 with a typed message", () => {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-inspect-"));
    const f = join(dir, "junk.o");
    writeFileSync(f, "not an ELF file at all");
    const r = spawnSync(bun, [join(ROOT, "src/cli/tsbpf.ts"), "inspect", f], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^tsbpf: .*junk\.o/);
  });
});
