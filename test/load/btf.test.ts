// BTF loading on the live kernel: .BTF bytes from a clang-19 object load, and bpftool's dump of the
// loaded id equals its dump of the object file; the kernel hands the same bytes back; corrupt BTF
// is a SysError carrying the kernel's BTF log.

import { afterAll, describe, expect, test } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { haveBun, haveRoot, haveTool, run } from "../support/env.ts";
import { bpftoolJson } from "./kernel.ts";

const live = haveBun() && haveRoot() && haveTool("bpftool", "version") && haveTool("clang-19") && haveTool("llvm-objcopy-19");
const { BtfHandle, Program, SysError } = live ? await import("../../src/load/index.ts") : ({} as typeof import("../../src/load/index.ts"));

const SRC = `
struct event { int pid; char comm[16]; unsigned long long ts; };
enum state { IDLE, RUNNING = 5 };
typedef unsigned int u32;
struct node { struct node *next; u32 flags : 3; enum state st; union { int a; long b; } u; };
int handle(struct event *e, struct node *n) { return e->pid + e->comm[1] + n->st; }
`;

describe.skipIf(!live)("BTF on the live kernel", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-btf-"));
  const obj = join(dir, "b.o");
  const raw = join(dir, "b.btf");
  writeFileSync(join(dir, "b.c"), SRC);
  run("clang-19", ["-g", "-O2", "-target", "bpf", "-c", join(dir, "b.c"), "-o", obj]);
  run("llvm-objcopy-19", [`--dump-section=.BTF=${raw}`, obj, join(dir, "stripped.o")]);
  const bytes = new Uint8Array(readFileSync(raw));

  test("load: bpftool dumps the loaded id exactly as it dumps the object's .BTF", () => {
    using btf = BtfHandle.load(bytes);
    expect(btf.id).toBeGreaterThan(0);
    expect(run("bpftool", ["btf", "dump", "id", String(btf.id)])).toBe(run("bpftool", ["btf", "dump", "file", obj]));
    expect(btf.data()).toEqual(bytes);
    const info = btf.info();
    expect([info.id, info.btfSize, info.kernelBtf]).toEqual([btf.id, bytes.byteLength, false]);
    expect(bpftoolJson<{ id: number; size: number }>(["btf", "show", "id", String(btf.id)])).toMatchObject({ id: btf.id, size: bytes.byteLength });
  });

  test("kernel BTF opens by id and reports itself as vmlinux", () => {
    const list = bpftoolJson<{ id: number; name?: string }[]>(["btf", "list"]);
    const vmlinux = list.find((b) => b.name === "vmlinux");
    expect(vmlinux).toBeDefined();
    using k = BtfHandle.fromId(vmlinux!.id);
    expect(k.info()).toMatchObject({ name: "vmlinux", kernelBtf: true });
  });

  test("corrupt BTF: SysError EINVAL with the kernel's log; log level 1 on success returns the log", () => {
    const bad = bytes.slice();
    bad[0] ^= 0xff; // magic
    let err: unknown;
    try {
      BtfHandle.load(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SysError);
    const se = err as InstanceType<typeof SysError>;
    expect([se.command, se.errnoName]).toEqual(["BTF_LOAD", "EINVAL"]);
    expect(se.log).toMatch(/magic/i);
    using ok = BtfHandle.load(bytes, { logLevel: 1 });
    expect(ok.log).toMatch(/\[7\] INT unsigned long long/);
  });

  test("a program with func_info names loaded BTF: bpftool shows the BTF id and the function", () => {
    using btf = BtfHandle.load(bytes);
    const types = bpftoolJson<{ types: { id: number; kind: string; name: string }[] }>(["btf", "dump", "file", obj]).types;
    const fn = types.find((t) => t.kind === "FUNC" && t.name === "handle")!;
    const funcInfo = new Uint8Array(8);
    new DataView(funcInfo.buffer).setUint32(4, fn.id, true); // {insn_off 0, type_id}
    using p = Program.load({
      type: "XDP", insns: new Uint8Array([0xb7, 0, 0, 0, 2, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]), license: "GPL",
      btf, funcInfo, funcInfoRecSize: 8,
    });
    const info = p.info();
    expect([info.btfId, info.nrFuncInfo]).toEqual([btf.id, 1]);
    expect(bpftoolJson<{ btf_id: number }>(["prog", "show", "id", String(p.id)]).btf_id).toBe(btf.id);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));
});
