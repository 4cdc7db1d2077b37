// What the test machine offers: native tools, root, kernel features. A test that needs something
// missing skips with the reason printed; under CI=true it fails instead (see README, MACHINE.md).

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export const inCI = process.env.CI === "true" || process.env.CI === "1";

const cache = new Map<string, boolean>();

function probe(key: string, test: () => boolean): boolean {
  let v = cache.get(key);
  if (v === undefined) {
    try {
      v = test();
    } catch {
      v = false;
    }
    cache.set(key, v);
  }
  return v;
}

/** True if `cmd` runs; false (with a printed reason) if not; throws under CI. */
export function have(what: string, test: () => boolean, why: string): boolean {
  if (probe(what, test)) return true;
  const msg = `${what} is not available: ${why}`;
  if (inCI) throw new Error(`${msg} (CI=true: a missing requirement fails the suite instead of skipping)`);
  console.warn(`skipping: ${msg}`);
  return false;
}

export function haveTool(cmd: string, versionArg = "--version"): boolean {
  return have(cmd, () => spawnSync(cmd, [versionArg], { stdio: "ignore" }).status === 0, `install it (apt-get install clang-19 llvm-19 bpftool), .ci/run does`);
}

export function haveRoot(): boolean {
  return have("root", () => process.getuid?.() === 0, "this test talks to the kernel and needs root (CAP_BPF, CAP_SYS_ADMIN)");
}

export function haveKernelBtf(): boolean {
  return have("/sys/kernel/btf/vmlinux", () => existsSync("/sys/kernel/btf/vmlinux"), "the kernel was built without CONFIG_DEBUG_INFO_BTF");
}

export function haveBun(): boolean {
  return have("bun runtime", () => typeof (globalThis as { Bun?: unknown }).Bun !== "undefined", "run the suite with `npm test` (bun --bun vitest run)");
}

/** Run a command, returning stdout; throws with stderr on failure. */
export function run(cmd: string, args: string[], input?: string | Uint8Array): string {
  const r = spawnSync(cmd, args, { input, maxBuffer: 1 << 30, encoding: "buffer" });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr?.toString()}`);
  }
  return r.stdout.toString();
}

export const ROOT = new URL("../../", import.meta.url).pathname;
