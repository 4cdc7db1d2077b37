// The eBPF opcode table: every valid opcode byte and what it means, built once from the field
// constants of include/uapi/linux/bpf_common.h and bpf.h (and Documentation/bpf/standardization/
// instruction-set.rst). Encode, decode, both printers and the text parser all read this table.

export const CLASS = { LD: 0x00, LDX: 0x01, ST: 0x02, STX: 0x03, ALU: 0x04, JMP: 0x05, JMP32: 0x06, ALU64: 0x07 } as const;
export const SRC = { K: 0x00, X: 0x08 } as const;
export const SIZE = { W: 0x00, H: 0x08, B: 0x10, DW: 0x18 } as const;
export const MODE = { IMM: 0x00, ABS: 0x20, IND: 0x40, MEM: 0x60, MEMSX: 0x80, ATOMIC: 0xc0 } as const;

export type AluOp = "add" | "sub" | "mul" | "div" | "or" | "and" | "lsh" | "rsh" | "neg" | "mod" | "xor" | "mov" | "arsh";
export const ALU_OP: Record<AluOp | "end", number> = {
  add: 0x00, sub: 0x10, mul: 0x20, div: 0x30, or: 0x40, and: 0x50, lsh: 0x60, rsh: 0x70,
  neg: 0x80, mod: 0x90, xor: 0xa0, mov: 0xb0, arsh: 0xc0, end: 0xd0,
};

export type JmpCond = "jeq" | "jgt" | "jge" | "jset" | "jne" | "jsgt" | "jsge" | "jlt" | "jle" | "jslt" | "jsle";
export const JMP_OP: Record<JmpCond | "ja" | "call" | "exit" | "jcond", number> = {
  ja: 0x00, jeq: 0x10, jgt: 0x20, jge: 0x30, jset: 0x40, jne: 0x50, jsgt: 0x60, jsge: 0x70,
  call: 0x80, exit: 0x90, jlt: 0xa0, jle: 0xb0, jslt: 0xc0, jsle: 0xd0, jcond: 0xe0,
};

/** Access width in bytes. */
export type Size = 1 | 2 | 4 | 8;
export const SIZE_BYTES: Record<number, Size> = { [SIZE.W]: 4, [SIZE.H]: 2, [SIZE.B]: 1, [SIZE.DW]: 8 };
export const SIZE_CODE: Record<Size, number> = { 4: SIZE.W, 2: SIZE.H, 1: SIZE.B, 8: SIZE.DW };

/** Atomic operations: the imm field of BPF_STX|BPF_ATOMIC. */
export const ATOMIC = {
  ADD: 0x00, OR: 0x40, AND: 0x50, XOR: 0xa0, FETCH: 0x01,
  XCHG: 0xe0 | 0x01, CMPXCHG: 0xf0 | 0x01,
  LOAD_ACQ: 0x100, STORE_REL: 0x110,
} as const;
export type AtomicOp = "add" | "or" | "and" | "xor" | "xchg" | "cmpxchg" | "load_acquire" | "store_release";
export interface AtomicDesc { op: AtomicOp; fetch: boolean }
/** Every valid atomic imm, with the access sizes that allow it. */
export const ATOMIC_IMM: ReadonlyMap<number, AtomicDesc & { sizes: readonly Size[] }> = new Map([
  [ATOMIC.ADD, { op: "add", fetch: false, sizes: [4, 8] }],
  [ATOMIC.OR, { op: "or", fetch: false, sizes: [4, 8] }],
  [ATOMIC.AND, { op: "and", fetch: false, sizes: [4, 8] }],
  [ATOMIC.XOR, { op: "xor", fetch: false, sizes: [4, 8] }],
  [ATOMIC.ADD | ATOMIC.FETCH, { op: "add", fetch: true, sizes: [4, 8] }],
  [ATOMIC.OR | ATOMIC.FETCH, { op: "or", fetch: true, sizes: [4, 8] }],
  [ATOMIC.AND | ATOMIC.FETCH, { op: "and", fetch: true, sizes: [4, 8] }],
  [ATOMIC.XOR | ATOMIC.FETCH, { op: "xor", fetch: true, sizes: [4, 8] }],
  [ATOMIC.XCHG, { op: "xchg", fetch: true, sizes: [4, 8] }],
  [ATOMIC.CMPXCHG, { op: "cmpxchg", fetch: true, sizes: [4, 8] }],
  [ATOMIC.LOAD_ACQ, { op: "load_acquire", fetch: false, sizes: [1, 2, 4, 8] }],
  [ATOMIC.STORE_REL, { op: "store_release", fetch: false, sizes: [1, 2, 4, 8] }],
] as const);

/** The src_reg field of ld_imm64 (BPF_PSEUDO_* in uapi/linux/bpf.h). */
export const PSEUDO = {
  NONE: 0, MAP_FD: 1, MAP_VALUE: 2, BTF_ID: 3, FUNC: 4, MAP_IDX: 5, MAP_IDX_VALUE: 6,
} as const;
export type PseudoSource = (typeof PSEUDO)[keyof typeof PSEUDO];

/** The src_reg field of BPF_CALL. */
export const CALL_SRC = { HELPER: 0, PSEUDO_CALL: 1, KFUNC_CALL: 2 } as const;

/** BPF_JCOND's src_reg: the only condition defined is may_goto. */
export const JCOND_MAY_GOTO = 0;

/** What an opcode byte means: a discriminated union keyed by `kind`. */
export type OpDesc =
  | { kind: "alu"; op: number; wide: boolean; alu: AluOp; source: "k" | "x" }
  | { kind: "end"; op: number; wide: boolean; order: "le" | "be" }
  | { kind: "jmp"; op: number; wide: boolean; cond: JmpCond; source: "k" | "x" }
  | { kind: "ja"; op: number; long: boolean }
  | { kind: "call"; op: number }
  | { kind: "callx"; op: number }
  | { kind: "exit"; op: number }
  | { kind: "jcond"; op: number }
  | { kind: "lddw"; op: number }
  | { kind: "ldabs"; op: number; size: Size }
  | { kind: "ldind"; op: number; size: Size }
  | { kind: "ldx"; op: number; size: Size; signed: boolean }
  | { kind: "st"; op: number; size: Size }
  | { kind: "stx"; op: number; size: Size }
  | { kind: "atomic"; op: number; size: Size };

export type OpKind = OpDesc["kind"];

function buildTable(): Map<number, OpDesc> {
  const t = new Map<number, OpDesc>();
  const add = (d: OpDesc) => t.set(d.op, d);
  const aluOps = Object.entries(ALU_OP) as [AluOp | "end", number][];
  for (const wide of [false, true]) {
    const cls = wide ? CLASS.ALU64 : CLASS.ALU;
    for (const [name, code] of aluOps) {
      if (name === "end") {
        add({ kind: "end", op: cls | code | SRC.K, wide, order: "le" });
        // BPF_ALU64|BPF_END|BPF_TO_BE is reserved; the 64-bit form with TO_LE is the unconditional bswap.
        if (!wide) add({ kind: "end", op: cls | code | SRC.X, wide, order: "be" });
        continue;
      }
      add({ kind: "alu", op: cls | code | SRC.K, wide, alu: name, source: "k" });
      if (name !== "neg") add({ kind: "alu", op: cls | code | SRC.X, wide, alu: name, source: "x" });
    }
  }
  const conds = (Object.entries(JMP_OP) as [string, number][]).filter(([n]) => !["ja", "call", "exit", "jcond"].includes(n));
  for (const wide of [true, false]) {
    const cls = wide ? CLASS.JMP : CLASS.JMP32;
    for (const [name, code] of conds) {
      add({ kind: "jmp", op: cls | code | SRC.K, wide, cond: name as JmpCond, source: "k" });
      add({ kind: "jmp", op: cls | code | SRC.X, wide, cond: name as JmpCond, source: "x" });
    }
  }
  add({ kind: "ja", op: CLASS.JMP | JMP_OP.ja, long: false });
  add({ kind: "ja", op: CLASS.JMP32 | JMP_OP.ja, long: true });
  add({ kind: "call", op: CLASS.JMP | JMP_OP.call | SRC.K });
  add({ kind: "callx", op: CLASS.JMP | JMP_OP.call | SRC.X });
  add({ kind: "exit", op: CLASS.JMP | JMP_OP.exit });
  add({ kind: "jcond", op: CLASS.JMP | JMP_OP.jcond });
  add({ kind: "lddw", op: CLASS.LD | MODE.IMM | SIZE.DW });
  for (const size of [4, 2, 1] as Size[]) {
    add({ kind: "ldabs", op: CLASS.LD | MODE.ABS | SIZE_CODE[size], size });
    add({ kind: "ldind", op: CLASS.LD | MODE.IND | SIZE_CODE[size], size });
  }
  for (const size of [4, 2, 1, 8] as Size[]) {
    add({ kind: "ldx", op: CLASS.LDX | MODE.MEM | SIZE_CODE[size], size, signed: false });
    if (size !== 8) add({ kind: "ldx", op: CLASS.LDX | MODE.MEMSX | SIZE_CODE[size], size, signed: true });
    add({ kind: "st", op: CLASS.ST | MODE.MEM | SIZE_CODE[size], size });
    add({ kind: "stx", op: CLASS.STX | MODE.MEM | SIZE_CODE[size], size });
    add({ kind: "atomic", op: CLASS.STX | MODE.ATOMIC | SIZE_CODE[size], size });
  }
  return t;
}

/** Every valid opcode byte → its meaning. */
export const OPCODES: ReadonlyMap<number, OpDesc> = buildTable();

export function opDesc(op: number): OpDesc | undefined {
  return OPCODES.get(op);
}

export const opClass = (op: number) => op & 0x07;
export const isLdImm64 = (op: number) => op === (CLASS.LD | MODE.IMM | SIZE.DW);

/** Registers r0..r10; r10 is the read-only frame pointer. */
export const MAX_REG = 10;
export const R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5, R6 = 6, R7 = 7, R8 = 8, R9 = 9, R10 = 10;
