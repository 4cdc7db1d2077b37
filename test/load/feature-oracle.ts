// The oracle side of the feature-probe tests: test/load/feature-oracle.c (libbpf's bpf() wrappers,
// not our door) asked to load probe programs and create probe maps, and the probes' shapes written
// down from libbpf's libbpf_probes.c and bpftool's feature.c — the spec, kept apart from src/.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ROOT, run } from "../support/env.ts";

export function buildFeatureOracle(): string {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-feature-"));
  const exe = join(dir, "feature-oracle");
  run("clang-19", ["-O1", "-o", exe, join(ROOT, "test/load/feature-oracle.c"), "-lbpf"]);
  return exe;
}

/** Remove the oracle's temporary directory. */
export function removeFeatureOracle(exe: string): void {
  if (exe) rmSync(dirname(exe), { recursive: true, force: true });
}

export interface ProgAnswer {
  ok: boolean;
  errno: number;
  log: string;
}

export interface ProgRequest {
  type: number;
  insns: Uint8Array;
  attach?: number;
  flags?: number;
  kver?: number;
  attachBtfId?: number;
  logLevel?: number;
}

export interface MapRequest {
  type: number;
  key: number;
  value: number;
  max: number;
  flags?: number;
  extra?: bigint;
  spinLockBtf?: boolean;
  inner?: boolean;
  vmlinuxValueId?: number;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** Ask the oracle many questions in one process; answers in request order. */
export function askOracle(exe: string, reqs: readonly ({ prog: ProgRequest } | { map: MapRequest })[]): ({ ok: boolean; errno: number; log: string })[] {
  const lines = reqs.map((r) => {
    if ("prog" in r) {
      const p = r.prog;
      return `prog ${p.type} ${p.attach ?? 0} ${p.flags ?? 0} ${p.kver ?? 0} ${p.attachBtfId ?? 0} ${p.logLevel ?? 1} ${hex(p.insns)}`;
    }
    const m = r.map;
    return `map ${m.type} ${m.key} ${m.value} ${m.max} ${m.flags ?? 0} ${m.extra ?? 0n} ${m.spinLockBtf ? 1 : 0} ${m.inner ? 1 : 0} ${m.vmlinuxValueId ?? 0}`;
  });
  const out = run(exe, [], Buffer.from(lines.join("\n") + "\n")).split("\n").filter((l) => l.length > 0);
  if (out.length !== reqs.length) throw new Error(`oracle answered ${out.length} of ${reqs.length} requests`);
  return out.map((l) => {
    const f = l.split("\t");
    if (f[0] === "error") throw new Error(`oracle: ${f[1]}`);
    return { ok: f[1] === "1", errno: Number(f[2]), log: (f[3] ?? "").replaceAll("\\n", "\n") };
  });
}

// ---- the spec ----------------------------------------------------------------------------------

// enum bpf_prog_type / bpf_attach_type / bpf_map_type values used below (include/uapi/linux/bpf.h).
export const P = {
  KPROBE: 2, CGROUP_SOCK_ADDR: 18, LIRC_MODE2: 20, CGROUP_SOCKOPT: 25, TRACING: 26, STRUCT_OPS: 27, EXT: 28,
  LSM: 29, SK_LOOKUP: 30, SYSCALL: 31, NETFILTER: 32, SOCKET_FILTER: 1,
} as const;
const A = { CGROUP_INET4_CONNECT: 10, LIRC_MODE2: 16, CGROUP_GETSOCKOPT: 21, TRACE_FENTRY: 24, MODIFY_RETURN: 26, SK_LOOKUP: 36, NETFILTER: 45 } as const;
const BPF_F_SLEEPABLE = 1 << 4;
const EINVAL = 22;
const ENOTSUPP = 524;

/** libbpf's probe_prog_load: attributes per type, and the rejection meaning "supported" for the target-bound types. */
export function progShape(type: number, kver: number): Omit<ProgRequest, "insns" | "type"> & { expect?: { errno: number; message?: string } } {
  switch (type) {
    case P.CGROUP_SOCK_ADDR: return { attach: A.CGROUP_INET4_CONNECT };
    case P.CGROUP_SOCKOPT: return { attach: A.CGROUP_GETSOCKOPT };
    case P.SK_LOOKUP: return { attach: A.SK_LOOKUP };
    case P.KPROBE: return { kver };
    case P.LIRC_MODE2: return { attach: A.LIRC_MODE2 };
    case P.NETFILTER: return { attach: A.NETFILTER };
    case P.SYSCALL: return { flags: BPF_F_SLEEPABLE };
    case P.TRACING: return { attach: A.TRACE_FENTRY, attachBtfId: 1, expect: { errno: EINVAL, message: "attach_btf_id 1 is not a function" } };
    case P.LSM: return { attach: A.MODIFY_RETURN, attachBtfId: 1, expect: { errno: EINVAL, message: "attach_btf_id 1 is not a function" } };
    case P.EXT: return { attachBtfId: 1, expect: { errno: EINVAL, message: "Cannot replace kernel functions" } };
    case P.STRUCT_OPS: return { expect: { errno: ENOTSUPP } };
    default: return {};
  }
}

/** libbpf's probe_map_create shapes (map type numbers from the uapi enum). */
export function mapShape(type: number): Omit<MapRequest, "type"> & { expectErrno?: number } {
  const base = { key: 4, value: 4, max: 1 };
  switch (type) {
    case 7: return { ...base, value: 8 }; // stack_trace
    case 11: return { key: 8, value: 8, max: 1, flags: 1 }; // lpm_trie, BPF_F_NO_PREALLOC
    case 19: case 21: return { key: 16, value: 8, max: 0 }; // (percpu_)cgroup_storage: struct bpf_cgroup_storage_key
    case 22: case 23: case 30: return { ...base, key: 0 }; // queue, stack, bloom_filter
    case 24: case 28: case 29: case 32: return { key: 4, value: 8, max: 0, flags: 1, spinLockBtf: true }; // sk/inode/task/cgrp storage
    case 27: case 31: return { key: 0, value: 0, max: 4096 }; // (user_)ringbuf: one page
    case 26: return { ...base, vmlinuxValueId: 1, expectErrno: ENOTSUPP }; // struct_ops
    case 33: return { key: 0, value: 0, max: 1, flags: 1 << 10 }; // arena: one page, BPF_F_MMAPABLE
    case 12: case 13: return { ...base, inner: true }; // array_of_maps, hash_of_maps
    default: return base;
  }
}

/** struct bpf_insn bytes (little-endian): code, dst|src<<4, off, imm. */
export function insn(code: number, dst: number, src: number, off: number, imm: number): Uint8Array {
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  b[0] = code;
  b[1] = (dst & 0xf) | ((src & 0xf) << 4);
  dv.setInt16(2, off, true);
  dv.setInt32(4, imm, true);
  return b;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

// Opcodes from include/uapi/linux/bpf.h and bpf_common.h.
export const MOV64_K = 0xb7, SUB64_K = 0x17, JNE_K = 0x55, JLT_K = 0xa5, JLT32_K = 0xa6, JEQ32_K = 0x16, JA32 = 0x06, EXIT = 0x95, CALL = 0x85;

/** "call id; exit": the helper probe. */
export const callProg = (id: number) => concat([insn(CALL, 0, 0, 0, id), insn(EXIT, 0, 0, 0, 0)]);
export const ret0 = () => concat([insn(MOV64_K, 0, 0, 0, 0), insn(EXIT, 0, 0, 0, 0)]);

/** The verifier's "no such helper (for this type)" lines (kernel/bpf/verifier.c, check_helper_call). */
export function refusesHelper(log: string): boolean {
  return log.includes("invalid func ") || log.includes("unknown func ") || log.includes("program of this type cannot use helper ");
}
