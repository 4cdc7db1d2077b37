// A section being assembled. Code is kept encoded, as it goes into the object, in one growing
// byte buffer with each instruction's slot and line:column in typed arrays; an Insn object is
// kept only for instructions that carry metadata (a symbolic reference, a source line). A large
// file so costs no object per line, which the garbage collector would otherwise walk again and
// again. `insns` decodes the instructions for callers that want them.

import type { ObjReloc } from "../src/elf/write.ts";
import { decodeAt } from "./decode.ts";
import { encode } from "./encode.ts";
import type { Insn } from "./insn.ts";
import { opDesc } from "./opcodes.ts";
import { belowTopTier } from "../src/jit-tier.ts";

export interface AsmSection {
  name: string;
  code: boolean;
  flags: { alloc: boolean; write: boolean; exec: boolean };
  nobits: boolean;
  align: number;
  /** Code sections: instructions (labels resolved, symbolic refs in meta.ref until relocation). */
  readonly insns: Insn[];
  /** Data sections: bytes. Code sections: raw bytes from .byte/.long… not yet a whole instruction. */
  data: number[];
  relocs: ObjReloc[];
  /** Line and column of each instruction of `insns` as line * 2^20 + column (0 where unknown), for messages. */
  readonly pos: number[];
}

const LDDW = 0x18;

let knownTable: Uint8Array | undefined;

/** 1 for each opcode byte the opcode table knows. */
function knownOps(): Uint8Array {
  if (!knownTable) {
    knownTable = new Uint8Array(256);
    for (let op = 0; op < 256; op++) knownTable[op] = opDesc(op) === undefined ? 0 : 1;
  }
  return knownTable;
}

export class Section implements AsmSection {
  data: number[] = [];
  relocs: ObjReloc[] = [];
  /** Number of instructions. */
  count = 0;
  /** Encoded instructions: bytes [0, len). */
  private buf = new Uint8Array(0);
  private len = 0;
  /** slot[i]: the slot where instruction i starts; slot[count] is the slot count. */
  private slot = new Int32Array(1);
  private at = new Float64Array(0);
  /** Instructions kept as objects, by index: those appended as objects, and those with metadata. */
  readonly objs = new Map<number, Insn>();
  /** Some instruction of `objs` has no bytes in `buf` yet (appended as an object, or one the quick encoder refuses). */
  private unencoded = false;
  private cache: Insn[] | undefined;
  /** sizeHint()'s answer once asked (-1 before). */
  private hint = -1;

  /**
   * `sizeHint()`: an upper bound on the instructions still to come (from the length of the text),
   * asked when the buffers first outgrow their start size, so that a large file's code grows once
   * and is not copied again and again; it may answer 0 (no hint, or given to another section).
   */
  constructor(
    readonly name: string,
    readonly code: boolean,
    readonly flags: { alloc: boolean; write: boolean; exec: boolean },
    readonly nobits: boolean,
    public align: number,
    private readonly sizeHint: () => number = () => 0,
  ) {}

  /** Bytes of code so far (the location counter of a code section). */
  get byteLength(): number {
    return this.len;
  }

  /** Slot index of each instruction, plus the slot count at index `count`. */
  get slots(): Int32Array {
    return this.slot;
  }

  /** The packed line:column of instruction i (see AsmSection.pos). */
  posOf(i: number): number {
    return this.at[i];
  }

  private room(bytes: number): void {
    if (this.len + bytes <= this.buf.length && this.count + 2 <= this.slot.length) return;
    // The first growth starts small (most sections are); the next one asks for the bound.
    if (this.buf.length > 0 && this.hint < 0) this.hint = this.sizeHint();
    const hint = Math.max(0, this.hint);
    if (this.len + bytes > this.buf.length) {
      const next = new Uint8Array(Math.max(4096, this.buf.length * 2, this.len + bytes, 16 * hint));
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    if (this.count + 2 > this.slot.length) {
      const n = Math.max(512, this.slot.length * 2, hint + 2);
      const slot = new Int32Array(n);
      slot.set(this.slot);
      this.slot = slot;
      const at = new Float64Array(n);
      at.set(this.at);
      this.at = at;
    }
  }

  /** Append an instruction given as fields (hi: ld_imm64's high half); false if the opcode is unknown. */
  addFields(op: number, dst: number, src: number, off: number, imm: number, hi: number, pos: number): boolean {
    if (knownOps()[op] === 0 || (dst | src) >>> 4 !== 0) return false;
    const n = op === LDDW ? 16 : 8;
    this.room(n);
    this.put(this.len, op, dst, src, off, imm, hi);
    this.push(n, pos);
    return true;
  }

  /**
   * Append an instruction object. It is kept as an object (its bytes are taken again when the
   * section is written): the parser may still add a reference to it (objdump -r lines).
   */
  addInsn(insn: Insn, pos: number): void {
    const n = insn.op === LDDW ? 16 : 8;
    this.room(n);
    this.objs.set(this.count, insn);
    this.unencoded = true;
    this.push(n, pos);
  }

  /** Replace instruction i by one of the same size. */
  set(i: number, insn: Insn): void {
    if (!this.encodeAt(this.slot[i] * 8, insn)) this.unencoded = true;
    if (insn.meta !== undefined || !this.encodable(insn)) this.objs.set(i, insn);
    else this.objs.delete(i);
    this.cache = undefined;
  }

  /** Instruction i as an object (the kept one, else decoded). */
  get(i: number): Insn {
    const kept = this.objs.get(i);
    if (kept) return kept;
    const r = decodeAt(this.buf.subarray(0, this.len), this.slot[i]);
    if (!r.ok) throw r.error;
    return r.insn;
  }

  /** Instruction i kept as an object from now on (so that metadata can be added to it). */
  keep(i: number): Insn {
    let insn = this.objs.get(i);
    if (!insn) this.objs.set(i, (insn = this.get(i)));
    this.cache = undefined;
    return insn;
  }

  get insns(): Insn[] {
    if (!this.cache) {
      const out = new Array<Insn>(this.count);
      for (let i = 0; i < this.count; i++) out[i] = this.get(i);
      this.cache = out;
    }
    return this.cache;
  }

  get pos(): number[] {
    return Array.from(this.at.subarray(0, this.count));
  }

  /** The encoded code (encode()'s typed error if some instruction cannot be encoded). */
  bytes(): Uint8Array {
    if (this.unencoded) {
      // Objects appended whole: their bytes now (all of them through encode() if one is unusual).
      this.unencoded = false;
      for (const [i, insn] of this.objs) if (!this.encodeAt(this.slot[i] * 8, insn)) this.unencoded = true;
      if (this.unencoded) return encode(this.insns);
    }
    return this.buf.subarray(0, this.len);
  }

  /** Indices of the instructions that carry a symbolic reference, ascending. */
  refIndices(): number[] {
    const out: number[] = [];
    for (const [i, insn] of this.objs) if (insn.meta?.ref !== undefined) out.push(i);
    return out.sort((a, b) => a - b);
  }

  private push(n: number, pos: number): void {
    this.at[this.count] = pos;
    this.len += n;
    this.count++;
    this.slot[this.count] = this.len >>> 3;
    this.cache = undefined;
  }

  private encodable(insn: Insn): boolean {
    return (insn.dst | insn.src) >>> 4 === 0 && knownOps()[insn.op] === 1;
  }

  /** Write `insn` at byte `at`; false (nothing written) if it is not one the quick encoder takes. */
  private encodeAt(at: number, insn: Insn): boolean {
    if (!this.encodable(insn)) return false;
    let lo = insn.imm;
    let hi = 0;
    if (insn.op === LDDW) {
      const v = insn.imm64 ?? BigInt(insn.imm >>> 0);
      lo = Number(v & 0xffffffffn);
      hi = Number((v >> 32n) & 0xffffffffn);
    }
    this.put(at, insn.op, insn.dst, insn.src, insn.off, lo, hi);
    return true;
  }

  private put(at: number, op: number, dst: number, src: number, off: number, lo: number, hi: number): void {
    const b = this.buf;
    b[at] = op;
    b[at + 1] = (src << 4) | dst;
    b[at + 2] = off;
    b[at + 3] = off >> 8;
    b[at + 4] = lo;
    b[at + 5] = lo >>> 8;
    b[at + 6] = lo >>> 16;
    b[at + 7] = lo >>> 24;
    if (op !== LDDW) return;
    for (let k = 8; k < 12; k++) b[at + k] = 0;
    b[at + 12] = hi;
    b[at + 13] = hi >>> 8;
    b[at + 14] = hi >>> 16;
    b[at + 15] = hi >>> 24;
  }
}

// Called once per instruction of one file: not worth JavaScriptCore's top tier (src/jit-tier.ts).
belowTopTier([Section], [knownOps]);
