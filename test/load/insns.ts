// Tiny instruction constructors for loader tests, spelled with asm/opcodes constants (the asm
// builder belongs to another module; these keep the tests readable without depending on it).

import { ALU_OP, ATOMIC, CLASS, JMP_OP, MODE, PSEUDO, SIZE, SIZE_CODE, SRC, type Insn, type Size } from "../../asm/index.ts";

const I = (op: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ op, dst, src, off, imm });

export const movImm = (dst: number, imm: number) => I(CLASS.ALU64 | ALU_OP.mov | SRC.K, dst, 0, 0, imm);
export const movReg = (dst: number, src: number) => I(CLASS.ALU64 | ALU_OP.mov | SRC.X, dst, src);
export const addImm = (dst: number, imm: number) => I(CLASS.ALU64 | ALU_OP.add | SRC.K, dst, 0, 0, imm);
export const rshImm = (dst: number, imm: number) => I(CLASS.ALU64 | ALU_OP.rsh | SRC.K, dst, 0, 0, imm);
export const ldx = (size: Size, dst: number, src: number, off: number) => I(CLASS.LDX | MODE.MEM | SIZE_CODE[size], dst, src, off);
export const stx = (size: Size, dst: number, src: number, off: number) => I(CLASS.STX | MODE.MEM | SIZE_CODE[size], dst, src, off);
export const st = (size: Size, dst: number, off: number, imm: number) => I(CLASS.ST | MODE.MEM | SIZE_CODE[size], dst, 0, off, imm);
export const jImm = (cond: keyof typeof JMP_OP, dst: number, imm: number, off: number) => I(CLASS.JMP | JMP_OP[cond] | SRC.K, dst, 0, off, imm);
export const jReg = (cond: keyof typeof JMP_OP, dst: number, src: number, off: number) => I(CLASS.JMP | JMP_OP[cond] | SRC.X, dst, src, off);
export const ja = (off: number) => I(CLASS.JMP | JMP_OP.ja, 0, 0, off);
export const call = (helper: number) => I(CLASS.JMP | JMP_OP.call, 0, 0, 0, helper);
export const exit = () => I(CLASS.JMP | JMP_OP.exit);
export const atomicAdd64 = (dst: number, src: number, off: number) => I(CLASS.STX | MODE.ATOMIC | SIZE.DW, dst, src, off, ATOMIC.ADD);
export const ldMapFd = (dst: number, fd: number): Insn => ({ op: CLASS.LD | MODE.IMM | SIZE.DW, dst, src: PSEUDO.MAP_FD, off: 0, imm: fd, imm64: BigInt(fd) });

/** Helper ids from include/uapi/linux/bpf.h's __BPF_FUNC_MAPPER. */
export const HELPER = { map_lookup_elem: 1, map_update_elem: 2, get_current_pid_tgid: 14 } as const;
/** enum xdp_action. */
export const XDP = { ABORTED: 0, DROP: 1, PASS: 2, TX: 3 } as const;
