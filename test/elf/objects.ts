// Test inputs for the ELF and link suites: the fixture objects, plus small C programs compiled
// with clang-19 into a temp directory during the run (one clang call per batch).

import { mkdtempSync, readdirSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, run } from "../support/env.ts";

export const FIXTURE_OBJ = join(ROOT, "fixtures/obj");
export const VMLINUX_H_DIR = join(ROOT, "fixtures/include");

/** Every fixture object (fixtures/obj/*.o), sorted. */
export function fixtureObjects(): string[] {
  if (!existsSync(FIXTURE_OBJ)) return [];
  return readdirSync(FIXTURE_OBJ).filter((f) => f.endsWith(".o")).sort().map((f) => join(FIXTURE_OBJ, f));
}

/** Compile C sources (name → text) with clang-19 -target bpf; returns name → object path. */
export function compileC(sources: Record<string, string>, extra: string[] = []): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-elf-"));
  const names = Object.keys(sources);
  for (const n of names) writeFileSync(join(dir, `${n}.c`), sources[n]);
  const args = ["-g", "-O2", "-target", "bpf", "-mcpu=v3", "-I/usr/include/x86_64-linux-gnu", "-I", VMLINUX_H_DIR, ...extra, "-c", ...names.map((n) => join(dir, `${n}.c`))];
  const r = run("sh", ["-c", `cd '${dir}' && clang-19 ${args.map((a) => `'${a}'`).join(" ")}`]);
  void r;
  const out: Record<string, string> = {};
  for (const n of names) out[n] = join(dir, `${n}.o`);
  return out;
}
