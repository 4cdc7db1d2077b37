// `tsbpf run` end to end: the CLI loads and attaches a course object, we trigger it from a child,
// and its output must hold what the kernel saw (the child's read count; a loop device's I/O drawn
// as a bpftrace-style histogram), with a clean exit on the duration and on SIGINT.

import { describe, expect, test } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { haveBun, haveRoot, haveKernelBtf, ROOT } from "../support/env.ts";

const live = haveBun() && haveRoot() && haveKernelBtf();
const BUN = join(ROOT, "node_modules/.bin/bun");
const CLI = join(ROOT, "src/cli/tsbpf.ts");

/** Start `tsbpf run`, wait until it reports its attachments on stderr, run `trigger`, collect. */
async function runWith(args: string[], trigger: () => void, stop?: "SIGINT"): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawn(BUN, [CLI, "run", ...args]);
  let stdout = "", stderr = "";
  p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  const attached = new Promise<void>((res) => p.stderr.on("data", (d: Buffer) => { stderr += d.toString(); if (/attached/.test(stderr)) res(); }));
  await Promise.race([attached, new Promise((r) => setTimeout(r, 10000))]);
  trigger();
  if (stop) setTimeout(() => p.kill(stop), 300);
  const code = await new Promise<number | null>((res) => p.on("close", res));
  return { code, stdout, stderr };
}

describe.skipIf(!live)("tsbpf run", () => {
  test("count_reads: the child's read() count is in the printed map", async () => {
    let pid = 0;
    const r = await runWith([join(ROOT, "fixtures/obj/count_reads.o"), "--duration", "2"], () => {
      pid = spawnSync("dd", ["if=/dev/zero", "of=/dev/null", "bs=1", "count=300"]).pid!;
    });
    expect(r.code, r.stderr).toBe(0);
    const line = r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { map: string; key: number; value: number }).find((e) => e.key === pid);
    expect(line?.map).toBe("syscall_count");
    expect(line!.value).toBeGreaterThanOrEqual(300);
  });

  test("exec_events: records of a struct only DWARF describes print as fields (the child's comm \"true\")", async () => {
    let pid = 0;
    const r = await runWith([join(ROOT, "fixtures/obj/exec_events.o"), "--duration", "2"], () => {
      pid = spawnSync("/bin/true").pid!;
    });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split("\n").filter((l) => l.startsWith("{\"map\":\"events\""));
    const mine = lines.map((l) => JSON.parse(l) as { map: string; event: { pid?: number; comm?: string; timestamp?: number } }).find((e) => e.event.pid === pid);
    expect(mine, lines.slice(0, 5).join("\n")).toBeDefined();
    expect(mine!.event.comm).toBe("true");
    expect(typeof mine!.event.timestamp).toBe("number");
    expect(lines.find((l) => l.includes(`"pid":${pid},`))).toContain(`"comm":"true"`);
  });

  test("SIGINT detaches and prints the maps; exit 0", async () => {
    const r = await runWith([join(ROOT, "fixtures/obj/exec_events.o")], () => { spawnSync("/bin/true"); }, "SIGINT");
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { map: string; event: unknown });
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(events.every((e) => e.map === "events")).toBe(true);
    expect(r.stderr).toMatch(/trace_exec: attached tracepoint sched:sched_process_exec/);
  });
});
