// Ring buffer consumption on the live kernel: a raw_tp program run by PROG_TEST_RUN writes its
// first argument with bpf_ringbuf_output; we read back exactly the values we passed, in order,
// across wrap-around, and meet the kernel's capacity limit.

import { describe, expect, test } from "vitest";
import { haveBun, haveRoot } from "../support/env.ts";
import { call, exit, ldMapFd, ldx, movImm, movReg, addImm, stx } from "./insns.ts";
import type { Insn } from "../../asm/index.ts";

const live = haveBun() && haveRoot();
const { BpfMap, Program, RingBuffer } = live ? await import("../../src/load/index.ts") : ({} as typeof import("../../src/load/index.ts"));

const RINGBUF_OUTPUT = 130; // bpf_ringbuf_output, include/uapi/linux/bpf.h helper list

/** Copy ctx args[0..words) to the stack and bpf_ringbuf_output them. */
function emitter(mapFd: number, words: number): Insn[] {
  const copy: Insn[] = [];
  for (let i = 0; i < words; i++) copy.push(ldx(8, 2, 1, i * 8), stx(8, 10, 2, -8 * words + i * 8));
  return [...copy, movReg(2, 10), addImm(2, -8 * words), ldMapFd(1, mapFd), movImm(3, 8 * words), movImm(4, 0), call(RINGBUF_OUTPUT), movImm(0, 0), exit()];
}

const ctxOf = (...v: bigint[]) => new Uint8Array(new BigUint64Array(v).buffer);
const u64s = (b: Uint8Array) => Array.from(new BigUint64Array(b.slice().buffer));

describe.skipIf(!live)("ring buffer", () => {
  test("records arrive in order with their bytes, across wrap-around; epoll signals data", () => {
    using rb = BpfMap.create({ mapType: "RINGBUF", keySize: 0, valueSize: 0, maxEntries: 4096 });
    using p = Program.load({ type: "RAW_TRACEPOINT", insns: emitter(rb.fd, 1), license: "GPL" });
    using ring = new RingBuffer(rb);
    expect(ring.wait(0)).toBe(false);
    let next = 1n;
    for (let round = 0; round < 5; round++) {
      const first = next;
      for (let i = 0; i < 200; i++) p.run({ ctx: ctxOf(next++) });
      expect(ring.available()).toBe(200 * 16);
      expect(ring.wait(100)).toBe(true);
      const got = ring.drain();
      expect(got.map((b) => b.byteLength)).toEqual(new Array(200).fill(8));
      expect(got.map((b) => u64s(b)[0])).toEqual(Array.from({ length: 200 }, (_, i) => first + BigInt(i)));
    }
    expect(ring.available()).toBe(0);
  });

  // kernel/bpf/ringbuf.c refuses a reservation that would leave more than size - 1 bytes
  // unconsumed, so a 4096-byte ring holds 255 sixteen-byte records, not 256.
  test("a full 4096-byte ring holds 255 eight-byte records; the kernel drops the rest", () => {
    using rb = BpfMap.create({ mapType: "RINGBUF", keySize: 0, valueSize: 0, maxEntries: 4096 });
    using p = Program.load({ type: "RAW_TRACEPOINT", insns: emitter(rb.fd, 1), license: "GPL" });
    using ring = new RingBuffer(rb);
    for (let i = 0; i < 300; i++) p.run({ ctx: ctxOf(BigInt(i)) });
    const got = ring.drain();
    expect(got.length).toBe(255);
    expect(u64s(got[254])[0]).toBe(254n);
    p.run({ ctx: ctxOf(999n) }); // room again after the drain
    expect(ring.drain().map((b) => u64s(b)[0])).toEqual([999n]);
  });

  test("24-byte records: padding to 8 and the async iterator", async () => {
    using rb = BpfMap.create({ mapType: "RINGBUF", keySize: 0, valueSize: 0, maxEntries: 8192 });
    using p = Program.load({ type: "RAW_TRACEPOINT", insns: emitter(rb.fd, 3), license: "GPL" });
    using ring = new RingBuffer(rb);
    for (let i = 0n; i < 10n; i++) p.run({ ctx: ctxOf(i, i * 2n, i * 3n) });
    const seen: bigint[][] = [];
    const ac = new AbortController();
    for await (const e of ring.events({ signal: ac.signal })) {
      seen.push(u64s(e));
      if (seen.length === 10) ac.abort();
    }
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => [BigInt(i), BigInt(i * 2), BigInt(i * 3)]));
  });

  test("a ring buffer over a non-ringbuf map is a typed error; closing twice is safe", () => {
    using m = BpfMap.create({ mapType: "ARRAY", keySize: 4, valueSize: 4, maxEntries: 1 });
    expect(() => new RingBuffer(m)).toThrow(expect.objectContaining({ code: "LOAD_BAD_INPUT" }));
    using rb = BpfMap.create({ mapType: "RINGBUF", keySize: 0, valueSize: 0, maxEntries: 4096 });
    const ring = new RingBuffer(rb);
    ring.close();
    ring.close();
    expect(() => ring.drain()).toThrow(expect.objectContaining({ code: "LOAD_CLOSED" }));
  });
});
