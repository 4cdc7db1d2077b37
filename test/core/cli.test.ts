// `tsbpf core`: exit codes and the JSON report, checked against libbpf's own verdict on the same
// object and target (the oracle's load result and its relocation log), plus usage errors.

import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT, haveKernelBtf, haveRoot, haveTool } from "../support/env.ts";
import { buildOracle, compileBpf, runOracle, type LibbpfObject } from "./oracle.ts";

const ready = haveTool("clang-19") && haveRoot() && haveKernelBtf();

function tsbpf(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, "src/cli/tsbpf.ts"), "core", ...args], { encoding: "utf8" });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

interface Report {
  summary: { total: number; patched: number; poisoned: number; failed: number };
  fixups: { program: string; relo: number; slot: number; outcome: { kind: string; newValue?: string } }[];
}

describe.skipIf(!ready)("tsbpf core", () => {
  let dir: string;
  let kinds: string;
  let custom: string;
  let lib: { kernel: LibbpfObject; custom: LibbpfObject };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "tsbpf-core-cli-"));
    kinds = compileBpf(join(ROOT, "test/core/src/core_kinds.bpf.c"), join(dir, "core_kinds.o"));
    custom = compileBpf(join(ROOT, "test/core/src/target_kernel.c"), join(dir, "target.o"));
    const exe = buildOracle();
    lib = { kernel: runOracle(exe, [kinds])[0], custom: runOracle(exe, [kinds], custom)[0] };
  }, 60_000);

  for (const which of ["kernel", "custom"] as const) {
    it(`--json report agrees with libbpf (${which} target)`, () => {
      const r = tsbpf([kinds, "--json", ...(which === "custom" ? ["--btf", custom] : [])]);
      const rep = JSON.parse(r.stdout) as Report;
      const l = lib[which];
      const poisoned = [...l.relos.values()].filter((x) => x.poisoned.length > 0).length;
      expect(rep.summary.total).toBe(l.relos.size);
      expect(rep.summary.poisoned).toBe(poisoned);
      expect(rep.summary.failed).toBe([...l.relos.values()].filter((x) => x.failed).length);
      expect(r.status).toBe(poisoned > 0 ? 1 : 0);
      for (const f of rep.fixups) {
        const x = l.relos.get(`${f.program}/${f.relo}`)!;
        if (f.outcome.kind === "patch") expect(BigInt(f.outcome.newValue!)).toBe(x.patches[0].to);
      }
    });
  }

  it("text report: one line per relocation with its source line, a summary, exit 1 when something is poisoned", () => {
    const r = tsbpf([kinds, "--btf", custom]);
    const lines = r.stdout.trim().split("\n");
    expect(lines.filter((l) => l.startsWith("prog '"))).toHaveLength(lib.custom.relos.size);
    // Each relocation names the source line clang recorded for it.
    expect(lines.filter((l) => /^ {4}at .*core_kinds\.bpf\.c:\d+:\d+: /.test(l))).toHaveLength(lib.custom.relos.size);
    expect(lines.at(-1)).toMatch(/^\d+ CO-RE relocations against .*: \d+ patched, [1-9]\d* poisoned, 0 failing$/);
    expect(r.stdout).toContain("invalid func unknown#195896080");
    expect(r.status).toBe(1);
  });

  it("usage and input errors exit 2 with a message", () => {
    expect(tsbpf([]).status).toBe(2);
    expect(tsbpf([kinds, "--bogus"]).status).toBe(2);
    const junk = join(dir, "junk.o");
    writeFileSync(junk, "not an object");
    const r = tsbpf([junk]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^tsbpf: /);
    expect(tsbpf([kinds, "--btf", junk]).status).toBe(2);
  });
});
