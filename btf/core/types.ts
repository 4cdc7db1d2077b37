// The data of CO-RE relocation: access specs (local and target), per-relocation results, and the
// fix-up list that `tsbpf core`/`tsbpf inspect` print and that the apply step writes into code.

import type { Btf } from "../btf.ts";
import type { CoreReloKind } from "../ext.ts";

/** libbpf's BPF_CORE_SPEC_MAX_LEN: deepest access path a relocation may describe. */
export const CORE_SPEC_MAX_LEN = 64;
/** The helper id a poisoned instruction calls: 0xbad2310 ("bad relo"); the verifier reports `invalid func unknown#195896080`. */
export const POISON_HELPER_ID = 0xbad2310;

/** One high-level step of an access: a named member, or an array index (no name). */
export interface Accessor {
  /** The struct/union (named member) or the element type (array index), modifiers skipped. */
  typeId: number;
  idx: number;
  name?: string;
}

/** A parsed or matched access: the raw index path and the meaningful steps, with the bit offset reached. */
export interface CoreSpec {
  btf: Btf;
  rootId: number;
  kind: CoreReloKind;
  /** Low-level path: every index, anonymous members included. */
  raw: number[];
  /** High-level path: named members and array indices (for enum relocations, the enumerator). */
  acc: Accessor[];
  bitOffset: number;
}

/** What one relocation computes against one target (libbpf's bpf_core_relo_res). */
export interface ReloResult {
  origVal: bigint;
  newVal: bigint;
  poison: boolean;
  /** Check that the instruction holds origVal before patching. */
  validate: boolean;
  /** Memory-size change of a load/store is unsafe (signed or non-pointer types of another size). */
  failMemszAdjust: boolean;
  origSize: number;
  newSize: number;
  origTypeId: number;
  newTypeId: number;
}

/** A spec as shown to users: the type, the C-like path and where it lands. */
export interface SpecView {
  typeId: number;
  /** "struct task_struct" */
  type: string;
  /** libbpf's formatting: `<byte_off> [12] struct task_struct.pid (0:57 @ offset 2416)`. */
  text: string;
  /** Byte offset (field relocations), when the access is a field. */
  bitOffset?: number;
}

/** The instruction fields a fix-up replaces (only those that change). */
export interface InsnChange {
  op?: number;
  dst?: number;
  src?: number;
  off?: number;
  imm?: number;
  imm64?: bigint;
}

/** How one relocation ends: a patch (maybe a no-op), a poisoned instruction, or an error that fails the load. */
export type CoreOutcome =
  | { kind: "patch"; field: "imm" | "off" | "imm64"; oldValue: bigint; newValue: bigint; memSize?: { old: number; new: number }; change: InsnChange }
  | { kind: "poison"; reason: string; oldValue?: bigint }
  | { kind: "error"; message: string };

/** One CO-RE relocation of one function, resolved against a target BTF. */
export interface CoreFixup {
  /** The function (libbpf's prog name) and its ELF section. */
  program: string;
  section: string;
  /** Index of the record in its .BTF.ext section (libbpf's "relo #N"). */
  relo: number;
  /** Index into the function's Insn[] (ld_imm64 is one Insn). */
  insnIndex: number;
  /** 8-byte slot in the function (libbpf's "insn #N"). */
  slot: number;
  kind: CoreReloKind;
  accessStr: string;
  local: SpecView;
  /** The matched target (the first of agreeing candidates); undefined when none matched. */
  target?: SpecView;
  /** Number of candidates by name, and how many matched. */
  candidates: { found: number; matched: number };
  outcome: CoreOutcome;
  /** The source line clang recorded for the instruction (.BTF.ext line_info), when there is one. */
  source?: { file: string; line: number; column: number; text: string };
}
