// The BTF model: one TypeScript type per BTF kind (a discriminated union keyed by `kind`) carrying
// every field of the UAPI record (include/uapi/linux/btf.h), and the kind numbers of the format.
// Pure data; btf/btf.ts holds the container (ids, strings, lookups), btf/parse.ts fills it.

/** Kind numbers as in BTF_KIND_* (include/uapi/linux/btf.h). */
export const KIND_NUMBER = {
  void: 0,
  int: 1,
  ptr: 2,
  array: 3,
  struct: 4,
  union: 5,
  enum: 6,
  fwd: 7,
  typedef: 8,
  volatile: 9,
  const: 10,
  restrict: 11,
  func: 12,
  func_proto: 13,
  var: 14,
  datasec: 15,
  float: 16,
  decl_tag: 17,
  type_tag: 18,
  enum64: 19,
} as const;

export type BtfKind = keyof typeof KIND_NUMBER;

/** Kind names indexed by kind number. */
export const KIND_NAMES: readonly BtfKind[] = [
  "void", "int", "ptr", "array", "struct", "union", "enum", "fwd", "typedef", "volatile", "const",
  "restrict", "func", "func_proto", "var", "datasec", "float", "decl_tag", "type_tag", "enum64",
];

export const BTF_MAGIC = 0xeb9f;
export const BTF_VERSION = 1;
export const BTF_HEADER_LEN = 24;
/** Largest vlen the 16-bit info field can hold. */
export const BTF_MAX_VLEN = 0xffff;

/** INT encoding bits (BTF_INT_SIGNED/CHAR/BOOL); at most one is set in valid BTF. */
export const INT_SIGNED = 1;
export const INT_CHAR = 2;
export const INT_BOOL = 4;

/** Function linkage (enum btf_func_linkage) and variable linkage (BTF_VAR_*), as names. */
export type FuncLinkage = "static" | "global" | "extern";
export type VarLinkage = "static" | "global" | "extern";
export const LINKAGES: readonly FuncLinkage[] = ["static", "global", "extern"];

/** Fields every type record has. `nameOff` is the offset in the string table (0 = anonymous);
 * `name` is the decoded string ("" when anonymous). The encoder keeps `nameOff` when it still
 * names `name`, so parse∘encode is byte-identical, and interns `name` otherwise. */
interface Named {
  id: number;
  name: string;
  nameOff: number;
}

export interface BtfVoid {
  kind: "void";
  id: 0;
  name: "";
  nameOff: 0;
}

export interface BtfInt extends Named {
  kind: "int";
  size: number;
  /** Raw 4-bit encoding: INT_SIGNED | INT_CHAR | INT_BOOL, or 0. */
  encoding: number;
  /** BTF_INT_OFFSET: bit offset of the value inside the storage. */
  bitOffset: number;
  /** BTF_INT_BITS: number of value bits. */
  bits: number;
}

export interface BtfPtr extends Named {
  kind: "ptr";
  type: number;
}

export interface BtfArray extends Named {
  kind: "array";
  type: number;
  indexType: number;
  nelems: number;
}

export interface BtfMember {
  name: string;
  nameOff: number;
  type: number;
  /** Bit offset of the member in the struct (the whole `offset` field without kind_flag). */
  bitOffset: number;
  /** Bitfield width in bits when the parent has kind_flag set; 0 = not a bitfield. */
  bitfieldSize: number;
}

export interface BtfComposite extends Named {
  kind: "struct" | "union";
  size: number;
  /** kind_flag: members' offset fields carry a bitfield size in their top 8 bits. */
  kindFlag: boolean;
  members: BtfMember[];
}

export interface BtfStruct extends BtfComposite {
  kind: "struct";
}

export interface BtfUnion extends BtfComposite {
  kind: "union";
}

export interface BtfEnumValue {
  name: string;
  nameOff: number;
  /** The value as C sees it: an s32 when the enum is signed, a u32 otherwise. */
  value: number;
}

export interface BtfEnum extends Named {
  kind: "enum";
  size: number;
  /** kind_flag: values are signed. */
  signed: boolean;
  values: BtfEnumValue[];
}

export interface BtfEnum64Value {
  name: string;
  nameOff: number;
  /** An s64 when the enum is signed, a u64 otherwise. */
  value: bigint;
}

export interface BtfEnum64 extends Named {
  kind: "enum64";
  size: number;
  signed: boolean;
  values: BtfEnum64Value[];
}

export interface BtfFwd extends Named {
  kind: "fwd";
  /** kind_flag: 0 = struct, 1 = union. */
  fwdKind: "struct" | "union";
}

export interface BtfTypedef extends Named {
  kind: "typedef";
  type: number;
}

export interface BtfVolatile extends Named {
  kind: "volatile";
  type: number;
}

export interface BtfConst extends Named {
  kind: "const";
  type: number;
}

export interface BtfRestrict extends Named {
  kind: "restrict";
  type: number;
}

export interface BtfFunc extends Named {
  kind: "func";
  /** The FUNC_PROTO. */
  type: number;
  /** Carried in the vlen field. */
  linkage: FuncLinkage;
}

export interface BtfParam {
  name: string;
  nameOff: number;
  /** 0 with an empty name in the last position marks a variadic function. */
  type: number;
}

export interface BtfFuncProto extends Named {
  kind: "func_proto";
  /** Return type (0 = void). */
  returnType: number;
  params: BtfParam[];
}

export interface BtfVar extends Named {
  kind: "var";
  type: number;
  linkage: VarLinkage;
}

export interface BtfVarSecinfo {
  /** The VAR (or FUNC for .ksyms externs). */
  type: number;
  offset: number;
  size: number;
}

export interface BtfDatasec extends Named {
  kind: "datasec";
  size: number;
  vars: BtfVarSecinfo[];
}

export interface BtfFloat extends Named {
  kind: "float";
  size: number;
}

export interface BtfDeclTag extends Named {
  kind: "decl_tag";
  type: number;
  /** -1: the tag applies to the type itself; else the member or parameter index. */
  componentIdx: number;
  /** kind_flag: the tag is an __attribute__ rather than a btf_decl_tag (Linux 6.13+). */
  kindFlag: boolean;
}

export interface BtfTypeTag extends Named {
  kind: "type_tag";
  type: number;
  /** kind_flag: the tag is an __attribute__ rather than a btf_type_tag (Linux 6.13+). */
  kindFlag: boolean;
}

export type BtfType =
  | BtfVoid
  | BtfInt
  | BtfPtr
  | BtfArray
  | BtfStruct
  | BtfUnion
  | BtfEnum
  | BtfFwd
  | BtfTypedef
  | BtfVolatile
  | BtfConst
  | BtfRestrict
  | BtfFunc
  | BtfFuncProto
  | BtfVar
  | BtfDatasec
  | BtfFloat
  | BtfDeclTag
  | BtfTypeTag
  | BtfEnum64;

/** Kinds whose record is followed by nothing and whose size/type word is a type id. */
export type BtfRefKind = "ptr" | "typedef" | "volatile" | "const" | "restrict" | "type_tag";

/** A type with a `type` field pointing at another type. */
export type BtfTypeOf<K extends BtfKind> = Extract<BtfType, { kind: K }>;

/** The header of a raw BTF blob, as found (parse) or to be written (encode). */
export interface BtfHeader {
  magic: number;
  version: number;
  flags: number;
  hdrLen: number;
  typeOff: number;
  typeLen: number;
  strOff: number;
  strLen: number;
  /** The kind-layout section (a 32-byte header's layout_off/layout_len; newer libbpf writes it). */
  layoutOff: number;
  layoutLen: number;
}

export type Endian = "little" | "big";
