// fast-check arbitraries over eBPF bytecode, a public API for property tests: single instructions
// (every opcode kind, every ld_imm64 pseudo source, kfunc calls), well-formed programs, and programs
// shaped like what clang emits (stack use, map lookups, loops). Plus `programBytes` to get raw code.
//
// Not re-exported from asm/index.ts, so that loading the instruction set never loads fast-check:
//   import fc from "fast-check";
//   import { arbInsn, arbProgram, programBytes } from "tsbpf/asm/arbitrary.ts";  // (this file)
//   import { decode } from "tsbpf/asm";
//   fc.assert(fc.property(arbProgram(), (p) => decode(programBytes(p)).length === p.length));

import fc, { type Arbitrary } from "fast-check";
import { encode } from "./encode.ts";
import { lo32, type Insn } from "./insn.ts";
import {
  ALU_OP, ATOMIC_IMM, CALL_SRC, CLASS, JMP_OP, MODE, OPCODES, PSEUDO, SIZE, SIZE_CODE, SRC,
  type JmpCond, type OpDesc, type Size,
} from "./opcodes.ts";

/** Options for the single-instruction arbitraries. */
export interface InsnOptions {
  /**
   * Also produce encodings that decode and print but that the kernel's structural checks
   * (asm/validate.ts) refuse: callx, and atomics/moves with values the kernel rejects. Default false.
   */
  kernelInvalid?: boolean;
  /** Registers to draw from; default r0..r10. */
  maxReg?: number;
}

const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const int16 = fc.integer({ min: -0x8000, max: 0x7fff });
const uint64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

function reg(o: InsnOptions): Arbitrary<number> {
  return fc.integer({ min: 0, max: o.maxReg ?? 10 });
}

type Fields = { dst?: number; src?: number; off?: number; imm?: number };

function insnOf(op: number, f: Arbitrary<Fields>): Arbitrary<Insn> {
  return f.map((x) => ({ op, dst: x.dst ?? 0, src: x.src ?? 0, off: x.off ?? 0, imm: x.imm ?? 0 }));
}

/** Instructions with opcode `d`, with fields the kernel's structural checks accept. */
function forOpcode(d: OpDesc, o: InsnOptions): Arbitrary<Insn> | undefined {
  const r = reg(o);
  switch (d.kind) {
    case "alu":
      if (d.alu === "neg") return insnOf(d.op, fc.record({ dst: r }));
      if (d.alu === "mov" && d.source === "x") {
        const offs = d.wide ? [0, 8, 16, 32] : [0, 8, 16];
        const plain = insnOf(d.op, fc.record({ dst: r, src: r, off: fc.constantFrom(...offs) }));
        if (!d.wide) return plain;
        // addr_space_cast: the kernel converts only between address spaces 0 and 1.
        const cast = insnOf(d.op, fc.record({ dst: r, src: r, off: fc.constant(1), imm: fc.constantFrom(1, 1 << 16) }));
        return fc.oneof(plain, cast);
      }
      {
        const off = d.alu === "div" || d.alu === "mod" ? fc.constantFrom(0, 1) : fc.constant(0);
        return d.source === "k"
          ? insnOf(d.op, fc.record({ dst: r, off, imm: int32 }))
          : insnOf(d.op, fc.record({ dst: r, src: r, off }));
      }
    case "end":
      return insnOf(d.op, fc.record({ dst: r, imm: fc.constantFrom(16, 32, 64) }));
    case "jmp":
      return d.source === "k"
        ? insnOf(d.op, fc.record({ dst: r, off: int16, imm: int32 }))
        : insnOf(d.op, fc.record({ dst: r, src: r, off: int16 }));
    case "ja":
      return d.long ? insnOf(d.op, fc.record({ imm: int32 })) : insnOf(d.op, fc.record({ off: int16 }));
    case "call":
      return fc.oneof(
        insnOf(d.op, fc.record({ src: fc.constant(CALL_SRC.HELPER), imm: fc.integer({ min: 0, max: 250 }) })),
        insnOf(d.op, fc.record({ src: fc.constant(CALL_SRC.PSEUDO_CALL), imm: int32 })),
        // kfunc: imm is a BTF type id, off the index of the module BTF fd (0 = vmlinux).
        insnOf(d.op, fc.record({ src: fc.constant(CALL_SRC.KFUNC_CALL), imm: fc.integer({ min: 1, max: 200000 }), off: fc.constantFrom(0, 0, 1, 2) })),
      );
    case "callx":
      // The kernel refuses callx; LLVM emits it for indirect calls and reads the target from dst.
      return o.kernelInvalid ? insnOf(d.op, fc.record({ dst: r })) : undefined;
    case "exit":
      return fc.constant({ op: d.op, dst: 0, src: 0, off: 0, imm: 0 });
    case "jcond":
      return insnOf(d.op, fc.record({ off: int16 }));
    case "lddw":
      return arbLdImm64(o);
    case "ldabs":
      return insnOf(d.op, fc.record({ imm: int32 }));
    case "ldind":
      return insnOf(d.op, fc.record({ src: r, imm: int32 }));
    case "ldx":
    case "stx":
      return insnOf(d.op, fc.record({ dst: r, src: r, off: int16 }));
    case "st":
      return insnOf(d.op, fc.record({ dst: r, off: int16, imm: int32 }));
    case "atomic": {
      const imms = [...ATOMIC_IMM].filter(([, a]) => a.sizes.includes(d.size)).map(([imm]) => imm);
      return insnOf(d.op, fc.record({ dst: r, src: r, off: int16, imm: fc.constantFrom(...imms) }));
    }
  }
}

/** ld_imm64 with every source: a plain constant and each BPF_PSEUDO_* kind. */
export function arbLdImm64(o: InsnOptions = {}): Arbitrary<Insn> {
  const small = fc.bigInt({ min: 0n, max: 0xffffn });
  const value = fc.oneof(uint64, small);
  const src = fc.constantFrom<number>(PSEUDO.NONE, PSEUDO.NONE, PSEUDO.MAP_FD, PSEUDO.MAP_VALUE, PSEUDO.BTF_ID, PSEUDO.FUNC, PSEUDO.MAP_IDX, PSEUDO.MAP_IDX_VALUE);
  return fc.record({ dst: reg(o), src, v: value }).map(({ dst, src, v }) => ({
    op: CLASS.LD | MODE.IMM | SIZE.DW, dst, src, off: 0, imm: lo32(v), imm64: v,
  }));
}

/** Any single instruction the kernel's structural checks accept (or, with kernelInvalid, any LLVM prints). */
export function arbInsn(o: InsnOptions = {}): Arbitrary<Insn> {
  const perOpcode: Arbitrary<Insn>[] = [];
  for (const d of OPCODES.values()) {
    const a = forOpcode(d, o);
    if (a) perOpcode.push(a);
  }
  return fc.oneof(...perOpcode);
}

/** Instructions of one kind only, e.g. arbInsnOfKind("atomic"). */
export function arbInsnOfKind(kind: OpDesc["kind"], o: InsnOptions = {}): Arbitrary<Insn> {
  const list = [...OPCODES.values()].filter((d) => d.kind === kind).map((d) => forOpcode(d, o)).filter((a) => a !== undefined);
  if (list.length === 0) throw new RangeError(`no instructions of kind ${kind} under these options`);
  return fc.oneof(...list);
}

/** Raw 8-byte slots: any bytes at all, for decoder robustness properties. */
export function arbSlotBytes(maxSlots = 64): Arbitrary<Uint8Array> {
  return fc.array(fc.uint8Array({ minLength: 8, maxLength: 8 }), { maxLength: maxSlots }).map((slots) => {
    const out = new Uint8Array(slots.length * 8);
    slots.forEach((s, i) => out.set(s, i * 8));
    return out;
  });
}

/** The raw bytes of a program: its instructions encoded little-endian, ld_imm64 as two slots. */
export function programBytes(program: readonly Insn[]): Uint8Array {
  return encode(program);
}

// ---- instruction helpers for the program arbitraries ----

const ALU64 = (op: keyof typeof ALU_OP, src: "k" | "x") => CLASS.ALU64 | ALU_OP[op] | (src === "k" ? SRC.K : SRC.X);
const JMP = (c: JmpCond | "ja" | "call" | "exit", src: "k" | "x" = "k") => CLASS.JMP | JMP_OP[c] | (src === "k" ? SRC.K : SRC.X);
const mov64imm = (dst: number, imm: number): Insn => ({ op: ALU64("mov", "k"), dst, src: 0, off: 0, imm });
const mov64reg = (dst: number, src: number): Insn => ({ op: ALU64("mov", "x"), dst, src, off: 0, imm: 0 });
const add64imm = (dst: number, imm: number): Insn => ({ op: ALU64("add", "k"), dst, src: 0, off: 0, imm });
const exit = (): Insn => ({ op: JMP("exit"), dst: 0, src: 0, off: 0, imm: 0 });
const call = (helper: number): Insn => ({ op: JMP("call"), dst: 0, src: CALL_SRC.HELPER, off: 0, imm: helper });
const jmpImm = (c: JmpCond, dst: number, imm: number, off: number): Insn => ({ op: JMP(c), dst, src: 0, off, imm });
const ja = (off: number): Insn => ({ op: JMP("ja"), dst: 0, src: 0, off, imm: 0 });
const stxMem = (size: Size, dst: number, src: number, off: number): Insn => ({ op: CLASS.STX | MODE.MEM | SIZE_CODE[size], dst, src, off, imm: 0 });
const stMem = (size: Size, dst: number, off: number, imm: number): Insn => ({ op: CLASS.ST | MODE.MEM | SIZE_CODE[size], dst, src: 0, off, imm });
const ldxMem = (size: Size, dst: number, src: number, off: number): Insn => ({ op: CLASS.LDX | MODE.MEM | SIZE_CODE[size], dst, src, off, imm: 0 });
const ldMapFd = (dst: number, fd: number): Insn => ({ op: CLASS.LD | MODE.IMM | SIZE.DW, dst, src: PSEUDO.MAP_FD, off: 0, imm: fd, imm64: BigInt(fd) });

/** The helper ids the realistic programs call (enum bpf_func_id). */
const BPF_FUNC_map_lookup_elem = 1;
const BPF_FUNC_ktime_get_ns = 5;
const BPF_FUNC_get_prandom_u32 = 7;

/** Options for program arbitraries. */
export interface ProgramOptions {
  /** Upper bound on instructions in the straight-line body (default 40). */
  maxBody?: number;
}

/** Instructions that may sit in a straight-line body: no jumps, calls, exits or ld_imm64. */
function arbBodyInsn(o: InsnOptions): Arbitrary<Insn> {
  const kinds: OpDesc["kind"][] = ["alu", "end", "ldx", "st", "stx", "atomic", "ldabs", "ldind"];
  return fc.oneof(...kinds.map((k) => arbInsnOfKind(k, o)), arbLdImm64(o));
}

/**
 * Well-formed programs: every jump lands on an instruction boundary inside the program (forward
 * only, so the program terminates), no jump lands on ld_imm64's second half, and the last
 * instruction is exit. Registers and memory are arbitrary: the verifier may still refuse them.
 */
export function arbProgram(opts: ProgramOptions = {}): Arbitrary<Insn[]> {
  const maxBody = opts.maxBody ?? 40;
  const item = fc.oneof(
    { weight: 6, arbitrary: arbBodyInsn({}).map((i) => ({ insn: i, jump: undefined as number | undefined })) },
    { weight: 2, arbitrary: fc.tuple(arbInsnOfKind("jmp"), fc.nat()).map(([i, t]) => ({ insn: i, jump: t })) },
    { weight: 1, arbitrary: fc.tuple(fc.constant(ja(0)), fc.nat()).map(([i, t]) => ({ insn: i, jump: t })) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 200 }).map((h) => ({ insn: call(h), jump: undefined as number | undefined })) },
  );
  return fc.array(item, { minLength: 0, maxLength: maxBody }).map((items) => {
    const insns = items.map((x) => ({ ...x.insn }));
    insns.push(exit());
    // Slot positions let a jump offset count ld_imm64 as the two slots it is.
    const slotAt: number[] = [];
    let s = 0;
    for (const i of insns) {
      slotAt.push(s);
      s += i.op === (CLASS.LD | MODE.IMM | SIZE.DW) ? 2 : 1;
    }
    items.forEach((x, i) => {
      if (x.jump === undefined) return;
      const target = i + 1 + (x.jump % (insns.length - i - 1)); // an instruction after this one, up to the exit
      insns[i].off = slotAt[target] - slotAt[i] - 1;
    });
    return insns;
  });
}

/** One shape of real-world code, assembled from parameters fast-check picks. */
type Piece = () => Insn[];

/** Spill a value to the stack and read it back, as clang does with locals. */
function stackPiece(): Arbitrary<Piece> {
  return fc.record({ slot: fc.integer({ min: 1, max: 64 }), v: int32, size: fc.constantFrom<Size>(1, 2, 4, 8) }).map(({ slot, v, size }) => () => {
    const off = -slot * 8;
    return [mov64imm(6, v), stxMem(size, 10, 6, off), ldxMem(size, 7, 10, off), stMem(size, 10, off, v & 0x7f)];
  });
}

/** bpf_map_lookup_elem(&map, &key) with or without the NULL check before the load. */
function mapLookupPiece(): Arbitrary<Piece> {
  return fc.record({ fd: fc.integer({ min: 3, max: 64 }), key: int32, checked: fc.boolean(), valOff: fc.integer({ min: 0, max: 7 }).map((x) => x * 8) }).map(
    ({ fd, key, checked, valOff }) => () => {
      const head = [stMem(4, 10, -4, key), mov64reg(2, 10), add64imm(2, -4), ldMapFd(1, fd), call(BPF_FUNC_map_lookup_elem)];
      const use = [ldxMem(8, 6, 0, valOff), add64imm(6, 1), stxMem(8, 0, 6, valOff)];
      // With the check, a NULL result skips the dereference; without it the verifier must refuse.
      return checked ? [...head, jmpImm("jeq", 0, 0, use.length), ...use] : [...head, ...use];
    },
  );
}

/** A counting loop: bounded (i < n, i += 1) or unbounded (the exit condition never holds). */
function loopPiece(): Arbitrary<Piece> {
  return fc.record({ n: fc.integer({ min: 1, max: 100 }), bounded: fc.boolean(), body: fc.integer({ min: 0, max: 4 }) }).map(({ n, bounded, body }) => () => {
    // The unbounded loop changes no state, so the verifier sees it repeat rather than run to its limit.
    const work = Array.from({ length: body }, (_, k) => add64imm(8, bounded ? k + 1 : 0));
    const loopBody = [...work, add64imm(7, bounded ? 1 : 0)];
    // i = 0; top: if i >= n goto out; body; goto top; out:
    const check = jmpImm("jge", 7, n, loopBody.length + 1);
    const back = ja(-(loopBody.length + 2));
    return [mov64imm(7, 0), mov64imm(8, 0), check, ...loopBody, back];
  });
}

/** Call a helper that takes no arguments and keep its result. */
function helperPiece(): Arbitrary<Piece> {
  return fc.constantFrom(BPF_FUNC_ktime_get_ns, BPF_FUNC_get_prandom_u32).map((h) => () => [call(h), mov64reg(9, 0)]);
}

/**
 * Programs shaped like clang output for tracing/XDP code: stack spills and reloads, map lookups
 * with and without the NULL check, loops with and without a bound, helper calls; r1 saved to r6
 * at entry, r0 set before exit. Map references use BPF_PSEUDO_MAP_FD with small fd numbers.
 */
export function arbRealisticProgram(): Arbitrary<Insn[]> {
  const piece = fc.oneof(stackPiece(), mapLookupPiece(), loopPiece(), helperPiece());
  return fc.record({ pieces: fc.array(piece, { minLength: 1, maxLength: 6 }), ret: fc.integer({ min: 0, max: 3 }) }).map(({ pieces, ret }) => {
    const out: Insn[] = [mov64reg(6, 1)];
    for (const p of pieces) out.push(...p());
    out.push(mov64imm(0, ret), exit());
    return out;
  });
}
