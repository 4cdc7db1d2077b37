// Programs against the live kernel: an XDP program built from Insn[] runs under PROG_TEST_RUN with
// the verdicts XDP defines; rejected programs give VerifierError whose log is bpftool's log for
// the same instructions (assembled by clang-19 into an ELF); truncated logs come back whole.

import { describe, expect, test, beforeAll } from "vitest";
import fc from "fast-check";
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { haveBun, haveRoot, haveTool, run } from "../support/env.ts";
import { bpftoolJson, ensureBpffs } from "./kernel.ts";
import { XDP, addImm, exit, jImm, jReg, ldx, movImm, movReg, st } from "./insns.ts";
import type { Insn } from "../../asm/index.ts";

const live = haveBun() && haveRoot() && haveTool("bpftool", "version") && haveTool("clang-19");
const { Program } = live ? await import("../../src/load/program.ts") : ({} as typeof import("../../src/load/program.ts"));
const { VerifierError } = await import("../../src/sys/progload.ts");
const { LOG } = await import("../../src/sys/constants.ts");

// XDP: drop frames whose first byte is 0xff, mark byte 1 with 0x42 on frames of 2+ bytes, pass the rest.
const xdpDropFF: Insn[] = [
  ldx(4, 2, 1, 0), // r2 = ctx->data
  ldx(4, 3, 1, 4), // r3 = ctx->data_end
  movReg(4, 2),
  addImm(4, 2),
  jReg("jgt", 4, 3, 5), // if r2 + 2 > data_end goto pass
  st(1, 2, 1, 0x42), // data[1] = 0x42
  ldx(1, 5, 2, 0), // r5 = data[0]
  jImm("jne", 5, 0xff, 2),
  movImm(0, XDP.DROP),
  exit(),
  movImm(0, XDP.PASS), // pass:
  exit(),
];

const timingLines = (log: string) => log.split("\n").filter((l) => !/^verification time/.test(l)).join("\n");

describe.skipIf(!live)("programs on the live kernel", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "tsbpf-prog-"));
    ensureBpffs();
    return () => rmSync(dir, { recursive: true, force: true });
  });

  test("an XDP program from Insn[] returns XDP_DROP / XDP_PASS and rewrites the frame", () => {
    using p = Program.load({ type: "XDP", insns: xdpDropFF, license: "GPL", name: "xdp_dropff" });
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 14, maxLength: 200 }), (frame) => {
        const r = p.run({ data: frame });
        expect(r.retval).toBe(frame[0] === 0xff ? XDP.DROP : XDP.PASS);
        const want = frame.slice();
        want[1] = 0x42;
        expect(r.data).toEqual(want);
      }),
      { numRuns: 200 },
    );
    const ff = new Uint8Array(64).fill(0xff);
    expect(p.run({ data: ff, repeat: 1000 }).retval).toBe(XDP.DROP);
  });

  test("info, xlated bytes and tag agree with bpftool", () => {
    using p = Program.load({ type: "XDP", insns: xdpDropFF, license: "GPL", name: "xdp_info" });
    const show = bpftoolJson<{ id: number; type: string; name: string; tag: string; gpl_compatible: boolean }>(["prog", "show", "id", String(p.id)]);
    expect(show).toMatchObject({ id: p.id, type: "xdp", name: "xdp_info", tag: p.tag, gpl_compatible: true });
    const file = join(dir, "xlated.bin");
    run("bpftool", ["prog", "dump", "xlated", "id", String(p.id), "file", file]);
    expect(p.xlated()).toEqual(new Uint8Array(readFileSync(file)));
  });

  // Rejected programs, each with the same instructions in assembler text for clang-19.
  const rejected: { name: string; insns: Insn[]; asm: string[] }[] = [
    { name: "no_r0", insns: [exit()], asm: ["exit"] },
    { name: "uninit_r2", insns: [movReg(0, 2), exit()], asm: ["r0 = r2", "exit"] },
    { name: "pkt_unchecked", insns: [ldx(4, 2, 1, 0), ldx(1, 0, 2, 0), exit()], asm: ["r2 = *(u32 *)(r1 + 0)", "r0 = *(u8 *)(r2 + 0)", "exit"] },
    { name: "bad_ctx_off", insns: [ldx(4, 0, 1, 64), exit()], asm: ["r0 = *(u32 *)(r1 + 64)", "exit"] },
    { name: "back_edge", insns: [movImm(0, 0), jImm("ja", 0, 0, -2), exit()], asm: ["r0 = 0", "LBB: goto LBB", "exit"] },
  ];

  test("rejections: VerifierError with the log bpftool/libbpf gets for the same instructions", () => {
    for (const r of rejected) {
      const src = join(dir, `${r.name}.s`);
      const obj = join(dir, `${r.name}.o`);
      writeFileSync(src, [`\t.section\txdp,"ax",@progbits`, `\t.globl\t${r.name}`, `\t.type\t${r.name},@function`, `${r.name}:`,
        ...r.asm.map((l) => `\t${l}`), `\t.size\t${r.name}, .-${r.name}`, `\t.section\tlicense,"aw",@progbits`, `\t.asciz\t"GPL"`, ""].join("\n"));
      run("clang-19", ["-target", "bpf", "-c", src, "-o", obj]);
      const bt = spawnSync("bpftool", ["prog", "load", obj, join("/sys/fs/bpf", `tsbpf_${r.name}_${process.pid}`), "type", "xdp"], { encoding: "utf8" });
      expect(bt.status).not.toBe(0);
      const m = /-- BEGIN PROG LOAD LOG --\n([\s\S]*?)-- END PROG LOAD LOG --/.exec(bt.stderr);
      expect(m, bt.stderr).not.toBeNull();
      const kernelLog = m![1];

      let err: unknown;
      try {
        Program.load({ type: "XDP", insns: r.insns, license: "GPL", name: r.name });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(VerifierError);
      const ve = err as InstanceType<typeof VerifierError>;
      expect(ve.code).toBe("VERIFIER");
      expect(timingLines(ve.log)).toBe(timingLines(kernelLog));
      // The reason: the lines after the last "N: (op) …" instruction line, before "processed …".
      const kernelLines = kernelLog.trim().split("\n");
      const lastInsn = kernelLines.findLastIndex((l) => /^\d+: \([0-9a-f]{2}\)/.test(l));
      const reason = kernelLines.slice(lastInsn + 1).filter((l) => !/^processed \d+ insns/.test(l));
      expect(reason.length).toBeGreaterThan(0);
      expect(ve.errorLines).toEqual(reason);
      expect(ve.summary).toBe(reason[0]);
      expect(ve.message).toContain(reason[0]);
      expect(ve.where.insn).toBe(lastInsn < 0 ? undefined : Number(/^\d+/.exec(kernelLines[lastInsn])![0]));
    }
  });

  test("a truncated log is reloaded with a bigger buffer: the log equals a one-shot big-buffer load", () => {
    // A straight-line program long enough that its level-2 log far exceeds 128 bytes.
    const body: Insn[] = [];
    for (let i = 0; i < 60; i++) body.push(movImm((i % 6) + 1, i), addImm((i % 6) + 1, 1));
    const ok = [...body, movImm(0, XDP.PASS), exit()];
    using small = Program.load({ type: "XDP", insns: ok, license: "GPL", logLevel: LOG.LEVEL2, logSize: 128 });
    using big = Program.load({ type: "XDP", insns: ok, license: "GPL", logLevel: LOG.LEVEL2, logSize: 1 << 24 });
    expect(small.log.length).toBeGreaterThan(4096);
    expect(timingLines(small.log)).toBe(timingLines(big.log));
    expect(small.log).toMatch(/processed \d+ insns/);

    const bad = [...body, exit()];
    let err: unknown;
    try {
      Program.load({ type: "XDP", insns: bad, license: "GPL", logLevel: LOG.LEVEL2, logSize: 128 });
    } catch (e) {
      err = e;
    }
    const ve = err as InstanceType<typeof VerifierError>;
    expect(ve).toBeInstanceOf(VerifierError);
    expect(ve.attempts).toBeGreaterThan(1);
    expect(ve.log.length).toBeGreaterThan(4096);
    expect(ve.summary).toBe("R0 !read_ok");
    expect(ve.log.startsWith("func#0 @0\n") || ve.log.startsWith("0: R1=ctx() R10=fp0")).toBe(true);
  });

  test("BPF_LOG_STATS alone gives the statistics lines", () => {
    using p = Program.load({ type: "XDP", insns: xdpDropFF, license: "GPL", logLevel: LOG.STATS });
    expect(p.log).toMatch(/^verification time \d+ usec\nstack depth 0\nprocessed \d+ insns/);
  });

  test("empty or ragged instruction bytes are a typed error before any syscall", () => {
    expect(() => Program.load({ type: "XDP", insns: new Uint8Array(12), license: "GPL" })).toThrow(expect.objectContaining({ code: "LOAD_BAD_INPUT" }));
    expect(() => Program.load({ type: "NOPE" as "XDP", insns: xdpDropFF, license: "GPL" })).toThrow(expect.objectContaining({ code: "LOAD_BAD_INPUT" }));
  });
});
