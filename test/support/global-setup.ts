// Runs once before the suite: generate fixtures/include/vmlinux.h from this kernel's BTF when it
// is missing (it is a build product, not committed), so tests that compile C against it work
// in a fresh clone. fixtures/build.sh makes the same file the same way.

import { spawnSync } from "node:child_process";
import { existsSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export default function setup(): void {
  const root = new URL("../../", import.meta.url).pathname;
  const header = join(root, "fixtures/include/vmlinux.h");
  if (existsSync(header) || !existsSync("/sys/kernel/btf/vmlinux")) return;
  const r = spawnSync("bpftool", ["btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"], { maxBuffer: 1 << 30 });
  // Without bpftool the tests that need the header fail or skip with their own reasons.
  if (r.status !== 0) return;
  writeFileSync(header + ".tmp", r.stdout);
  renameSync(header + ".tmp", header);
}
