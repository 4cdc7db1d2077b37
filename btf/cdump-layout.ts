// Layout facts the C dump needs to reproduce a struct exactly: pointer size, alignment and size of
// a type, whether a struct must be declared packed, and the anonymous bitfields (`long: 64;`) that
// pad a gap, following the rules libbpf's btf_dump applies (libbpf 1.1, as bpftool 7.1 prints).

import type { Btf } from "./btf.ts";
import type { BtfComposite } from "./types.ts";

/** Names of `long` a compiler may write into BTF; the first such INT in id order fixes the pointer size. */
const LONG_NAMES = new Set([
  "long", "long int", "int long", "unsigned long", "long unsigned", "unsigned long int",
  "unsigned int long", "long unsigned int", "long int unsigned", "int unsigned long", "int long unsigned",
]);

/** Pointer size in bytes, guessed from the size of `long` as libbpf does; 8 when BTF has no `long`. */
export function pointerSize(btf: Btf): number {
  let best = -1;
  let size = 8;
  for (const name of LONG_NAMES) {
    for (const id of btf.idsByName(name)) {
      if (btf.kindOf(id) !== "int") continue;
      const t = btf.type(id);
      if (t.kind !== "int" || (t.size !== 4 && t.size !== 8)) continue;
      if (best < 0 || id < best) {
        best = id;
        size = t.size;
      }
      break;
    }
  }
  return size;
}

/** Alignment and size queries over one Btf, memoized per id. */
export class Layout {
  private readonly aligns: Int32Array;

  constructor(private readonly btf: Btf, readonly ptrSize: number) {
    this.aligns = new Int32Array(btf.typeCount).fill(-1);
  }

  /** Alignment in bytes (libbpf's btf__align_of); 0 for types without one (void, fwd, func). */
  alignOf(id: number): number {
    const memo = this.aligns[id];
    if (memo >= 0) return memo;
    // Guard against reference loops in malformed BTF: a type under evaluation counts as 1.
    this.aligns[id] = 1;
    const a = this.computeAlign(id);
    this.aligns[id] = a;
    return a;
  }

  private computeAlign(id: number): number {
    const t = this.btf.type(id);
    switch (t.kind) {
      case "int":
      case "enum":
      case "enum64":
      case "float":
        return Math.min(this.ptrSize, t.size);
      case "ptr":
        return this.ptrSize;
      case "typedef":
      case "volatile":
      case "const":
      case "restrict":
      case "type_tag":
        return this.alignOf(t.type);
      case "array":
        return this.alignOf(t.type);
      case "struct":
      case "union": {
        let max = 1;
        for (const m of t.members) {
          const a = this.alignOf(m.type);
          if (a <= 0) return 0;
          if (a > max) max = a;
          // A field off its natural alignment means the struct was packed.
          if (m.bitfieldSize === 0 && m.bitOffset % (8 * a) !== 0) return 1;
        }
        return t.size % max !== 0 ? 1 : max;
      }
      default:
        return 0;
    }
  }

  /** Size in bytes through typedefs, modifiers and arrays (btf__resolve_size); -1 when it has none. */
  resolveSize(id: number): number {
    let nelems = 1;
    for (let depth = 0; depth < 64; depth++) {
      const t = this.btf.type(id);
      switch (t.kind) {
        case "int":
        case "enum":
        case "enum64":
        case "float":
        case "struct":
        case "union":
        case "datasec": {
          const size = nelems * t.size;
          return size > 0xffffffff ? -1 : size;
        }
        case "ptr":
          return nelems * this.ptrSize;
        case "typedef":
        case "volatile":
        case "const":
        case "restrict":
        case "type_tag":
        case "var":
          id = t.type;
          break;
        case "array":
          if (t.nelems !== 0 && nelems > 0xffffffff / t.nelems) return -1;
          nelems *= t.nelems;
          id = t.type;
          break;
        default:
          return -1;
      }
    }
    return -1;
  }

  /** A struct needs __attribute__((packed)) when a plain field is misaligned or its size is not a multiple of its alignment. */
  isPacked(t: BtfComposite): boolean {
    let max = 1;
    for (const m of t.members) {
      const a = this.alignOf(m.type);
      if (a && m.bitfieldSize === 0 && m.bitOffset % (8 * a) !== 0) return true;
      if (a > max) max = a;
    }
    return t.size % max !== 0;
  }
}

/**
 * The anonymous bitfields that move a struct from bit `cur` to bit `next`: first up to the natural
 * boundary of the widest of long/int/short/char that fits (with an explicit `T: 0` only where
 * the compiler would not align there by itself), then whole `T: bits` units, then the smallest
 * type holding the remainder. Returns the lines' text without indentation.
 */
export function paddingFields(ptrSize: number, cur: number, next: number, nextAlign: number, inBitfield: boolean): string[] {
  if (cur >= next) return [];
  const pads: [string, number][] = [["long", ptrSize * 8], ["int", 32], ["short", 16], ["char", 8]];
  const out: string[] = [];
  let padType = "char";
  let padBits = 8;
  let newOff = cur;
  for (const [name, bits] of pads) {
    padType = name;
    padBits = bits;
    newOff = roundUp(cur, bits);
    if (newOff <= next) break;
  }
  if (newOff > cur && newOff <= next) {
    if (inBitfield || (newOff === next && roundUp(cur, nextAlign * 8) !== newOff) || (newOff !== next && next - newOff <= newOff - cur)) {
      out.push(`${padType}: ${inBitfield ? newOff - cur : 0};`);
    }
    cur = newOff;
  }
  while (cur !== next) {
    const bits = Math.min(next - cur, padBits);
    if (bits === padBits) {
      out.push(`${padType}: ${padBits};`);
      cur += bits;
      continue;
    }
    for (let i = pads.length - 1; i >= 0; i--) {
      const [name, pb] = pads[i];
      padType = name;
      padBits = pb;
      if (pb < bits) continue;
      out.push(`${name}: ${bits};`);
      cur += bits;
      break;
    }
  }
  return out;
}

function roundUp(x: number, to: number): number {
  return to === 0 ? x : Math.ceil(x / to) * to;
}
