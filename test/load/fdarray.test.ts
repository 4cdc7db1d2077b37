// Map references by index (BPF_PSEUDO_MAP_IDX through fd_array, what the linker emits) load and
// behave like references by fd: the kernel's translated instructions are identical, the program
// names the right map (bpftool prog show map_ids), and run-time statistics count real runs.

import { describe, expect, test } from "vitest";
import { haveBun, haveRoot, haveTool } from "../support/env.ts";
import { bpftoolJson } from "./kernel.ts";
import { HELPER, atomicAdd64, call, exit, jImm, movImm, movReg, addImm, st } from "./insns.ts";
import { CLASS, MODE, PSEUDO, SIZE, type Insn } from "../../asm/index.ts";

const live = haveBun() && haveRoot() && haveTool("bpftool", "version");
const { BpfMap, Program, Link, enableStats } = live ? await import("../../src/load/index.ts") : ({} as typeof import("../../src/load/index.ts"));
const { door } = live ? await import("../../src/sys/door.ts") : ({} as typeof import("../../src/sys/door.ts"));

const ldMap = (dst: number, src: number, imm: number): Insn => ({ op: CLASS.LD | MODE.IMM | SIZE.DW, dst, src, off: 0, imm, imm64: BigInt(imm) });

/** Increment slot 0 of the map the ld_imm64 names, then return XDP_PASS. */
const bump = (mapRef: Insn): Insn[] => [
  st(4, 10, -4, 0), movReg(2, 10), addImm(2, -4), mapRef, call(HELPER.map_lookup_elem),
  jImm("jeq", 0, 0, 2), movImm(1, 1), atomicAdd64(0, 1, 0), movImm(0, 2), exit(),
];

describe.skipIf(!live)("fd_array and statistics", () => {
  test("MAP_IDX via maps[] equals MAP_FD: same xlated bytes, same map, same effect", () => {
    using a = BpfMap.create({ mapType: "ARRAY", keySize: 4, valueSize: 8, maxEntries: 1, name: "idx_a" });
    using b = BpfMap.create({ mapType: "ARRAY", keySize: 4, valueSize: 8, maxEntries: 1, name: "idx_b" });
    using byIdx = Program.load({ type: "XDP", insns: bump(ldMap(1, PSEUDO.MAP_IDX, 1)), license: "GPL", maps: [a, b] });
    using byFd = Program.load({ type: "XDP", insns: bump(ldMap(1, PSEUDO.MAP_FD, b.fd)), license: "GPL" });
    expect(byIdx.xlated()).toEqual(byFd.xlated());
    expect(bpftoolJson<{ map_ids: number[] }>(["prog", "show", "id", String(byIdx.id)]).map_ids).toEqual([b.id]);
    expect(byIdx.info().mapIds).toEqual([b.id]);
    byIdx.run({ data: new Uint8Array(14), repeat: 5 });
    expect([a.getNumber(0), b.getNumber(0)]).toEqual([0n, 5n]);
  });

  test("MAP_IDX past the end of fd_array is rejected by the verifier", () => {
    using a = BpfMap.create({ mapType: "ARRAY", keySize: 4, valueSize: 8, maxEntries: 1 });
    expect(() => Program.load({ type: "XDP", insns: bump(ldMap(1, PSEUDO.MAP_IDX, 3)), license: "GPL", maps: [a] })).toThrow();
  });

  test("ENABLE_STATS: run_cnt counts tracepoint runs while the stats fd is open, as bpftool shows", () => {
    using p = Program.load({ type: "RAW_TRACEPOINT", insns: [movImm(0, 0), exit()], license: "GPL", name: "stats_rt" });
    const statsFd = enableStats(0);
    try {
      using l = Link.rawTracepoint(p, "sys_enter");
      for (let i = 0; i < 100; i++) door().syscall(39);
      void l;
    } finally {
      door().close(statsFd);
    }
    const info = p.info();
    expect(info.runCnt).toBeGreaterThanOrEqual(100n);
    expect(info.runTimeNs).toBeGreaterThan(0n);
    const show = bpftoolJson<{ run_cnt: number; run_time_ns: number }>(["prog", "show", "id", String(p.id)]);
    expect(BigInt(show.run_cnt)).toBe(info.runCnt);
    expect(BigInt(show.run_time_ns)).toBe(info.runTimeNs);
  });
});
