// perf_event_open(2) for what BPF attaches to: tracepoints (id from tracefs), uprobes (the
// dynamic "uprobe" PMU), software cpu-clock sampling; and the perf ioctls (enable, disable,
// SET_BPF). struct perf_event_attr layout from include/uapi/linux/perf_event.h (VER7, 128 bytes).

import { existsSync, readFileSync } from "node:fs";
import { TsbpfError } from "../errors.ts";
import { Attr, cstring } from "./attr.ts";
import { door } from "./door.ts";
import { SysError } from "./errno.ts";

/** __NR_perf_event_open and __NR_mount on x86_64. */
export const NR_PERF_EVENT_OPEN = 298;
const NR_MOUNT = 165;

export const PERF_TYPE = { HARDWARE: 0, SOFTWARE: 1, TRACEPOINT: 2, HW_CACHE: 3, RAW: 4, BREAKPOINT: 5 } as const;
export const PERF_COUNT_SW = { CPU_CLOCK: 0, TASK_CLOCK: 1, PAGE_FAULTS: 2, CONTEXT_SWITCHES: 3, BPF_OUTPUT: 10 } as const;
export const PERF_SAMPLE = { IP: 1 << 0, TID: 1 << 1, TIME: 1 << 2, RAW: 1 << 10 } as const;
const PERF_FLAG_FD_CLOEXEC = 1 << 3;
const PERF_ATTR_SIZE = 128;

/** ioctl numbers: _IO('$', n) and _IOW('$', 8, __u32). */
export const PERF_IOC = { ENABLE: 0x2400, DISABLE: 0x2401, RESET: 0x2403, SET_BPF: 0x40042408 } as const;

/** The bits of perf_event_attr's flag word that we set (bit positions from the header). */
export const PERF_ATTR_FLAG = { disabled: 1n << 0n, inherit: 1n << 1n, exclude_kernel: 1n << 5n, exclude_hv: 1n << 6n, freq: 1n << 10n, watermark: 1n << 14n } as const;

export interface PerfEventAttr {
  type: number;
  config?: bigint;
  /** sample_period, or sample_freq when `flags` has freq. */
  sample?: bigint;
  sampleType?: bigint;
  flags?: bigint;
  wakeupEvents?: number;
  /** uprobe: pointer to the path; kprobe: function name. Set via openUprobe. */
  config1?: bigint;
  config2?: bigint;
}

/** perf_event_open(attr, pid, cpu, group_fd, PERF_FLAG_FD_CLOEXEC) → fd. */
export function perfEventOpen(a: PerfEventAttr, pid: number, cpu: number, groupFd = -1, keep: ArrayBufferView[] = []): number {
  const w = new Attr(PERF_ATTR_SIZE);
  w.u32(0, a.type).u32(4, PERF_ATTR_SIZE).u64(8, a.config ?? 0n).u64(16, a.sample ?? 0n)
    .u64(24, a.sampleType ?? 0n).u64(40, a.flags ?? 0n).u32(48, a.wakeupEvents ?? 0)
    .u64(56, a.config1 ?? 0n).u64(64, a.config2 ?? 0n);
  const r = door().syscall(NR_PERF_EVENT_OPEN, door().address(w.bytes), pid, cpu, groupFd, PERF_FLAG_FD_CLOEXEC);
  void keep; // buffers config1 points into stay reachable until here
  if (r < 0) throw new SysError("perf_event_open", -r, `type ${a.type}, config ${a.config ?? 0n}`);
  return r;
}

function ioctl(fd: number, req: number, arg: number, what: string): void {
  const r = door().ioctl(fd, req, arg);
  if (r < 0) throw new SysError(`ioctl ${what}`, -r, `perf fd ${fd}`);
}

export const perfEnable = (fd: number) => ioctl(fd, PERF_IOC.ENABLE, 0, "PERF_EVENT_IOC_ENABLE");
export const perfDisable = (fd: number) => ioctl(fd, PERF_IOC.DISABLE, 0, "PERF_EVENT_IOC_DISABLE");
/** Attach a program the pre-link way (kernels without BPF_LINK_CREATE for perf events). */
export const perfSetBpf = (fd: number, progFd: number) => ioctl(fd, PERF_IOC.SET_BPF, progFd, "PERF_EVENT_IOC_SET_BPF");

const TRACEFS = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

/** Where tracefs is mounted; mounts it at /sys/kernel/tracing if it is nowhere. */
export function tracefsRoot(): string {
  for (const root of TRACEFS) if (existsSync(`${root}/events`)) return root;
  const [src, target, type] = [cstring("tracefs"), cstring(TRACEFS[0]), cstring("tracefs")];
  const d = door();
  const r = d.syscall(NR_MOUNT, d.address(src), d.address(target), d.address(type), 0, 0);
  if (r < 0) throw new SysError("mount tracefs", -r, TRACEFS[0], {}, "tracefs is needed for tracepoint ids; mount it: mount -t tracefs tracefs /sys/kernel/tracing");
  return TRACEFS[0];
}

const NAME = /^[A-Za-z0-9_.-]+$/;

/** The id of tracepoint category:name from tracefs (events/<category>/<name>/id). */
export function tracepointId(category: string, name: string): number {
  if (!NAME.test(category) || !NAME.test(name)) {
    throw new TsbpfError("LOAD_BAD_INPUT", `bad tracepoint name ${category}:${name}`, {}, "tracepoint categories and names are letters, digits, _ . -");
  }
  const root = tracefsRoot();
  const path = `${root}/events/${category}/${name}/id`;
  if (!existsSync(path)) {
    throw new TsbpfError("LOAD_BAD_INPUT", `no tracepoint ${category}:${name}`, { file: path }, `list ${root}/events/${category}/ for the tracepoints this kernel has`);
  }
  return Number(readFileSync(path, "utf8").trim());
}

/** A perf event on tracepoint category:name (pid -1, one CPU: the BPF program still sees every CPU). */
export function openTracepoint(category: string, name: string, cpu = 0): number {
  return perfEventOpen({ type: PERF_TYPE.TRACEPOINT, config: BigInt(tracepointId(category, name)), sample: 1n, wakeupEvents: 1 }, -1, cpu);
}

/** Software cpu-clock sampling at `freq` Hz on one CPU, for perf_event programs (profilers). */
export function openCpuClock(cpu: number, freq: number): number {
  return perfEventOpen({ type: PERF_TYPE.SOFTWARE, config: BigInt(PERF_COUNT_SW.CPU_CLOCK), sample: BigInt(freq), flags: PERF_ATTR_FLAG.freq }, -1, cpu);
}

function pmuType(pmu: string): number {
  const path = `/sys/bus/event_source/devices/${pmu}/type`;
  if (!existsSync(path)) {
    throw new TsbpfError("LOAD_BAD_INPUT", `this kernel cannot attach ${pmu}s: it has no ${pmu} PMU`, { file: path },
      `the kernel was built without CONFIG_${pmu.toUpperCase()}_EVENTS${pmu === "kprobe" ? " (or kprobes at all); tracepoints, raw_tp or tp_btf programs can often observe the same events" : ""}`);
  }
  return Number(readFileSync(path, "utf8").trim());
}

/** The bit a PMU's format file names for retprobe ("config:0"). */
function retprobeBit(pmu: string): bigint {
  const path = `/sys/bus/event_source/devices/${pmu}/format/retprobe`;
  const m = existsSync(path) ? /^config:(\d+)$/.exec(readFileSync(path, "utf8").trim()) : null;
  if (!m) throw new TsbpfError("LOAD_BAD_INPUT", `${pmu} PMU has no retprobe format`, { file: path });
  return 1n << BigInt(m[1]);
}

/** A uprobe (or uretprobe) at file offset `offset` of `binary`, for `pid` (-1: every process). */
export function openUprobe(binary: string, offset: bigint, opts: { retprobe?: boolean; pid?: number; cpu?: number } = {}): number {
  const path = cstring(binary);
  const pid = opts.pid ?? -1;
  return perfEventOpen({
    type: pmuType("uprobe"),
    config: opts.retprobe ? retprobeBit("uprobe") : 0n,
    config1: BigInt(door().address(path)),
    config2: offset,
    sample: 1n,
  }, pid, pid === -1 ? (opts.cpu ?? 0) : -1, -1, [path]);
}

/** A kprobe (or kretprobe) on kernel function `func` + `offset`, through the dynamic kprobe PMU. */
export function openKprobe(func: string, opts: { offset?: bigint; retprobe?: boolean; cpu?: number } = {}): number {
  const type = pmuType("kprobe");
  const name = cstring(func);
  return perfEventOpen({
    type,
    config: opts.retprobe ? retprobeBit("kprobe") : 0n,
    config1: BigInt(door().address(name)),
    config2: opts.offset ?? 0n,
    sample: 1n,
  }, -1, opts.cpu ?? 0, -1, [name]);
}
