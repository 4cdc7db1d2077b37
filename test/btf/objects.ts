// Objects for the BTF tests: the C programs in test/btf/c built with clang-19 (both byte orders) in
// a temp dir during the run (vmlinux.h generated there by bpftool), plus every fixture object that
// carries .BTF.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, run } from "../support/env.ts";

let built: string[] | undefined;

/**
 * Compile test/btf/c/*.bpf.c and return the object paths. The test files of one run share the
 * build through a directory keyed by the sources and the kernel's BTF; it is filled under a
 * temporary name and renamed into place, so parallel test processes never see half of it.
 */
export function buildTestObjects(): string[] {
  if (built) return built;
  const srcDir = join(ROOT, "test/btf/c");
  const sources = readdirSync(srcDir).filter((f) => f.endsWith(".bpf.c")).sort();
  // Each source twice: little-endian (bpfel) and big-endian (bpfeb) objects.
  const targets = [["bpf", ".o"], ["bpfeb", ".eb.o"]];
  const h = createHash("sha256");
  h.update(readFileSync("/sys/kernel/btf/vmlinux")).update(JSON.stringify(targets));
  for (const f of sources) h.update(f).update(readFileSync(join(srcDir, f)));
  const dir = join(tmpdir(), `tsbpf-btf-${h.digest("hex").slice(0, 16)}`);
  const objs = sources.flatMap((f) => targets.map(([, ext]) => join(dir, f.replace(/\.bpf\.c$/, ext))));
  if (!existsSync(dir)) {
    const work = mkdtempSync(join(tmpdir(), "tsbpf-btf-build-"));
    writeFileSync(join(work, "vmlinux.h"), run("bpftool", ["btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"]));
    for (const f of sources) {
      for (const [target, ext] of targets) {
        const obj = join(work, f.replace(/\.bpf\.c$/, ext));
        run("clang-19", ["-g", "-O2", "-target", target, "-mcpu=v3", "-I/usr/include/x86_64-linux-gnu", `-I${work}`, "-c", join(srcDir, f), "-o", obj]);
      }
    }
    try {
      renameSync(work, dir);
    } catch {
      // Another test process finished first; its build is identical.
      rmSync(work, { recursive: true, force: true });
    }
  }
  built = objs;
  return objs;
}

/**
 * Fixture objects (fixtures/obj) that have a .BTF section, copied into a snapshot directory first
 * so a fixture rebuild running at the same time cannot pull a file from under the test.
 */
export function fixtureObjectsWithBtf(): string[] {
  const dir = join(ROOT, "fixtures/obj");
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => f.endsWith(".o")).sort();
  } catch {
    return [];
  }
  const snap = mkdtempSync(join(tmpdir(), "tsbpf-btf-fixtures-"));
  const out: string[] = [];
  for (const f of names) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(dir, f));
    } catch {
      continue;
    }
    const copy = join(snap, f);
    writeFileSync(copy, bytes);
    const r = spawnSync("llvm-readelf-19", ["-S", copy], { encoding: "utf8" });
    if (r.status === 0 && /\s\.BTF\s/.test(r.stdout)) out.push(copy);
  }
  return out;
}

export function readBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}
