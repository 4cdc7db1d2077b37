// What the running kernel supports, found the way `bpftool feature probe kernel` finds it (libbpf's
// libbpf_probes.c): load a tiny program of each type, and "call helper; exit" per program type,
// reading the verifier's log to tell "no such helper here" from any other complaint; the misc
// features as bpftool's socket filters. Map types: feature-maps.ts. Every probe returns a typed
// Probe and closes what it opened.

import { readFileSync } from "node:fs";
import { release, version } from "node:os";
import { parseBtf } from "../../btf/parse.ts";
import { call, exit, gotol, jlt, jlt32, jne, jeq32, mov64, sub64, R0 } from "../../asm/builder.ts";
import { encode } from "../../asm/encode.ts";
import type { Insn } from "../../asm/insn.ts";
import { HELPER_NAMES } from "../../asm/helper-names.ts";
import { TsbpfError } from "../errors.ts";
import { progLoadRaw, type ProgLoadAttrs } from "../sys/bpf.ts";
import { ATTACH_TYPE, PROG_F, PROG_TYPE, type ProgTypeName } from "../sys/constants.ts";
import { door } from "../sys/door.ts";
import { EAGAIN, ENOSYS, ENOTSUPP, EINVAL, errnoName, isSysError } from "../sys/errno.ts";
import { VerifierError, logSummary, progLoad } from "../sys/progload.ts";
import { featureNames, type FeatureNames } from "./feature-names.ts";

/** A probe's answer; `detail` says why in the kernel's words where it gave any. */
export type Probe =
  /** errno: the load failed, but in a way that still shows support (e.g. a helper's argument check). */
  | { status: "available"; detail: string; errno?: number }
  | { status: "unavailable"; detail: string; errno?: number }
  /** The probe cannot tell (helpers of tracing/struct_ops programs; a program type that does not load). */
  | { status: "undetermined"; detail: string; errno?: number };

// ---- program loads ------------------------------------------------------------------------------

/** What a probe load of one program type needs, and the rejection that proves the type exists. */
interface LoadShape {
  expectedAttachType?: number;
  kernVersion?: number;
  progFlags?: number;
  attachBtfId?: number;
  /** For types that cannot load without a real target: this errno and log text mean "supported". */
  expect?: { errno: number; message?: string };
}

/** LINUX_VERSION_CODE of the running kernel (kprobe programs once had to match it; now ignored). */
function kernelVersionCode(): number {
  // Debian kernels report the ABI release (6.1.0-…) in uname -r and the real one in uname -v.
  const m = /Debian (\d+)\.(\d+)\.(\d+)/.exec(version()) ?? /^(\d+)\.(\d+)\.(\d+)/.exec(release());
  if (!m) return 0;
  return (Number(m[1]) << 16) + (Number(m[2]) << 8) + Math.min(255, Number(m[3]));
}

/**
 * libbpf's choices (probe_prog_load): the attach type each type must declare, and for tracing, LSM
 * and freplace programs — which need a real BTF target — attach_btf_id 1 (not a function) so that a
 * kernel that knows the type answers with that specific complaint.
 */
function loadShape(type: number): LoadShape {
  switch (type) {
    case PROG_TYPE.CGROUP_SOCK_ADDR: return { expectedAttachType: ATTACH_TYPE.CGROUP_INET4_CONNECT };
    case PROG_TYPE.CGROUP_SOCKOPT: return { expectedAttachType: ATTACH_TYPE.CGROUP_GETSOCKOPT };
    case PROG_TYPE.SK_LOOKUP: return { expectedAttachType: ATTACH_TYPE.SK_LOOKUP };
    case PROG_TYPE.KPROBE: return { kernVersion: kernelVersionCode() };
    case PROG_TYPE.LIRC_MODE2: return { expectedAttachType: ATTACH_TYPE.LIRC_MODE2 };
    case PROG_TYPE.NETFILTER: return { expectedAttachType: ATTACH_TYPE.NETFILTER };
    case PROG_TYPE.SYSCALL: return { progFlags: PROG_F.SLEEPABLE };
    case PROG_TYPE.TRACING:
      return { expectedAttachType: ATTACH_TYPE.TRACE_FENTRY, attachBtfId: 1, expect: { errno: EINVAL, message: "attach_btf_id 1 is not a function" } };
    // libbpf declares BPF_MODIFY_RETURN for LSM too: the kernel checks the BTF target before the
    // attach type, so the answer is the same.
    case PROG_TYPE.LSM:
      return { expectedAttachType: ATTACH_TYPE.MODIFY_RETURN, attachBtfId: 1, expect: { errno: EINVAL, message: "attach_btf_id 1 is not a function" } };
    case PROG_TYPE.EXT:
      return { attachBtfId: 1, expect: { errno: EINVAL, message: "Cannot replace kernel functions" } };
    // struct_ops programs need a struct_ops type; without one a kernel that has them says ENOTSUPP.
    case PROG_TYPE.STRUCT_OPS: return { expect: { errno: ENOTSUPP } };
    default: return {};
  }
}

const LOG_SIZE = 4096;

/** One probe load's outcome; the log is read from the loader's buffer only when asked. */
interface Loaded {
  ok: boolean;
  errno: number;
}

/** Buffers and attributes reused across the thousands of helper probes (one load each). */
class Loader {
  private readonly log = new Uint8Array(LOG_SIZE);
  // A Buffer view of the log for native substring search: most probes need a yes/no, not the text.
  private readonly logBytes = Buffer.from(this.log.buffer, 0, LOG_SIZE);
  private readonly decoder = new TextDecoder();
  private attrs: ProgLoadAttrs = { progType: 0, insns: new Uint8Array(0), license: "GPL" };
  private shapeOf = -1;
  private logEnd = 0;

  /** Load once with a level-1 log; the fd is closed at once. */
  load(type: number, insns: Uint8Array, shape: LoadShape): Loaded {
    if (this.shapeOf !== type || this.attrs.insns !== insns) {
      this.attrs = {
        progType: type, insns, license: "GPL", logLevel: 1, logBuf: this.log,
        expectedAttachType: shape.expectedAttachType, kernVersion: shape.kernVersion,
        progFlags: shape.progFlags, attachBtfId: shape.attachBtfId,
      };
      this.shapeOf = type;
    }
    let r = { ret: -EAGAIN };
    // libbpf retries PROG_LOAD on EAGAIN a few times (the kernel's transient failure); so do we.
    for (let attempt = 0; attempt < 5 && r.ret === -EAGAIN; attempt++) {
      this.log[0] = 0;
      r = progLoadRaw(this.attrs);
    }
    const end = this.log.indexOf(0);
    this.logEnd = end < 0 ? LOG_SIZE : end;
    if (r.ret >= 0) {
      door().close(r.ret);
      return { ok: true, errno: 0 };
    }
    return { ok: false, errno: -r.ret };
  }

  /** The last load's log. */
  text(): string {
    return this.decoder.decode(this.log.subarray(0, this.logEnd));
  }

  /** The line of the last log holding one of `needles` (first needle first), if any. */
  lineWith(needles: readonly string[]): string | undefined {
    const log = this.logBytes.subarray(0, this.logEnd);
    for (const n of needles) {
      const at = log.indexOf(n, 0, "latin1");
      if (at < 0) continue;
      const start = log.lastIndexOf(0x0a, at) + 1;
      const stop = log.indexOf(0x0a, at);
      return this.decoder.decode(log.subarray(start, stop < 0 ? log.length : stop));
    }
    return undefined;
  }
}

let shared: Loader | undefined;
const loader = (): Loader => (shared ??= new Loader());

const RET0 = encode([mov64(R0, 0), exit()]);

function why(errno: number, log: string): string {
  return log.trim() ? `${errnoName(errno)}: ${logSummary(log)}` : errnoName(errno);
}

export function typeNumber<T extends Record<string, number>>(table: T, t: (keyof T & string) | number, what: string): number {
  if (typeof t === "number") {
    if (!Number.isInteger(t) || t < 0 || t > 0xffffffff) throw new TsbpfError("LOAD_BAD_INPUT", `${what} ${t} is not a u32`, {}, "type numbers come from the kernel's enum");
    return t;
  }
  const n = table[t];
  if (n === undefined) throw new TsbpfError("LOAD_BAD_INPUT", `unknown ${what} ${t}`, {}, `one of ${Object.keys(table).join(", ")}`);
  return n;
}

/** Does this kernel load programs of `type`? (bpftool's "eBPF program_type X is available") */
export function probeProgramType(type: ProgTypeName | number): Probe {
  const t = typeNumber(PROG_TYPE, type, "program type");
  const shape = loadShape(t);
  const l = loader();
  const r = l.load(t, RET0, shape);
  if (shape.expect) {
    const { errno, message } = shape.expect;
    if (!r.ok && r.errno === errno && (message === undefined || l.lineWith([message]) !== undefined)) {
      return { status: "available", detail: `the kernel knows the type (${errnoName(errno)}${message ? `: ${message}` : ""} without a real target)` };
    }
    if (r.ok) return { status: "unavailable", detail: "a program without a target loaded: this kernel does not check the type as expected" };
    return { status: "unavailable", errno: r.errno, detail: why(r.errno, l.text()) };
  }
  if (r.ok) return { status: "available", detail: "loaded" };
  return { status: "unavailable", errno: r.errno, detail: why(r.errno, l.text()) };
}

// ---- helpers ------------------------------------------------------------------------------------

/** Helpers of these program types depend on the attach target; like libbpf, we do not guess. */
const NO_HELPER_PROBE: ReadonlySet<number> = new Set([PROG_TYPE.TRACING, PROG_TYPE.EXT, PROG_TYPE.LSM, PROG_TYPE.STRUCT_OPS]);

// The verifier's words (kernel/bpf/verifier.c, check_helper_call): an id it does not know at all;
// a helper this program type may not call — "unknown func" in older kernels, "program of this type
// cannot use helper" in newer ones (6.18 here), which libbpf 1.1 and so bpftool 7.1 do not know.
const NO_SUCH_HELPER = "invalid func ";
const NOT_FOR_TYPE = ["unknown func ", "program of this type cannot use helper "];

const callInsns = new Uint8Array(16);
const callView = new DataView(callInsns.buffer);
callInsns.set(encode([call(0), exit()]));

export function helperId(helper: number | string): number {
  if (typeof helper === "number") {
    if (!Number.isInteger(helper) || helper < 0 || helper > 0x7fffffff) throw new TsbpfError("LOAD_BAD_INPUT", `helper id ${helper} is not a non-negative s32`, {}, "helper ids are enum bpf_func_id values");
    return helper;
  }
  const i = HELPER_NAMES.indexOf(helper.replace(/^bpf_/, ""));
  if (i < 0) throw new TsbpfError("LOAD_BAD_INPUT", `unknown helper ${helper}`, {}, "a helper name like bpf_map_lookup_elem (asm/helper-names.ts), or its id");
  return i;
}

const REFUSALS = [NO_SUCH_HELPER, ...NOT_FOR_TYPE];

function helperVerdict(l: Loader, r: Loaded): Probe {
  if (r.ok) return { status: "available", detail: "loaded" };
  const refusal = l.lineWith(REFUSALS);
  if (refusal !== undefined) return { status: "unavailable", errno: r.errno, detail: refusal };
  const log = l.text();
  // No log: the kernel refused before verifying (the type itself does not load).
  if (!log.trim()) return { status: "undetermined", errno: r.errno, detail: `the program type does not load (${errnoName(r.errno)})` };
  return { status: "available", errno: r.errno, detail: `the verifier took the call and rejected something else: ${logSummary(log)}` };
}

const NO_PROBE: Probe = { status: "undetermined", detail: "this program type's helpers depend on its attach target; a probe without one cannot tell" };

/**
 * May programs of `progType` call helper `helper`? Loads "call helper; exit": loading, or any
 * rejection other than "no such helper (here)", means the verifier accepted the call itself.
 */
export function probeHelper(progType: ProgTypeName | number, helper: number | string): Probe {
  return probeHelpers(progType, [helperId(helper)])[0];
}

/** probeHelper for many helpers of one program type (what the report does: one shape, one buffer). */
export function probeHelpers(progType: ProgTypeName | number, helpers: readonly (number | string)[]): Probe[] {
  const t = typeNumber(PROG_TYPE, progType, "program type");
  const ids = helpers.map(helperId);
  if (NO_HELPER_PROBE.has(t)) return ids.map(() => NO_PROBE);
  const shape = loadShape(t);
  const l = loader();
  return ids.map((id) => {
    callView.setInt32(4, id, true);
    return helperVerdict(l, l.load(t, callInsns, shape));
  });
}

// ---- misc ---------------------------------------------------------------------------------------

export interface MiscFeature {
  /** bpftool's JSON key. */
  key: string;
  /** bpftool's words: "<plain> is available". */
  plain: string;
  insns: () => Insn[];
}

/** BPF_MAXINSNS: the old per-program limit; kernels since 5.3 take a million for privileged users. */
const BPF_MAXINSNS = 4096;

/** bpftool's misc probes, each a socket filter using the feature (tools/bpf/bpftool/feature.c). */
export const MISC_FEATURES: readonly MiscFeature[] = [
  { key: "have_large_insn_limit", plain: "Large program size limit", insns: () => [...Array.from({ length: BPF_MAXINSNS }, () => mov64(R0, 1)), exit()] },
  // A loop counting r0 down from 10: refused before bounded loops (5.3) as a back-edge.
  { key: "have_bounded_loops", plain: "Bounded loop support", insns: () => [mov64(R0, 10), sub64(R0, 1), jne(R0, 0, -2), exit()] },
  // v2: BPF_JLT/JLE/JSLT/JSLE.
  { key: "have_v2_isa_extension", plain: "ISA extension v2", insns: () => [mov64(R0, 0), jlt(R0, 0, 1), mov64(R0, 1), exit()] },
  // v3: the JMP32 class.
  { key: "have_v3_isa_extension", plain: "ISA extension v3", insns: () => [mov64(R0, 0), jlt32(R0, 0, 1), mov64(R0, 1), exit()] },
  // v4: gotol (BPF_JMP32 | BPF_JA with a 32-bit offset), which came with the sign-extending loads.
  { key: "have_v4_isa_extension", plain: "ISA extension v4", insns: () => [mov64(R0, 0), jeq32(R0, 1, 1), gotol(1), mov64(R0, 1), exit()] },
];

/** The program a misc probe loads, encoded. */
export function miscInsns(f: MiscFeature): Uint8Array {
  return encode(f.insns());
}

/** Loads without a log first, as bpftool does: a 4097-instruction program's log would not fit a small buffer. */
export function probeMisc(f: MiscFeature): Probe {
  try {
    const { fd } = progLoad({ progType: PROG_TYPE.SOCKET_FILTER, insns: miscInsns(f), license: "GPL" });
    door().close(fd);
    return { status: "available", detail: "loaded" };
  } catch (e) {
    if (e instanceof VerifierError) return { status: "unavailable", errno: e.errno, detail: `${e.errnoName}: ${e.summary}` };
    if (isSysError(e)) return { status: "unavailable", errno: e.errno, detail: e.errnoName };
    throw e;
  }
}

/** Is there a bpf() system call at all? Anything but ENOSYS to an empty PROG_LOAD says yes. */
export function probeBpfSyscall(): Probe {
  const r = progLoadRaw({ progType: PROG_TYPE.UNSPEC, insns: new Uint8Array(0), license: "" });
  if (r.ret >= 0) door().close(r.ret);
  if (r.ret === -ENOSYS) return { status: "unavailable", errno: ENOSYS, detail: "ENOSYS" };
  // EPERM: bpf() exists but refuses this process (no CAP_BPF/CAP_SYS_ADMIN, unprivileged BPF off).
  return r.ret < 0 ? { status: "available", errno: -r.ret, detail: errnoName(-r.ret) } : { status: "available", detail: "loaded" };
}

// ---- names --------------------------------------------------------------------------------------

export const VMLINUX_BTF = "/sys/kernel/btf/vmlinux";

/** Program/map type and helper names from the running kernel's BTF, or our tables without it. */
export function kernelFeatureNames(path = VMLINUX_BTF): FeatureNames {
  let bytes: Uint8Array;
  try {
    // The Buffer itself, not `new Uint8Array(buffer)`: that copies 5.5 MB element by element.
    bytes = readFileSync(path);
  } catch {
    return featureNames();
  }
  try {
    return featureNames({ btf: parseBtf(bytes, { file: path }), source: path });
  } catch (e) {
    if (e instanceof TsbpfError) return featureNames();
    throw e;
  }
}
