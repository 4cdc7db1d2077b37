// A loaded program behind an fd: load from instructions (asm Insn[] or encoded bytes) and the
// PROG_LOAD attributes, run it with PROG_TEST_RUN, read its info, pin it, open it by pin or id.

// encode.ts directly rather than asm/index.ts: the index pulls in the assembler and printers,
// which a process that only loads programs should not pay for at start-up.
import { encode } from "../../asm/encode.ts";
import type { Insn } from "../../asm/insn.ts";
import { TsbpfError } from "../errors.ts";
import { getFdById, objGet, objPin, progAttach, progDetach, progQuery, progTestRun } from "../sys/bpf.ts";
import { ATTACH_TYPE, PROG_TYPE, type AttachTypeName, type ProgTypeName } from "../sys/constants.ts";
import { progInfo, progJited, progXlated, type ProgInfo } from "../sys/info.ts";
import { progLoad } from "../sys/progload.ts";
import { FdOwner, closeQuietly } from "./fd.ts";

export interface ProgramAttrs {
  type: ProgTypeName | number;
  insns: readonly Insn[] | Uint8Array;
  license: string;
  name?: string;
  expectedAttachType?: AttachTypeName | number;
  /** In-kernel BTF type id to attach to (tp_btf, fentry, struct_ops, lsm). */
  attachBtfId?: number;
  /** Module BTF object fd holding attachBtfId, or the target program fd for freplace. */
  attachFd?: number;
  /** BTF the func_info/line_info refer to. */
  btf?: { fd: number } | number;
  funcInfo?: Uint8Array;
  funcInfoRecSize?: number;
  lineInfo?: Uint8Array;
  lineInfoRecSize?: number;
  /** Verifier log: 0 = only on failure; LOG.LEVEL1/LEVEL2 | LOG.STATS. */
  logLevel?: number;
  logSize?: number;
  flags?: number;
  kernVersion?: number;
  ifindex?: number;
  /** fds that ld_imm64 BPF_PSEUDO_MAP_IDX / MAP_IDX_VALUE (imm = index) and kfunc calls (off = index) name. */
  fdArray?: Int32Array | Uint32Array;
  /** Maps by index for BPF_PSEUDO_MAP_IDX references: a shorthand for fdArray. */
  maps?: readonly { fd: number }[];
}

export interface RunOptions {
  /** Packet (XDP, skb programs) or other data input. */
  data?: Uint8Array;
  /** Context input (struct __sk_buff, xdp_md, raw_tp args…). */
  ctx?: Uint8Array;
  /** Runs to average over; omitted means the kernel's default of one (raw_tp/syscall programs allow no other). */
  repeat?: number;
  /** Room for output data; defaults to the input size plus 256 bytes of headroom. */
  dataOutSize?: number;
  /** Room for the context as the program left it; none by default (raw_tp programs refuse one). */
  ctxOutSize?: number;
  flags?: number;
  cpu?: number;
}

export interface RunResult {
  retval: number;
  /** Output data as the program left it. */
  data: Uint8Array;
  ctx?: Uint8Array;
  /** Average run time in nanoseconds, as the kernel measured it. */
  duration: number;
}

export function progTypeNumber(t: ProgTypeName | number): number {
  if (typeof t === "number") return t;
  const n = PROG_TYPE[t];
  if (n === undefined) throw new TsbpfError("LOAD_BAD_INPUT", `unknown program type ${t}`, {}, `one of ${Object.keys(PROG_TYPE).join(", ")}`);
  return n;
}

export function attachTypeNumber(t: AttachTypeName | number): number {
  if (typeof t === "number") return t;
  const n = ATTACH_TYPE[t];
  if (n === undefined) throw new TsbpfError("LOAD_BAD_INPUT", `unknown attach type ${t}`, {}, `one of ${Object.keys(ATTACH_TYPE).join(", ")}`);
  return n;
}

function recordCount(bytes: Uint8Array | undefined, recSize: number | undefined, what: string): number {
  if (!bytes || bytes.byteLength === 0) return 0;
  if (!recSize || bytes.byteLength % recSize !== 0) {
    throw new TsbpfError("LOAD_BAD_INPUT", `${what}: ${bytes.byteLength} bytes is not a whole number of ${recSize ?? "?"}-byte records`, {}, `give ${what}RecSize from .BTF.ext`);
  }
  return bytes.byteLength / recSize;
}

export class Program extends FdOwner {
  readonly type: number;
  readonly name: string;
  readonly id: number;
  readonly tag: string;
  /** The verifier log if a log level was asked for, else "". */
  readonly log: string;

  private constructor(fd: number, info: ProgInfo, log: string) {
    super(fd);
    this.type = info.type;
    this.name = info.name;
    this.id = info.id;
    this.tag = info.tag;
    this.log = log;
  }

  protected describe(): string {
    return `program ${this.name || `id ${this.id}`}`;
  }

  /** Take ownership of an fd that refers to a program. */
  static fromFd(fd: number, log = ""): Program {
    try {
      return new Program(fd, progInfo(fd), log);
    } catch (e) {
      closeQuietly(fd);
      throw e;
    }
  }

  /** Load; a rejection throws VerifierError (with the whole log), other failures SysError. */
  static load(a: ProgramAttrs): Program {
    const insns = a.insns instanceof Uint8Array ? a.insns : encode(a.insns);
    if (insns.byteLength === 0 || insns.byteLength % 8 !== 0) {
      throw new TsbpfError("LOAD_BAD_INPUT", `program ${a.name ?? ""} has ${insns.byteLength} bytes of instructions`, {}, "instructions are 8 bytes each and a program has at least one");
    }
    const btfFd = a.btf === undefined ? 0 : typeof a.btf === "number" ? a.btf : a.btf.fd;
    const { fd, log } = progLoad({
      progType: progTypeNumber(a.type),
      insns,
      license: a.license,
      name: a.name,
      expectedAttachType: a.expectedAttachType === undefined ? 0 : attachTypeNumber(a.expectedAttachType),
      attachBtfId: a.attachBtfId,
      attachFd: a.attachFd,
      progBtfFd: btfFd,
      funcInfo: a.funcInfo,
      funcInfoRecSize: a.funcInfo ? a.funcInfoRecSize : 0,
      funcInfoCnt: recordCount(a.funcInfo, a.funcInfoRecSize, "funcInfo"),
      lineInfo: a.lineInfo,
      lineInfoRecSize: a.lineInfo ? a.lineInfoRecSize : 0,
      lineInfoCnt: recordCount(a.lineInfo, a.lineInfoRecSize, "lineInfo"),
      logLevel: a.logLevel,
      logSize: a.logSize,
      progFlags: a.flags,
      kernVersion: a.kernVersion,
      progIfindex: a.ifindex,
      fdArray: a.fdArray ?? (a.maps ? Int32Array.from(a.maps, (m) => m.fd) : undefined),
    });
    return Program.fromFd(fd, log);
  }

  static fromPin(path: string): Program {
    return Program.fromFd(objGet(path));
  }

  static fromId(id: number): Program {
    return Program.fromFd(getFdById("prog", id));
  }

  info(): ProgInfo {
    return progInfo(this.fd);
  }

  /** The instructions as the kernel holds them (after rewriting), encoded. */
  xlated(): Uint8Array {
    return progXlated(this.fd);
  }

  jited(): Uint8Array {
    return progJited(this.fd);
  }

  pin(path: string): void {
    objPin(this.fd, path);
  }

  /** The pre-link attach (BPF_PROG_ATTACH): cgroups, sockmaps, flow dissector. flags BPF_F_ALLOW_MULTI (2)… */
  attachTo(target: { fd: number }, attachType: AttachTypeName | number, flags = 0): void {
    progAttach({ targetFd: target.fd, attachBpfFd: this.fd, attachType: attachTypeNumber(attachType), attachFlags: flags });
  }

  detachFrom(target: { fd: number }, attachType: AttachTypeName | number): void {
    progDetach({ targetFd: target.fd, attachBpfFd: this.fd, attachType: attachTypeNumber(attachType) });
  }

  /** PROG_TEST_RUN: the return value, the data as the program left it, and the kernel's timing. */
  run(o: RunOptions = {}): RunResult {
    const dataOut = o.data || o.dataOutSize ? new Uint8Array(o.dataOutSize ?? (o.data?.byteLength ?? 0) + 256) : null;
    const ctxOutSize = o.ctxOutSize ?? 0;
    const ctxOut = ctxOutSize > 0 ? new Uint8Array(ctxOutSize) : null;
    const r = progTestRun({
      progFd: this.fd,
      dataIn: o.data ?? null,
      dataOut,
      repeat: o.repeat ?? 0,
      ctxIn: o.ctx ?? null,
      ctxOut,
      flags: o.flags,
      cpu: o.cpu,
    });
    const data = dataOut ? dataOut.slice(0, Math.min(r.dataSizeOut, dataOut.byteLength)) : new Uint8Array(0);
    const out: RunResult = { retval: r.retval, data, duration: r.duration };
    if (ctxOut) out.ctx = ctxOut.slice(0, Math.min(r.ctxSizeOut, ctxOut.byteLength));
    return out;
  }
}

/** Ids of the programs attached to a target fd (cgroup dir) or ifindex (tcx) for one attach type. */
export function attachedPrograms(target: { fd: number } | number, attachType: AttachTypeName | number, effective = false): number[] {
  const targetFd = typeof target === "number" ? target : target.fd;
  const t = attachTypeNumber(attachType);
  let room = 64;
  for (;;) {
    const ids = new Uint32Array(room);
    const r = progQuery({ targetFd, attachType: t, queryFlags: effective ? 1 : 0, progIds: ids });
    if (r.progCnt <= room) return Array.from(ids.subarray(0, r.progCnt));
    room = r.progCnt;
  }
}
