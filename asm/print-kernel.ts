// Instructions in the kernel's own syntax, as the verifier log and `bpftool prog dump xlated` print
// them (the formats of kernel/bpf/disasm.c, print_bpf_insn): "(bf) r6 = r1", "(79) r0 = *(u64 *)(r10 -8)",
// "(85) call bpf_map_lookup_elem#1", "(15) if r0 == 0x0 goto pc+7". Decimal where the kernel
// uses %d, hex where it uses 0x%x. Callbacks stand in for the kernel's cb_call / cb_imm.

import type { Insn } from "./insn.ts";
import { helperName } from "./helper-names.ts";

/** Hooks with the roles of struct bpf_insn_cbs' cb_call and cb_imm. */
export interface KernelPrintOptions {
  /**
   * Name for a call the helper table cannot name (kfunc, unknown id). The kernel's verifier
   * names kfuncs from BTF; with no name a kfunc prints as "kernel-function".
   */
  callName?: (insn: Insn) => string | undefined;
  /** Text of ld_imm64's value; default "0x%llx" of the 64-bit immediate, as in the verifier log. */
  imm?: (insn: Insn, full: bigint) => string;
  /**
   * Name helper calls from the table only for ids below this — an older kernel's __BPF_FUNC_MAX_ID,
   * as bpftool built with that kernel's disasm.c does; other ids go to callName.
   */
  helperIds?: number;
}

const ALU = ["+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian", "(null)", "(null)"];
// Unnamed codes print "(null)", as the kernel's printf does for a NULL %s.
const JMP = ["jmp", "==", ">", ">=", "&", "!=", "s>", "s>=", "call", "exit", "<", "<=", "s<", "s<=", "(null)", "(null)"];
const ATOMIC_ALU: Record<number, string> = { 0x00: "add", 0x50: "and", 0x40: "or", 0xa0: "xor" };
const LDST = ["u32", "u16", "u8", "u64"];
const LDSX = ["s32", "s16", "s8", "?"];

const hex2 = (op: number) => op.toString(16).padStart(2, "0");
/** printf's %+d. */
const sgn = (v: number) => (v >= 0 ? "+" : "") + v;

/** bpftool's cb_imm for `prog dump xlated`: map ids and subprogram offsets instead of raw values. */
export function bpftoolImm(insn: Insn, full: bigint): string {
  const lo = insn.imm >>> 0;
  const hi = Number((full >> 32n) & 0xffffffffn);
  switch (insn.src) {
    case 1: return `map[id:${lo}]`;
    case 2: return `map[id:${lo}][0]+${hi}`;
    case 6: return `map[idx:${lo}]+${hi}`;
    case 4: return `subprog[${sgn(insn.imm)}]`;
    default: return "0x" + full.toString(16);
  }
}

function callText(insn: Insn, o: KernelPrintOptions): string {
  const { src, imm } = insn;
  const helper = src === 0 && (o.helperIds === undefined || imm < o.helperIds) ? helperName(imm) : undefined;
  if (src === 1) return `call pc${o.callName?.(insn) ?? sgn(imm)}`;
  let name = helper ?? o.callName?.(insn);
  if (name === undefined) name = src === 2 ? "kernel-function" : "unknown";
  return `call ${name}#${imm}`;
}

function atomicText(insn: Insn, w: string): string {
  const { dst, src, off, imm } = insn;
  const at = `(r${dst} ${sgn(off)})`;
  const sz = insn.op === 0xdb ? "64" : "";
  if (imm in ATOMIC_ALU) return `lock *(${w} *)${at} ${ALU[imm >> 4]} r${src}`;
  if ((imm & ~0xf0) === 0x01 && (imm & 0xf0) in ATOMIC_ALU) return `r${src} = atomic${sz}_fetch_${ATOMIC_ALU[imm & 0xf0]}((${w} *)${at}, r${src})`;
  if (imm === 0xf1) return `r0 = atomic${sz}_cmpxchg((${w} *)${at}, r0, r${src})`;
  if (imm === 0xe1) return `r${src} = atomic${sz}_xchg((${w} *)${at}, r${src})`;
  if (imm === 0x100) return `r${dst} = load_acquire((${w} *)(r${src} ${sgn(off)}))`;
  if (imm === 0x110) return `store_release((${w} *)${at}, r${src})`;
  return `BUG_${hex2(insn.op)}`;
}

/** The text after the index: "(bf) r6 = r1". ld_imm64 takes its value from imm64. */
export function printKernel(insn: Insn, o: KernelPrintOptions = {}): string {
  const { op, dst, src, off, imm } = insn;
  const cls = op & 7;
  const head = `(${hex2(op)}) `;
  const code = op >> 4;
  const x = (op & 8) !== 0;
  if (cls === 4 || cls === 7) {
    const r = cls === 4 ? "w" : "r";
    if (code === 0xd) return head + (cls === 7 ? `r${dst} = bswap${imm} r${dst}` : `r${dst} = ${x ? "be" : "le"}${imm} r${dst}`);
    if (code === 0x8) return head + `${r}${dst} = -${r}${dst}`;
    if (op === 0xbf && off === 1) return head + `r${dst} = addr_space_cast(r${src}, ${imm >>> 16}, ${imm & 0xffff})`;
    if (op === 0xbf && off === -1) return head + `r${dst} = &(void __percpu *)(r${src})`;
    const sym = (code === 0x3 || code === 0x9) && off === 1 ? "s" + ALU[code] : ALU[code];
    if (x) {
      const sx = code === 0xb && (off === 8 || off === 16 || off === 32) ? `(s${off})` : "";
      return head + `${r}${dst} ${sym} ${sx}${r}${src}`;
    }
    return head + `${r}${dst} ${sym} ${imm}`;
  }
  if (cls === 3) {
    const w = LDST[(op >> 3) & 3];
    if ((op & 0xe0) === 0x60) return head + `*(${w} *)(r${dst} ${sgn(off)}) = r${src}`;
    if ((op & 0xe0) === 0xc0) {
      const t = atomicText(insn, w);
      return t.startsWith("BUG_") ? t : head + t;
    }
    return `BUG_${hex2(op)}`;
  }
  if (cls === 2) {
    if ((op & 0xe0) === 0x60) return head + `*(${LDST[(op >> 3) & 3]} *)(r${dst} ${sgn(off)}) = ${imm}`;
    if ((op & 0xe0) === 0xc0) return head + "nospec";
    return `BUG_st_${hex2(op)}`;
  }
  if (cls === 1) {
    const mode = op & 0xe0;
    if (mode !== 0x60 && mode !== 0x80) return `BUG_ldx_${hex2(op)}`;
    return head + `r${dst} = *(${(mode === 0x60 ? LDST : LDSX)[(op >> 3) & 3]} *)(r${src} ${sgn(off)})`;
  }
  if (cls === 0) {
    const mode = op & 0xe0;
    const w = LDST[(op >> 3) & 3];
    if (mode === 0x20) return head + `r0 = *(${w} *)skb[${imm}]`;
    if (mode === 0x40) return head + `r0 = *(${w} *)skb[r${src} + ${imm}]`;
    if (mode === 0x00 && ((op >> 3) & 3) === 3) {
      const full = BigInt.asUintN(64, insn.imm64 ?? BigInt(imm >>> 0));
      return head + `r${dst} = ${o.imm ? o.imm(insn, full) : "0x" + full.toString(16)}`;
    }
    return `BUG_ld_${hex2(op)}`;
  }
  // BPF_JMP / BPF_JMP32
  if (code === 0x8) return head + callText(insn, o);
  if (op === 0x05) return head + `goto pc${sgn(off)}`;
  if (op === 0x0d) return head + `gotox r${dst}`;
  if (op === 0xe5 && src === 0) return head + `may_goto pc${sgn(off)}`;
  if (op === 0x06) return head + `gotol pc${sgn(imm)}`;
  if (op === 0x95) return head + "exit";
  // Everything else takes the conditional-jump format, even codes with no operator of their own.
  const r = cls === 6 ? "w" : "r";
  if (x) return head + `if ${r}${dst} ${JMP[code]} ${r}${src} goto pc${sgn(off)}`;
  return head + `if ${r}${dst} ${JMP[code]} 0x${(imm >>> 0).toString(16)} goto pc${sgn(off)}`;
}
