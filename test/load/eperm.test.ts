// Without capabilities the kernel refuses bpf() with EPERM: a child process run under setpriv with
// every capability dropped gets a SysError naming EPERM and the capability, for maps and programs.

import { describe, expect, test } from "vitest";
import { spawnSync } from "node:child_process";
import { haveBun, haveRoot, haveTool, ROOT } from "../support/env.ts";

const live = haveBun() && haveRoot() && haveTool("setpriv", "--version");

describe.skipIf(!live)("no capabilities", () => {
  test("map create and program load fail with SysError EPERM and a capability hint", () => {
    const r = spawnSync("setpriv", ["--inh-caps=-all", "--bounding-set=-all", "--ambient-caps=-all", "--", process.execPath, "test/load/eperm-child.ts"], { cwd: ROOT, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const status = spawnSync("setpriv", ["--inh-caps=-all", "--bounding-set=-all", "--", "grep", "CapEff", "/proc/self/status"], { encoding: "utf8" });
    expect(status.stdout).toMatch(/CapEff:\s+0+\n/);
    const results = JSON.parse(r.stdout) as { name: string; code: string; command: string; errnoName: string; hint: string }[];
    expect(results.map((x) => [x.name, x.code, x.command, x.errnoName])).toEqual([
      ["SysError", "SYS", "MAP_CREATE", "EPERM"],
      ["SysError", "SYS", "PROG_LOAD", "EPERM"],
    ]);
    for (const x of results) expect(x.hint).toMatch(/CAP_BPF/);
  });
});
