// The system facts `bpftool feature probe kernel` prints before probing: the BPF sysctls under
// /proc/sys and the BPF-related options of the kernel's build configuration (/boot/config-<release>
// or /proc/config.gz). Reading files only; parsing kept in small pure functions.

import { existsSync, readFileSync } from "node:fs";
import { gunzip, kernelRelease } from "../link/kconfig.ts";

/** The sysctls bpftool reads, in its order, with their JSON keys. -1: unreadable (bpftool's value too). */
export interface Sysctls {
  unprivileged_bpf_disabled: number;
  bpf_jit_enable: number;
  bpf_jit_harden: number;
  bpf_jit_kallsyms: number;
  bpf_jit_limit: number;
}

export const SYSCTL_PATHS: Readonly<Record<keyof Sysctls, string>> = {
  unprivileged_bpf_disabled: "/proc/sys/kernel/unprivileged_bpf_disabled",
  bpf_jit_enable: "/proc/sys/net/core/bpf_jit_enable",
  bpf_jit_harden: "/proc/sys/net/core/bpf_jit_harden",
  bpf_jit_kallsyms: "/proc/sys/net/core/bpf_jit_kallsyms",
  bpf_jit_limit: "/proc/sys/net/core/bpf_jit_limit",
};

/**
 * The build options bpftool reports (tools/bpf/bpftool/feature.c, probe_kernel_image_config), in
 * its order: BPF itself and its JIT, BTF, cgroups, tracing, networking, and CONFIG_HZ (for
 * bpf_jiffies64 conversions).
 */
export const CONFIG_OPTIONS: readonly string[] = [
  "CONFIG_BPF", "CONFIG_BPF_SYSCALL", "CONFIG_HAVE_EBPF_JIT", "CONFIG_BPF_JIT", "CONFIG_BPF_JIT_ALWAYS_ON",
  "CONFIG_DEBUG_INFO_BTF", "CONFIG_DEBUG_INFO_BTF_MODULES",
  "CONFIG_CGROUPS", "CONFIG_CGROUP_BPF", "CONFIG_CGROUP_NET_CLASSID", "CONFIG_SOCK_CGROUP_DATA",
  "CONFIG_BPF_EVENTS", "CONFIG_KPROBE_EVENTS", "CONFIG_UPROBE_EVENTS", "CONFIG_TRACING", "CONFIG_FTRACE_SYSCALLS",
  "CONFIG_FUNCTION_ERROR_INJECTION", "CONFIG_BPF_KPROBE_OVERRIDE",
  "CONFIG_NET", "CONFIG_XDP_SOCKETS", "CONFIG_LWTUNNEL_BPF", "CONFIG_NET_ACT_BPF", "CONFIG_NET_CLS_BPF",
  "CONFIG_NET_CLS_ACT", "CONFIG_NET_SCH_INGRESS", "CONFIG_XFRM", "CONFIG_IP_ROUTE_CLASSID", "CONFIG_IPV6_SEG6_BPF",
  "CONFIG_BPF_LIRC_MODE2", "CONFIG_BPF_STREAM_PARSER", "CONFIG_NETFILTER_XT_MATCH_BPF", "CONFIG_BPFILTER",
  "CONFIG_BPFILTER_UMH",
  "CONFIG_TEST_BPF",
  "CONFIG_HZ",
];

export interface KernelConfig {
  /** The file the options came from, or undefined when none could be read. */
  source: string | undefined;
  /** Why no file was used (bpftool prints the same on stderr and reports every option unset). */
  problem: string | undefined;
  /** Each of CONFIG_OPTIONS: its value ("y", "m", "250"), or null when not set. */
  values: Map<string, string | null>;
}

export interface SystemConfig {
  /** Undefined when /proc is not procfs (bpftool skips the sysctls then). */
  sysctls: Sysctls | undefined;
  config: KernelConfig;
}

/** A sysctl file's value the way bpftool reads it: a base-10 integer ending its first line, else -1. */
export function parseSysctl(text: string): number {
  const nl = text.indexOf("\n");
  if (nl <= 0) return -1;
  const line = text.slice(0, nl);
  return /^\s*[+-]?\d+$/.test(line) ? Number.parseInt(line, 10) : -1;
}

export function readSysctl(path: string): number {
  try {
    return parseSysctl(readFileSync(path, "latin1"));
  } catch {
    return -1;
  }
}

export function readSysctls(): Sysctls {
  const out = {} as Sysctls;
  for (const [k, p] of Object.entries(SYSCTL_PATHS) as [keyof Sysctls, string][]) out[k] = readSysctl(p);
  return out;
}

const CONFIG_MARK = "# Automatically generated file; DO NOT EDIT.";

/**
 * The values of `wanted` in a kernel .config text. Only "CONFIG_X=value" lines count (the first for
 * each name); "# CONFIG_X is not set" and empty values leave the option null. Returns undefined when
 * the second line is not Kconfig's mark — then the file is not a kernel configuration.
 */
export function parseKernelConfig(text: string, wanted: readonly string[]): Map<string, string | null> | undefined {
  const lines = text.split("\n");
  if (lines.length < 2 || lines[1] !== CONFIG_MARK) return undefined;
  const want = new Set(wanted);
  const values = new Map<string, string | null>(wanted.map((n) => [n, null]));
  for (const line of lines) {
    if (!line.startsWith("CONFIG_")) continue;
    const eq = line.indexOf("=");
    if (eq < 0 || eq === line.length - 1) continue;
    const name = line.slice(0, eq);
    if (want.has(name) && values.get(name) === null) values.set(name, line.slice(eq + 1));
  }
  return values;
}

/** The configuration files bpftool looks at, in its order. */
export function configCandidates(): string[] {
  return [`/boot/config-${kernelRelease()}`, "/proc/config.gz"];
}

function readMaybeGzip(path: string): string {
  const bytes = readFileSync(path);
  const gz = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  const text = gz ? gunzip(bytes) : bytes;
  return Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString("latin1");
}

export function readKernelConfig(candidates = configCandidates(), wanted = CONFIG_OPTIONS): KernelConfig {
  const unset = new Map<string, string | null>(wanted.map((n) => [n, null]));
  let problem = "no kernel configuration file";
  for (const path of candidates) {
    let text: string;
    try {
      text = readMaybeGzip(path);
    } catch (e) {
      problem = `can't open ${path}: ${(e as Error).message}`;
      continue;
    }
    const values = parseKernelConfig(text, wanted);
    // bpftool gives up on a file without Kconfig's mark instead of trying the next one.
    if (!values) return { source: undefined, problem: `${path} is not a kernel configuration`, values: unset };
    return { source: path, problem: undefined, values };
  }
  return { source: undefined, problem, values: unset };
}

/** /proc must be procfs for the sysctls to mean anything; its sys/kernel directory is our sign. */
export function haveProcfs(): boolean {
  return existsSync("/proc/self/stat") && existsSync("/proc/sys/kernel");
}

export function readSystemConfig(): SystemConfig {
  return { sysctls: haveProcfs() ? readSysctls() : undefined, config: readKernelConfig() };
}
