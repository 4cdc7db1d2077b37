// bpftrace's hist() drawing for log2 histograms kept as a struct with a `slots` array (the
// libbpf-tools shape): slot 0 counts the value 0, slot 1 the value 1, slot i ≥ 2 values in
// [2^(i-1), 2^i). Rows run from the first to the last non-empty slot; bars are 52 cells wide.

import type { TypedValue } from "../load/typed.ts";

const BAR_WIDTH = 52;
const SUFFIXES = ["", "K", "M", "G", "T", "P", "E"];

/** A power of two as bpftrace labels it: 512, 1K, 2K, …, 1M (multiples of 1024 get a suffix). */
function label(n: bigint): string {
  let i = 0;
  while (n >= 1024n && n % 1024n === 0n && i < SUFFIXES.length - 1) {
    n /= 1024n;
    i++;
  }
  return `${n}${SUFFIXES[i]}`;
}

function bucket(i: number): string {
  if (i === 0) return "[0]";
  if (i === 1) return "[1]";
  return `[${label(1n << BigInt(i - 1))}, ${label(1n << BigInt(i))})`;
}

/** The `slots` counters of a decoded value, when it is a histogram struct (else undefined). */
export function histSlots(v: TypedValue): bigint[] | undefined {
  if (typeof v !== "object" || Array.isArray(v)) return undefined;
  const s = v.slots;
  if (!Array.isArray(s) || s.length === 0) return undefined;
  if (!s.every((x) => typeof x === "number" || typeof x === "bigint")) return undefined;
  return s.map((x) => BigInt(x as number | bigint));
}

/** Per-CPU histogram values summed slot by slot. */
export function sumSlots(all: bigint[][]): bigint[] {
  const out: bigint[] = [];
  for (const s of all) s.forEach((x, i) => (out[i] = (out[i] ?? 0n) + x));
  return out;
}

/** The rows of hist() output for these counters ("" when all are zero). */
export function drawHist(slots: readonly bigint[]): string {
  const first = slots.findIndex((x) => x !== 0n);
  if (first < 0) return "";
  let last = slots.length - 1;
  while (slots[last] === 0n) last--;
  const max = slots.reduce((a, b) => (b > a ? b : a), 0n);
  let out = "";
  for (let i = first; i <= last; i++) {
    const n = slots[i];
    const bar = "@".repeat(Number((n * BigInt(BAR_WIDTH)) / max));
    out += `${bucket(i).padEnd(16)}${String(n).padStart(8)} |${bar.padEnd(BAR_WIDTH)}|\n`;
  }
  return out;
}
