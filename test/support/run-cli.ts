// `tsbpf run` as a child process for tests: start it, act once its stderr says it is ready, and
// collect its exit code and output.

import { spawn } from "node:child_process";
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { ROOT } from "./env.ts";

const BUN = join(ROOT, "node_modules/.bin/bun");
const CLI = join(ROOT, "src/cli/tsbpf.ts");

/** Start `tsbpf run`, call `during(pid)` once stderr matches `ready`, and collect the whole run. */
export async function runDuring(args: string[], ready: RegExp, during: (pid: number) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawn(BUN, [CLI, "run", ...args]);
  let stdout = "", stderr = "";
  p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  const seen = new Promise<boolean>((res) => p.stderr.on("data", (d: Buffer) => { stderr += d.toString(); if (ready.test(stderr)) res(true); }));
  const ok = await Promise.race([seen, new Promise<boolean>((r) => setTimeout(() => r(false), 20000))]);
  if (ok) during(p.pid!);
  const code = await new Promise<number | null>((res) => p.on("close", res));
  expect(ok, stderr).toBe(true);
  return { code, stdout, stderr };
}


/** The BPF links process `pid` holds, as the kernel describes them in /proc/PID/fdinfo. */
export function heldLinks(pid: number): { type: string; progId: number }[] {
  const out: { type: string; progId: number }[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) !== "anon_inode:bpf_link") continue;
      const info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8");
      out.push({ type: /^link_type:\s*(\S+)/m.exec(info)?.[1] ?? "", progId: Number(/^prog_id:\s*(\d+)/m.exec(info)?.[1] ?? 0) });
    } catch {
      // closed meanwhile
    }
  }
  return out;
}
