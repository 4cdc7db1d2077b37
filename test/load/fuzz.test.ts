// Bad input against the live kernel never escapes as anything but a TsbpfError and never leaks an
// fd: random map attributes, random instruction bytes and generated programs (asm/arbitrary).

import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { haveBun, haveRoot } from "../support/env.ts";
import { openFds } from "./kernel.ts";
import { arbProgram, arbSlotBytes } from "../../asm/arbitrary.ts";
import { TsbpfError } from "../../src/errors.ts";

const live = haveBun() && haveRoot();
const { BpfMap, Program } = live ? await import("../../src/load/index.ts") : ({} as typeof import("../../src/load/index.ts"));

/** Run `f`; a thrown value must be a TsbpfError; whatever it returns is closed. */
function typedOrOk(f: () => { close(): void }): void {
  try {
    f().close();
  } catch (e) {
    expect(e).toBeInstanceOf(TsbpfError);
  }
}

describe.skipIf(!live)("bad input", () => {
  test("random map attributes: a map or a typed error", () => {
    const before = openFds();
    fc.assert(
      fc.property(
        fc.record({
          mapType: fc.integer({ min: 0, max: 40 }),
          keySize: fc.integer({ min: 0, max: 600 }),
          valueSize: fc.integer({ min: 0, max: 4096 }),
          maxEntries: fc.integer({ min: 0, max: 1024 }),
          mapFlags: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0x7ffff })),
          name: fc.string({ maxLength: 20 }),
        }),
        (a) => typedOrOk(() => BpfMap.create(a)),
      ),
      { numRuns: 300 },
    );
    expect(openFds()).toEqual(before);
  });

  test("random instruction bytes and generated programs: a program, a VerifierError or a SysError", () => {
    const before = openFds();
    const types = fc.constantFrom("XDP", "SOCKET_FILTER", "SCHED_CLS", "RAW_TRACEPOINT", "TRACEPOINT", "KPROBE", "CGROUP_SKB") as fc.Arbitrary<"XDP">;
    fc.assert(
      fc.property(types, arbSlotBytes(48), (type, bytes) => typedOrOk(() => Program.load({ type, insns: bytes, license: "GPL" }))),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(types, arbProgram(), (type, insns) => typedOrOk(() => Program.load({ type, insns, license: "GPL" }))),
      { numRuns: 200 },
    );
    expect(openFds()).toEqual(before);
  });
});
