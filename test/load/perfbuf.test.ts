// Perf buffer reading on the live kernel: a raw_tp program run by PROG_TEST_RUN on a chosen CPU
// sends its argument with bpf_perf_event_output(BPF_F_CURRENT_CPU); samples come back from that
// CPU's ring in order; overflowing a one-page ring makes the kernel report lost samples, and
// delivered + lost equals what was sent.

import { describe, expect, test } from "vitest";
import { haveBun, haveRoot } from "../support/env.ts";
import { call, exit, ldMapFd, ldx, movImm, movReg, addImm, stx } from "./insns.ts";
import type { Insn } from "../../asm/index.ts";

const live = haveBun() && haveRoot();
const { BpfMap, Program, PerfBuffer, numPossibleCpus, possibleCpus } = live ? await import("../../src/load/index.ts") : ({} as typeof import("../../src/load/index.ts"));

const PERF_EVENT_OUTPUT = 25; // bpf_perf_event_output
const TEST_RUN_ON_CPU = 1; // BPF_F_TEST_RUN_ON_CPU

function emitter(mapFd: number): Insn[] {
  return [
    movReg(6, 1), ldx(8, 2, 6, 0), stx(8, 10, 2, -8),
    movReg(1, 6), ldMapFd(2, mapFd),
    { op: 0xb4, dst: 3, src: 0, off: 0, imm: -1 }, // w3 = -1: BPF_F_CURRENT_CPU, upper 32 bits clear
    movReg(4, 10), addImm(4, -8), movImm(5, 8), call(PERF_EVENT_OUTPUT),
    movImm(0, 0), exit(),
  ];
}

const ctxOf = (v: bigint) => new Uint8Array(new BigUint64Array([v]).buffer);
const u64 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(0, true);

describe.skipIf(!live)("perf buffer", () => {
  test("samples arrive on the CPU the program ran on, in order, with their bytes", () => {
    using events = BpfMap.create({ mapType: "PERF_EVENT_ARRAY", keySize: 4, valueSize: 4, maxEntries: numPossibleCpus() });
    using p = Program.load({ type: "RAW_TRACEPOINT", insns: emitter(events.fd), license: "GPL" });
    using pb = new PerfBuffer(events);
    const cpus = possibleCpus();
    let v = 0n;
    const sent: [number, bigint][] = [];
    for (let i = 0; i < 60; i++) {
      const cpu = cpus[i % cpus.length];
      p.run({ ctx: ctxOf(++v), flags: TEST_RUN_ON_CPU, cpu });
      sent.push([cpu, v]);
    }
    const got = pb.drain().map((s) => [s.cpu, u64(s.data)] as [number, bigint]);
    expect(got.every(([, x], i, a) => i === 0 || a[i - 1][0] !== got[i][0] || a[i - 1][1] < x)).toBe(true);
    expect([...got].sort((a, b) => Number(a[1] - b[1]))).toEqual(sent);
    expect(pb.totalLost()).toBe(0n);
  });

  test("overflow: the kernel reports lost samples; delivered + lost = sent", () => {
    using events = BpfMap.create({ mapType: "PERF_EVENT_ARRAY", keySize: 4, valueSize: 4, maxEntries: numPossibleCpus() });
    using p = Program.load({ type: "RAW_TRACEPOINT", insns: emitter(events.fd), license: "GPL" });
    using pb = new PerfBuffer(events, { pagesPerCpu: 1 });
    const cpu = possibleCpus()[0];
    for (let i = 0; i < 400; i++) p.run({ ctx: ctxOf(BigInt(i)), flags: TEST_RUN_ON_CPU, cpu });
    let delivered = pb.drain().length;
    p.run({ ctx: ctxOf(1000n), flags: TEST_RUN_ON_CPU, cpu }); // room again: the kernel writes its LOST record first
    const last = pb.drain();
    delivered += last.length;
    expect(u64(last.at(-1)!.data)).toBe(1000n);
    expect(pb.totalLost()).toBeGreaterThan(0n);
    expect(BigInt(delivered) + pb.totalLost()).toBe(401n);
    expect(pb.lost().get(cpu)).toBe(pb.totalLost());
  });

  test("closing removes the CPUs' events from the map; a perf buffer needs a perf event array", () => {
    using events = BpfMap.create({ mapType: "PERF_EVENT_ARRAY", keySize: 4, valueSize: 4, maxEntries: numPossibleCpus() });
    const pb = new PerfBuffer(events);
    pb.close();
    pb.close();
    // An fd array's empty slot cannot be deleted (ENOENT): the slots were cleared.
    for (const cpu of possibleCpus()) expect(events.delete(cpu)).toBe(false);
    const pb2 = new PerfBuffer(events);
    expect(events.delete(possibleCpus()[0])).toBe(true);
    pb2.close();
    using arr = BpfMap.create({ mapType: "ARRAY", keySize: 4, valueSize: 4, maxEntries: 1 });
    expect(() => new PerfBuffer(arr)).toThrow(expect.objectContaining({ code: "LOAD_BAD_INPUT" }));
  });
});
