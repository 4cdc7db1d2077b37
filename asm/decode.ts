// Bytes → instructions. decode(bytes) is the exact inverse of encode(insns) for every valid
// encoding; a slot with an unknown opcode, an out-of-range register or a broken ld_imm64 is a
// typed error that names the slot and its bytes.

import { TsbpfError, type Where } from "../src/errors.ts";
import { joinImm64, type Insn } from "./insn.ts";
import { MAX_REG, isLdImm64, opDesc } from "./opcodes.ts";

export const INSN_SIZE = 8;

export interface DecodeOptions {
  /** Byte offset of `bytes` in its file, for error positions. */
  fileOffset?: number;
  section?: string;
  file?: string;
  /**
   * The bytes are big-endian BPF (clang -target bpfeb): off and imm are big-endian and the
   * register byte holds dst in its high nibble, src in its low. The Insn values are the same.
   */
  bigEndian?: boolean;
}

export function hexSlot(bytes: Uint8Array, at: number, n = INSN_SIZE): string {
  const out: string[] = [];
  for (let i = at; i < Math.min(at + n, bytes.length); i++) out.push(bytes[i].toString(16).padStart(2, "0"));
  return out.join(" ");
}

function where(opts: DecodeOptions | undefined, slot: number): Where {
  const w: Where = { insn: slot };
  if (opts?.file !== undefined) w.file = opts.file;
  if (opts?.section !== undefined) w.section = opts.section;
  w.offset = (opts?.fileOffset ?? 0) + slot * INSN_SIZE;
  return w;
}

export type DecodeResult =
  | { ok: true; insn: Insn; slots: 1 | 2 }
  | { ok: false; error: TsbpfError; slots: 1 | 2 };

/** Decode the instruction starting at slot `slot`, reporting failure as a value. */
export function decodeAt(bytes: Uint8Array, slot: number, opts?: DecodeOptions): DecodeResult {
  const at = slot * INSN_SIZE;
  const fail = (msg: string, hint: string, n: 1 | 2 = 1): DecodeResult => ({
    ok: false,
    slots: n,
    error: new TsbpfError("ASM_DECODE", `${msg} (slot ${slot}: ${hexSlot(bytes, at, n * INSN_SIZE)})`, where(opts, slot), hint),
  });
  if (at + INSN_SIZE > bytes.length) {
    return fail(`truncated instruction: ${bytes.length - at} trailing bytes`, "BPF code is a sequence of 8-byte instructions; the section length must be a multiple of 8");
  }
  const le = opts?.bigEndian !== true;
  const dv = new DataView(bytes.buffer, bytes.byteOffset + at, INSN_SIZE);
  const op = dv.getUint8(0);
  const regs = dv.getUint8(1);
  const insn: Insn = le
    ? { op, dst: regs & 0x0f, src: regs >> 4, off: dv.getInt16(2, true), imm: dv.getInt32(4, true) }
    : { op, dst: regs >> 4, src: regs & 0x0f, off: dv.getInt16(2, false), imm: dv.getInt32(4, false) };
  if (!opDesc(op)) {
    return fail(`unknown opcode 0x${op.toString(16).padStart(2, "0")}`, "this byte is not an eBPF opcode: the data may not be BPF code, or it is offset from an instruction boundary");
  }
  if (insn.dst > MAX_REG) return fail(`invalid destination register r${insn.dst}`, "eBPF has registers r0..r10");
  if (insn.src > MAX_REG) return fail(`invalid source register r${insn.src}`, "eBPF has registers r0..r10");
  if (!isLdImm64(op)) return { ok: true, insn, slots: 1 };
  if (at + 2 * INSN_SIZE > bytes.length) {
    return fail("ld_imm64 is missing its second slot", "a 64-bit immediate load spans two 8-byte slots; the code ends after the first", 1);
  }
  const hi = new DataView(bytes.buffer, bytes.byteOffset + at + INSN_SIZE, INSN_SIZE);
  if (hi.getUint8(0) !== 0 || hi.getUint8(1) !== 0 || hi.getInt16(2, le) !== 0) {
    return fail("ld_imm64 second slot must have zero opcode, registers and offset", "the second half of a 64-bit immediate load carries only the upper 32 bits of the value", 2);
  }
  insn.imm64 = joinImm64(insn.imm, hi.getInt32(4, le));
  return { ok: true, insn, slots: 2 };
}

/** Decode a whole code section. Throws TsbpfError(ASM_DECODE) at the first invalid slot. */
export function decode(bytes: Uint8Array, opts?: DecodeOptions): Insn[] {
  const out: Insn[] = [];
  const total = Math.ceil(bytes.length / INSN_SIZE);
  for (let slot = 0; slot < total; ) {
    const r = decodeAt(bytes, slot, opts);
    if (!r.ok) throw r.error;
    out.push(r.insn);
    slot += r.slots;
  }
  return out;
}
