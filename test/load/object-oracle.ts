// Both sides of the object-load parity tests in one record shape: libbpf's bpf() calls traced by
// test/load/object-trace.c, and ours recorded by a door that wraps the native one and decodes the
// same bpf_attr fields after each call.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { door, setDoor, type Door, type SysArg } from "../../src/sys/door.ts";
import { ROOT, run } from "../support/env.ts";

export interface MapRec { ret: number; name: string; type: number; key: number; value: number; max: number; flags: number; inner: boolean; numa: number; btf: boolean; keyId: number; valueId: number; extra: bigint }
export interface ProgRec { ret: number; name: string; type: number; attach: number; flags: number; attachBtfId: number; kernVersion: number; btf: boolean; funcCnt: number; lineCnt: number; logLevel: number; insns: Uint8Array }
export interface UpdateRec { ret: number; fd: number; key: Uint8Array; value: Uint8Array }
export interface Trace { path: string; only: string; load: number; btf: { ret: number; bytes: Uint8Array }[]; maps: MapRec[]; progs: ProgRec[]; updates: UpdateRec[]; freezes: number[]; mapFds: Map<number, string> }

export function emptyTrace(path: string, only = ""): Trace {
  return { path, only, load: 0, btf: [], maps: [], progs: [], updates: [], freezes: [], mapFds: new Map() };
}

export function buildObjectTracer(): string {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-otrace-"));
  const exe = join(dir, "object-trace");
  run("clang-19", ["-O1", "-o", exe, join(ROOT, "test/load/object-trace.c"), "-lbpf", "-ldl"]);
  return exe;
}

const hex = (s: string | undefined) => Uint8Array.from(Buffer.from(s ?? "", "hex"));

/** Run libbpf over objects: `jobs` are [path] (whole object) or [path, program] (that one only). */
export function traceLibbpf(exe: string, jobs: readonly (readonly [string, string?])[]): Trace[] {
  const args = jobs.flatMap(([p, one]) => (one ? ["--one", one, p] : [p]));
  const out: Trace[] = [];
  let cur: Trace | undefined;
  for (const line of run(exe, args).split("\n")) {
    const f = line.split("\t");
    if (f[0] === "object") out.push((cur = emptyTrace(f[1], f[2] ?? "")));
    else if (!cur) continue;
    else if (f[0] === "btf") cur.btf.push({ ret: +f[1], bytes: hex(f[2]) });
    else if (f[0] === "map") cur.maps.push({ ret: +f[1], name: f[2], type: +f[3], key: +f[4], value: +f[5], max: +f[6], flags: +f[7], inner: f[8] === "1", numa: +f[9], btf: f[10] === "1", keyId: +f[11], valueId: +f[12], extra: BigInt(f[13]) });
    else if (f[0] === "prog") cur.progs.push({ ret: +f[1], name: f[2], type: +f[3], attach: +f[4], flags: +f[5], attachBtfId: +f[6], kernVersion: +f[7], btf: f[8] === "1", funcCnt: +f[9], lineCnt: +f[10], logLevel: +f[11], insns: hex(f[12]) });
    else if (f[0] === "update") cur.updates.push({ ret: +f[1], fd: +f[2], key: hex(f[3]), value: hex(f[4]) });
    else if (f[0] === "freeze") cur.freezes.push(+f[2]);
    else if (f[0] === "load") cur.load = +f[1];
    else if (f[0] === "mapfd") cur.mapFds.set(+f[1], f[2]);
  }
  return out;
}

const NR_BPF = 321;

function cstr(b: Uint8Array): string {
  const n = b.indexOf(0);
  return new TextDecoder().decode(b.subarray(0, n < 0 ? b.length : n));
}

/** Run `fn` with a door that records our bpf() calls into `t`; map value sizes come from MAP_CREATE. */
export function recordOurs<T>(t: Trace, fn: () => T): T {
  const native = door();
  const sizes = new Map<number, [number, number]>();
  const rec: Door = {
    ...native,
    syscall(nr: number, ...args: (SysArg | undefined)[]): number {
      const ret = native.syscall(nr, ...(args as SysArg[]));
      if (nr !== NR_BPF) return ret;
      const cmd = Number(args[0]), addr = Number(args[1]), size = Number(args[2]);
      const a = new Uint8Array(native.view(addr, size));
      const dv = new DataView(a.buffer);
      const u32 = (o: number) => (o + 4 <= size ? dv.getUint32(o, true) : 0);
      const u64 = (o: number) => (o + 8 <= size ? dv.getBigUint64(o, true) : 0n);
      const mem = (p: bigint, n: number) => (p === 0n || n === 0 ? new Uint8Array(0) : new Uint8Array(native.view(Number(p), n)));
      if (cmd === 18) t.btf.push({ ret, bytes: mem(u64(0), u32(16)) });
      else if (cmd === 0) {
        t.maps.push({ ret, name: cstr(a.subarray(28, 44)), type: u32(0), key: u32(4), value: u32(8), max: u32(12), flags: u32(16), inner: u32(20) !== 0, numa: u32(24), btf: u32(48) !== 0, keyId: u32(52), valueId: u32(56), extra: u64(64) });
        if (ret >= 0) sizes.set(ret, [u32(4), u32(8)]);
      } else if (cmd === 2 && sizes.has(u32(0))) {
        const [k, v] = sizes.get(u32(0))!;
        t.updates.push({ ret: ret < 0 ? -1 : ret, fd: u32(0), key: mem(u64(8), k), value: mem(u64(16), v) });
      } else if (cmd === 22) t.freezes.push(u32(0));
      else if (cmd === 5) {
        t.progs.push({ ret: ret < 0 ? -1 : ret, name: cstr(a.subarray(48, 64)), type: u32(0), attach: u32(68), flags: u32(44), attachBtfId: u32(108), kernVersion: u32(40), btf: u32(72) !== 0, funcCnt: u64(80) !== 0n ? u32(88) : 0, lineCnt: u64(96) !== 0n ? u32(104) : 0, logLevel: u32(24), insns: mem(u64(8), u32(4) * 8) });
      }
      return ret;
    },
  };
  setDoor(rec);
  try {
    return fn();
  } finally {
    setDoor(native);
  }
}
