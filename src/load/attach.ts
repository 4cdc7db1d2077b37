// Attach a loaded program the way its section name says (libbpf's auto-attach rules): tracepoints,
// raw_tp, tp_btf/fentry/lsm, kprobes, uprobes, cpu-clock sampling, XDP, tcx and cgroup programs;
// sk_skb/sk_msg and sk_lookup/flow_dissector when the options name their sockmap or netns (libbpf
// never auto-attaches those). Socket filters need a socket only the user's code has: skipped.

import { existsSync, readFileSync } from "node:fs";
import type { ProgramSpec } from "../elf/spec.ts";
import { TsbpfError } from "../errors.ts";
import { ATTACH_TYPE, PROG_TYPE } from "../sys/constants.ts";
import { parseCpuList, possibleCpus } from "./cpus.ts";
import { Link, type ProgramLike } from "./link.ts";
import type { Collection } from "./object.ts";
import { attachAllStructOps, type StructOpsAttachment } from "./struct-ops.ts";
import { OpenFile } from "./target.ts";
import type { BpfMap } from "./map.ts";
import { uprobeOffset } from "./attach-uprobe.ts";

export interface AttachOptions {
  /** Network interface for XDP and tc/tcx programs. */
  iface?: string;
  /** XDP flags (2: generic/SKB mode, 4: driver mode); 0 lets the kernel choose. */
  xdpFlags?: number;
  /** cgroup v2 directory for cgroup programs; default: the cgroup2 mount (/sys/fs/cgroup/unified or /sys/fs/cgroup). */
  cgroup?: string;
  /** Binary and function for uprobes whose section names none (SEC("uprobe")). */
  uprobeBinary?: string;
  uprobeFunc?: string;
  /** Only this process for uprobes (-1: all). */
  uprobePid?: number;
  /** Sampling frequency of perf_event programs, in Hz. */
  perfFreq?: number;
  /**
   * The SOCKMAP/SOCKHASH that sk_skb and sk_msg programs attach to: a map of the collection by name
   * (attachCollection), or any map handle. Without it they are skipped, as libbpf skips them.
   */
  sockmap?: string | { fd: number };
  /**
   * The network namespace sk_lookup and flow_dissector programs attach to: a path
   * (/proc/self/ns/net, /var/run/netns/NAME) or an open namespace fd. Without it they are skipped.
   */
  netns?: string | { fd: number };
}

/** What happened to one program: its links, or why it was not attached. */
export type AttachOutcome =
  | { program: string; section: string; links: Link[] }
  | { program: string; section: string; skipped: string };

function need(what: string | undefined, spec: ProgramSpec, option: string, why: string): string {
  if (what === undefined || what === "") {
    throw new TsbpfError("LOAD_BAD_INPUT", `prog '${spec.name}' (SEC("${spec.section}")) needs ${why}`, {}, `give it with ${option}`);
  }
  return what;
}

/** The cgroup v2 hierarchy's root: /sys/fs/cgroup/unified on hybrid systems, else /sys/fs/cgroup. */
export function defaultCgroup(): string {
  const mounts = existsSync("/proc/mounts") ? readFileSync("/proc/mounts", "utf8") : "";
  const m = /^\S+ (\S+) cgroup2 /m.exec(mounts);
  return m ? m[1] : "/sys/fs/cgroup/unified";
}

function onlineCpus(): number[] {
  try {
    return parseCpuList(readFileSync("/sys/devices/system/cpu/online", "utf8"));
  } catch {
    return possibleCpus();
  }
}

/** "binary:func+off" (libbpf's uprobe/ section tail) → parts; the binary may be an absolute path. */
function parseUprobeTarget(tail: string, spec: ProgramSpec): { binary: string; func: string; offset: bigint } {
  const m = /^(.+):([^:+]*)(?:\+(0x[0-9a-fA-F]+|\d+))?$/.exec(tail);
  if (!m) throw new TsbpfError("LOAD_BAD_INPUT", `prog '${spec.name}': uprobe section '${spec.section}' is not uprobe/BINARY:FUNC[+OFFSET]`, {}, "fix the SEC() name, or use a bare SEC(\"uprobe\") and give --uprobe-binary/--uprobe-func");
  return { binary: m[1], func: m[2], offset: m[3] ? BigInt(m[3]) : 0n };
}

const SKIP: Partial<Record<number, string>> = {
  [PROG_TYPE.SOCKET_FILTER]: "socket filters attach to a socket your own program opens (attachSocket(prog, socket): SO_ATTACH_BPF)",
  [PROG_TYPE.SYSCALL]: "syscall programs are run, not attached: use `tsbpf test-run`",
  [PROG_TYPE.STRUCT_OPS]: "struct_ops programs run from their struct_ops map (registered by attachCollection / attachStructOps)",
  [PROG_TYPE.EXT]: "freplace programs need a target program",
  [PROG_TYPE.SCHED_ACT]: "tc actions attach through a tc filter (netlink)",
  [PROG_TYPE.SK_REUSEPORT]: "sk_reuseport programs attach to a SO_REUSEPORT socket group your own program opens (attachReuseport(prog, socket))",
  [PROG_TYPE.LIRC_MODE2]: "lirc programs attach to a /dev/lirc device",
  [PROG_TYPE.LWT_IN]: "lwt programs attach to a route (ip route … encap bpf)",
  [PROG_TYPE.LWT_OUT]: "lwt programs attach to a route (ip route … encap bpf)",
  [PROG_TYPE.LWT_XMIT]: "lwt programs attach to a route (ip route … encap bpf)",
  [PROG_TYPE.LWT_SEG6LOCAL]: "lwt programs attach to a route (ip route … encap bpf)",
  [PROG_TYPE.NETFILTER]: "netfilter programs need a hook, family and priority",
};

/**
 * Attach one program by its section. Returns the links, or a reason when the program has no
 * target the section can name. Failures are SysError/TsbpfError (no link left behind).
 */
export function attachBySection(prog: ProgramLike, spec: ProgramSpec, opts: AttachOptions = {}, maps?: ReadonlyMap<string, BpfMap>): Link[] | { skipped: string } {
  const sec = spec.section;
  const tail = spec.attachTo;
  const t = spec.type;
  const skip = SKIP[t];
  if (skip) return { skipped: skip };
  switch (t) {
    case PROG_TYPE.TRACEPOINT: {
      const i = tail.indexOf("/");
      if (i <= 0) throw new TsbpfError("LOAD_BAD_INPUT", `prog '${spec.name}': tracepoint section '${sec}' names no CATEGORY/NAME`, {}, "use SEC(\"tracepoint/syscalls/sys_enter_openat\")");
      return [Link.tracepoint(prog, tail.slice(0, i), tail.slice(i + 1))];
    }
    case PROG_TYPE.RAW_TRACEPOINT:
    case PROG_TYPE.RAW_TRACEPOINT_WRITABLE:
      if (!tail) throw new TsbpfError("LOAD_BAD_INPUT", `prog '${spec.name}': raw tracepoint section '${sec}' names no tracepoint`, {}, "use SEC(\"raw_tp/sys_enter\")");
      return [Link.rawTracepoint(prog, tail)];
    case PROG_TYPE.TRACING:
    case PROG_TYPE.LSM:
      if (spec.expectedAttachType === ATTACH_TYPE.TRACE_ITER) return { skipped: "iterators are read through an iter link (bpftool iter pin)" };
      return [Link.tracing(prog)];
    case PROG_TYPE.KPROBE:
      return attachProbe(prog, spec, opts);
    case PROG_TYPE.PERF_EVENT: {
      const freq = opts.perfFreq ?? 49;
      const links: Link[] = [];
      try {
        for (const cpu of onlineCpus()) links.push(Link.cpuClock(prog, cpu, freq));
      } catch (e) {
        for (const l of links) l.close();
        throw e;
      }
      return links;
    }
    case PROG_TYPE.XDP:
      if (spec.expectedAttachType === ATTACH_TYPE.XDP_DEVMAP || spec.expectedAttachType === ATTACH_TYPE.XDP_CPUMAP) {
        return { skipped: "devmap/cpumap XDP programs run from their map's entries" };
      }
      return [Link.xdp(prog, need(opts.iface, spec, "--iface IF", "a network interface"), opts.xdpFlags ?? 0)];
    case PROG_TYPE.SCHED_CLS: {
      const iface = need(opts.iface, spec, "--iface IF", "a network interface");
      // Bare SEC("tc")/("classifier") names no direction: ingress, where the course's classifiers sit.
      return [Link.tcx(prog, iface, spec.expectedAttachType === ATTACH_TYPE.TCX_EGRESS ? "egress" : "ingress")];
    }
    case PROG_TYPE.CGROUP_SKB:
    case PROG_TYPE.CGROUP_SOCK:
    case PROG_TYPE.CGROUP_SOCK_ADDR:
    case PROG_TYPE.CGROUP_DEVICE:
    case PROG_TYPE.CGROUP_SYSCTL:
    case PROG_TYPE.CGROUP_SOCKOPT:
    case PROG_TYPE.SOCK_OPS: {
      if (t === PROG_TYPE.CGROUP_SKB && sec === "cgroup/skb") return { skipped: "SEC(\"cgroup/skb\") names no direction (use cgroup_skb/ingress or cgroup_skb/egress)" };
      using cg = OpenFile.cgroup(opts.cgroup ?? defaultCgroup());
      return [Link.cgroup(prog, cg, spec.expectedAttachType)];
    }
    case PROG_TYPE.SK_SKB:
    case PROG_TYPE.SK_MSG: {
      if (sec === "sk_skb") return { skipped: "SEC(\"sk_skb\") names no attach point (use sk_skb/stream_parser, sk_skb/stream_verdict or sk_skb/verdict)" };
      if (opts.sockmap === undefined) return { skipped: "sk_skb and sk_msg programs attach to a sockmap: name it with the sockmap option (libbpf does not auto-attach them)" };
      return [Link.sockmap(prog, sockmapOf(opts.sockmap, spec, maps), spec.expectedAttachType)];
    }
    case PROG_TYPE.SK_LOOKUP:
    case PROG_TYPE.FLOW_DISSECTOR: {
      if (opts.netns === undefined) return { skipped: "sk_lookup and flow_dissector programs attach to a network namespace: name it with the netns option, e.g. /proc/self/ns/net (libbpf does not auto-attach them)" };
      if (typeof opts.netns !== "string") return [Link.netns(prog, opts.netns, spec.expectedAttachType)];
      using ns = OpenFile.open(opts.netns);
      return [Link.netns(prog, ns, spec.expectedAttachType)];
    }
    default:
      return { skipped: `no attach rule for SEC("${sec}") (program type ${t})` };
  }
}

/** The sockmap option as a map: a handle as given, or a name looked up among the collection's maps. */
function sockmapOf(m: string | { fd: number }, spec: ProgramSpec, maps: ReadonlyMap<string, BpfMap> | undefined): { fd: number } {
  if (typeof m !== "string") return m;
  const found = maps?.get(m);
  if (found) return found;
  throw new TsbpfError("LOAD_BAD_INPUT", `prog '${spec.name}' (SEC("${spec.section}")): no map named '${m}' to attach to`, {},
    maps ? `the object's maps: ${[...maps.keys()].join(", ") || "none"}` : "a map name needs the collection: use attachCollection, or pass the map itself");
}

function attachProbe(prog: ProgramLike, spec: ProgramSpec, opts: AttachOptions): Link[] | { skipped: string } {
  const sec = spec.section;
  const tail = spec.attachTo;
  if (spec.expectedAttachType !== 0) return { skipped: `multi/session probes (SEC("${sec}")) are not attached by section yet` };
  if (spec.sectionFlags.includes("usdt")) return { skipped: "USDT probes need the binary's .note.stapsdt notes" };
  const retprobe = /^(kretprobe|uretprobe|kretsyscall)/.test(sec);
  if (/^u(ret)?probe/.test(sec)) {
    let binary = opts.uprobeBinary, func = opts.uprobeFunc ?? "", offset = 0n;
    if (tail) ({ binary, func, offset } = parseUprobeTarget(tail, spec));
    const path = need(binary, spec, "--uprobe-binary PATH (and --uprobe-func SYMBOL)", "a binary to probe");
    const fileOff = func ? uprobeOffset(path, func, offset) : offset;
    return [Link.uprobe(prog, path, fileOff, { retprobe, ...(opts.uprobePid !== undefined ? { pid: opts.uprobePid } : {}) })];
  }
  if (/^k(ret)?syscall/.test(sec)) {
    return [Link.kprobe(prog, `__x64_sys_${need(tail, spec, "a SEC(\"ksyscall/NAME\")", "a system call name")}`, { retprobe })];
  }
  const m = /^([^+]+)(?:\+(0x[0-9a-fA-F]+|\d+))?$/.exec(tail);
  if (!m) throw new TsbpfError("LOAD_BAD_INPUT", `prog '${spec.name}': kprobe section '${sec}' names no function`, {}, "use SEC(\"kprobe/do_sys_openat2\")");
  return [Link.kprobe(prog, m[1], { retprobe, offset: m[2] ? BigInt(m[2]) : 0n })];
}

/** Every attachment of a collection; close() detaches them all (in reverse order). */
export class Attachments implements Disposable {
  readonly outcomes: AttachOutcome[] = [];
  /** The collection's struct_ops maps, registered (their programs run from there). */
  readonly structOps: StructOpsAttachment[] = [];

  get links(): Link[] {
    return this.outcomes.flatMap((o) => ("links" in o ? o.links : []));
  }

  close(): void {
    for (const s of this.structOps.splice(0).reverse()) s.handle.close();
    for (const l of this.links.reverse()) l.close();
    this.outcomes.length = 0;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Attach every loaded program of `coll` by its section; all or nothing on failure. */
export function attachCollection(coll: Collection, opts: AttachOptions = {}): Attachments {
  const out = new Attachments();
  try {
    for (const [name, prog] of coll.programs) {
      const spec = coll.specs.get(name)?.spec;
      if (!spec) continue;
      const r = attachBySection(prog, spec, opts, coll.maps);
      out.outcomes.push(Array.isArray(r) ? { program: name, section: spec.section, links: r } : { program: name, section: spec.section, skipped: r.skipped });
    }
    // As libbpf's skeleton attach does: every struct_ops map is registered with the kernel.
    out.structOps.push(...attachAllStructOps(coll));
    return out;
  } catch (e) {
    out.close();
    throw e;
  }
}
