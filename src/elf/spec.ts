// The pure-data result of reading a BPF object: programs, subprograms, maps, externs, license.
// Nothing here holds a file descriptor; the linker turns ProgramSpecs into kernel-ready code and
// the loader turns MapSpecs into maps.

import type { Insn } from "../../asm/index.ts";
import type { Btf } from "../../btf/index.ts";
import type { DebugSections } from "./dwarf-sections.ts";
import type { SectionFlag } from "./sections.ts";

/** What one relocation in a function's code points at, as libbpf's record_reloc classifies it. */
export type CodeRelocation =
  | { kind: "map"; insn: number; symbol: string; map: number }
  | { kind: "data"; insn: number; symbol: string; map: number; symOffset: number }
  | { kind: "call"; insn: number; symbol: string; symOffset: number }
  | { kind: "subprog_addr"; insn: number; symbol: string; symOffset: number }
  | { kind: "extern_ld"; insn: number; symbol: string; extern: number }
  | { kind: "extern_call"; insn: number; symbol: string; extern: number };

/** A function in the object: an entry program, or a subprogram from .text. */
export interface ProgramSpec {
  name: string;
  /** Section name without libbpf's leading '?'. */
  section: string;
  /** The ELF section's name as written (what .BTF.ext records refer to). */
  elfSection: string;
  sectionIndex: number;
  /** Byte offset of the function inside its section. */
  offset: number;
  /** Instructions as in the object file (ld_imm64 is one Insn), with meta.ref from relocations. */
  insns: Insn[];
  /** Relocations against this function's instructions; `insn` indexes `insns`. */
  relocations: CodeRelocation[];
  /** BPF_PROG_TYPE_*, BPF_PROG_TYPE_UNSPEC (0) when the section name is not a known convention. */
  type: number;
  expectedAttachType: number;
  /** The attach target named in the section: "syscalls/sys_enter_write", "do_unlinkat", … */
  attachTo: string;
  /** BPF_F_SLEEPABLE / BPF_F_XDP_HAS_FRAGS as libbpf sets them. */
  progFlags: number;
  sectionFlags: readonly SectionFlag[];
  /** False for SEC("?…") programs, which libbpf does not load by default. */
  autoload: boolean;
  /** STB_GLOBAL or STB_WEAK. */
  global: boolean;
  /** A .text function: linked into the programs that call it. */
  subprogram: boolean;
  license: string;
  kernelVersion: number;
}

export type MapKind = "btf" | "legacy" | "data" | "rodata" | "bss" | "kconfig" | "struct_ops";

/** A function-pointer member of a struct_ops value that a relocation points at a program. */
export interface StructOpsFunc {
  /** Member name in the object's struct (matched by name against the kernel's struct). */
  member: string;
  /** Member index in the object's struct. */
  index: number;
  /** Byte offset of the member in the object's struct. */
  offset: number;
  /** The struct_ops program it points to. */
  program: string;
}

/** What a `.struct_ops` / `.struct_ops.link` variable declares (libbpf's struct bpf_struct_ops). */
export interface StructOpsSpec {
  /** The struct's name in the object's BTF, e.g. "tcp_congestion_ops" (may carry a ___flavor). */
  typeName: string;
  /** Its id in the object's BTF. */
  typeId: number;
  /** ".struct_ops" or ".struct_ops.link" (without libbpf's '?'). */
  section: string;
  /** .struct_ops.link: created with BPF_F_LINK and registered by LINK_CREATE. */
  link: boolean;
  /** False for SEC("?.struct_ops…"): libbpf does not create the map by default. */
  autocreate: boolean;
  /** The variable's bytes as the object holds them (function-pointer slots carry no meaning). */
  data: Uint8Array;
  funcs: StructOpsFunc[];
}

/** A map the object defines (BTF .maps, legacy maps section) or implies (global data, .kconfig). */
export interface MapSpec {
  /** The name libbpf gives it (for global data: object-name prefix + section, ≤ 15 chars). */
  name: string;
  /** The full name: the variable for defined maps, the section for global data. */
  realName: string;
  kind: MapKind;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  numaNode: number;
  /** LIBBPF_PIN_NONE (0) or LIBBPF_PIN_BY_NAME (1). */
  pinning: number;
  mapExtra: bigint;
  /** BTF ids of the key and value types in the object's BTF (0 when unknown). */
  keyType: number;
  valueType: number;
  /** The template of map-in-map values. */
  inner?: MapSpec;
  /** A struct_ops map: the struct it fills and the programs its function pointers name. */
  structOps?: StructOpsSpec;
  /** `.values = { … }` initialisers: slot → map name (map-in-map) or program name (prog array). */
  initSlots: { slot: number; name: string }[];
  /** Initial contents of a global-data map (zeros for .bss); frozen after load when `frozen`. */
  data?: Uint8Array;
  frozen: boolean;
  sectionIndex: number;
  /** Byte offset of the definition inside its section. */
  sectionOffset: number;
}

/** A `.kconfig` extern: a kernel configuration value placed in the kconfig map. */
export interface KconfigExtern {
  kind: "kconfig";
  name: string;
  symbol: number;
  weak: boolean;
  /** bool, tristate, char, int (with signedness), char array, or unknown. */
  valueType: "bool" | "tristate" | "char" | "int" | "char_array" | "unknown";
  size: number;
  signed: boolean;
  /** Byte offset in the kconfig map's value. */
  dataOffset: number;
  btfId: number;
}

/** A `.ksyms` extern: a kernel variable (typed or typeless) or a kernel function (kfunc). */
export interface KsymExtern {
  kind: "ksym";
  name: string;
  symbol: number;
  weak: boolean;
  /** A kfunc (BTF FUNC), a typed variable (BTF VAR with a type), or a typeless `const void` one. */
  ksymType: "func" | "typed" | "typeless";
  /** Object BTF id of the VAR's type or the FUNC. */
  btfId: number;
}

export type ExternSpec = KconfigExtern | KsymExtern;

export interface DataSection {
  name: string;
  index: number;
  /** The map that holds it, as an index into ObjectSpec.maps. */
  map: number;
}

export interface ObjectSpec {
  /** libbpf's object name: the file's basename up to its first '.'. */
  name: string;
  programs: ProgramSpec[];
  /** .text functions, in section order. */
  subprograms: ProgramSpec[];
  maps: MapSpec[];
  externs: ExternSpec[];
  dataSections: DataSection[];
  btf?: Btf;
  /** The raw .BTF.ext section, for the .BTF.ext parser. */
  btfExt?: { bytes: Uint8Array; fileOffset: number };
  /** The DWARF sections (-g), for record types clang kept out of BTF (src/elf/dwarf.ts reads them). */
  debug?: DebugSections;
  license: string;
  kernelVersion: number;
  /** Things libbpf would log but accept (unrecognised sections, skipped relocations, …). */
  warnings: string[];
}
