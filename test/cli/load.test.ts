// `tsbpf load` against bpftool/libbpf in the same run: the verdict (exit status) per fixture equals
// whether `bpftool prog loadall` succeeds; verdict lines name every program libbpf pins, with the
// kernel's ids; a rejection prints the kernel's log; --pin leaves what bpftool would leave.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { loadObject } from "../../src/elf/index.ts";
import { fixtureObjects } from "../elf/objects.ts";
import { ROOT, haveKernelBtf, haveRoot, haveTool, run } from "../support/env.ts";
import { readFileSync } from "node:fs";

const bun = `${ROOT}node_modules/.bin/bun`;
const tsbpf = (...args: string[]) => spawnSync(bun, [`${ROOT}src/cli/tsbpf.ts`, ...args], { encoding: "utf8", maxBuffer: 1 << 30 });
/** libbpf 1.1 (bpftool 7.1) does not know these sections; libbpf ≥ 1.3 and we do. */
const NEWER = [/^tcx\//, /^netkit\//];

describe.skipIf(!haveRoot() || !haveTool("bpftool") || !haveKernelBtf())("tsbpf load vs bpftool prog loadall", () => {
  const root = mkdtempSync("/sys/fs/bpf/tsbpf-cli-load-");
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const objects = fixtureObjects();

  test.each(objects.map((p) => [p.replace(/.*\//, ""), p] as const))("%s", (name, path) => {
    const theirs = join(root, `b_${name.replace(/\W/g, "_")}`);
    const ours = join(root, `t_${name.replace(/\W/g, "_")}`);
    let theirsOk = true;
    try { run("bpftool", ["prog", "loadall", path, theirs]); } catch { theirsOk = false; }
    const r = tsbpf("load", path, "--pin", ours, "--json");
    const obj = loadObject(readFileSync(path), { file: path });
    if (obj.programs.some((p) => NEWER.some((x) => x.test(p.section)))) {
      expect(theirsOk).toBe(false);
      expect(r.status).toBe(0);
      return;
    }
    if (!theirsOk) {
      // Refused by the kernel (exit 1, with its reason), or refused before reaching it as libbpf
      // refuses the object (exit 2, bad input).
      expect([1, 2], r.stderr).toContain(r.status);
      if (r.status === 1) expect(r.stderr).toMatch(/verifier rejected|PROG_LOAD failed|processed \d+ insns|EPERM/);
      return;
    }
    expect(r.status, r.stderr).toBe(0);
    const verdicts = JSON.parse(r.stdout) as { name: string; id: number; type: string; insns: number; verified: number }[];
    expect(verdicts.map((v) => v.name).sort()).toEqual(readdirSync(theirs).sort());
    expect(readdirSync(ours).sort()).toEqual(readdirSync(theirs).sort());
    for (const v of verdicts) {
      const info = JSON.parse(run("bpftool", ["-j", "prog", "show", "pinned", join(ours, v.name)])) as { id: number; type: string; bytes_xlated: number };
      expect({ id: v.id, type: v.type }).toEqual({ id: info.id, type: info.type });
      expect(v.verified).toBeGreaterThan(0);
      expect(v.insns).toBeGreaterThan(0);
    }
    rmSync(ours, { recursive: true, force: true });
    rmSync(theirs, { recursive: true, force: true });
  });

  test("a rejected program: the kernel's log and exit status 1", () => {
    const r = tsbpf("load", join(ROOT, "fixtures/obj/mixed_verdicts.o"));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("R0 invalid mem access 'map_value_or_null'");
    expect(r.stderr).toMatch(/processed \d+ insns/);
    expect(r.stderr).toContain("second_rejected");
  });

  test("--prog loads only the named program; --log-level prints its log", () => {
    const r = tsbpf("load", join(ROOT, "fixtures/obj/mixed_verdicts.o"), "--prog", "first_ok", "--log-level", "1");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^first_ok: socket_filter {2}id \d+ {2}insns \d+ {2}verified \d+ {2}accepted$/m);
    expect(r.stdout).toMatch(/processed \d+ insns/);
    expect(r.stdout).not.toContain("second_rejected");
  });

  test("bad input: exit 2 with a message", () => {
    const r = tsbpf("load", "/nonexistent.o");
    expect(r.status).toBe(2);
    const u = tsbpf("load", join(ROOT, "fixtures/obj/mixed_verdicts.o"), "--prog", "no_such_prog");
    expect(u.status).toBe(2);
    expect(u.stderr).toContain("no_such_prog");
  });
});
