// perf-event attachments on the live kernel: a uprobe on libc's syscall() counting our calls
// whose first argument is getpid's number (offset computed from llvm-nm/llvm-readelf output), and
// a perf_event program sampling cpu-clock while we spin.

import { describe, expect, test } from "vitest";
import { existsSync, realpathSync } from "node:fs";
import { haveBun, haveRoot, haveTool, run } from "../support/env.ts";
import { HELPER, atomicAdd64, call, exit, jImm, ldMapFd, ldx, movImm, movReg, addImm, rshImm, st } from "./insns.ts";
import type { Insn } from "../../asm/index.ts";

const live = haveBun() && haveRoot() && haveTool("llvm-nm-19") && haveTool("llvm-readelf-19");
const { BpfMap, Program, Link } = live ? await import("../../src/load/index.ts") : ({} as typeof import("../../src/load/index.ts"));
const { door } = live ? await import("../../src/sys/door.ts") : ({} as typeof import("../../src/sys/door.ts"));

/** File offset of a dynamic symbol: its address mapped through the PT_LOAD segment holding it. */
function symbolFileOffset(binary: string, symbol: string): bigint {
  const sym = run("llvm-nm-19", ["-D", "--defined-only", binary]).split("\n").map((l) => l.trim().split(/\s+/)).find((f) => f[2]?.split("@")[0] === symbol && /[Tt]/.test(f[1]));
  if (!sym) throw new Error(`${symbol} not in ${binary}`);
  const addr = BigInt(`0x${sym[0]}`);
  for (const line of run("llvm-readelf-19", ["-lW", binary]).split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f[0] !== "LOAD") continue;
    const [off, vaddr, , , memsz] = f.slice(1, 6).map((x) => BigInt(x));
    if (addr >= vaddr && addr < vaddr + memsz) return addr - vaddr + off;
  }
  throw new Error(`no segment holds ${symbol}`);
}

/** Count into slot 0 when the caller is `pid` and (if given) the pt_regs word at `regOff` equals `value`. */
function counter(mapFd: number, pid: number, regOff?: number, value?: number): Insn[] {
  const filter: Insn[] = regOff === undefined ? [] : [ldx(8, 6, 1, regOff), jImm("jne", 6, value!, 12)];
  return [
    ...filter,
    call(HELPER.get_current_pid_tgid), rshImm(0, 32), jImm("jne", 0, pid, 9),
    st(4, 10, -4, 0), movReg(2, 10), addImm(2, -4), ldMapFd(1, mapFd), call(HELPER.map_lookup_elem),
    jImm("jeq", 0, 0, 2), movImm(1, 1), atomicAdd64(0, 1, 0),
    movImm(0, 0), exit(),
  ];
}

const PT_REGS_DI = 112; // struct pt_regs (x86_64): r15 r14 r13 r12 bp bx r11 r10 r9 r8 ax cx dx si di …

describe.skipIf(!live)("perf event attachments", () => {
  test("uprobe on libc syscall(): counts exactly our syscall(39, …) calls", () => {
    const libc = realpathSync("/lib/x86_64-linux-gnu/libc.so.6");
    const offset = symbolFileOffset(libc, "syscall");
    using counts = BpfMap.create({ mapType: "ARRAY", keySize: 4, valueSize: 8, maxEntries: 1 });
    using prog = Program.load({ type: "KPROBE", insns: counter(counts.fd, process.pid, PT_REGS_DI, 39), license: "GPL", name: "up_syscall" });
    {
      using link = Link.uprobe(prog, libc, offset);
      expect(link.what).toContain("uprobe");
      for (let i = 0; i < 64; i++) door().syscall(39);
    }
    for (let i = 0; i < 10; i++) door().syscall(39);
    expect(counts.getNumber(0)).toBe(64n);
  });

  test("cpu-clock sampling: a perf_event program fires while we spin on a CPU", () => {
    using counts = BpfMap.create({ mapType: "ARRAY", keySize: 4, valueSize: 8, maxEntries: 1 });
    using prog = Program.load({ type: "PERF_EVENT", insns: counter(counts.fd, process.pid), license: "GPL" });
    const links = [0, 1].map((cpu) => Link.cpuClock(prog, cpu, 1000));
    const end = Date.now() + 300;
    while (Date.now() < end);
    for (const l of links) l.close();
    const n = counts.getNumber(0)!;
    expect(n).toBeGreaterThan(20n);
    expect(n).toBeLessThan(700n); // 300 ms at 1 kHz on the one CPU we run on at a time
  });

  test("kprobe: the program loads; attaching works where the kernel has kprobe events, else a typed error says why", () => {
    using prog = Program.load({ type: "KPROBE", insns: [movImm(0, 0), exit()], license: "GPL", name: "kp" });
    const kprobes = existsSync("/sys/bus/event_source/devices/kprobe/type");
    if (kprobes) {
      using l = Link.kprobe(prog, "do_sys_openat2");
      expect(l.info().progId).toBe(prog.id);
    } else {
      expect(() => Link.kprobe(prog, "do_sys_openat2")).toThrow(expect.objectContaining({
        code: "LOAD_BAD_INPUT",
        message: expect.stringMatching(/no kprobe PMU/),
        hint: expect.stringMatching(/CONFIG_KPROBE_EVENTS/),
      }));
    }
  });
});
