// Shared helpers for the loader tests: bpftool as the oracle, bpffs mounting, and byte formatting
// in bpftool's JSON style.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { run } from "../support/env.ts";

export function bpftoolJson<T>(args: string[]): T {
  return JSON.parse(run("bpftool", [...args, "-j"])) as T;
}

/** bpftool's byte arrays: ["0x01","0x00",…] → bytes. */
export function fromHexList(xs: readonly string[]): Uint8Array {
  return Uint8Array.from(xs.map((x) => parseInt(x, 16)));
}

/** Mount bpffs at /sys/fs/bpf if it is not mounted (MACHINE.md: not mounted at boot). */
export function ensureBpffs(): string {
  const mounts = readFileSync("/proc/mounts", "utf8");
  if (!/ \/sys\/fs\/bpf bpf /.test(mounts)) {
    if (!existsSync("/sys/fs/bpf")) mkdirSync("/sys/fs/bpf", { recursive: true });
    const r = spawnSync("mount", ["-t", "bpf", "bpf", "/sys/fs/bpf"]);
    if (r.status !== 0) throw new Error(`mount bpffs: ${r.stderr}`);
  }
  return "/sys/fs/bpf";
}

/** The fds this process has open right now. */
export function openFds(): string[] {
  return spawnSync("ls", [`/proc/${process.pid}/fd`]).stdout.toString().split("\n").filter(Boolean).sort();
}
