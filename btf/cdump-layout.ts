// Layout facts the C dump needs to reproduce a struct exactly: pointer size, alignment and size of
// a type, whether a struct must be declared packed, and the anonymous bitfields (`long: 64;`) that
// pad a gap, following the rules libbpf's btf_dump applies (libbpf 1.1, as bpftool 7.1 prints).

import { TsbpfError } from "../src/errors.ts";
import { K, type BtfView } from "./cdump-view.ts";

/** Largest gap padded with anonymous bitfields (1 MiB); real alignment gaps are at most a page. */
const MAX_PAD_BITS = 8 << 20;

/** Names of `long` a compiler may write into BTF; the first such INT in id order fixes the pointer size. */
const LONG_NAMES = new Set([
  "long", "long int", "int long", "unsigned long", "long unsigned", "unsigned long int",
  "unsigned int long", "long unsigned int", "long int unsigned", "int unsigned long", "int long unsigned",
]);

/** Pointer size in bytes, guessed from the size of `long` as libbpf does; 8 when BTF has no `long`. */
export function pointerSize(v: BtfView): number {
  for (let id = 1; id < v.count; id++) {
    if (v.kinds[id] !== K.INT) continue;
    const size = v.st(id);
    if ((size === 4 || size === 8) && LONG_NAMES.has(v.name(id))) return size;
  }
  return 8;
}

/** Alignment and size queries over one BTF, memoized per id. */
export class Layout {
  private readonly aligns: Int32Array;

  constructor(private readonly v: BtfView, readonly ptrSize: number) {
    this.aligns = new Int32Array(v.count).fill(-1);
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
    const v = this.v;
    switch (v.kinds[id]) {
      case K.INT:
      case K.ENUM:
      case K.ENUM64:
      case K.FLOAT:
        return Math.min(this.ptrSize, v.st(id));
      case K.PTR:
        return this.ptrSize;
      case K.TYPEDEF:
      case K.VOLATILE:
      case K.CONST:
      case K.RESTRICT:
      case K.TYPE_TAG:
        return this.alignOf(v.st(id));
      case K.ARRAY:
        return this.alignOf(v.words(id)[v.rec(id) + 3]);
      case K.STRUCT:
      case K.UNION: {
        const w = v.words(id);
        const n = v.vlen(id);
        const kf = v.kflag(id);
        let max = 1;
        for (let i = 0, p = v.rec(id) + 3; i < n; i++, p += 3) {
          const a = this.alignOf(w[p + 1]);
          if (a <= 0) return 0;
          if (a > max) max = a;
          const off = w[p + 2];
          // A field off its natural alignment means the struct was packed.
          if ((!kf || off >>> 24 === 0) && (kf ? off & 0xffffff : off) % (8 * a) !== 0) return 1;
        }
        return v.st(id) % max !== 0 ? 1 : max;
      }
      default:
        return 0;
    }
  }

  /** Size in bytes through typedefs, modifiers and arrays (btf__resolve_size); -1 when it has none. */
  resolveSize(id: number): number {
    const v = this.v;
    let nelems = 1;
    for (let depth = 0; depth < 64; depth++) {
      switch (v.kinds[id]) {
        case K.INT:
        case K.ENUM:
        case K.ENUM64:
        case K.FLOAT:
        case K.STRUCT:
        case K.UNION:
        case K.DATASEC: {
          const size = nelems * v.st(id);
          return size > 0xffffffff ? -1 : size;
        }
        case K.PTR:
          return nelems * this.ptrSize;
        case K.TYPEDEF:
        case K.VOLATILE:
        case K.CONST:
        case K.RESTRICT:
        case K.TYPE_TAG:
        case K.VAR:
          id = v.st(id);
          break;
        case K.ARRAY: {
          const w = v.words(id);
          const at = v.rec(id);
          const ne = w[at + 5];
          if (ne !== 0 && nelems > 0xffffffff / ne) return -1;
          nelems *= ne;
          id = w[at + 3];
          break;
        }
        default:
          return -1;
      }
    }
    return -1;
  }

  /** A struct needs __attribute__((packed)) when a plain field is misaligned or its size is not a multiple of its alignment. */
  isPacked(id: number): boolean {
    const v = this.v;
    const w = v.words(id);
    const n = v.vlen(id);
    const kf = v.kflag(id);
    let max = 1;
    for (let i = 0, p = v.rec(id) + 3; i < n; i++, p += 3) {
      const a = this.alignOf(w[p + 1]);
      const off = w[p + 2];
      if (a && (!kf || off >>> 24 === 0) && (kf ? off & 0xffffff : off) % (8 * a) !== 0) return true;
      if (a > max) max = a;
    }
    return v.st(id) % max !== 0;
  }
}

/**
 * The anonymous bitfields that move a struct from bit `cur` to bit `next`: first up to the natural
 * boundary of the widest of long/int/short/char that fits (with an explicit `T: 0` only where
 * the compiler would not align there by itself), then whole `T: bits` units, then the smallest
 * type holding the remainder. Returns the lines' text without indentation.
 */
export function paddingFields(ptrSize: number, cur: number, next: number, nextAlign: number, inBitfield: boolean): readonly string[] {
  // Called for every member of every struct and almost always without a gap: no allocation then.
  if (cur >= next) return NO_PADDING;
  // A gap of megabytes is corrupt BTF, not a layout: refuse it rather than print millions of lines.
  if (next - cur > MAX_PAD_BITS) {
    throw new TsbpfError("BTF_BAD_TYPE", `a struct leaves a gap of ${next - cur} bits between offsets ${cur} and ${next}`, {}, "the BTF is corrupt: member offsets or the struct size are implausible");
  }
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

const NO_PADDING: readonly string[] = Object.freeze([]);

function roundUp(x: number, to: number): number {
  return to === 0 ? x : Math.ceil(x / to) * to;
}
