// The running kernel's symbols for the linker: its BTF (/sys/kernel/btf/vmlinux) for kfunc and
// typed-ksym ids, and /proc/kallsyms for typeless ksym addresses. Both read on first use.

import { readFileSync } from "node:fs";
import type { Btf } from "../../btf/index.ts";
import { parseBtf } from "../../btf/parse.ts";
import { TsbpfError } from "../errors.ts";
import type { KernelSymbols } from "./link.ts";

export const VMLINUX_BTF = "/sys/kernel/btf/vmlinux";

function readOrThrow(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new TsbpfError("IO", `cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`, { file: path }, "kernel symbols need a kernel built with CONFIG_DEBUG_INFO_BTF");
  }
}

/** Parse /proc/kallsyms text into name → address (first occurrence wins, like libbpf). */
export function parseKallsyms(text: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of text.split("\n")) {
    const parts = line.split(/\s+/);
    if (parts.length < 3) continue;
    const name = parts[2];
    if (!out.has(name) && /^[0-9a-fA-F]+$/.test(parts[0])) out.set(name, BigInt("0x" + parts[0]));
  }
  return out;
}

/** Kernel symbols of the running machine, loaded lazily. */
export function runningKernel(btfPath = VMLINUX_BTF, kallsymsPath = "/proc/kallsyms"): KernelSymbols {
  let btf: Btf | undefined;
  let syms: Map<string, bigint> | undefined;
  return {
    get btf() {
      btf ??= parseBtf(readOrThrow(btfPath), { file: btfPath });
      return btf;
    },
    address(name: string) {
      syms ??= parseKallsyms(new TextDecoder().decode(readOrThrow(kallsymsPath)));
      return syms.get(name);
    },
  };
}
