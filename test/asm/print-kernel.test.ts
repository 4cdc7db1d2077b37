// The kernel-syntax printer against the kernel itself: (1) programs each holding one generated
// instruction are loaded with a level-2 log, and every "N: (xx) …" line the verifier prints must equal
// printKernel of instruction N; (2) accepted programs' `bpftool prog dump xlated` equals our printing
// of the xlated bytes with bpftool's callbacks.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { arbInsn, arbRealisticProgram } from "../../asm/arbitrary.ts";
import { decodeAt } from "../../asm/decode.ts";
import { slotOffsets, type Insn } from "../../asm/insn.ts";
import { bpftoolImm, printKernel } from "../../asm/print-kernel.ts";
import { parseBtf, type Btf } from "../../btf/index.ts";
import { BpfMap, LOG, Program, VerifierError } from "../../src/load/index.ts";
import { haveKernelBtf, haveRoot, haveTool, run } from "../support/env.ts";

const seed = Number(process.env.TSBPF_SEED ?? Date.now() % 1_000_000);
const N_PROGRAMS = 1500;

/**
 * "N: (xx) text" lines of a verifier log (the walk, and the "Live regs before insn" table that
 * lists every instruction with a liveness column): instruction index → every text printed for it.
 */
function logInsns(log: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const line of log.split("\n")) {
    const m = /^ *(\d+): (?:[0-9.]{10} )?(\([0-9a-f]{2}\) .*?)(?: +; .*)?$/.exec(line);
    if (!m) continue;
    const i = Number(m[1]);
    out.set(i, [...(out.get(i) ?? []), m[2]]);
  }
  return out;
}

/** ld_imm64 whose value the kernel replaces by a kernel address before printing. */
const show = (i: Insn) => JSON.stringify(i, (_, v) => (typeof v === "bigint" ? String(v) : v));

const pointerLoad = (i: Insn) => i.op === 0x18 && [1, 2, 3, 5, 6].includes(i.src);
const maskPointer = (t: string) => t.replace(/ = 0x[0-9a-f]+$/, " = <ptr>");

/** One generated instruction, set up so the verifier reaches it: scalars in r0..r9, targets in range. */
function harness(x: Insn, mapFd: number): Insn[] {
  const prefix: Insn[] = Array.from({ length: 10 }, (_, r) => ({ op: 0xb7, dst: r, src: 0, off: 0, imm: r + 1 }));
  const at = prefix.length;
  const width = x.op === 0x18 ? 2 : 1;
  const sub = at + width + 2; // slot of the subprogram after "r0 = 0; exit"
  const y: Insn = { ...x };
  const kind = y.op & 7;
  if ((kind === 5 || kind === 6) && y.op !== 0x85 && y.op !== 0x95) {
    if (y.op === 0x06) y.imm = Math.abs(y.imm) % 2;
    else y.off = Math.abs(y.off) % 2;
  }
  if (y.op === 0x85 && y.src === 1) y.imm = sub - at - 1;
  if (y.op === 0x18) {
    if (y.src === 1 || y.src === 2) y.imm = mapFd;
    if (y.src === 2) y.imm64 = BigInt(mapFd) | (BigInt(Number(y.imm64 ?? 0n) & 0x38) << 32n);
    if (y.src === 1) y.imm64 = BigInt(mapFd);
    if (y.src === 4) (y.imm = sub - at - 1), (y.imm64 = BigInt(y.imm));
    if (y.src === 5 || y.src === 6) (y.imm = 0), (y.imm64 = 0n);
  }
  const end: Insn[] = [{ op: 0xb7, dst: 0, src: 0, off: 0, imm: 0 }, { op: 0x95, dst: 0, src: 0, off: 0, imm: 0 }];
  // The subprogram exists only when something refers to it: unreachable code is refused up front.
  const needsSub = (y.op === 0x85 && y.src === 1) || (y.op === 0x18 && y.src === 4);
  return needsSub ? [...prefix, y, ...end, ...end] : [...prefix, y, ...end];
}

describe.skipIf(!haveRoot() || !haveKernelBtf())(`printKernel = the verifier log (seed ${seed})`, () => {
  let map: BpfMap;
  let vmlinux: Btf;
  beforeAll(() => {
    map = BpfMap.create({ mapType: "ARRAY", keySize: 4, valueSize: 64, maxEntries: 1 });
    vmlinux = parseBtf(new Uint8Array(readFileSync("/sys/kernel/btf/vmlinux")));
  });
  afterAll(() => map?.close());

  it(`every instruction the verifier prints, over ${N_PROGRAMS} one-instruction programs`, () => {
    const xs = fc.sample(arbInsn(), { numRuns: N_PROGRAMS, seed });
    let compared = 0;
    for (const x of xs) {
      const prog = harness(x, map.fd);
      let log: string;
      try {
        using p = Program.load({ type: "SOCKET_FILTER", insns: prog, license: "GPL", logLevel: LOG.LEVEL2, fdArray: new Int32Array([map.fd]) });
        log = p.log;
      } catch (e) {
        if (!(e instanceof VerifierError)) throw e;
        log = e.log;
      }
      const slot = slotOffsets(prog);
      const bySlot = new Map(prog.map((insn, i) => [slot[i], insn]));
      for (const [i, texts] of logInsns(log)) {
        const insn = bySlot.get(i);
        expect(insn, `log line for slot ${i} which starts no instruction`).toBeDefined();
        if (!insn) continue;
        // The verifier names a kfunc call after its BTF func (disasm_kfunc_name), as the kernel's cb_call.
        const callName = (i: Insn) => (i.src === 2 && vmlinux.has(i.imm) && vmlinux.type(i.imm).kind === "func" ? vmlinux.nameOf(i.imm) : undefined);
        const ours = printKernel(insn, { callName });
        for (const t of texts) {
          if (pointerLoad(insn)) expect(maskPointer(ours), show(insn)).toBe(maskPointer(t));
          else expect(ours, show(insn)).toBe(t);
          compared++;
        }
      }
    }
    // Most generated instructions are visited before any rejection; far fewer would mean a harness bug.
    expect(compared).toBeGreaterThan(N_PROGRAMS * 10);
  });
});

/** Kernel symbol at an address, as bpftool finds helper names for xlated calls. */
function kallsyms(): { base: bigint; names: Map<bigint, string> } {
  const names = new Map<bigint, string>();
  let base = 0n;
  for (const line of readFileSync("/proc/kallsyms", "utf8").split("\n")) {
    const [addr, , name] = line.split(/\s+/);
    if (!name) continue;
    const a = BigInt("0x" + addr);
    if (!names.has(a)) names.set(a, name);
    if (name === "__bpf_call_base") base = a;
  }
  return { base, names };
}

describe.skipIf(!haveRoot() || !haveTool("bpftool", "version"))(`printKernel with bpftool's callbacks = bpftool prog dump xlated (seed ${seed})`, () => {
  it("accepted realistic programs, line for line", () => {
    using map = BpfMap.create({ mapType: "HASH", keySize: 4, valueSize: 64, maxEntries: 16 });
    const { base, names } = kallsyms();
    const progs = fc.sample(arbRealisticProgram(), { numRuns: 10, seed });
    let compared = 0;
    for (const prog of progs) {
      for (const i of prog) if (i.op === 0x18 && i.src === 1) (i.imm = map.fd), (i.imm64 = BigInt(map.fd));
      let p: Program;
      try {
        p = Program.load({ type: "SOCKET_FILTER", insns: prog, license: "GPL" });
      } catch (e) {
        if (e instanceof VerifierError) continue;
        throw e;
      }
      using _p = p;
      const xl = p.xlated();
      const theirs = run("bpftool", ["prog", "dump", "xlated", "id", String(p.id)]).split("\n").filter((l) => /^ *\d+: /.test(l));
      for (const line of theirs) {
        const m = /^ *(\d+): (.*)$/.exec(line)!;
        const r = decodeAt(xl, Number(m[1]));
        if (!r.ok) continue; // kernel-internal encodings (r11 = BPF_REG_AX) that tsbpf does not decode
        const callName = (insn: Insn) => names.get(base + BigInt(insn.imm));
        const ours = printKernel(r.insn, { imm: bpftoolImm, callName });
        // bpf-to-bpf calls are named after the JITed image ("pc+2#bpf_prog_<tag>_F"): compare the offset.
        if (r.insn.op === 0x85 && r.insn.src === 1) expect(m[2].startsWith(ours)).toBe(true);
        else expect(ours, line).toBe(m[2]);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(20);
  });
});
