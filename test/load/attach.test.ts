// Attachments on the live kernel: a tracepoint program through perf_event_open + BPF link and a
// raw_tp program count our own getpid() calls into a map (the count we made is the oracle);
// pins keep objects alive across fds; a missing tracepoint or pin is a typed error.

import { describe, expect, test, beforeAll } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { haveBun, haveRoot, haveTool, haveKernelBtf, run } from "../support/env.ts";
import { bpftoolJson, ensureBpffs, openFds } from "./kernel.ts";
import { HELPER, atomicAdd64, call, exit, jImm, ldMapFd, ldx, movImm, movReg, addImm, rshImm, st } from "./insns.ts";
import type { Insn } from "../../asm/index.ts";

const live = haveBun() && haveRoot() && haveTool("bpftool", "version") && haveKernelBtf();
const load = live ? await import("../../src/load/index.ts") : ({} as typeof import("../../src/load/index.ts"));
const { BpfMap, Program, Link } = load;
const sys = live ? await import("../../src/sys/door.ts") : ({} as typeof import("../../src/sys/door.ts"));
const { allIds } = live ? await import("../../src/sys/bpf.ts") : ({} as typeof import("../../src/sys/bpf.ts"));

const NR_GETPID = 39;

/** Count into slot 0 of an array map when the caller is `pid` (and, for raw_tp sys_enter, the syscall is getpid). */
function counter(mapFd: number, pid: number, rawTpSyscall?: number): Insn[] {
  const filter: Insn[] = rawTpSyscall === undefined ? [] : [ldx(8, 6, 1, 8), jImm("jne", 6, rawTpSyscall, 12)];
  return [
    ...filter,
    call(HELPER.get_current_pid_tgid),
    rshImm(0, 32),
    jImm("jne", 0, pid, 9),
    st(4, 10, -4, 0),
    movReg(2, 10),
    addImm(2, -4),
    ldMapFd(1, mapFd),
    call(HELPER.map_lookup_elem),
    jImm("jeq", 0, 0, 2),
    movImm(1, 1),
    atomicAdd64(0, 1, 0),
    movImm(0, 0),
    exit(),
  ];
}

const getpids = (n: number) => {
  for (let i = 0; i < n; i++) sys.door().syscall(NR_GETPID);
};

describe.skipIf(!live)("attaching on the live kernel", () => {
  beforeAll(() => {
    ensureBpffs();
  });

  test("tracepoint syscalls:sys_enter_getpid via perf_event_open + BPF link counts our calls", () => {
    using counts = BpfMap.create({ mapType: "ARRAY", keySize: 4, valueSize: 8, maxEntries: 1, name: "tp_counts" });
    using prog = Program.load({ type: "TRACEPOINT", insns: counter(counts.fd, process.pid), license: "GPL", name: "tp_getpid" });
    const link = Link.tracepoint(prog, "syscalls", "sys_enter_getpid");
    expect(bpftoolJson<{ id: number; type: string; prog_id: number }>(["link", "show", "id", String(link.id)])).toMatchObject({ id: link.id, type: "perf_event", prog_id: prog.id });
    getpids(250);
    expect(counts.getNumber(0)).toBe(250n);
    link.close();
    link.close();
    getpids(50);
    expect(counts.getNumber(0)).toBe(250n);
  });

  test("raw_tp sys_enter filtered to getpid counts exactly our calls; link info names the tracepoint", () => {
    using counts = BpfMap.create({ mapType: "ARRAY", keySize: 4, valueSize: 8, maxEntries: 1 });
    using prog = Program.load({ type: "RAW_TRACEPOINT", insns: counter(counts.fd, process.pid, NR_GETPID), license: "GPL", name: "raw_getpid" });
    {
      using link = Link.rawTracepoint(prog, "sys_enter");
      expect(link.info().tpName).toBe("sys_enter");
      const show = bpftoolJson<{ type: string; tp_name: string; prog_id: number }>(["link", "show", "id", String(link.id)]);
      expect(show).toMatchObject({ type: "raw_tracepoint", tp_name: "sys_enter", prog_id: prog.id });
      getpids(123);
    }
    getpids(10);
    expect(counts.getNumber(0)).toBe(123n);
  });

  test("a pinned link keeps the program attached after its fd closes, until unpinned", () => {
    const dir = ensureBpffs();
    const path = `${dir}/tsbpf_link_${process.pid}`;
    using counts = BpfMap.create({ mapType: "ARRAY", keySize: 4, valueSize: 8, maxEntries: 1 });
    using prog = Program.load({ type: "RAW_TRACEPOINT", insns: counter(counts.fd, process.pid, NR_GETPID), license: "GPL" });
    const link = Link.rawTracepoint(prog, "sys_enter");
    link.pin(path);
    link.close();
    getpids(7);
    expect(counts.getNumber(0)).toBe(7n);
    using again = Link.fromPin(path);
    expect(again.info().progId).toBe(prog.id);
    Link.unpin(path);
    again.close();
    getpids(7);
    expect(counts.getNumber(0)).toBe(7n);
  });

  test("pins and ids: maps and programs reopen by pin path and by id", () => {
    const dir = ensureBpffs();
    const mp = `${dir}/tsbpf_map_${process.pid}`;
    const pp = `${dir}/tsbpf_prog_${process.pid}`;
    using m = BpfMap.create({ mapType: "HASH", keySize: 4, valueSize: 4, maxEntries: 2, name: "pinned" });
    m.set(1, 77);
    m.pin(mp);
    using p = Program.load({ type: "XDP", insns: [movImm(0, 2), exit()], license: "GPL", name: "pinned_prog" });
    p.pin(pp);
    try {
      using m2 = BpfMap.fromPin(mp);
      expect([m2.id, m2.getNumber(1)]).toEqual([m.id, 77n]);
      using p2 = Program.fromPin(pp);
      expect([p2.id, p2.tag, p2.name]).toEqual([p.id, p.tag, "pinned_prog"]);
      expect(bpftoolJson<{ id: number }>(["map", "show", "pinned", mp]).id).toBe(m.id);
      using m3 = BpfMap.fromId(m.id);
      using p3 = Program.fromId(p.id);
      expect([m3.name, p3.run({ data: new Uint8Array(14) }).retval]).toEqual(["pinned", 2]);
      expect(allIds("prog")).toContain(p.id);
      expect(allIds("map")).toContain(m.id);
    } finally {
      for (const f of [mp, pp]) if (existsSync(f)) Link.unpin(f);
    }
  });

  test("missing pin path, missing tracepoint, missing id: typed errors, no fd left behind", () => {
    const before = openFds();
    const dir = ensureBpffs();
    expect(() => BpfMap.fromPin(`${dir}/tsbpf_no_such_pin`)).toThrow(expect.objectContaining({ code: "SYS", command: "OBJ_GET", errnoName: "ENOENT" }));
    using counts = BpfMap.create({ mapType: "ARRAY", keySize: 4, valueSize: 8, maxEntries: 1 });
    using prog = Program.load({ type: "TRACEPOINT", insns: counter(counts.fd, process.pid), license: "GPL" });
    const err = (() => {
      try {
        Link.tracepoint(prog, "syscalls", "sys_enter_no_such_call");
      } catch (e) {
        return e as { code: string; hint: string };
      }
    })();
    expect(err?.code).toBe("LOAD_BAD_INPUT");
    expect(err?.hint).toMatch(/events\/syscalls/);
    expect(() => Program.fromId(0x7ffffff0)).toThrow(expect.objectContaining({ command: "PROG_GET_FD_BY_ID", errnoName: "ENOENT" }));
    counts.close();
    prog.close();
    expect(openFds()).toEqual(before);
  });

  test("tracepoint ids: the id file's number is the ID: line of the tracepoint's format file", async () => {
    const { tracepointId, tracefsRoot } = await import("../../src/sys/perf.ts");
    const root = tracefsRoot();
    for (const name of ["sys_enter_getpid", "sys_exit_read", "sys_enter_openat"]) {
      const format = readFileSync(`${root}/events/syscalls/${name}/format`, "utf8");
      expect(tracepointId("syscalls", name)).toBe(Number(/^ID: (\d+)$/m.exec(format)![1]));
    }
  });

  test("tp_btf: a TRACING program with attach_btf_id of btf_trace_sys_enter (id found by bpftool) counts our getpid calls", () => {
    const line = run("bpftool", ["btf", "dump", "file", "/sys/kernel/btf/vmlinux"]).split("\n").find((l) => / TYPEDEF 'btf_trace_sys_enter' /.test(l));
    const btfId = Number(/^\[(\d+)\]/.exec(line ?? "")?.[1]);
    expect(btfId).toBeGreaterThan(0);
    using counts = BpfMap.create({ mapType: "ARRAY", keySize: 4, valueSize: 8, maxEntries: 1 });
    using prog = Program.load({
      type: "TRACING", expectedAttachType: "TRACE_RAW_TP", attachBtfId: btfId,
      insns: counter(counts.fd, process.pid, NR_GETPID), license: "GPL", name: "tpbtf_getpid",
    });
    expect(prog.info().attachBtfId).toBe(btfId);
    {
      using link = Link.tracing(prog);
      expect(bpftoolJson<{ type: string; prog_id: number }>(["link", "show", "id", String(link.id)])).toMatchObject({ type: "raw_tracepoint", prog_id: prog.id }); // the kernel makes tp_btf links raw_tp links
      getpids(77);
    }
    getpids(5);
    expect(counts.getNumber(0)).toBe(77n);
  });
});
