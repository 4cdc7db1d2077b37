// fd hygiene: a thousand create/load/attach/close cycles (and failing loads) leave this process's
// /proc/self/fd exactly as it was; `using` closes on scope exit.

import { describe, expect, test } from "vitest";
import { haveBun, haveRoot } from "../support/env.ts";
import { openFds } from "./kernel.ts";
import { exit, movImm, movReg } from "./insns.ts";

const live = haveBun() && haveRoot();
const { BpfMap, Program, Link, BtfHandle, VerifierError } = live ? await import("../../src/load/index.ts") : ({} as typeof import("../../src/load/index.ts"));

describe.skipIf(!live)("file descriptors", () => {
  test("1000 map/program/link cycles and 1000 failed loads leave /proc/self/fd unchanged", () => {
    const ok = [movImm(0, 0), exit()];
    const bad = [movReg(0, 3), exit()];
    // Warm up: the door's first use may open libc-side resources that live for the process.
    BpfMap.create({ mapType: "ARRAY", keySize: 4, valueSize: 4, maxEntries: 1 }).close();
    const before = openFds();
    for (let i = 0; i < 1000; i++) {
      using m = BpfMap.create({ mapType: "HASH", keySize: 4, valueSize: 4, maxEntries: 4 });
      m.set(1, i);
      using p = Program.load({ type: "RAW_TRACEPOINT", insns: ok, license: "GPL" });
      const l = Link.rawTracepoint(p, "sys_enter");
      l.close();
      l.close();
      expect(() => Program.load({ type: "RAW_TRACEPOINT", insns: bad, license: "GPL" })).toThrow(VerifierError);
      expect(() => BpfMap.create({ mapType: "HASH", keySize: 0, valueSize: 4, maxEntries: 4 })).toThrow();
    }
    expect(openFds()).toEqual(before);
  });

  test("using closes at scope exit", () => {
    const before = openFds();
    let fd = -1;
    {
      using m = BpfMap.create({ mapType: "ARRAY", keySize: 4, valueSize: 4, maxEntries: 1 });
      fd = m.fd;
      expect(openFds()).toContain(`${fd} anon_inode:bpf-map`);
    }
    expect(openFds()).toEqual(before);
    expect(openFds().some((f) => f.startsWith(`${fd} `))).toBe(false);
    using b = BtfHandle.fromId(1);
    expect(openFds()).toContain(`${b.fd} anon_inode:btf`);
  });
});
