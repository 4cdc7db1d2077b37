// cgroup attach points beyond skb on the live kernel: sysctl, sock_create, connect4, getsockopt and
// device programs attached by section to a child cgroup this test creates (bpftool cgroup show and
// PROG_QUERY list them); the test process moves into the cgroup and the kernel's answers are the
// oracle: EPERM on the sysctl write, the socket, the connect and the /dev/full open while attached,
// the rewritten connect and SO_PRIORITY, and ordinary behaviour once detached. Every cgroup section
// attached by section lands where libbpf's bpf_program__attach_cgroup puts it.

import { describe, expect, test, beforeAll, afterAll } from "vitest";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, rmdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { haveBun, haveRoot, haveTool, run, ROOT } from "../support/env.ts";
import { bpftoolJson, openFds } from "./kernel.ts";
import { exit, movImm } from "./insns.ts";
import type { Socket as SocketT } from "../../src/load/socket.ts";

const live = haveBun() && haveRoot() && haveTool("bpftool", "version");
const load = live ? await import("../../src/load/index.ts") : ({} as typeof import("../../src/load/index.ts"));
const { Socket, ProgAttachment, Link, OpenFile, Program, SOL_SOCKET, SO, SOCK, attachCollection, attachedPrograms, loadCollectionFile, defaultCgroup } = load;

const CG_ROOT = live ? defaultCgroup() : "/sys/fs/cgroup/unified";
const CG = `${CG_ROOT}/tsbpf-N-${process.pid}`;
const SWAPPINESS = "/proc/sys/vm/swappiness";
const obj = `${ROOT}fixtures/obj/sock_cgroup.o`;
const STAT = {
  SYSCTL_DENIED: 0, SOCK_DENIED: 1, SOCK_SEEN: 2, CONNECT_REFUSED: 3, CONNECT_REWRITTEN: 4, SOCKOPT_ANSWERED: 5, DEV_DENIED: 6,
  ACTIVE_ESTABLISHED: 7, PASSIVE_ESTABLISHED: 8,
} as const;

/** This process's cgroup v2 directory ("0::/path" in /proc/self/cgroup). */
function ownCgroup(): string {
  const m = /^0::(\S*)$/m.exec(readFileSync("/proc/self/cgroup", "utf8"));
  return `${CG_ROOT}${m && m[1] !== "/" ? m[1] : ""}`;
}

/** Run `fn` with this whole process in `cg`, then move it back (always). */
function inCgroup<T>(cg: string, fn: () => T): T {
  const home = ownCgroup();
  writeFileSync(`${cg}/cgroup.procs`, String(process.pid));
  try {
    return fn();
  } finally {
    writeFileSync(`${home}/cgroup.procs`, String(process.pid));
  }
}

function errorOf(f: () => unknown): { code?: string; command?: string; errnoName?: string; hint?: string } {
  try {
    f();
  } catch (e) {
    return e as { code?: string };
  }
  throw new Error("expected an error");
}

/** What the kernel does in this process right now, hook by hook. */
function probe(): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  const v = readFileSync(SWAPPINESS, "utf8");
  try {
    writeFileSync(SWAPPINESS, v); // the value it already has: a write that changes nothing
    out.sysctlWrite = "ok";
  } catch (e) {
    out.sysctlWrite = (e as { code: string }).code;
  }
  out.sysctlRead = readFileSync(SWAPPINESS, "utf8") === v ? "ok" : "changed";
  try {
    Socket.udp("inet6").close();
    out.udp6 = "ok";
  } catch (e) {
    out.udp6 = (e as { errnoName: string }).errnoName;
  }
  Socket.tcp("inet6").close();
  for (const port of [1, 2]) {
    const s = Socket.tcp();
    try {
      s.connect("127.0.0.1", port);
      out[`connect${port}`] = s.localAddress().family === "inet" ? `peer ${readPeerPort(s)}` : "?";
    } catch (e) {
      out[`connect${port}`] = (e as { errnoName: string }).errnoName;
    } finally {
      s.close();
    }
  }
  {
    using s = Socket.udp();
    s.setOption(SOL_SOCKET, SO.PRIORITY, 3);
    out.priority = s.getOption(SOL_SOCKET, SO.PRIORITY);
  }
  try {
    closeSync(openSync("/dev/full", "r"));
    out.devFull = "ok";
  } catch (e) {
    out.devFull = (e as { code: string }).code;
  }
  closeSync(openSync("/dev/null", "r"));
  return out;
}

/** The peer port of a connected socket, from getpeername(2). */
function readPeerPort(s: { fd: number }): number {
  const a = sysSocket.getpeername(s.fd);
  return a.family === "unix" ? -1 : a.port;
}
const sysSocket = live ? await import("../../src/sys/socket.ts") : ({} as typeof import("../../src/sys/socket.ts"));

describe.skipIf(!live)("cgroup programs: sysctl, sock_create, connect4, getsockopt, device", () => {
  beforeAll(() => {
    if (!existsSync(CG)) mkdirSync(CG);
  });
  afterAll(() => {
    if (existsSync(CG)) rmdirSync(CG);
  });

  test("attached by section to a child cgroup, each hook changes what the kernel answers there; detached, nothing does", () => {
    using coll = loadCollectionFile(obj);
    const stats = coll.maps.get("cg_stats")!;
    using listener = Socket.tcp().bind().listen();
    coll.maps.get("cg_config")!.set(0, listener.localPort());
    const id = (n: string) => coll.programs.get(n)!.id;

    const before = inCgroup(CG, () => probe());
    expect(before).toEqual({ sysctlWrite: "ok", sysctlRead: "ok", udp6: "ok", connect1: "ECONNREFUSED", connect2: "ECONNREFUSED", priority: 3, devFull: "ok" });

    const att = attachCollection(coll, { cgroup: CG });
    expect(att.outcomes.every((o) => "links" in o && o.links.length === 1)).toBe(true);
    const shown = bpftoolJson<{ id: number; attach_type: string; name: string }[]>(["cgroup", "show", CG]);
    expect(shown.map((x) => `${x.attach_type} ${x.id}`).sort()).toEqual([
      `cgroup_device ${id("deny_dev_full")}`,
      `cgroup_getsockopt ${id("answer_priority")}`,
      `cgroup_inet4_connect ${id("steer_connect4")}`,
      `cgroup_inet_sock_create ${id("deny_udp6")}`,
      `cgroup_sock_ops ${id("count_established")}`,
      `cgroup_sysctl ${id("deny_swappiness")}`,
    ]);
    using cgFd = OpenFile.cgroup(CG);
    expect(attachedPrograms(cgFd, "CGROUP_SYSCTL")).toEqual([id("deny_swappiness")]);

    const during = inCgroup(CG, () => probe());
    expect(during).toEqual({
      sysctlWrite: "EPERM", sysctlRead: "ok", udp6: "EPERM",
      connect1: "EPERM", connect2: `peer ${listener.localPort()}`, priority: 42, devFull: "EPERM",
    });
    // Outside the cgroup the same process is untouched.
    expect(probe()).toEqual(before);
    const conn = listener.accept(1000);
    expect(conn).toBeDefined(); // the rewritten connect reached our listener
    conn!.close();
    const counts = Object.fromEntries(Object.entries(STAT).map(([k, v]) => [k, stats.getNumber(v)]));
    expect(counts).toMatchObject({ SYSCTL_DENIED: 1n, SOCK_DENIED: 1n, CONNECT_REFUSED: 1n, CONNECT_REWRITTEN: 1n, SOCKOPT_ANSWERED: 1n, DEV_DENIED: 1n });
    // sockops runs for sockets of the cgroup: the rewritten connect's client side, not the
    // connection our listener (created outside the cgroup) accepted.
    expect([counts.ACTIVE_ESTABLISHED, counts.PASSIVE_ESTABLISHED]).toEqual([1n, 0n]);
    inCgroup(CG, () => {
      using l = Socket.tcp().bind().listen();
      using c = Socket.dial("127.0.0.1", l.localPort());
      using a = l.accept(1000);
      expect(a).toBeDefined();
    });
    expect([stats.getNumber(STAT.ACTIVE_ESTABLISHED), stats.getNumber(STAT.PASSIVE_ESTABLISHED)]).toEqual([2n, 1n]);
    // In the cgroup the probe made 1 udp6 + 1 tcp6 + 2 tcp4 + 1 udp4 sockets, the kernel's count of sock_create calls.
    expect(counts.SOCK_SEEN).toBe(5n);

    att.close();
    expect(bpftoolJson<unknown[]>(["cgroup", "show", CG])).toEqual([]);
    expect(inCgroup(CG, () => probe())).toEqual(before);
  });

  test("PROG_ATTACH with BPF_F_ALLOW_MULTI: PROG_QUERY and bpftool see it; close() runs PROG_DETACH", () => {
    using coll = loadCollectionFile(obj);
    const prog = coll.programs.get("deny_swappiness")!;
    using cgFd = OpenFile.cgroup(CG);
    const att = ProgAttachment.attach(prog, cgFd, "CGROUP_SYSCTL", { flags: 2, what: `cgroup ${CG}` });
    cgFd.close(); // the attachment keeps its own fd for the detach
    expect(att.attached()).toEqual([prog.id]);
    expect(bpftoolJson<{ id: number; attach_type: string; attach_flags: string }[]>(["cgroup", "show", CG])).toEqual([
      expect.objectContaining({ id: prog.id, attach_type: "cgroup_sysctl", attach_flags: "multi" }),
    ]);
    expect(inCgroup(CG, () => errorOf(() => writeFileSync(SWAPPINESS, readFileSync(SWAPPINESS, "utf8"))))).toMatchObject({ code: "EPERM" });
    att.close();
    att.close();
    expect(bpftoolJson<unknown[]>(["cgroup", "show", CG])).toEqual([]);
    inCgroup(CG, () => writeFileSync(SWAPPINESS, readFileSync(SWAPPINESS, "utf8")));
  });

  test("500 link and PROG_ATTACH cycles on the cgroup leave the fds and the cgroup as they were", () => {
    using coll = loadCollectionFile(obj);
    const prog = coll.programs.get("deny_swappiness")!;
    using cgFd = OpenFile.cgroup(CG);
    const before = openFds();
    for (let i = 0; i < 250; i++) {
      Link.cgroup(prog, cgFd, "CGROUP_SYSCTL").close();
      ProgAttachment.attach(prog, cgFd, "CGROUP_SYSCTL", { flags: 2 }).close();
    }
    expect(openFds()).toEqual(before);
    expect(attachedPrograms(cgFd, "CGROUP_SYSCTL")).toEqual([]);
  });

  test("a cgroup program on a non-directory fd is refused with a hint naming the target; no fd left behind", () => {
    const before = openFds();
    {
      using coll = loadCollectionFile(obj);
      const prog = coll.programs.get("deny_swappiness")!;
      const map = coll.maps.get("cg_stats")!;
      expect(errorOf(() => Link.cgroup(prog, map, "CGROUP_SYSCTL"))).toMatchObject({ code: "SYS", command: "LINK_CREATE", hint: expect.stringMatching(/cgroup v2 directory; target fd \d+ is map ARRAY/) });
      expect(errorOf(() => ProgAttachment.attach(prog, map, "CGROUP_SYSCTL"))).toMatchObject({ command: "PROG_ATTACH", hint: expect.stringMatching(/cgroup v2 directory/) });
      expect(errorOf(() => attachCollection(coll, { cgroup: `${CG}/absent` }))).toMatchObject({ command: "open", errnoName: "ENOENT" });
    }
    expect(openFds()).toEqual(before);
  });
});

interface CgroupShow { id: number; attach_type: string; attach_flags: string; name: string }

describe.skipIf(!live || !haveTool("clang-19"))("every cgroup section, attached by section as libbpf attaches it", () => {
  const ours = `${CG}-ours`, theirs = `${CG}-libbpf`;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-N-cg-"));
  beforeAll(() => {
    for (const d of [ours, theirs]) if (!existsSync(d)) mkdirSync(d);
  });
  afterAll(() => {
    for (const d of [ours, theirs]) if (existsSync(d)) rmdirSync(d);
    rmSync(dir, { recursive: true, force: true });
  });

  test("the attach types bpftool shows for our links equal those of libbpf's bpf_program__attach_cgroup, section by section", () => {
    const all = `${ROOT}fixtures/obj/sock_cgroup_all.o`;
    const exe = join(dir, "cgroup-attach-oracle");
    run("clang-19", ["-O1", "-o", exe, join(ROOT, "test/load/cgroup-attach-oracle.c"), "-lbpf"]);
    const key = (xs: CgroupShow[]) => xs.map((x) => `${x.name} ${x.attach_type} ${x.attach_flags}`).sort();
    const libbpf = key(JSON.parse(run(exe, [all, theirs])) as CgroupShow[]);
    expect(libbpf.length).toBe(23);
    using coll = loadCollectionFile(all);
    using att = attachCollection(coll, { cgroup: ours });
    expect(att.links.length).toBe(23);
    expect(key(bpftoolJson<CgroupShow[]>(["cgroup", "show", ours]))).toEqual(libbpf);
  });

  test("the 6.7 AF_UNIX hooks (newer than this bpftool and libbpf): connect and sendmsg refused in the cgroup, each found by PROG_QUERY", () => {
    using cg = OpenFile.cgroup(ours);
    const unixDir = mkdtempSync(join(tmpdir(), "tsbpf-N-unix-"));
    try {
      using listener = Socket.open("unix", SOCK.STREAM).bindPath(join(unixDir, "stream")).listen();
      using rx = Socket.open("unix", SOCK.DGRAM).bindPath(join(unixDir, "dgram"));
      const tryUnix = () => inCgroup(ours, () => {
        const out: string[] = [];
        for (const [type, act] of [
          [SOCK.STREAM, (x: SocketT) => x.connectPath(join(unixDir, "stream"))],
          [SOCK.DGRAM, (x: SocketT) => x.sendToPath("hi", join(unixDir, "dgram"))],
        ] as const) {
          using x = Socket.open("unix", type);
          try {
            act(x);
            out.push("ok");
          } catch (e) {
            out.push((e as { errnoName: string }).errnoName);
          }
        }
        return out;
      });
      expect(tryUnix()).toEqual(["ok", "ok"]);
      listener.accept(1000)?.close();
      rx.recv(64, 1000);
      // connect_unix and sendmsg_unix may refuse (return 0); the other three must return 1.
      const refuse = (t: string) => t === "CGROUP_UNIX_CONNECT" || t === "CGROUP_UNIX_SENDMSG";
      const types = ["CGROUP_UNIX_CONNECT", "CGROUP_UNIX_SENDMSG", "CGROUP_UNIX_RECVMSG", "CGROUP_UNIX_GETPEERNAME", "CGROUP_UNIX_GETSOCKNAME"] as const;
      const progs = types.map((t) => Program.load({ type: "CGROUP_SOCK_ADDR", expectedAttachType: t, insns: [movImm(0, refuse(t) ? 0 : 1), exit()], license: "GPL" }));
      try {
        const links = types.map((t, i) => Link.cgroup(progs[i], cg, t));
        types.forEach((t, i) => expect(attachedPrograms(cg, t)).toEqual([progs[i].id]));
        expect(tryUnix()).toEqual(["EPERM", "EPERM"]);
        for (const l of links) l.close();
        types.forEach((t) => expect(attachedPrograms(cg, t)).toEqual([]));
        expect(tryUnix()).toEqual(["ok", "ok"]);
      } finally {
        for (const p of progs) p.close();
      }
    } finally {
      rmSync(unixDir, { recursive: true, force: true });
    }
  });
});
