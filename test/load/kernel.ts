// Shared helpers for the loader tests: bpftool as the oracle, bpffs mounting, and byte formatting
// in bpftool's JSON style.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { run } from "../support/env.ts";

/** bpftool's JSON output; some listings print nothing at all when empty, read as []. */
export function bpftoolJson<T>(args: string[]): T {
  const out = run("bpftool", [...args, "-j"]).trim();
  return JSON.parse(out === "" ? "[]" : out) as T;
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

/**
 * The kernel-object fds this process holds ("7 anon_inode:bpf-map"…): BPF maps, programs, links,
 * BTF and perf events. Other fds come and go with the runtime's own I/O and are left out.
 */
export function openFds(): string[] {
  const out: string[] = [];
  for (const fd of readdirSync("/proc/self/fd")) {
    let target = "";
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed meanwhile (the directory handle readdir used)
    }
    if (/^anon_inode:(bpf|btf|\[perf_event\])/.test(target)) out.push(`${fd} ${target}`);
  }
  return out.sort();
}
