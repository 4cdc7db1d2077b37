// The verifier abandons a load with EAGAIN when a signal arrives during verification; libbpf
// retries (5 attempts), and so must we. A profiler's timer (bun --cpu-prof: SIGPROF every ms)
// interrupts verifications that take a millisecond or so; one much longer (big_block's ~37k
// instructions) is interrupted on every attempt and fails with EAGAIN for libbpf as for us.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { ROOT, haveBun, haveKernelBtf, haveRoot } from "../support/env.ts";

describe.skipIf(!haveBun() || !haveRoot() || !haveKernelBtf())("PROG_LOAD under signals", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-eagain-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test.each([["count_reads.o"], ["biolatency_cgroup.o"], ["opensnoop.o"], ["maps_basic.o"]])("%s loads while SIGPROF fires", (obj) => {
    for (let i = 0; i < 4; i++) {
      const r = spawnSync(join(ROOT, "node_modules/.bin/bun"), ["--cpu-prof", `--cpu-prof-dir=${dir}`, join(ROOT, "src/cli/tsbpf.ts"), "load", join(ROOT, "fixtures/obj", obj)], { encoding: "utf8" });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).not.toMatch(/EAGAIN/);
    }
  });
});
