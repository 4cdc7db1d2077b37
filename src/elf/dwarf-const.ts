// DWARF constants the reader needs: tags, attributes, forms, base-type encodings and unit types,
// with the numbers of the DWARF 5 standard (section 7, tables 7.3–7.11) plus the GNU forms.

/** DW_TAG_* (DWARF 5 table 7.3): the debugging-information entries that describe types. */
export const DW_TAG = {
  array_type: 0x01,
  enumeration_type: 0x04,
  formal_parameter: 0x05,
  member: 0x0d,
  pointer_type: 0x0f,
  compile_unit: 0x11,
  structure_type: 0x13,
  subroutine_type: 0x15,
  typedef: 0x16,
  union_type: 0x17,
  unspecified_parameters: 0x18,
  variable: 0x34,
  subrange_type: 0x21,
  base_type: 0x24,
  const_type: 0x26,
  enumerator: 0x28,
  subprogram: 0x2e,
  volatile_type: 0x35,
  restrict_type: 0x37,
  unspecified_type: 0x3b,
  partial_unit: 0x3c,
  atomic_type: 0x47,
} as const;

/** DW_AT_* (DWARF 5 table 7.5) that type extraction reads. */
export const DW_AT = {
  name: 0x03,
  byte_size: 0x0b,
  bit_offset: 0x0c,
  bit_size: 0x0d,
  upper_bound: 0x2f,
  lower_bound: 0x22,
  const_value: 0x1c,
  count: 0x37,
  data_member_location: 0x38,
  declaration: 0x3c,
  encoding: 0x3e,
  type: 0x49,
  data_bit_offset: 0x6b,
  str_offsets_base: 0x72,
} as const;

/** DW_FORM_* (DWARF 5 table 7.6, plus GNU extensions from the GCC/LLVM headers). */
export const DW_FORM = {
  addr: 0x01,
  block2: 0x03,
  block4: 0x04,
  data2: 0x05,
  data4: 0x06,
  data8: 0x07,
  string: 0x08,
  block: 0x09,
  block1: 0x0a,
  data1: 0x0b,
  flag: 0x0c,
  sdata: 0x0d,
  strp: 0x0e,
  udata: 0x0f,
  ref_addr: 0x10,
  ref1: 0x11,
  ref2: 0x12,
  ref4: 0x13,
  ref8: 0x14,
  ref_udata: 0x15,
  indirect: 0x16,
  sec_offset: 0x17,
  exprloc: 0x18,
  flag_present: 0x19,
  strx: 0x1a,
  addrx: 0x1b,
  ref_sup4: 0x1c,
  strp_sup: 0x1d,
  data16: 0x1e,
  line_strp: 0x1f,
  ref_sig8: 0x20,
  implicit_const: 0x21,
  loclistx: 0x22,
  rnglistx: 0x23,
  ref_sup8: 0x24,
  strx1: 0x25,
  strx2: 0x26,
  strx3: 0x27,
  strx4: 0x28,
  addrx1: 0x29,
  addrx2: 0x2a,
  addrx3: 0x2b,
  addrx4: 0x2c,
  GNU_addr_index: 0x1f01,
  GNU_str_index: 0x1f02,
  GNU_ref_alt: 0x1f20,
  GNU_strp_alt: 0x1f21,
} as const;

/** DW_ATE_* base-type encodings (DWARF 5 table 7.11). */
export const DW_ATE = {
  boolean: 0x02,
  float: 0x04,
  signed: 0x05,
  signed_char: 0x06,
  unsigned: 0x07,
  unsigned_char: 0x08,
} as const;

/** DW_UT_* unit types (DWARF 5 table 7.2). */
export const DW_UT = {
  compile: 0x01,
  type: 0x02,
  partial: 0x03,
  skeleton: 0x04,
  split_compile: 0x05,
  split_type: 0x06,
} as const;

/** DW_OP_plus_uconst: the one operation DWARF 2/3 member locations use. */
export const DW_OP_plus_uconst = 0x23;
