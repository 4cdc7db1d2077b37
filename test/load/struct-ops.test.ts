// struct_ops against libbpf and the kernel: `bpftool struct_ops register` (libbpf 1.1) and our load
// of the same .struct_ops object create the same map and leave the same value in the kernel
// (bpftool's map show and struct_ops dump of both); the .struct_ops.link variant, declared with a
// reordered local flavor of the struct, gives the kernel that same value through a bpf_link. The
// registered congestion control is listed by the kernel, carries real TCP traffic (its callbacks
// count calls in .bss), and is gone once closed. Types and members the kernel lacks are typed
// errors, refused by libbpf too.

import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import type { Btf } from "../../btf/index.ts";
import { compileC } from "../elf/objects.ts";
import { openFds } from "./kernel.ts";
import { structOpsLinkObject } from "../elf/struct-ops-link.ts";
import { ROOT, haveBun, haveKernelBtf, haveRoot, haveTool, run } from "../support/env.ts";
import { runDuring } from "../support/run-cli.ts";

const live = haveRoot() && haveKernelBtf() && haveTool("bpftool");
const L = live ? await import("../../src/load/index.ts") : ({} as typeof import("../../src/load/index.ts"));
const S = live ? await import("../../src/load/struct-ops.ts") : ({} as typeof import("../../src/load/struct-ops.ts"));

const CC = join(ROOT, "fixtures/obj/struct_ops_cc.o");
/** Compiled on first use (clang-19): libbpf 1.1 cannot load .struct_ops.link, so it is no committed fixture. */
const ccLink = () => structOpsLinkObject();
const AVAILABLE = "/proc/sys/net/ipv4/tcp_available_congestion_control";

const available = (): string[] => readFileSync(AVAILABLE, "utf8").trim().split(/\s+/);
// Kernel-object fds only: the runtime opens and closes its own fds (pipes, watchers) meanwhile.
const fdCount = () => openFds().length;
const bpftoolJson = <T>(...args: string[]): T => JSON.parse(run("bpftool", ["-j", ...args])) as T;

interface MapShow { id: number; name: string; btf_id?: number; [k: string]: unknown }
type OpsDump = [{ bpf_map_info: Record<string, unknown> }, Record<string, { common: { state: string }; data: Record<string, unknown> }>];

/** `bpftool -j struct_ops dump id N`: [map info, {wrapper type: value}] (7.1 prints the pair without the brackets). */
function opsDump(id: number): OpsDump {
  const text = run("bpftool", ["-j", "struct_ops", "dump", "id", String(id)]).trim();
  return JSON.parse(text.startsWith("[") ? text : `[${text}]`) as OpsDump;
}

/** bpftool's views of a struct_ops map: `map show` and `struct_ops dump` without per-load ids. */
function kernelView(id: number): { map: Record<string, unknown>; info: Record<string, unknown>; value: unknown; progIds: number[] } {
  const { id: _id, btf_id: _btf, bytes_memlock: _mem, ...map } = bpftoolJson<MapShow>("map", "show", "id", String(id));
  const [head, body] = opsDump(id);
  const { id: _i, btf_id: _b, ...info } = head.bpf_map_info;
  const wrapper = Object.keys(body)[0];
  const text = JSON.stringify(body[wrapper]);
  const progIds = [...text.matchAll(/\/prog_id:(\d+)/g)].map((m) => +m[1]);
  return { map, info: { ...info, wrapper }, value: JSON.parse(text.replace(/\/prog_id:\d+/g, "")), progIds };
}

/** Ids of registered (in-use) struct_ops maps with this name; other processes may hold unregistered ones. */
function registered(name: string): number[] {
  return bpftoolJson<{ id: number; name: string }[]>("struct_ops", "show")
    .filter((m) => m.name === name && Object.values(opsDump(m.id)[1])[0].common.state === "BPF_STRUCT_OPS_STATE_INUSE")
    .map((m) => m.id);
}

/** Unregister what bpftool registered for this file and a failed run may have left. */
function cleanup(): void {
  for (const name of ["tsbpf_cc", "tsbpf_skip", "tsbpf_bad"]) {
    if (!available().includes(name)) continue;
    for (const id of registered(name)) spawnSync("bpftool", ["struct_ops", "unregister", "id", String(id)], { stdio: "ignore" });
  }
}

/** 8 MB over a loopback TCP connection whose sender uses congestion control `cc`; returns what the socket reports. */
function transfer(cc: string): { bytes: number; used: string } {
  const py = `
import socket, sys, threading
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
cli = socket.socket()
cli.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, sys.argv[1].encode())
cli.connect(srv.getsockname())
conn, _ = srv.accept()
got = []
def drain():
    n = 0
    while True:
        b = conn.recv(1 << 16)
        if not b: break
        n += len(b)
    got.append(n)
t = threading.Thread(target=drain); t.start()
for _ in range(8): cli.sendall(b"x" * (1 << 20))
used = cli.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\\0").decode()
cli.close(); t.join(); conn.close(); srv.close()
print(got[0], used)
`;
  const [bytes, used] = run("python3", ["-c", py, cc]).trim().split(" ");
  return { bytes: +bytes, used };
}

/** The .bss counters of a loaded struct_ops_cc object, by variable name (offsets from its BTF). */
function counters(coll: import("../../src/load/index.ts").Collection): Record<string, bigint> {
  const spec = coll.object.maps.find((m) => m.kind === "bss")!;
  const btf = coll.object.btf as Btf;
  const ds = btf.find(".bss", "datasec")!;
  const value = coll.maps.get(spec.name)!.get(0)!;
  const dv = new DataView(value.buffer, value.byteOffset);
  const out: Record<string, bigint> = {};
  for (const v of ds.vars) out[btf.type(v.type).name] = dv.getBigUint64(v.offset, true);
  return out;
}

describe.skipIf(!live || !haveTool("clang-19"))("struct_ops maps against bpftool struct_ops register", () => {
  cleanup();
  afterAll(cleanup);
  let bpftoolView: ReturnType<typeof kernelView> | undefined;

  test("plain .struct_ops: the map and kernel value bpftool makes; registered until the registration closes", () => {
    // libbpf's registration, read back and undone.
    const reg = spawnSync("bpftool", ["struct_ops", "register", CC], { encoding: "utf8" });
    expect(reg.status, reg.stderr).toBe(0);
    const said = /Registered tcp_congestion_ops tsbpf_cc id (\d+)/.exec(reg.stderr);
    expect(said).not.toBeNull();
    const id = +said![1];
    let theirs: ReturnType<typeof kernelView>;
    try {
      expect(available()).toContain("tsbpf_cc");
      expect(registered("tsbpf_cc")).toEqual([id]);
      theirs = kernelView(id);
    } finally {
      run("bpftool", ["struct_ops", "unregister", "id", String(id)]);
    }
    expect(available()).not.toContain("tsbpf_cc");
    bpftoolView = theirs;

    const before = fdCount();
    const coll = L.loadCollectionFile(CC);
    const ourReg = S.attachStructOps(coll, "tsbpf_cc");
    expect(ourReg.handle).toBeInstanceOf(S.StructOpsRegistration);
    expect(available()).toContain("tsbpf_cc");
    const ours = kernelView(coll.maps.get("tsbpf_cc")!.id);
    expect(ours.map).toEqual(theirs.map);
    expect(ours.info).toEqual(theirs.info);
    expect(ours.value).toEqual(theirs.value);
    // The function slots hold our programs (bpftool's text names them; the ids are ours).
    const ourIds = new Set([...coll.programs.values()].map((p) => p.id));
    expect(ours.progIds.length).toBe(5);
    for (const id of ours.progIds) expect(ourIds.has(id)).toBe(true);

    // The map keeps itself registered: closing the collection does not unregister, the handle does.
    coll.close();
    expect(available()).toContain("tsbpf_cc");
    ourReg.handle.close();
    expect(available()).not.toContain("tsbpf_cc");
    expect(fdCount()).toBe(before);
  });

  test(".struct_ops.link: BPF_F_LINK map, the same kernel value from a reordered flavor struct, a struct_ops link", () => {
    expect(bpftoolView).toBeDefined();
    const theirs = bpftoolView!;
    const before = fdCount();
    const coll = L.loadCollectionFile(ccLink());
    const map = coll.maps.get("tsbpf_cc_link")!;
    const att = S.attachStructOps(coll, "tsbpf_cc_link");
    expect(att.handle).toBeInstanceOf(L.Link);
    try {
      expect(available()).toContain("tsbpf_cc_link");
      // bpftool 7.1 shows the link's type (not yet its map id).
      const link = bpftoolJson<{ type: string }>("link", "show", "id", String((att.handle as import("../../src/load/link.ts").Link).id));
      expect(link.type).toBe("struct_ops");
      const ours = kernelView(map.id);
      // bpftool's map of the plain object, but named after the variable and with BPF_F_LINK.
      expect(ours.map).toEqual({ ...theirs.map, name: "tsbpf_cc_link", flags: 1 << 13 });
      expect(ours.info).toEqual({ ...theirs.info, name: "tsbpf_cc_link", map_flags: 1 << 13 });
      // The value libbpf laid out from the kernel's own struct, reached here member by member by name.
      const strip = (v: unknown) => {
        const w = v as { common: unknown; data: Record<string, unknown> };
        return { ...w.data, name: undefined };
      };
      expect(strip(ours.value)).toEqual(strip(theirs.value));
      expect((ours.value as { data: { name: string } }).data.name).toBe("tsbpf_cc_link");
    } finally {
      att.handle.close();
      coll.close();
    }
    expect(available()).not.toContain("tsbpf_cc_link");
    expect(fdCount()).toBe(before);
  });

  test.skipIf(!haveTool("python3"))("TCP traffic runs through our callbacks (counters in .bss), for both variants", () => {
    for (const [path, name] of [[CC, "tsbpf_cc"], [ccLink(), "tsbpf_cc_link"]] as const) {
      using coll = L.loadCollectionFile(path);
      const zero = counters(coll);
      expect(Object.values(zero).every((v) => v === 0n)).toBe(true);
      const att = S.attachStructOps(coll, name);
      let r: { bytes: number; used: string };
      try {
        r = transfer(name);
      } finally {
        att.handle.close();
      }
      expect(r).toEqual({ bytes: 8 << 20, used: name });
      const c = counters(coll);
      expect(c.calls_init).toBeGreaterThan(0n);
      expect(c.calls_cong_avoid).toBeGreaterThan(0n);
      expect(available()).not.toContain(name);
    }
    // Once unregistered, the kernel refuses the name.
    expect(() => transfer("tsbpf_cc")).toThrow(/No such file or directory|FileNotFoundError|Errno 2/);
  });

  test("50 load/register/unregister/close cycles leave /proc/self/fd as it was", () => {
    const before = fdCount();
    for (let i = 0; i < 50; i++) {
      const path = i % 2 ? ccLink() : CC;
      using coll = L.loadCollectionFile(path);
      const [a] = S.attachAllStructOps(coll);
      a.handle.close();
    }
    expect(fdCount()).toBe(before);
    expect(available().filter((n) => n.startsWith("tsbpf_"))).toEqual([]);
  });

  test("a name already registered: EEXIST with a hint, no fd left", () => {
    using first = L.loadCollectionFile(CC);
    const reg = S.attachStructOps(first, "tsbpf_cc");
    try {
      const before = fdCount();
      {
        using second = L.loadCollectionFile(CC);
        let err: unknown;
        try {
          S.attachStructOps(second, "tsbpf_cc");
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(L.SysError);
        expect((err as InstanceType<typeof L.SysError>).errnoName).toBe("EEXIST");
        expect((err as InstanceType<typeof L.SysError>).hint).toMatch(/already registered/);
      }
      expect(fdCount()).toBe(before);
    } finally {
      reg.handle.close();
    }
  });
});

const BAD = {
  tsbpf_missing_type: `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct tsbpf_no_such_ops { int (*run)(void *ctx); char name[16]; };
SEC("struct_ops/run") int run_it(unsigned long long *ctx) { return 0; }
SEC(".struct_ops") struct tsbpf_no_such_ops tsbpf_missing = { .run = (void *)run_it, .name = "tsbpf_missing" };
char LICENSE[] SEC("license") = "GPL";
`,
  tsbpf_missing_member: `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct sock;
struct tcp_congestion_ops {
	unsigned int (*ssthresh)(struct sock *sk);
	void (*cong_avoid)(struct sock *sk, unsigned int ack, unsigned int acked);
	unsigned int (*undo_cwnd)(struct sock *sk);
	char name[16];
	unsigned int tsbpf_bogus;
};
SEC("struct_ops/a") unsigned int a_ssthresh(unsigned long long *ctx) { return 2; }
SEC("struct_ops/b") void b_cong_avoid(unsigned long long *ctx) { }
SEC("struct_ops/c") unsigned int c_undo(unsigned long long *ctx) { return 2; }
SEC(".struct_ops") struct tcp_congestion_ops BAD_NAME = {
	.ssthresh = (void *)a_ssthresh, .cong_avoid = (void *)b_cong_avoid, .undo_cwnd = (void *)c_undo,
	.name = "BAD_NAME", .tsbpf_bogus = BOGUS,
};
char LICENSE[] SEC("license") = "GPL";
`,
};

describe.skipIf(!live || !haveTool("clang-19"))("struct_ops the kernel cannot take", () => {
  const objs = compileC({
    tsbpf_missing_type: BAD.tsbpf_missing_type,
    tsbpf_missing_member: BAD.tsbpf_missing_member.replaceAll("BAD_NAME", "tsbpf_bad").replace("BOGUS", "7"),
    tsbpf_zero_member: BAD.tsbpf_missing_member.replaceAll("BAD_NAME", "tsbpf_skip").replace("BOGUS", "0"),
  });
  afterAll(cleanup);

  /** libbpf's verdict and log on the same object (bpftool -d struct_ops register). */
  function libbpf(path: string): { ok: boolean; log: string } {
    const r = spawnSync("bpftool", ["-d", "struct_ops", "register", path], { encoding: "utf8" });
    return { ok: r.status === 0, log: r.stderr };
  }

  function ourError(path: string): InstanceType<typeof S.StructOpsError> {
    const before = fdCount();
    let err: unknown;
    try {
      L.loadCollectionFile(path).close();
    } catch (e) {
      err = e;
    }
    expect(fdCount()).toBe(before);
    expect(err).toBeInstanceOf(S.StructOpsError);
    return err as InstanceType<typeof S.StructOpsError>;
  }

  test("a struct_ops type the kernel lacks: a typed error naming it, as libbpf refuses", () => {
    const theirs = libbpf(objs.tsbpf_missing_type);
    expect(theirs.ok).toBe(false);
    expect(theirs.log).toMatch(/struct_ops init_kern: struct tsbpf_no_such_ops is not found in kernel BTF/);
    const e = ourError(objs.tsbpf_missing_type);
    expect(e.typeName).toBe("tsbpf_no_such_ops");
    expect(e.map).toBe("tsbpf_missing");
    expect(e.message).toMatch(/struct bpf_struct_ops_tsbpf_no_such_ops is not found in kernel BTF/);
  });

  test("a set member the kernel struct lacks: libbpf's message, the member named", () => {
    const theirs = libbpf(objs.tsbpf_missing_member);
    expect(theirs.ok).toBe(false);
    const said = /struct_ops init_kern tsbpf_bad: (Cannot find member tsbpf_bogus in kernel BTF)/.exec(theirs.log);
    expect(said).not.toBeNull();
    const e = ourError(objs.tsbpf_missing_member);
    expect(e.message).toContain(said![1]);
    expect(e.member).toBe("tsbpf_bogus");
    expect(e.typeName).toBe("tcp_congestion_ops");
  });

  test("SEC(\"?.struct_ops\"): the map is not created and its programs not loaded; an unreferenced struct_ops program is refused", () => {
    const objs2 = compileC({
      tsbpf_optional: BAD.tsbpf_missing_member.replace("unsigned int tsbpf_bogus;", "").replace(", .tsbpf_bogus = BOGUS", "")
        .replace('SEC(".struct_ops")', 'SEC("?.struct_ops")').replaceAll("BAD_NAME", "tsbpf_opt")
        + 'SEC("raw_tp/sys_enter") int other(void *ctx) { return 0; }\n',
      tsbpf_unreferenced: `#define TSBPF_LINK_VARIANT
#include "${join(ROOT, "fixtures/src/struct_ops_cc.bpf.c")}"
SEC(".struct_ops") struct tcp_congestion_ops tsbpf_some = { .ssthresh = (void *)tsbpf_ssthresh, .cong_avoid = (void *)tsbpf_cong_avoid, .undo_cwnd = (void *)tsbpf_undo_cwnd, .name = "tsbpf_some" };
`,
    }, ["-D__TARGET_ARCH_x86"]);
    {
      using coll = L.loadCollectionFile(objs2.tsbpf_optional);
      expect(coll.structOps.size).toBe(0);
      expect([...coll.maps.values()].map((m) => m.type)).not.toContain(26);
      expect([...coll.programs.keys()]).toEqual(["other"]);
    }
    const before = fdCount();
    let err: unknown;
    try {
      L.loadCollectionFile(objs2.tsbpf_unreferenced).close();
    } catch (e) {
      err = e;
    }
    expect(fdCount()).toBe(before);
    expect((err as Error).message).toMatch(/prog 'tsbpf_init': SEC\("struct_ops"\) program isn't referenced anywhere/);
  });

  test("a zero member the kernel lacks is skipped (libbpf ≥ 1.3; 1.1 refuses), and the kernel registers the rest", () => {
    expect(libbpf(objs.tsbpf_zero_member).ok).toBe(false);
    using coll = L.loadCollectionFile(objs.tsbpf_zero_member);
    expect(coll.structOps.get("tsbpf_skip")!.skipped).toEqual(["tsbpf_bogus"]);
    const reg = S.attachStructOps(coll, "tsbpf_skip");
    try {
      expect(available()).toContain("tsbpf_skip");
    } finally {
      reg.handle.close();
    }
    expect(available()).not.toContain("tsbpf_skip");
  });
});

describe.skipIf(!live || !haveBun())("tsbpf run registers the object's struct_ops for the run", () => {
  test("struct_ops_cc: tsbpf_cc is an available congestion control only while the run lasts", async () => {
    let during = "";
    const r = await runDuring([join(ROOT, "fixtures/obj/struct_ops_cc.o"), "--duration", "2"], /registered/, () => {
      during = readFileSync(AVAILABLE, "utf8");
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/struct_ops \S+: registered/);
    expect(during.split(/\s+/)).toContain("tsbpf_cc");
    expect(readFileSync(AVAILABLE, "utf8").split(/\s+/)).not.toContain("tsbpf_cc");
  });

});
