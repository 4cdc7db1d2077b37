// The possible CPUs (/sys/devices/system/cpu/possible, e.g. "0-3,8"): per-CPU map values hold one
// slot per possible CPU, in this order.

import { readFileSync } from "node:fs";
import { TsbpfError } from "../errors.ts";

/** Parse a kernel CPU list ("0-3,5,7-8") into CPU numbers. */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(",")) {
    if (part === "") continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new TsbpfError("IO", `bad CPU list entry "${part}"`, {}, "expected ranges like 0-3,5");
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi > 65535) throw new TsbpfError("IO", `bad CPU range "${part}"`);
    for (let c = lo; c <= hi; c++) out.push(c);
  }
  return out;
}

let cached: number[] | undefined;

export function possibleCpus(): number[] {
  if (cached === undefined) cached = parseCpuList(readFileSync("/sys/devices/system/cpu/possible", "utf8"));
  return cached;
}

/** How many slots a per-CPU value has: the highest possible CPU + 1 (the kernel's nr_cpu_ids). */
export function numPossibleCpus(): number {
  const cpus = possibleCpus();
  return cpus.length === 0 ? 1 : cpus[cpus.length - 1] + 1;
}
