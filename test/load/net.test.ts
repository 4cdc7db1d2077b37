// Network and cgroup attachments on the live kernel: XDP and tcx links on a veth pair this test
// creates (checked with `ip -j link` and PROG_QUERY), cgroup programs attached the old way and by
// link (checked with `bpftool cgroup show`), test runs with a context, and the typed errors for a
// missing interface.

import { describe, expect, test, beforeAll, afterAll } from "vitest";
import { mkdirSync, rmdirSync, existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { haveBun, haveRoot, haveTool, run } from "../support/env.ts";
import { bpftoolJson, openFds } from "./kernel.ts";
import { exit, ldx, movImm } from "./insns.ts";

const live = haveBun() && haveRoot() && haveTool("ip", "-V") && haveTool("bpftool", "version");
const load = live ? await import("../../src/load/index.ts") : ({} as typeof import("../../src/load/index.ts"));
const { Program, Link, OpenFile, attachedPrograms, ifIndex } = load;

const A = `tsb${process.pid % 100000}a`;
const B = `tsb${process.pid % 100000}b`;
const CG = `/sys/fs/cgroup/unified/tsbpf-test-${process.pid}`;

interface IpLink { ifname: string; xdp?: { prog?: { id: number } } }

describe.skipIf(!live)("network and cgroup attachments", () => {
  beforeAll(() => {
    run("ip", ["link", "add", A, "type", "veth", "peer", "name", B]);
    run("ip", ["link", "set", A, "up"]);
    run("ip", ["link", "set", B, "up"]);
  });
  afterAll(() => {
    spawnSync("ip", ["link", "del", A]);
    if (existsSync(CG)) rmdirSync(CG);
  });

  const xdpPass = () => Program.load({ type: "XDP", insns: [movImm(0, 2), exit()], license: "GPL", name: "xdp_pass" });

  test("XDP link on a veth: ip link shows our program until the link closes", () => {
    using p = xdpPass();
    const link = Link.xdp(p, A);
    const shown = JSON.parse(run("ip", ["-j", "link", "show", "dev", A])) as IpLink[];
    expect(shown[0].xdp?.prog?.id).toBe(p.id);
    expect(link.info().type).toBe(6); // BPF_LINK_TYPE_XDP
    link.close();
    const after = JSON.parse(run("ip", ["-j", "link", "show", "dev", A])) as IpLink[];
    expect(after[0].xdp).toBeUndefined();
  });

  test("tcx ingress and egress links: PROG_QUERY on the ifindex lists them in attach order", () => {
    using p1 = Program.load({ type: "SCHED_CLS", insns: [movImm(0, -1), exit()], license: "GPL", expectedAttachType: "TCX_INGRESS" });
    using p2 = Program.load({ type: "SCHED_CLS", insns: [movImm(0, -1), exit()], license: "GPL", expectedAttachType: "TCX_INGRESS" });
    using l1 = Link.tcx(p1, A, "ingress");
    using l2 = Link.tcx(p2, ifIndex(A), "ingress");
    expect(attachedPrograms(ifIndex(A), "TCX_INGRESS")).toEqual([p1.id, p2.id]);
    expect(attachedPrograms(ifIndex(A), "TCX_EGRESS")).toEqual([]);
    l1.close();
    expect(attachedPrograms(ifIndex(A), "TCX_INGRESS")).toEqual([p2.id]);
    void l2;
  });

  test("missing interface: a typed error by name, the kernel's errno by ifindex with an interface hint; no fd left behind", () => {
    const before = openFds();
    using p = xdpPass();
    expect(() => Link.xdp(p, "tsbpf-none0")).toThrow(expect.objectContaining({ code: "LOAD_BAD_INPUT" }));
    let err: unknown;
    try {
      Link.xdp(p, 0x7ffffff);
    } catch (e) {
      err = e;
    }
    // The kernel answers EINVAL for XDP (dev_get_by_index fails in bpf_xdp_link_attach), ENODEV for tcx.
    expect(err).toMatchObject({ code: "SYS", command: "LINK_CREATE", errnoName: "EINVAL" });
    expect((err as { hint: string }).hint).toMatch(/no network interface has this ifindex/);
    using tc = Program.load({ type: "SCHED_CLS", insns: [movImm(0, -1), exit()], license: "GPL", expectedAttachType: "TCX_INGRESS" });
    expect(() => Link.tcx(tc, 0x7ffffff, "ingress")).toThrow(expect.objectContaining({ errnoName: "ENODEV", hint: expect.stringMatching(/no network interface/) }));
    tc.close();
    p.close();
    expect(openFds()).toEqual(before);
  });

  test("cgroup skb: PROG_ATTACH / PROG_QUERY / PROG_DETACH and a cgroup link, as bpftool cgroup show sees them", () => {
    mkdirSync(CG);
    using cg = OpenFile.cgroup(CG);
    using p = Program.load({ type: "CGROUP_SKB", insns: [movImm(0, 1), exit()], license: "GPL", name: "cg_allow", expectedAttachType: "CGROUP_INET_INGRESS" });
    p.attachTo(cg, "CGROUP_INET_INGRESS", 2 /* BPF_F_ALLOW_MULTI */);
    expect(attachedPrograms(cg, "CGROUP_INET_INGRESS")).toEqual([p.id]);
    const shown = bpftoolJson<{ id: number; attach_type: string; name: string }[]>(["cgroup", "show", CG]);
    expect(shown.map((x) => [x.id, x.attach_type, x.name])).toEqual([[p.id, "cgroup_inet_ingress", "cg_allow"]]);
    p.detachFrom(cg, "CGROUP_INET_INGRESS");
    expect(attachedPrograms(cg, "CGROUP_INET_INGRESS")).toEqual([]);
    {
      using l = Link.cgroup(p, cg, "CGROUP_INET_INGRESS");
      expect(bpftoolJson<{ id: number }[]>(["cgroup", "show", CG]).map((x) => x.id)).toEqual([p.id]);
      expect(l.info().progId).toBe(p.id);
    }
    expect(bpftoolJson<{ id: number }[]>(["cgroup", "show", CG])).toEqual([]);
  });

  test("test runs with a context: tc sees skb->len of the data, raw_tp sees its args", () => {
    using tc = Program.load({ type: "SCHED_CLS", insns: [ldx(4, 0, 1, 0), exit()], license: "GPL" });
    for (const n of [14, 60, 1500]) expect(tc.run({ data: new Uint8Array(n) }).retval).toBe(n);
    using raw = Program.load({ type: "RAW_TRACEPOINT", insns: [ldx(8, 0, 1, 8), exit()], license: "GPL" });
    const args = new BigUint64Array([7n, 12345n]);
    expect(raw.run({ ctx: new Uint8Array(args.buffer) }).retval).toBe(12345);
  });
});
