// Feature probes against the kernel asked another way: every program type, map type and
// (program type, helper) verdict of probeKernel() equals what the kernel answers to the same probe
// through libbpf's own bpf() wrappers (test/load/feature-oracle.c) — including types newer than
// bpftool 7.1 knows. Names are checked against `bpftool btf dump` of the kernel's enums.

import { release } from "node:os";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Btf } from "../../btf/btf.ts";
import { TsbpfError } from "../../src/errors.ts";
import { featureNames } from "../../src/load/feature-names.ts";
import { parseKernelConfig, parseSysctl, CONFIG_OPTIONS } from "../../src/load/feature-system.ts";
import { haveBun, haveKernelBtf, haveRoot, haveTool, run } from "../support/env.ts";
import { openFds } from "./kernel.ts";
import {
  EXIT, JA32, JEQ32_K, JLT32_K, JLT_K, JNE_K, MOV64_K, SUB64_K, askOracle, buildFeatureOracle, callProg, concat, insn,
  mapShape, progShape, refusesHelper, removeFeatureOracle, ret0,
} from "./feature-oracle.ts";

const live = haveBun() && haveRoot() && haveKernelBtf() && haveTool("clang-19") && haveTool("bpftool", "version");
type Lib = typeof import("../../src/load/feature.ts");
type Rep = typeof import("../../src/load/feature-report.ts");
type Maps = typeof import("../../src/load/feature-maps.ts");
type Par = typeof import("../../src/load/feature-parallel.ts");
const lib = live ? await import("../../src/load/feature.ts") : ({} as Lib);
const rep = live ? await import("../../src/load/feature-report.ts") : ({} as Rep);
const maps = live ? await import("../../src/load/feature-maps.ts") : ({} as Maps);
const par = live ? await import("../../src/load/feature-parallel.ts") : ({} as Par);

/** The kernel's enum values as bpftool prints them from its BTF: NAME → value. */
function btfEnum(dump: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  const at = dump.indexOf(`ENUM '${name}'`);
  if (at < 0) return out;
  for (const line of dump.slice(dump.indexOf("\n", at) + 1).split("\n")) {
    const m = /^\t'(\w+)' val=(-?\d+)$/.exec(line);
    if (!m) break;
    out.set(m[1], Number(m[2]));
  }
  return out;
}

/** The helpers probed only with --full (loading them writes to the kernel log). */
const NOISY = ["BPF_FUNC_trace_printk", "BPF_FUNC_trace_vprintk", "BPF_FUNC_probe_write_user"];

const kver = (() => {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(release());
  return m ? (Number(m[1]) << 16) + (Number(m[2]) << 8) + Math.min(255, Number(m[3])) : 0;
})();

describe("feature names (pure)", () => {
  test("types and helpers newer than our tables come from the kernel's BTF enums; the _DEPRECATED alias loses", () => {
    const btf = Btf.fromTypes([
      { kind: "enum", id: 1, name: "bpf_prog_type", nameOff: 0, size: 4, signed: false, values: [
        { name: "BPF_PROG_TYPE_XDP", nameOff: 0, value: 6 },
        { name: "BPF_PROG_TYPE_FUTURE_THING", nameOff: 0, value: 77 },
        { name: "__MAX_BPF_PROG_TYPE", nameOff: 0, value: 78 },
      ] },
      { kind: "enum", id: 2, name: "bpf_map_type", nameOff: 0, size: 4, signed: false, values: [
        { name: "BPF_MAP_TYPE_CGROUP_STORAGE_DEPRECATED", nameOff: 0, value: 19 },
        { name: "BPF_MAP_TYPE_CGROUP_STORAGE", nameOff: 0, value: 19 },
        { name: "BPF_MAP_TYPE_NEW_MAP", nameOff: 0, value: 90 },
      ] },
      { kind: "enum", id: 3, name: "bpf_func_id", nameOff: 0, size: 4, signed: false, values: [
        { name: "BPF_FUNC_unspec", nameOff: 0, value: 0 },
        { name: "BPF_FUNC_map_lookup_elem", nameOff: 0, value: 1 },
        { name: "BPF_FUNC_brand_new", nameOff: 0, value: 2 },
        { name: "__BPF_FUNC_MAX_ID", nameOff: 0, value: 3 },
      ] },
    ]);
    const n = featureNames({ btf, source: "test" });
    expect(n.progTypes.find((t) => t.id === 77)?.name).toBe("future_thing");
    expect(n.progTypes.some((t) => t.name.startsWith("__") || t.id === 78)).toBe(false);
    expect(n.mapTypes.find((t) => t.id === 19)?.name).toBe("cgroup_storage");
    expect(n.mapTypes.find((t) => t.id === 90)?.name).toBe("new_map");
    // The kernel's own helper set: its id 2 name wins over our table, nothing at or past its max.
    expect(n.helpers).toEqual([{ id: 1, name: "bpf_map_lookup_elem" }, { id: 2, name: "bpf_brand_new" }]);
    expect(n.source).toBe("test");
    // Without BTF: our tables alone.
    const ours = featureNames();
    expect(ours.source).toBeUndefined();
    expect(ours.progTypes.find((t) => t.id === 6)?.name).toBe("xdp");
    expect(ours.mapTypes.find((t) => t.id === 21)?.name).toBe("percpu_cgroup_storage");
  });

  test("sysctl and kernel config parsing follow bpftool's rules", () => {
    expect(parseSysctl("2\n")).toBe(2);
    expect(parseSysctl("528482304\n")).toBe(528482304);
    expect(parseSysctl("2")).toBe(-1); // bpftool wants the newline after the number
    expect(parseSysctl("1 2\n")).toBe(-1);
    expect(parseSysctl("\n")).toBe(-1);
    const cfg = ["#", "# Automatically generated file; DO NOT EDIT.", "CONFIG_BPF=y", "# CONFIG_TEST_BPF is not set", "CONFIG_HZ=250", "CONFIG_HZ=100", "CONFIG_NET="].join("\n");
    const v = parseKernelConfig(cfg, CONFIG_OPTIONS)!;
    expect(v.get("CONFIG_BPF")).toBe("y");
    expect(v.get("CONFIG_TEST_BPF")).toBeNull();
    expect(v.get("CONFIG_HZ")).toBe("250");
    expect(v.get("CONFIG_NET")).toBeNull();
    expect([...v.keys()]).toEqual(CONFIG_OPTIONS);
    expect(parseKernelConfig("CONFIG_BPF=y\n", CONFIG_OPTIONS)).toBeUndefined();
  });
});

describe.skipIf(!live)("feature probes vs the kernel through libbpf", () => {
  let oracle = "";
  let report: import("../../src/load/feature-report.ts").FeatureReport;
  let fdsBefore: string[] = [];
  let fdsAfter: string[] = [];
  let dump = "";

  beforeAll(async () => {
    oracle = buildFeatureOracle();
    dump = run("bpftool", ["btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "raw"]);
    lib.probeProgramType("SOCKET_FILTER"); // warm up the door before counting fds
    fdsBefore = openFds();
    // Not --full: bpf_trace_printk and bpf_probe_write_user would write warnings to the kernel log.
    report = await rep.probeKernel({ threads: 1 });
    fdsAfter = openFds();
  });

  afterAll(() => removeFeatureOracle(oracle));

  test("a whole probe leaves /proc/self/fd as it was", () => {
    expect(fdsAfter).toEqual(fdsBefore);
  });

  test("names: every value of the kernel's enums (bpftool btf dump) is probed under its lower-case name", () => {
    const check = (enumName: string, prefix: string, got: readonly { id: number; name: string }[], lower: boolean) => {
      const kernel = btfEnum(dump, enumName);
      expect(kernel.size).toBeGreaterThan(10);
      for (const [name, value] of kernel) {
        if (name.startsWith("__") || value === 0 || name.endsWith("_DEPRECATED") || NOISY.includes(name)) continue;
        const want = lower ? name.slice(prefix.length).toLowerCase() : `bpf_${name.slice(prefix.length)}`;
        expect(got.find((t) => t.id === value)?.name, name).toBe(want);
      }
      return kernel;
    };
    check("bpf_prog_type", "BPF_PROG_TYPE_", report.programTypes!, true);
    check("bpf_map_type", "BPF_MAP_TYPE_", report.mapTypes!, true);
    const funcs = check("bpf_func_id", "BPF_FUNC_", report.helpers![0].helpers, false);
    // Every helper id below __BPF_FUNC_MAX_ID is probed but the three that write to the kernel log.
    const noisy = NOISY.map((n) => funcs.get(n)!);
    expect(noisy.every((id) => id > 0)).toBe(true);
    const all = [...Array(funcs.get("__BPF_FUNC_MAX_ID")! - 1).keys()].map((i) => i + 1);
    expect(report.helpers![0].helpers.map((h) => h.id)).toEqual(all.filter((id) => !noisy.includes(id)));
  });

  test("program types: each verdict is the kernel's answer to libbpf's probe load", () => {
    const types = report.programTypes!;
    const shapes = types.map((t) => progShape(t.id, kver));
    const answers = askOracle(oracle, types.map((t, i) => ({ prog: { type: t.id, insns: ret0(), ...shapes[i] } })));
    types.forEach((t, i) => {
      const a = answers[i];
      const e = shapes[i].expect;
      const want = e ? !a.ok && a.errno === e.errno && (e.message === undefined || a.log.includes(e.message)) : a.ok;
      expect(t.probe.status === "available", `${t.name}: kernel says ok=${a.ok} errno=${a.errno} ${a.log}`).toBe(want);
      if (t.probe.status !== "available") expect(t.probe.errno, t.name).toBe(a.errno);
    });
    // The machine's known answers (MACHINE.md): netfilter (newer than bpftool 7.1) loads; tracing does not.
    expect(types.find((t) => t.name === "netfilter")?.probe.status).toBe("available");
    expect(types.find((t) => t.name === "tracing")?.probe).toMatchObject({ status: "unavailable", errno: 1 });
  });

  test("map types: each verdict is the kernel's answer to libbpf's probe map", () => {
    const types = report.mapTypes!;
    const answers = askOracle(oracle, types.map((t) => ({ map: { type: t.id, ...mapShape(t.id) } })));
    types.forEach((t, i) => {
      const a = answers[i];
      const exp = mapShape(t.id).expectErrno;
      const want = exp !== undefined ? !a.ok && a.errno === exp : a.ok;
      expect(t.probe.status === "available", `${t.name}: kernel says ok=${a.ok} errno=${a.errno}`).toBe(want);
    });
    // Types our table has and this kernel lacks are past the kernel's __MAX_BPF_MAP_TYPE.
    const max = btfEnum(dump, "bpf_map_type").get("__MAX_BPF_MAP_TYPE")!;
    for (const t of types.filter((x) => x.id >= max)) expect(t.probe, t.name).toMatchObject({ status: "unavailable", errno: 22 });
    expect(types.find((t) => t.name === "arena")?.probe.status).toBe("available");
  });

  test("helpers: each (program type, helper) verdict is the kernel's, and the detail is the verifier's line", () => {
    const reqs: { prog: import("./feature-oracle.ts").ProgRequest }[] = [];
    const probes: { type: string; helper: string; probe: import("../../src/load/feature.ts").Probe }[] = [];
    for (const h of report.helpers!) {
      if (!h.typeAvailable) {
        expect(h.helpers).toEqual([]);
        continue;
      }
      for (const x of h.helpers) {
        reqs.push({ prog: { type: h.progType.id, insns: callProg(x.id), ...progShape(h.progType.id, kver) } });
        probes.push({ type: h.progType.name, helper: x.name, probe: x.probe });
      }
    }
    expect(probes.length).toBeGreaterThan(4000);
    const answers = askOracle(oracle, reqs);
    let refused = 0;
    probes.forEach((p, i) => {
      const a = answers[i];
      const what = `${p.type} ${p.helper}: ok=${a.ok} errno=${a.errno} ${a.log}`;
      if (["tracing", "ext", "lsm", "struct_ops"].includes(p.type)) {
        expect(p.probe.status, what).toBe("undetermined");
        return;
      }
      const no = !a.ok && refusesHelper(a.log);
      expect(p.probe.status, what).toBe(no ? "unavailable" : "available");
      if (no) {
        refused++;
        expect(a.log.split("\n"), what).toContain(p.probe.detail);
      }
    });
    expect(refused).toBeGreaterThan(1000);
  });

  test("misc: each verdict is the kernel's answer to bpftool's misc programs (socket filters)", () => {
    const I = insn;
    const progs: Record<string, Uint8Array> = {
      have_large_insn_limit: concat([...Array.from({ length: 4096 }, () => I(MOV64_K, 0, 0, 0, 1)), I(EXIT, 0, 0, 0, 0)]),
      have_bounded_loops: concat([I(MOV64_K, 0, 0, 0, 10), I(SUB64_K, 0, 0, 0, 1), I(JNE_K, 0, 0, -2, 0), I(EXIT, 0, 0, 0, 0)]),
      have_v2_isa_extension: concat([I(MOV64_K, 0, 0, 0, 0), I(JLT_K, 0, 0, 1, 0), I(MOV64_K, 0, 0, 0, 1), I(EXIT, 0, 0, 0, 0)]),
      have_v3_isa_extension: concat([I(MOV64_K, 0, 0, 0, 0), I(JLT32_K, 0, 0, 1, 0), I(MOV64_K, 0, 0, 0, 1), I(EXIT, 0, 0, 0, 0)]),
      have_v4_isa_extension: concat([I(MOV64_K, 0, 0, 0, 0), I(JEQ32_K, 0, 0, 1, 1), I(JA32, 0, 0, 0, 1), I(MOV64_K, 0, 0, 0, 1), I(EXIT, 0, 0, 0, 0)]),
    };
    const misc = report.misc!;
    expect(misc.map((m) => m.feature.key)).toEqual(Object.keys(progs));
    const answers = askOracle(oracle, misc.map((m) => ({ prog: { type: 1, insns: progs[m.feature.key], logLevel: 0 } })));
    misc.forEach((m, i) => expect(m.probe.status === "available", m.feature.key).toBe(answers[i].ok));
    // And our instructions are bpftool's: the same bytes reach the kernel.
    for (const m of misc) expect(Buffer.from(lib.miscInsns(m.feature)).toString("hex"), m.feature.key).toBe(Buffer.from(progs[m.feature.key]).toString("hex"));
  });

  test("helpers on more threads (worker threads sharing a job counter): the same verdicts, no fd left", async () => {
    const before = openFds();
    const two = await rep.probeKernel({ sections: ["helpers"], threads: 3 });
    expect(openFds()).toEqual(before);
    expect(two.helpers).toEqual(report.helpers);
    // The workers do take jobs: many small ones give them time to start.
    const jobs = Array.from({ length: 600 }, (_, i) => ({ type: [1, 6, 8][i % 3], ids: [1 + (i % 200), 5, 44] }));
    const stats = { workerJobs: 0 };
    const threaded = await par.probeHelpersParallel(jobs, 2, { stats });
    const sequential = jobs.map((j) => lib.probeHelpers(j.type, j.ids));
    expect(threaded).toEqual(sequential);
    expect(stats.workerJobs).toBeGreaterThan(0);
    // A worker that cannot start leaves its jobs to the main thread.
    const none = { workerJobs: 0 };
    const fallback = await par.probeHelpersParallel(jobs.slice(0, 6), 2, { workerUrl: "file:///nonexistent/feature-worker.ts", stats: none });
    expect(fallback).toEqual(sequential.slice(0, 6));
    expect(none.workerJobs).toBe(0);
    expect(openFds()).toEqual(before);
  });

  test("names fall back to our tables when the BTF file is missing or not BTF", () => {
    const ours = featureNames();
    expect(lib.kernelFeatureNames("/nonexistent/vmlinux")).toEqual(ours);
    expect(lib.kernelFeatureNames("/proc/self/status")).toEqual(ours);
  });

  test("single probes: names or numbers in, typed results out; bad names are TsbpfErrors", () => {
    expect(lib.probeProgramType("XDP").status).toBe("available");
    expect(lib.probeProgramType(9999)).toMatchObject({ status: "unavailable", errno: 22 });
    expect(maps.probeMapType("HASH").status).toBe("available");
    expect(maps.probeMapType(9999)).toMatchObject({ status: "unavailable", errno: 22 });
    expect(lib.probeHelper("XDP", "bpf_xdp_adjust_head").status).toBe("available");
    expect(lib.probeHelper("XDP", 44)).toEqual(lib.probeHelper(6, "xdp_adjust_head"));
    const refused = lib.probeHelper("SOCKET_FILTER", "bpf_skb_store_bytes");
    expect(refused.status).toBe("unavailable");
    const [oracleAnswer] = askOracle(oracle, [{ prog: { type: 1, insns: callProg(9) } }]);
    expect(oracleAnswer.log.split("\n")).toContain(refused.detail);
    expect(lib.probeHelper("XDP", 100000)).toMatchObject({ status: "unavailable", detail: "invalid func unknown#100000" });
    // A type that does not load cannot answer for its helpers.
    expect(lib.probeHelper("LIRC_MODE2", "bpf_map_lookup_elem").status).toBe("undetermined");
    expect(lib.probeHelper("STRUCT_OPS", 1).status).toBe("undetermined");
    expect(() => lib.probeProgramType("NO_SUCH" as never)).toThrow(TsbpfError);
    expect(() => maps.probeMapType("NO_SUCH" as never)).toThrow(TsbpfError);
    expect(() => lib.probeHelper("XDP", "bpf_no_such_helper")).toThrow(TsbpfError);
    expect(() => lib.probeHelper("XDP", -1)).toThrow(TsbpfError);
    expect(() => lib.probeProgramType(1.5)).toThrow(TsbpfError);
  });

  test("sections: only what was asked is probed; the report without names never reads BTF", async () => {
    const r = await rep.probeKernel({ sections: ["misc"] });
    expect(r.programTypes).toBeUndefined();
    expect(r.mapTypes).toBeUndefined();
    expect(r.helpers).toBeUndefined();
    expect(r.namesSource).toBeUndefined();
    expect(r.misc!.map((m) => m.probe.status)).toEqual(report.misc!.map((m) => m.probe.status));
    const h = await rep.probeKernel({ sections: ["helpers"], threads: 1 });
    expect(h.programTypes).toBeDefined(); // helpers need the type verdicts
    expect(h.namesSource).toBe("/sys/kernel/btf/vmlinux");
    // Without --full the three helpers that write to the kernel log are left out; with it, probed.
    const names = h.helpers![0].helpers.map((x) => x.name);
    for (const n of ["bpf_trace_printk", "bpf_trace_vprintk", "bpf_probe_write_user"]) expect(names).not.toContain(n);
    const one = { progTypes: [{ id: 6, name: "xdp" }], mapTypes: [], helpers: [{ id: 6, name: "bpf_trace_printk" }], source: "test" };
    const full = await rep.probeKernel({ sections: ["helpers"], full: true, names: one });
    expect(full.helpers![0].helpers).toEqual([{ id: 6, name: "bpf_trace_printk", probe: lib.probeHelper("XDP", 6) }]);
    expect(full.helpers![0].helpers[0].probe.status).toBe("available");
  });
});
