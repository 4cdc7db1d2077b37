// `tsbpf feature` against `bpftool feature probe kernel` (text) and `bpftool -j feature probe kernel`
// in the same run: every verdict bpftool 7.1 knows agrees, except where bpftool is too old for this
// kernel — and there the kernel's own log, asked through libbpf, shows why. Types, helpers and
// features newer than bpftool 7.1 are checked against the kernel in test/load/feature.test.ts.

import { spawnSync } from "node:child_process";
import { release } from "node:os";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ROOT, haveKernelBtf, haveRoot, haveTool, run } from "../support/env.ts";
import { askOracle, buildFeatureOracle, callProg, progShape, removeFeatureOracle } from "../load/feature-oracle.ts";

const bun = `${ROOT}node_modules/.bin/bun`;
const tsbpf = (...args: string[]) => spawnSync(bun, [`${ROOT}src/cli/tsbpf.ts`, "feature", ...args], { encoding: "utf8", maxBuffer: 1 << 30 });

type FeatureJson = Record<string, Record<string, unknown>>;

const live = haveRoot() && haveKernelBtf() && haveTool("bpftool", "version") && haveTool("clang-19");

const kver = (() => {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(release());
  return m ? (Number(m[1]) << 16) + (Number(m[2]) << 8) + Math.min(255, Number(m[3])) : 0;
})();

describe.skipIf(!live)("tsbpf feature vs bpftool feature probe kernel", () => {
  let theirs: FeatureJson;
  let ours: FeatureJson;
  let theirText = "";
  let ourText = "";
  // What bpftool 7.1 (libbpf 1.1) knows at all: program types by number, map types, helpers.
  let knownProgs: string[] = [];
  let knownMaps = new Set<string>();
  let knownHelpers = new Set<string>();
  // (program type, helper) pairs bpftool lists and we do not, with the kernel's word on each.
  let bpftoolOnly: { type: string; helper: string; log: string }[] = [];
  let oracle = "";

  afterAll(() => removeFeatureOracle(oracle));

  beforeAll(() => {
    theirs = JSON.parse(run("bpftool", ["-j", "feature", "probe", "kernel"]));
    theirText = run("bpftool", ["feature", "probe", "kernel"]);
    const j = tsbpf("--json");
    expect(j.status, j.stderr).toBe(0);
    ours = JSON.parse(j.stdout);
    const t = tsbpf();
    expect(t.status, t.stderr).toBe(0);
    ourText = t.stdout;
    knownProgs = JSON.parse(run("bpftool", ["-j", "feature", "list_builtins", "prog_types"]));
    knownMaps = new Set(JSON.parse(run("bpftool", ["-j", "feature", "list_builtins", "map_types"])));
    knownHelpers = new Set(JSON.parse(run("bpftool", ["-j", "feature", "list_builtins", "helpers"])));
    const pairs: { type: string; helper: string }[] = [];
    for (const [key, list] of Object.entries(theirs.helpers)) {
      const type = key.replace(/_available_helpers$/, "");
      const mine = new Set((ours.helpers[key] as string[] | undefined) ?? []);
      for (const helper of list as string[]) if (!mine.has(helper)) pairs.push({ type, helper });
    }
    const helperIds = new Map([...knownHelpers].map((h, i) => [h, i]));
    oracle = buildFeatureOracle();
    const answers = askOracle(oracle, pairs.map((p) => {
      const id = knownProgs.indexOf(p.type);
      return { prog: { type: id, insns: callProg(helperIds.get(p.helper)!), ...progShape(id, kver) } };
    }));
    bpftoolOnly = pairs.map((p, i) => ({ ...p, log: answers[i].ok ? "(loaded)" : answers[i].log }));
  });

  test("system_config and syscall_config: the same sysctls and kernel config values", () => {
    expect(ours.system_config).toEqual(theirs.system_config);
    expect(ours.syscall_config).toEqual(theirs.syscall_config);
  });

  test("program_types, map_types, misc: every verdict bpftool has agrees; the rest are types bpftool does not know", () => {
    for (const section of ["program_types", "map_types", "misc"]) {
      for (const [k, v] of Object.entries(theirs[section])) expect(ours[section][k], `${section}.${k}`).toBe(v);
    }
    const extraProgs = Object.keys(ours.program_types).filter((k) => !(k in theirs.program_types));
    for (const k of extraProgs) expect(knownProgs, k).not.toContain(k.replace(/^have_(.*)_prog_type$/, "$1"));
    const extraMaps = Object.keys(ours.map_types).filter((k) => !(k in theirs.map_types));
    for (const k of extraMaps) expect(knownMaps.has(k.replace(/^have_(.*)_map_type$/, "$1")), k).toBe(false);
    // bpftool 7.1 predates the v4 ISA probe (sign-extending loads, gotol).
    expect(Object.keys(ours.misc).filter((k) => !(k in theirs.misc))).toEqual(["have_v4_isa_extension"]);
  });

  test("helpers: ours are bpftool's, less the ones the kernel refuses in words libbpf 1.1 does not know", () => {
    for (const key of Object.keys(theirs.helpers)) expect(Object.keys(ours.helpers), key).toContain(key);
    for (const [key, list] of Object.entries(ours.helpers)) {
      const them = new Set((theirs.helpers[key] as string[] | undefined) ?? []);
      // Helpers newer than bpftool 7.1 (e.g. bpf_cgrp_storage_get) and types it lacks (netfilter) are
      // ours alone; everything else we list, bpftool lists too.
      for (const h of list as string[]) if (!them.has(h)) expect(knownHelpers.has(h) && key in theirs.helpers, `${key} ${h}`).toBe(false);
    }
    // Why bpftool lists more: libbpf 1.1 takes a helper as refused only on "invalid func" or
    // "unknown func"; since Linux 6.x the verifier says "program of this type cannot use helper",
    // which libbpf 1.1 reads as "some other complaint, so the helper exists here". Every pair only
    // bpftool lists must be one the kernel refuses in exactly those words.
    expect(bpftoolOnly.length).toBeGreaterThan(1000);
    for (const p of bpftoolOnly) {
      expect(p.log, `${p.type} ${p.helper}`).toMatch(new RegExp(`program of this type cannot use helper ${p.helper}#\\d+`));
    }
  });

  test("text: bpftool's layout line for line, on what both know", () => {
    // bpftool's, without the helper lines explained above.
    const drop = new Set(bpftoolOnly.map((p) => `${p.type}\t${p.helper}`));
    const norm = (text: string, keep: (type: string, line: string) => boolean) => {
      let type = "";
      return text.split("\n").filter((line) => {
        const h = /^eBPF helpers supported for program type (\w+):$/.exec(line);
        if (h) type = h[1];
        else if (!line.startsWith("\t")) type = "";
        return keep(type, line);
      }).join("\n");
    };
    const theirsNorm = norm(theirText, (type, line) => !(type && drop.has(`${type}\t${line.slice(3)}`)));
    // Ours, without what bpftool 7.1 does not know.
    const oursNorm = norm(ourText, (type, line) => {
      const p = /^eBPF program_type (\w+) /.exec(line);
      if (p) return knownProgs.includes(p[1]);
      const m = /^eBPF map_type (\w+) /.exec(line);
      if (m) return knownMaps.has(m[1]);
      if (type && !knownProgs.includes(type)) return false;
      if (type && line.startsWith("\t- ")) return knownHelpers.has(line.slice(3));
      return !line.startsWith("ISA extension v4 ");
    });
    expect(oursNorm).toBe(theirsNorm);
    expect(ourText.endsWith("\n\n")).toBe(true);
  });

  test("--section: only the chosen sections, the same verdicts", () => {
    const misc = tsbpf("--section", "misc", "--json");
    expect(misc.status, misc.stderr).toBe(0);
    expect(JSON.parse(misc.stdout)).toEqual({ misc: ours.misc });
    const two = tsbpf("--section", "system", "--section", "map_types", "--json");
    expect(Object.keys(JSON.parse(two.stdout))).toEqual(["system_config", "syscall_config", "map_types"]);
    expect(JSON.parse(two.stdout).map_types).toEqual(ours.map_types);
    const text = tsbpf("--section", "program_types");
    expect(text.stdout).toBe(ourText.slice(ourText.indexOf("Scanning eBPF program types..."), ourText.indexOf("Scanning eBPF map types...")));
  });

  test.skipIf(!haveTool("setpriv", "--version"))("without capabilities: bpf() says EPERM, the run fails with that reason (bpftool refuses outright)", () => {
    const r = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--", bun, `${ROOT}src/cli/tsbpf.ts`, "feature", "--section", "misc"], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toContain("bpf() refused this process (EPERM)");
    expect(r.stdout).toContain("ISA extension v2 is NOT available");
    const theirsRefusal = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--", "bpftool", "feature", "probe", "kernel"], { encoding: "utf8" });
    expect(theirsRefusal.status).not.toBe(0);
  });

  test("bad usage exits 2 with a hint; --help exits 0", () => {
    const bad = tsbpf("--section", "kernel");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("unknown section 'kernel'");
    expect(bad.stderr).toContain("system, program_types, map_types, helpers, misc");
    expect(bad.stdout).toBe("");
    expect(tsbpf("probe").status).toBe(2);
    expect(tsbpf("--section").status).toBe(2);
    expect(tsbpf("--bogus").status).toBe(2);
    expect(tsbpf("--threads", "0").status).toBe(2);
    const help = tsbpf("--help");
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: tsbpf feature /);
  });
});
