// Decoded records as an async iterator, against the live kernel: a perf event array written by a
// getpid tracepoint (our own getpid() calls arrive as the u32 the program sent), exec events whose
// struct exists only in DWARF (the kernel's pid and comm of a child we spawn), and typed errors.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ROOT, haveBun, haveKernelBtf, haveRoot, haveTool } from "../support/env.ts";

const live = haveBun() && haveRoot() && haveKernelBtf();
const load = live ? await import("../../src/load/index.ts") : ({} as typeof import("../../src/load/index.ts"));
const sys = live ? await import("../../src/sys/door.ts") : ({} as typeof import("../../src/sys/door.ts"));

describe.skipIf(!live)("events(): decoded ring and perf buffer records", () => {
  test("perf event array: each getpid() of ours arrives as the u32 the program wrote", async () => {
    using coll = load.loadCollectionFile(join(ROOT, "fixtures/obj/maps_basic.o"));
    using _att = load.attachCollection(coll);
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), 10_000);
    const me = sys.door().syscall(39 /* getpid */);
    const it = load.events(coll, "m_perf", { type: "u32", signal: stop.signal });
    // The reader exists once the first next() runs; calls made before it are not in the buffer.
    const first = it.next();
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 3; i++) sys.door().syscall(39);
    let ours = 0;
    for (let r = await first; !r.done; r = await it.next()) {
      if (r.value === me && ++ours === 3) break;
    }
    await it.return(undefined);
    clearTimeout(timer);
    expect(ours).toBe(3);
  });

  test("ring buffer of a struct only DWARF describes: the exec of /bin/true arrives with its pid, comm and a timestamp", async () => {
    using coll = load.loadCollectionFile(join(ROOT, "fixtures/obj/exec_events.o"));
    // clang left struct event out of the object's BTF: only the DWARF path can name its fields.
    expect(coll.object.btf?.find("event", "struct")).toBeUndefined();
    using _att = load.attachCollection(coll);
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), 10_000);
    const it = load.events(coll, "events", { signal: stop.signal });
    const first = it.next();
    await new Promise((r) => setTimeout(r, 50));
    const child = spawn("/bin/true");
    const exited = new Promise((r) => child.on("close", r));
    let mine: Record<string, unknown> | undefined;
    for (let r = await first; !r.done; r = await it.next()) {
      const e = r.value as Record<string, unknown>;
      if (e.pid === child.pid) { mine = e; break; }
    }
    await it.return(undefined);
    clearTimeout(timer);
    await exited;
    expect(mine).toBeDefined();
    expect(mine!.comm).toBe("true");
    expect(typeof mine!.timestamp).toBe("bigint");
    expect(Object.keys(mine!)).toEqual(["pid", "comm", "timestamp"]);
  });

  test("a type named by the user is found in DWARF too", async () => {
    using coll = load.loadCollectionFile(join(ROOT, "fixtures/obj/exec_events.o"));
    using _att = load.attachCollection(coll);
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), 10_000);
    const it = load.events(coll, "events", { type: "struct event", signal: stop.signal });
    const first = it.next();
    await new Promise((r) => setTimeout(r, 50));
    const child = spawn("/bin/true");
    const exited = new Promise((r) => child.on("close", r));
    let mine: Record<string, unknown> | undefined;
    for (let r = await first; !r.done; r = await it.next()) {
      const e = r.value as Record<string, unknown>;
      if (e.pid === child.pid) { mine = e; break; }
    }
    await it.return(undefined);
    clearTimeout(timer);
    await exited;
    expect(mine?.comm).toBe("true");
  });

  test.skipIf(!live || !haveTool("clang-19"))("perf event array, libbpf-tools style: a stack struct only DWARF describes, chosen by its perf-padded size", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-dwarfD-"));
    try {
      const obj = join(dir, "perf_getpid.o");
      const r = spawnSync("clang-19", ["-g", "-O2", "-target", "bpf", "-mcpu=v3", "-D__TARGET_ARCH_x86", "-I", join(ROOT, "fixtures/include"), "-I/usr/include/x86_64-linux-gnu",
        "-c", join(ROOT, "test/elf/dwarf-src/perf_getpid.bpf.c"), "-o", obj], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      using coll = load.loadCollectionFile(obj);
      expect(coll.object.btf?.find("getpid_event", "struct")).toBeUndefined();
      using _att = load.attachCollection(coll);
      const stop = new AbortController();
      const timer = setTimeout(() => stop.abort(), 10_000);
      const me = sys.door().syscall(39 /* getpid */);
      const it = load.events(coll, "events", { signal: stop.signal });
      const first = it.next();
      await new Promise((res) => setTimeout(res, 50));
      sys.door().syscall(39);
      let mine: Record<string, unknown> | undefined;
      for (let x = await first; !x.done; x = await it.next()) {
        const e = x.value as Record<string, unknown>;
        if (typeof e === "object" && e.pid === me) { mine = e; break; }
      }
      await it.return(undefined);
      clearTimeout(timer);
      // The kernel's view of us: our pid, a thread of ours, our comm (/proc), a timestamp, the constant.
      const comm = readFileSync("/proc/self/comm", "utf8").trim();
      expect(mine).toMatchObject({ pid: me, comm, cpu_hint: 7 });
      expect(typeof mine!.ts).toBe("bigint");
      expect(existsSync(`/proc/${me}/task/${mine!.tid as number}`)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("bad names are typed errors", async () => {
    using coll = load.loadCollectionFile(join(ROOT, "fixtures/obj/exec_events.o"));
    await expect(load.events(coll, "nope").next()).rejects.toThrow(/no map 'nope'/);
    await expect(load.events(coll, "events", { type: "struct nope" }).next()).rejects.toThrow(/no type 'struct nope'/);
    using basic = load.loadCollectionFile(join(ROOT, "fixtures/obj/maps_basic.o"));
    await expect(load.events(basic, "m_hash").next()).rejects.toThrow(/neither a ring buffer nor a perf event array/);
  });
});
