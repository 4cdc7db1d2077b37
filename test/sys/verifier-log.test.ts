// Reading verifier logs: the error lines and failing instruction, on log texts captured from
// this kernel's verifier (6.18) for the rejections in test/load/program.test.ts.

import { describe, expect, test } from "vitest";
import { errorLines, failingInsn, logSummary, VerifierError } from "../../src/sys/progload.ts";

const pkt = `0: R1=ctx() R10=fp0
0: (61) r2 = *(u32 *)(r1 +0)          ; R1=ctx() R2=pkt(r=0)
1: (71) r0 = *(u8 *)(r2 +0)
invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0)
R2 offset is outside of the packet
processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
`;

describe("verifier log reading", () => {
  test("error lines follow the last instruction line; statistics are dropped", () => {
    expect(errorLines(pkt)).toEqual(["invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0)", "R2 offset is outside of the packet"]);
    expect(logSummary(pkt)).toBe("invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0)");
    expect(failingInsn(pkt)).toBe(1);
  });

  test("logs without instruction lines (CFG checks) fall back to the last reason line", () => {
    // r0 = 0; goto -2; exit — loaded with LOG.LEVEL1 | LOG.STATS.
    const log = "unreachable insn 2\nverification time 128 usec\nstack depth 0\nprocessed 0 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n";
    expect(logSummary(log)).toBe("unreachable insn 2");
    expect(errorLines(log)).toEqual(["unreachable insn 2"]);
    expect(failingInsn(log)).toBeUndefined();
  });

  test("VerifierError carries errno, log, summary and where.insn", () => {
    const e = new VerifierError(13, pkt, 1, "xdp_prog");
    expect([e.code, e.errnoName, e.summary, e.where.insn]).toEqual(["VERIFIER", "EACCES", "invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0)", 1]);
    expect(e.message).toBe("program xdp_prog: the verifier rejected the program (EACCES): invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0)");
    expect(e.log).toBe(pkt);
  });
});
