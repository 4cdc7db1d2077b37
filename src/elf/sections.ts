// Section names → program type, expected attach type, attach target and load flags: libbpf's
// SEC() conventions. The table is section_defs[] of libbpf/src/libbpf.c (github.com/libbpf/libbpf
// at f7081a6), rewritten as data; matching follows libbpf's sec_def_matches(): first match wins.

import { ATTACH_TYPE, PROG_TYPE, type AttachTypeName, type ProgTypeName } from "./uapi.ts";

/** libbpf's SEC_* flags, by name. */
export type SectionFlag =
  | "attachable" // legacy marker for BPF_PROG_ATTACH-able types
  | "expAttachOpt" // the expected attach type may be dropped on kernels that refuse it
  | "attachBtf" // the attach target is a BTF id named after the '/'
  | "sleepable" // BPF_F_SLEEPABLE
  | "xdpFrags" // BPF_F_XDP_HAS_FRAGS
  | "usdt"; // USDT probe (a uprobe program)

/**
 * One convention: the pattern is exact ("xdp"), a prefix that must be followed by '/' or nothing
 * ("kprobe+"), or a prefix that requires more text ("type/").
 */
export type SectionDef = readonly [pattern: string, prog: ProgTypeName, attach: AttachTypeName | null, flags: readonly SectionFlag[]];

export const SECTION_DEFS: readonly SectionDef[] = [
  ["socket", "SOCKET_FILTER", null, []],
  ["sk_reuseport/migrate", "SK_REUSEPORT", "SK_REUSEPORT_SELECT_OR_MIGRATE", ["attachable"]],
  ["sk_reuseport", "SK_REUSEPORT", "SK_REUSEPORT_SELECT", ["attachable"]],
  ["kprobe+", "KPROBE", null, []],
  ["uprobe+", "KPROBE", null, []],
  ["uprobe.s+", "KPROBE", null, ["sleepable"]],
  ["kretprobe+", "KPROBE", null, []],
  ["uretprobe+", "KPROBE", null, []],
  ["uretprobe.s+", "KPROBE", null, ["sleepable"]],
  ["kprobe.multi+", "KPROBE", "TRACE_KPROBE_MULTI", []],
  ["kretprobe.multi+", "KPROBE", "TRACE_KPROBE_MULTI", []],
  ["kprobe.session+", "KPROBE", "TRACE_KPROBE_SESSION", []],
  ["uprobe.multi+", "KPROBE", "TRACE_UPROBE_MULTI", []],
  ["uretprobe.multi+", "KPROBE", "TRACE_UPROBE_MULTI", []],
  ["uprobe.session+", "KPROBE", "TRACE_UPROBE_SESSION", []],
  ["uprobe.multi.s+", "KPROBE", "TRACE_UPROBE_MULTI", ["sleepable"]],
  ["uretprobe.multi.s+", "KPROBE", "TRACE_UPROBE_MULTI", ["sleepable"]],
  ["uprobe.session.s+", "KPROBE", "TRACE_UPROBE_SESSION", ["sleepable"]],
  ["ksyscall+", "KPROBE", null, []],
  ["kretsyscall+", "KPROBE", null, []],
  ["usdt+", "KPROBE", null, ["usdt"]],
  ["usdt.s+", "KPROBE", null, ["usdt", "sleepable"]],
  ["tc/ingress", "SCHED_CLS", "TCX_INGRESS", []],
  ["tc/egress", "SCHED_CLS", "TCX_EGRESS", []],
  ["tcx/ingress", "SCHED_CLS", "TCX_INGRESS", []],
  ["tcx/egress", "SCHED_CLS", "TCX_EGRESS", []],
  ["tc", "SCHED_CLS", null, []],
  ["classifier", "SCHED_CLS", null, []],
  ["action", "SCHED_ACT", null, []],
  ["netkit/primary", "SCHED_CLS", "NETKIT_PRIMARY", []],
  ["netkit/peer", "SCHED_CLS", "NETKIT_PEER", []],
  ["tracepoint+", "TRACEPOINT", null, []],
  ["tp+", "TRACEPOINT", null, []],
  ["tracepoint.s+", "TRACEPOINT", null, ["sleepable"]],
  ["tp.s+", "TRACEPOINT", null, ["sleepable"]],
  ["raw_tracepoint+", "RAW_TRACEPOINT", null, []],
  ["raw_tp+", "RAW_TRACEPOINT", null, []],
  ["raw_tracepoint.s+", "RAW_TRACEPOINT", null, ["sleepable"]],
  ["raw_tp.s+", "RAW_TRACEPOINT", null, ["sleepable"]],
  ["raw_tracepoint.w+", "RAW_TRACEPOINT_WRITABLE", null, []],
  ["raw_tp.w+", "RAW_TRACEPOINT_WRITABLE", null, []],
  ["tp_btf+", "TRACING", "TRACE_RAW_TP", ["attachBtf"]],
  ["tp_btf.s+", "TRACING", "TRACE_RAW_TP", ["attachBtf", "sleepable"]],
  ["fentry+", "TRACING", "TRACE_FENTRY", ["attachBtf"]],
  ["fmod_ret+", "TRACING", "MODIFY_RETURN", ["attachBtf"]],
  ["fexit+", "TRACING", "TRACE_FEXIT", ["attachBtf"]],
  ["fentry.s+", "TRACING", "TRACE_FENTRY", ["attachBtf", "sleepable"]],
  ["fmod_ret.s+", "TRACING", "MODIFY_RETURN", ["attachBtf", "sleepable"]],
  ["fexit.s+", "TRACING", "TRACE_FEXIT", ["attachBtf", "sleepable"]],
  ["fsession+", "TRACING", "TRACE_FSESSION", ["attachBtf"]],
  ["fsession.s+", "TRACING", "TRACE_FSESSION", ["attachBtf", "sleepable"]],
  ["fsession.multi+", "TRACING", "TRACE_FSESSION_MULTI", []],
  ["fsession.multi.s+", "TRACING", "TRACE_FSESSION_MULTI", ["sleepable"]],
  ["fentry.multi+", "TRACING", "TRACE_FENTRY_MULTI", []],
  ["fexit.multi+", "TRACING", "TRACE_FEXIT_MULTI", []],
  ["fentry.multi.s+", "TRACING", "TRACE_FENTRY_MULTI", ["sleepable"]],
  ["fexit.multi.s+", "TRACING", "TRACE_FEXIT_MULTI", ["sleepable"]],
  ["freplace+", "EXT", null, ["attachBtf"]],
  ["lsm+", "LSM", "LSM_MAC", ["attachBtf"]],
  ["lsm.s+", "LSM", "LSM_MAC", ["attachBtf", "sleepable"]],
  ["lsm_cgroup+", "LSM", "LSM_CGROUP", ["attachBtf"]],
  ["iter+", "TRACING", "TRACE_ITER", ["attachBtf"]],
  ["iter.s+", "TRACING", "TRACE_ITER", ["attachBtf", "sleepable"]],
  ["syscall", "SYSCALL", null, ["sleepable"]],
  ["xdp.frags/devmap", "XDP", "XDP_DEVMAP", ["xdpFrags"]],
  ["xdp/devmap", "XDP", "XDP_DEVMAP", ["attachable"]],
  ["xdp.frags/cpumap", "XDP", "XDP_CPUMAP", ["xdpFrags"]],
  ["xdp/cpumap", "XDP", "XDP_CPUMAP", ["attachable"]],
  ["xdp.frags", "XDP", "XDP", ["xdpFrags"]],
  ["xdp", "XDP", "XDP", ["attachable", "expAttachOpt"]],
  ["perf_event", "PERF_EVENT", null, []],
  ["lwt_in", "LWT_IN", null, []],
  ["lwt_out", "LWT_OUT", null, []],
  ["lwt_xmit", "LWT_XMIT", null, []],
  ["lwt_seg6local", "LWT_SEG6LOCAL", null, []],
  ["sockops", "SOCK_OPS", "CGROUP_SOCK_OPS", ["attachable", "expAttachOpt"]],
  ["sk_skb/stream_parser", "SK_SKB", "SK_SKB_STREAM_PARSER", ["attachable", "expAttachOpt"]],
  ["sk_skb/stream_verdict", "SK_SKB", "SK_SKB_STREAM_VERDICT", ["attachable", "expAttachOpt"]],
  ["sk_skb/verdict", "SK_SKB", "SK_SKB_VERDICT", ["attachable", "expAttachOpt"]],
  ["sk_skb", "SK_SKB", null, []],
  ["sk_msg", "SK_MSG", "SK_MSG_VERDICT", ["attachable", "expAttachOpt"]],
  ["lirc_mode2", "LIRC_MODE2", "LIRC_MODE2", ["attachable", "expAttachOpt"]],
  ["flow_dissector", "FLOW_DISSECTOR", "FLOW_DISSECTOR", ["attachable", "expAttachOpt"]],
  ["cgroup_skb/ingress", "CGROUP_SKB", "CGROUP_INET_INGRESS", ["attachable", "expAttachOpt"]],
  ["cgroup_skb/egress", "CGROUP_SKB", "CGROUP_INET_EGRESS", ["attachable", "expAttachOpt"]],
  ["cgroup/skb", "CGROUP_SKB", null, []],
  ["cgroup/sock_create", "CGROUP_SOCK", "CGROUP_INET_SOCK_CREATE", ["attachable"]],
  ["cgroup/sock_release", "CGROUP_SOCK", "CGROUP_INET_SOCK_RELEASE", ["attachable"]],
  ["cgroup/sock", "CGROUP_SOCK", "CGROUP_INET_SOCK_CREATE", ["attachable", "expAttachOpt"]],
  ["cgroup/post_bind4", "CGROUP_SOCK", "CGROUP_INET4_POST_BIND", ["attachable"]],
  ["cgroup/post_bind6", "CGROUP_SOCK", "CGROUP_INET6_POST_BIND", ["attachable"]],
  ["cgroup/bind4", "CGROUP_SOCK_ADDR", "CGROUP_INET4_BIND", ["attachable"]],
  ["cgroup/bind6", "CGROUP_SOCK_ADDR", "CGROUP_INET6_BIND", ["attachable"]],
  ["cgroup/connect4", "CGROUP_SOCK_ADDR", "CGROUP_INET4_CONNECT", ["attachable"]],
  ["cgroup/connect6", "CGROUP_SOCK_ADDR", "CGROUP_INET6_CONNECT", ["attachable"]],
  ["cgroup/connect_unix", "CGROUP_SOCK_ADDR", "CGROUP_UNIX_CONNECT", ["attachable"]],
  ["cgroup/sendmsg4", "CGROUP_SOCK_ADDR", "CGROUP_UDP4_SENDMSG", ["attachable"]],
  ["cgroup/sendmsg6", "CGROUP_SOCK_ADDR", "CGROUP_UDP6_SENDMSG", ["attachable"]],
  ["cgroup/sendmsg_unix", "CGROUP_SOCK_ADDR", "CGROUP_UNIX_SENDMSG", ["attachable"]],
  ["cgroup/recvmsg4", "CGROUP_SOCK_ADDR", "CGROUP_UDP4_RECVMSG", ["attachable"]],
  ["cgroup/recvmsg6", "CGROUP_SOCK_ADDR", "CGROUP_UDP6_RECVMSG", ["attachable"]],
  ["cgroup/recvmsg_unix", "CGROUP_SOCK_ADDR", "CGROUP_UNIX_RECVMSG", ["attachable"]],
  ["cgroup/getpeername4", "CGROUP_SOCK_ADDR", "CGROUP_INET4_GETPEERNAME", ["attachable"]],
  ["cgroup/getpeername6", "CGROUP_SOCK_ADDR", "CGROUP_INET6_GETPEERNAME", ["attachable"]],
  ["cgroup/getpeername_unix", "CGROUP_SOCK_ADDR", "CGROUP_UNIX_GETPEERNAME", ["attachable"]],
  ["cgroup/getsockname4", "CGROUP_SOCK_ADDR", "CGROUP_INET4_GETSOCKNAME", ["attachable"]],
  ["cgroup/getsockname6", "CGROUP_SOCK_ADDR", "CGROUP_INET6_GETSOCKNAME", ["attachable"]],
  ["cgroup/getsockname_unix", "CGROUP_SOCK_ADDR", "CGROUP_UNIX_GETSOCKNAME", ["attachable"]],
  ["cgroup/sysctl", "CGROUP_SYSCTL", "CGROUP_SYSCTL", ["attachable"]],
  ["cgroup/getsockopt", "CGROUP_SOCKOPT", "CGROUP_GETSOCKOPT", ["attachable"]],
  ["cgroup/setsockopt", "CGROUP_SOCKOPT", "CGROUP_SETSOCKOPT", ["attachable"]],
  ["cgroup/dev", "CGROUP_DEVICE", "CGROUP_DEVICE", ["attachable", "expAttachOpt"]],
  ["struct_ops+", "STRUCT_OPS", null, []],
  ["struct_ops.s+", "STRUCT_OPS", null, ["sleepable"]],
  ["sk_lookup", "SK_LOOKUP", "SK_LOOKUP", ["attachable"]],
  ["netfilter", "NETFILTER", "NETFILTER", []],
];

/** BPF_F_SLEEPABLE and BPF_F_XDP_HAS_FRAGS (include/uapi/linux/bpf.h). */
export const PROG_F_SLEEPABLE = 1 << 4;
export const PROG_F_XDP_HAS_FRAGS = 1 << 5;

export interface SectionInfo {
  /** The section name with a leading '?' (libbpf's "do not autoload") removed. */
  section: string;
  /** False when the section name started with '?'. */
  autoload: boolean;
  /** The matched convention, or undefined when libbpf would not recognise the name either. */
  def: SectionDef | undefined;
  progType: number;
  expectedAttachType: number;
  /** What follows the matched prefix and its '/': "syscalls/sys_enter_write", "do_unlinkat", "". */
  attachTo: string;
  /** prog_flags libbpf sets for this convention. */
  progFlags: number;
  flags: readonly SectionFlag[];
}

export function sectionMatches(pattern: string, name: string): boolean {
  const last = pattern[pattern.length - 1];
  if (last === "/") return name.startsWith(pattern);
  if (last === "+") {
    const p = pattern.slice(0, -1);
    return name.startsWith(p) && (name.length === p.length || name[p.length] === "/");
  }
  return name === pattern;
}

/** Classify a program section name the way libbpf does when it opens an object. */
export function classifySection(rawName: string): SectionInfo {
  const autoload = !rawName.startsWith("?");
  const section = autoload ? rawName : rawName.slice(1);
  const def = SECTION_DEFS.find(([pattern]) => sectionMatches(pattern, section));
  if (!def) {
    return { section, autoload, def, progType: PROG_TYPE.UNSPEC, expectedAttachType: 0, attachTo: "", progFlags: 0, flags: [] };
  }
  const [pattern, prog, attach, flags] = def;
  const stem = pattern.endsWith("+") || pattern.endsWith("/") ? pattern.replace(/[+/]$/, "") : pattern;
  const rest = section.slice(stem.length);
  const attachTo = rest.startsWith("/") ? rest.slice(1) : rest;
  let progFlags = 0;
  if (flags.includes("sleepable")) progFlags |= PROG_F_SLEEPABLE;
  if (flags.includes("xdpFrags")) progFlags |= PROG_F_XDP_HAS_FRAGS;
  return {
    section,
    autoload,
    def,
    progType: PROG_TYPE[prog],
    expectedAttachType: attach === null ? 0 : ATTACH_TYPE[attach],
    attachTo,
    progFlags,
    flags,
  };
}
