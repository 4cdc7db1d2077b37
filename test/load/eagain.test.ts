// The verifier abandons a load with EAGAIN when a signal arrives during verification; libbpf
// retries (5 attempts in all) and so must we. Deterministically: a door that answers PROG_LOAD
// with EAGAIN k times before passing it to the kernel. For real: a profiler's timer (bun
// --cpu-prof: SIGPROF every ms) while the CLI loads a short course program.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { ROOT, haveBun, haveKernelBtf, haveRoot } from "../support/env.ts";

const live = haveBun() && haveRoot() && haveKernelBtf();
const sys = live ? await import("../../src/sys/door.ts") : ({} as typeof import("../../src/sys/door.ts"));
const pl = live ? await import("../../src/sys/progload.ts") : ({} as typeof import("../../src/sys/progload.ts"));
const bpf = live ? await import("../../src/sys/bpf.ts") : ({} as typeof import("../../src/sys/bpf.ts"));

/** `r0 = 0; exit` as a socket filter. */
const INSNS = Uint8Array.from([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);

describe.skipIf(!live)("PROG_LOAD and EAGAIN", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-eagain-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Load with a door that fails the first `k` PROG_LOADs with EAGAIN; how many PROG_LOADs were made. */
  function loadAfter(k: number): { calls: number; result: unknown } {
    const native = sys.door();
    let calls = 0;
    const flaky = { ...native, syscall: (nr: number, ...a: (number | bigint)[]) => {
      if (nr === bpf.NR_BPF && Number(a[0]) === 5 /* PROG_LOAD */ && calls++ < k) return -11;
      return native.syscall(nr, ...a);
    } } as typeof native;
    const prev = sys.setDoor(flaky);
    try {
      const r = pl.progLoad({ progType: 1, insns: INSNS, license: "GPL" });
      native.close(r.fd);
      return { calls, result: "loaded" };
    } catch (e) {
      return { calls, result: e };
    } finally {
      sys.setDoor(prev);
    }
  }

  test("each load is tried up to five times while EAGAIN comes back; then the logged reload gets five more", () => {
    expect(loadAfter(0)).toEqual({ calls: 1, result: "loaded" });
    expect(loadAfter(4)).toEqual({ calls: 5, result: "loaded" });
    // Five EAGAINs end the quiet load; the reload that asks for the log succeeds.
    expect(loadAfter(5)).toEqual({ calls: 6, result: "loaded" });
    const ten = loadAfter(10);
    expect(ten.calls).toBe(10);
    expect(String((ten.result as Error).message)).toMatch(/EAGAIN/);
  });

  test("a short course program loads while SIGPROF fires every millisecond", () => {
    for (let i = 0; i < 3; i++) {
      const r = spawnSync(join(ROOT, "node_modules/.bin/bun"), ["--cpu-prof", `--cpu-prof-dir=${dir}`, join(ROOT, "src/cli/tsbpf.ts"), "load", join(ROOT, "fixtures/obj/count_reads.o")], { encoding: "utf8" });
      expect(r.status, r.stdout + r.stderr).toBe(0);
    }
  });
});
