// Values for `.kconfig` externs, written into the kconfig map's initial bytes the way libbpf's
// bpf_object__resolve_externs does: CONFIG_* from a kernel config (/boot/config-$(uname -r) or
// /proc/config.gz, or text the caller gives), LINUX_* virtual externs computed here.

import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { KconfigExtern, ObjectSpec } from "../elf/index.ts";
import { TsbpfError } from "../errors.ts";

export interface KconfigOptions {
  /** Kernel config text (lines `CONFIG_X=y`); default: the running kernel's. */
  config?: string;
  /** uname release, for LINUX_KERNEL_VERSION; default: the running kernel's. */
  kernelRelease?: string;
  /**
   * Values of LINUX_HAS_BPF_COOKIE / LINUX_HAS_SYSCALL_WRAPPER, which libbpf learns by probing the
   * kernel. Default: cookie support from 5.15 on, syscall wrappers always (x86-64 since 4.17).
   */
  virtuals?: Record<string, bigint>;
}

/** libbpf's KERNEL_VERSION(a, b, c) from a release string "6.18.0-…"; 0 when it does not parse. */
export function kernelVersionCode(rel: string): number {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(rel);
  if (!m) return 0;
  return (Number(m[1]) << 16) + (Number(m[2]) << 8) + Math.min(Number(m[3]), 255);
}

/** uname -r, read from procfs (loading node:os costs start-up time), else from os.release(). */
export function kernelRelease(): string {
  try {
    return readFileSync("/proc/sys/kernel/osrelease", "latin1").trim();
  } catch {
    return (createRequire(import.meta.url)("node:os") as typeof import("node:os")).release();
  }
}

/** gunzip: Bun's native one where there is Bun (loading node:zlib costs tens of ms of start-up). */
export function gunzip(bytes: Uint8Array): Uint8Array {
  const bun = (globalThis as { Bun?: { gunzipSync(b: Uint8Array): Uint8Array } }).Bun;
  if (bun) return bun.gunzipSync(bytes);
  return (createRequire(import.meta.url)("node:zlib") as typeof import("node:zlib")).gunzipSync(bytes);
}

/** The running kernel's config text, from /boot/config-$(uname -r) or /proc/config.gz. */
export function runningKernelConfig(): string {
  const boot = `/boot/config-${kernelRelease()}`;
  try {
    if (existsSync(boot)) return readFileSync(boot, "utf8");
    return new TextDecoder().decode(gunzip(readFileSync("/proc/config.gz")));
  } catch (e) {
    throw new TsbpfError("KCONFIG", `failed to open system Kconfig: ${e instanceof Error ? e.message : String(e)}`, { file: "/proc/config.gz" }, "pass the config text explicitly, or enable CONFIG_IKCONFIG_PROC");
  }
}

function kcfgError(e: KconfigExtern, msg: string): TsbpfError {
  return new TsbpfError("KCONFIG", `extern (kcfg) '${e.name}': ${msg}`, {}, "the extern's C type must match the config value (bool/tristate for y/n/m, char arrays for strings, integers for numbers)");
}

function setNum(e: KconfigExtern, dv: DataView, v: bigint): void {
  if (e.valueType !== "int" && e.valueType !== "char" && e.valueType !== "bool") throw kcfgError(e, `value '${v}' implies integer, char, or boolean type`);
  if (e.valueType === "bool" && v > 1n) throw kcfgError(e, `value '${v}' isn't boolean compatible`);
  const bits = BigInt(e.size * 8);
  if (e.size !== 8) {
    const fits = e.signed ? BigInt.asUintN(64, v + (1n << (bits - 1n))) < 1n << bits : v >> bits === 0n;
    if (!fits) throw kcfgError(e, `value '${v}' doesn't fit in ${e.size} bytes`);
  }
  const at = e.dataOffset;
  if (e.size === 1) dv.setUint8(at, Number(v & 0xffn));
  else if (e.size === 2) dv.setUint16(at, Number(v & 0xffffn), true);
  else if (e.size === 4) dv.setUint32(at, Number(v & 0xffffffffn), true);
  else if (e.size === 8) dv.setBigUint64(at, BigInt.asUintN(64, v), true);
  else throw kcfgError(e, `unsupported size ${e.size}`);
}

function setTri(e: KconfigExtern, dv: DataView, c: string): void {
  if (e.valueType === "bool") {
    if (c === "m") throw kcfgError(e, `value '${c}' implies tristate or char type`);
    dv.setUint8(e.dataOffset, c === "y" ? 1 : 0);
  } else if (e.valueType === "tristate") {
    dv.setUint32(e.dataOffset, c === "y" ? 1 : c === "m" ? 2 : 0, true); // enum libbpf_tristate: NO, YES, MODULE
  } else if (e.valueType === "char") {
    dv.setUint8(e.dataOffset, c.charCodeAt(0));
  } else {
    throw kcfgError(e, `value '${c}' implies bool, tristate, or char type`);
  }
}

function setStr(e: KconfigExtern, bytes: Uint8Array, value: string): void {
  if (e.valueType !== "char_array") throw kcfgError(e, `value '${value}' implies char array type`);
  if (value.length < 2 || !value.endsWith('"')) throw kcfgError(e, `invalid string config '${value}'`);
  const s = new TextEncoder().encode(value.slice(1, -1)).subarray(0, e.size - 1);
  bytes.set(s, e.dataOffset);
  bytes[e.dataOffset + s.length] = 0;
}

/** C's strtoull(…, 0): decimal, 0x hex or leading-0 octal; undefined when not a whole number. */
function parseU64(s: string): bigint | undefined {
  const t = s.trim();
  let m: RegExpExecArray | null;
  if ((m = /^([+-]?)0[xX]([0-9a-fA-F]+)$/.exec(t))) return BigInt.asUintN(64, (m[1] === "-" ? -1n : 1n) * BigInt("0x" + m[2]));
  if ((m = /^([+-]?)0([0-7]*)$/.exec(t))) return BigInt.asUintN(64, (m[1] === "-" ? -1n : 1n) * BigInt("0o" + (m[2] || "0")));
  if ((m = /^([+-]?)([1-9][0-9]*)$/.exec(t))) return BigInt.asUintN(64, (m[1] === "-" ? -1n : 1n) * BigInt(m[2]));
  return undefined;
}

let syscallWrapper: boolean | undefined;

/**
 * libbpf's answer for LINUX_HAS_SYSCALL_WRAPPER: whether a kprobe can be placed on the syscall
 * wrapper `__x64_sys_bpf`. libbpf tries it (through the kprobe PMU, else tracefs kprobe_events);
 * without kprobe support (CONFIG_KPROBES off) the try fails and the answer is 0. Read here from
 * what the try depends on: a kprobe facility and the wrapper among the kernel's symbols.
 */
export function hasSyscallWrapper(): boolean {
  if (syscallWrapper !== undefined) return syscallWrapper;
  const kprobes = existsSync("/sys/bus/event_source/devices/kprobe/type")
    || existsSync("/sys/kernel/tracing/kprobe_events") || existsSync("/sys/kernel/debug/tracing/kprobe_events");
  let symbol = false;
  if (kprobes) {
    try {
      symbol = / __x64_sys_bpf$/m.test(readFileSync("/proc/kallsyms", "latin1"));
    } catch {
      symbol = false;
    }
  }
  return (syscallWrapper = kprobes && symbol);
}

/**
 * Fill the kconfig map's initial bytes. Returns the bytes (also stored in the MapSpec's data).
 * Strong externs without a value are an error; weak ones stay zero.
 */
export function resolveKconfig(obj: ObjectSpec, opts: KconfigOptions = {}): Uint8Array | undefined {
  const map = obj.maps.find((m) => m.kind === "kconfig");
  const externs = obj.externs.filter((e): e is KconfigExtern => e.kind === "kconfig");
  if (!map || externs.length === 0) return undefined;
  const bytes = new Uint8Array(map.valueSize);
  const dv = new DataView(bytes.buffer);
  const set = new Set<KconfigExtern>();
  const rel = opts.kernelRelease ?? kernelRelease();
  const version = kernelVersionCode(rel);
  // Computed only for the externs an object declares (the syscall-wrapper answer reads kallsyms).
  const builtin: Record<string, () => bigint> = {
    LINUX_KERNEL_VERSION: () => BigInt(version),
    LINUX_HAS_BPF_COOKIE: () => (version >= kernelVersionCode("5.15.0") ? 1n : 0n),
    LINUX_HAS_SYSCALL_WRAPPER: () => (hasSyscallWrapper() ? 1n : 0n),
  };
  const virtualValue = (name: string): bigint | undefined => opts.virtuals?.[name] ?? builtin[name]?.();
  let needConfig = false;
  for (const e of externs) {
    if (e.name.startsWith("CONFIG_")) { needConfig = true; continue; }
    const v = virtualValue(e.name);
    if (v === undefined) {
      if (!e.name.startsWith("LINUX_") || !e.weak) throw kcfgError(e, "unrecognized virtual extern");
      continue;
    }
    if (e.name === "LINUX_KERNEL_VERSION" && v === 0n) throw kcfgError(e, "failed to get kernel version");
    setNum(e, dv, v);
    set.add(e);
  }
  if (needConfig) {
    const byName = new Map(externs.map((e) => [e.name, e] as const));
    const text = opts.config ?? runningKernelConfig();
    for (const raw of text.split("\n")) {
      if (!raw.startsWith("CONFIG_")) continue;
      const sep = raw.indexOf("=");
      if (sep < 0) throw new TsbpfError("KCONFIG", `failed to parse '${raw}': no separator`, {}, "config lines read CONFIG_NAME=value");
      const value = raw.slice(sep + 1);
      if (value === "") throw new TsbpfError("KCONFIG", `failed to parse '${raw}': no value`, {}, "config lines read CONFIG_NAME=value");
      const e = byName.get(raw.slice(0, sep));
      if (!e || set.has(e)) continue;
      const c = value[0];
      if (c === "y" || c === "n" || c === "m") setTri(e, dv, c);
      else if (c === '"') setStr(e, bytes, value);
      else {
        const n = parseU64(value);
        if (n === undefined) throw kcfgError(e, `value '${value}' isn't a valid integer`);
        if (e.valueType !== "int" && e.valueType !== "char") throw kcfgError(e, `value '${value}' implies integer type`);
        setNum(e, dv, n);
      }
      set.add(e);
    }
  }
  for (const e of externs) {
    if (!set.has(e) && !e.weak) throw new TsbpfError("KCONFIG", `extern '${e.name}' (strong): not resolved`, {}, "declare it __weak to default to zero, or check the kernel config");
  }
  map.data = bytes;
  return bytes;
}
