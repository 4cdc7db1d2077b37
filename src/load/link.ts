// Attachments as links: a kernel bpf_link fd (raw_tracepoint_open, LINK_CREATE) plus, for perf
// based attachments (tracepoints, uprobes, perf events), the perf event fd the link holds on to.
// Closing the link detaches the program; a pinned link stays attached until its pin is removed.

import { unlinkSync } from "node:fs";
import { getFdById, linkCreate, linkDetach, linkUpdate, objGet, objPin, rawTracepointOpen, type LinkTarget } from "../sys/bpf.ts";
import { ATTACH_TYPE, type AttachTypeName } from "../sys/constants.ts";
import { linkInfo, type LinkInfo } from "../sys/info.ts";
import { openCpuClock, openKprobe, openTracepoint, openUprobe, perfEnable } from "../sys/perf.ts";
import { FdOwner, closeQuietly } from "./fd.ts";
import { ifIndex, ifIndexExists } from "./target.ts";
import { SysError } from "../sys/errno.ts";
import { attachTypeNumber } from "./program.ts";
import { targetHint } from "./target-hint.ts";

/** Anything with a program fd (a Program, or a bare fd wrapper). */
export interface ProgramLike {
  readonly fd: number;
}

export class Link extends FdOwner {
  readonly id: number;
  /** What it attaches ("raw_tp sys_enter", "tracepoint syscalls:sys_enter_getpid"…). */
  readonly what: string;
  #perfFd: number;

  private constructor(fd: number, what: string, perfFd = -1) {
    let id = 0;
    try {
      id = linkInfo(fd).id;
    } catch (e) {
      closeQuietly(fd);
      closeQuietly(perfFd);
      throw e;
    }
    super(fd);
    this.id = id;
    this.what = what;
    this.#perfFd = perfFd;
  }

  protected describe(): string {
    return `link ${this.what}`;
  }

  protected override afterClose(): void {
    const p = this.#perfFd;
    this.#perfFd = -1;
    closeQuietly(p);
  }

  /** Take ownership of a link fd. */
  static fromFd(fd: number, what = `fd ${fd}`): Link {
    return new Link(fd, what);
  }

  static fromPin(path: string): Link {
    return new Link(objGet(path), `pinned ${path}`);
  }

  static fromId(id: number): Link {
    return new Link(getFdById("link", id), `id ${id}`);
  }

  /** raw_tp programs: attach to the raw tracepoint `name` (e.g. "sys_enter"). */
  static rawTracepoint(prog: ProgramLike, name: string): Link {
    return new Link(rawTracepointOpen(name, prog.fd), `raw_tp ${name}`);
  }

  /** tp_btf / fentry-style programs: the target is the attach_btf_id given at load. */
  static tracing(prog: ProgramLike): Link {
    return new Link(rawTracepointOpen(null, prog.fd), "tracing");
  }

  /** LINK_CREATE on any target fd/ifindex with an attach type (XDP, tcx, cgroup, netns, iter…). */
  static create(prog: ProgramLike, targetFd: number, attachType: AttachTypeName | number, opts: { flags?: number; target?: LinkTarget } = {}): Link {
    const t = attachTypeNumber(attachType);
    return new Link(linkCreate({ progFd: prog.fd, targetFd, attachType: t, flags: opts.flags, target: opts.target }), `attach type ${attachType} on ${targetFd}`);
  }

  /** Attach to an open perf event; the link takes ownership of `perfFd` (closed with the link). */
  static perfEvent(prog: ProgramLike, perfFd: number, what = `perf event fd ${perfFd}`, cookie = 0n): Link {
    let fd: number;
    try {
      fd = linkCreate({ progFd: prog.fd, targetFd: perfFd, attachType: ATTACH_TYPE.PERF_EVENT, target: { kind: "perf_event", cookie } });
      perfEnable(perfFd);
    } catch (e) {
      closeQuietly(perfFd);
      throw e;
    }
    return new Link(fd, what, perfFd);
  }

  /** tracepoint programs: category:name from tracefs (e.g. "syscalls", "sys_enter_openat"). */
  static tracepoint(prog: ProgramLike, category: string, name: string): Link {
    return Link.perfEvent(prog, openTracepoint(category, name), `tracepoint ${category}:${name}`);
  }

  /** uprobe/uretprobe programs at a file offset of an ELF binary. */
  static uprobe(prog: ProgramLike, binary: string, offset: bigint, opts: { retprobe?: boolean; pid?: number } = {}): Link {
    return Link.perfEvent(prog, openUprobe(binary, offset, opts), `${opts.retprobe ? "uretprobe" : "uprobe"} ${binary}+0x${offset.toString(16)}`);
  }

  /** kprobe/kretprobe programs on a kernel function (needs a kernel with kprobe events). */
  static kprobe(prog: ProgramLike, func: string, opts: { offset?: bigint; retprobe?: boolean } = {}): Link {
    return Link.perfEvent(prog, openKprobe(func, opts), `${opts.retprobe ? "kretprobe" : "kprobe"} ${func}`);
  }

  /** perf_event programs sampling cpu-clock on one CPU at `freq` Hz. */
  static cpuClock(prog: ProgramLike, cpu: number, freq: number): Link {
    return Link.perfEvent(prog, openCpuClock(cpu, freq), `cpu-clock cpu ${cpu} @${freq}Hz`);
  }

  /** XDP on a network interface (name or ifindex); flags XDP_FLAGS_SKB_MODE (2) / DRV_MODE (4) or 0. */
  static xdp(prog: ProgramLike, iface: string | number, flags = 0): Link {
    const ifindex = typeof iface === "number" ? iface : ifIndex(iface);
    return new Link(onInterface(ifindex, () => linkCreate({ progFd: prog.fd, targetFd: ifindex, attachType: ATTACH_TYPE.XDP, flags })), `xdp on ${iface}`);
  }

  /** tcx ingress or egress on a network interface (6.6+). */
  static tcx(prog: ProgramLike, iface: string | number, direction: "ingress" | "egress"): Link {
    const ifindex = typeof iface === "number" ? iface : ifIndex(iface);
    const t = direction === "ingress" ? ATTACH_TYPE.TCX_INGRESS : ATTACH_TYPE.TCX_EGRESS;
    return new Link(onInterface(ifindex, () => linkCreate({ progFd: prog.fd, targetFd: ifindex, attachType: t, target: { kind: "tcx" } })), `tcx ${direction} on ${iface}`);
  }

  /** A cgroup program on a cgroup v2 directory fd (an OpenFile.cgroup()). */
  static cgroup(prog: ProgramLike, cgroup: { fd: number }, attachType: AttachTypeName | number): Link {
    const t = attachTypeNumber(attachType);
    return new Link(onTarget(cgroup.fd, t, `cgroup ${attachType}`, () => linkCreate({ progFd: prog.fd, targetFd: cgroup.fd, attachType: t })), `cgroup ${attachType}`);
  }

  /**
   * sk_skb (SK_SKB_STREAM_PARSER/STREAM_VERDICT/SK_SKB_VERDICT) and sk_msg (SK_MSG_VERDICT) programs
   * on a SOCKMAP or SOCKHASH, as a sockmap link (6.10+). Attach before adding sockets: a socket
   * takes the map's programs when it enters the map. For older kernels use ProgAttachment.attach.
   */
  static sockmap(prog: ProgramLike, map: { fd: number }, attachType: AttachTypeName | number): Link {
    const t = attachTypeNumber(attachType);
    const what = `sockmap ${attachType}`;
    return new Link(onTarget(map.fd, t, what, () => linkCreate({ progFd: prog.fd, targetFd: map.fd, attachType: t })), what);
  }

  /** sk_lookup (SK_LOOKUP) and flow_dissector (FLOW_DISSECTOR) programs on a network namespace fd. */
  static netns(prog: ProgramLike, netns: { fd: number }, attachType: AttachTypeName | number): Link {
    const t = attachTypeNumber(attachType);
    const what = `netns ${attachType}`;
    return new Link(onTarget(netns.fd, t, what, () => linkCreate({ progFd: prog.fd, targetFd: netns.fd, attachType: t })), what);
  }

  info(): LinkInfo {
    return linkInfo(this.fd);
  }

  pin(path: string): void {
    objPin(this.fd, path);
  }

  /** Remove a pin (the link stays attached while any fd or pin holds it). */
  static unpin(path: string): void {
    unlinkSync(path);
  }

  /** Detach the program now; the fd stays open (a defunct link) until close(). */
  detach(): void {
    linkDetach(this.fd);
  }

  /** Replace the link's program. */
  update(prog: ProgramLike): void {
    linkUpdate(this.fd, prog.fd);
  }
}

/** Run an attach to a map/netns/cgroup fd; when it fails, say what the target fd really is. */
function onTarget(fd: number, attachType: number, what: string, attach: () => number): number {
  try {
    return attach();
  } catch (e) {
    if (e instanceof SysError) throw new SysError(e.command, e.errno, what, {}, targetHint(fd, attachType, e.errno) ?? e.hint);
    throw e;
  }
}

/** Run an interface attach; when it fails because no interface has `ifindex` (XDP says EINVAL), say so. */
function onInterface(ifindex: number, attach: () => number): number {
  try {
    return attach();
  } catch (e) {
    if (e instanceof SysError && !ifIndexExists(ifindex)) {
      throw new SysError(e.command, e.errno, `ifindex ${ifindex}`, {}, "no network interface has this ifindex in this network namespace; list them with `ip link`");
    }
    throw e;
  }
}
