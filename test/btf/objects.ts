// Objects for the BTF tests: the C programs in test/btf/c built with clang-19 in a temp dir during
// the run (vmlinux.h generated there by bpftool), plus every fixture object that carries .BTF.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, run } from "../support/env.ts";

let built: string[] | undefined;

/** Compile test/btf/c/*.bpf.c (once per test file) and return the object paths. */
export function buildTestObjects(): string[] {
  if (built) return built;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-btf-"));
  writeFileSync(join(dir, "vmlinux.h"), run("bpftool", ["btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"]));
  const srcDir = join(ROOT, "test/btf/c");
  const out: string[] = [];
  for (const f of readdirSync(srcDir).filter((f) => f.endsWith(".bpf.c")).sort()) {
    const obj = join(dir, f.replace(/\.bpf\.c$/, ".o"));
    run("clang-19", ["-g", "-O2", "-target", "bpf", "-mcpu=v3", "-I/usr/include/x86_64-linux-gnu", `-I${dir}`, "-c", join(srcDir, f), "-o", obj]);
    out.push(obj);
  }
  built = out;
  return out;
}

/** Fixture objects (fixtures/obj) that have a .BTF section. */
export function fixtureObjectsWithBtf(): string[] {
  const dir = join(ROOT, "fixtures/obj");
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => f.endsWith(".o")).sort();
  } catch {
    return [];
  }
  return names
    .map((f) => join(dir, f))
    .filter((p) => {
      const r = spawnSync("llvm-readelf-19", ["-S", p], { encoding: "utf8" });
      return r.status === 0 && /\s\.BTF\s/.test(r.stdout);
    });
}

export function readBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}
