// `tsbpf prog list|show|dump` against bpftool in the same run: programs loaded here (by us, and
// by `bpftool prog loadall`) shown with bpftool -j's fields and values and its text layout; dump
// bytes equal to the kernel's xlated/jited images as bpftool writes them with `file`.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { loadCollectionFile } from "../../src/load/index.ts";
import { ROOT, haveKernelBtf, haveRoot, haveTool, run } from "../support/env.ts";

const bun = `${ROOT}node_modules/.bin/bun`;
const tsbpf = (...args: string[]) => spawnSync(bun, [`${ROOT}src/cli/tsbpf.ts`, ...args], { encoding: "utf8", maxBuffer: 1 << 30 });

describe.skipIf(!haveRoot() || !haveTool("bpftool") || !haveKernelBtf())("tsbpf prog vs bpftool prog", () => {
  const pin = mkdtempSync("/sys/fs/bpf/tsbpf-cli-prog-");
  afterAll(() => rmSync(pin, { recursive: true, force: true }));
  // Ours, held by this process (bpftool lists its pid), and libbpf's, pinned (held by no process).
  const coll = loadCollectionFile(join(ROOT, "fixtures/obj/isa_calls.o"));
  afterAll(() => coll.close());
  run("bpftool", ["prog", "loadall", join(ROOT, "fixtures/obj/globals.o"), pin]);
  const pinnedIds = readdirSync(pin).map((n) => (JSON.parse(run("bpftool", ["-j", "prog", "show", "pinned", join(pin, n)])) as { id: number }).id);
  const ids = [...[...coll.programs.values()].map((p) => p.id), ...pinnedIds];

  /** bpftool's loaded_at is computed from the clock at its run: allow the second to tick. */
  const near = (a: Record<string, unknown>, b: Record<string, unknown>) => {
    expect(Math.abs(Number(a.loaded_at) - Number(b.loaded_at))).toBeLessThanOrEqual(1);
    expect({ ...a, loaded_at: 0 }).toEqual({ ...b, loaded_at: 0 });
  };

  test.each(ids.map((i) => [i]))("show %d --json", (id) => {
    const theirs = JSON.parse(run("bpftool", ["-j", "prog", "show", "id", String(id)])) as Record<string, unknown>;
    const r = tsbpf("prog", "show", String(id), "--json");
    expect(r.status, r.stderr).toBe(0);
    const ours = JSON.parse(r.stdout) as Record<string, unknown>;
    near(ours, theirs);
  });

  test.each(ids.map((i) => [i]))("show %d text", (id) => {
    const theirs = run("bpftool", ["prog", "show", "id", String(id)]);
    const r = tsbpf("prog", "show", String(id));
    expect(r.status, r.stderr).toBe(0);
    const strip = (s: string) => s.replace(/loaded_at \S+/, "loaded_at T");
    expect(strip(r.stdout)).toBe(strip(theirs));
  });

  test("list --json holds every program bpftool lists (same fields)", () => {
    const r = tsbpf("prog", "list", "--json");
    expect(r.status, r.stderr).toBe(0);
    const ours = new Map((JSON.parse(r.stdout) as Record<string, unknown>[]).map((p) => [p.id as number, p] as const));
    const theirs = JSON.parse(run("bpftool", ["-j", "prog", "show"])) as Record<string, unknown>[];
    let same = 0;
    for (const t of theirs) {
      const o = ours.get(t.id as number);
      if (!o || !ids.includes(t.id as number)) continue; // others come and go while we look
      near(o, t);
      same++;
    }
    expect(same).toBe(ids.length);
  });

  test.each(ids.map((i) => [i]))("dump %d --xlated/--jited --raw: the kernel's images", (id) => {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-dump-"));
    run("bpftool", ["prog", "dump", "xlated", "id", String(id), "file", join(dir, "x")]);
    const x = spawnSync(bun, [`${ROOT}src/cli/tsbpf.ts`, "prog", "dump", String(id), "--xlated", "--raw"], { maxBuffer: 1 << 30 });
    const j = spawnSync(bun, [`${ROOT}src/cli/tsbpf.ts`, "prog", "dump", String(id), "--jited", "--raw"], { maxBuffer: 1 << 30 });
    expect(Buffer.from(x.stdout).equals(readFileSync(join(dir, "x")))).toBe(true);
    // This bpftool has no libbfd to write JITed code: its size from bpftool -j prog show instead.
    expect(j.stdout.length).toBe((JSON.parse(run("bpftool", ["-j", "prog", "show", "id", String(id)])) as { bytes_jited: number }).bytes_jited);
    rmSync(dir, { recursive: true, force: true });
  });

  test("--pids names the processes holding a program (this one holds ours)", () => {
    const r = tsbpf("prog", "show", String(ids[0]), "--json", "--pids");
    const p = JSON.parse(r.stdout) as { pids?: { pid: number; comm: string }[] };
    expect(p.pids?.map((x) => x.pid)).toContain(process.pid);
  });

  test("bad id: exit status and a message", () => {
    const r = tsbpf("prog", "show", "0");
    expect(r.status).toBe(2);
    const n = tsbpf("prog", "show", "2147483000");
    expect(n.status).toBe(1);
    expect(n.stderr).toContain("ENOENT");
  });
});
