// The DWARF sections of a BPF object (.debug_info, .debug_abbrev, the string sections), kept on the
// ObjectSpec as views of the file so types clang left out of BTF can be read later (src/elf/dwarf.ts).

import type { ElfFile } from "./file.ts";
import { SHT } from "./file.ts";

export interface DebugSection {
  /** The contents: a view of the file's bytes, not a copy. */
  data: Uint8Array;
  /** File offset of the contents, for error positions. */
  fileOffset: number;
  /**
   * Relocated fields whose symbol has a non-zero value: offset in the section → value to add.
   * clang relocates debug offsets against section symbols (value 0) with the addend in place
   * (REL), so the bytes already hold the offsets and this map is empty for what clang writes.
   */
  adjust: ReadonlyMap<number, number>;
  /** SHF_COMPRESSED (clang -gz): `data` is an Elf64_Chdr and a zlib or zstd stream. */
  compressed?: boolean;
  /** Set on the decompressed copy: offsets in `data` are not file offsets. */
  inflated?: boolean;
}

export interface DebugSections {
  file?: string;
  info?: DebugSection;
  abbrev?: DebugSection;
  str?: DebugSection;
  strOffsets?: DebugSection;
  lineStr?: DebugSection;
}

/** SHF_COMPRESSED (elf.h). */
const SHF_COMPRESSED = 0x800n;

const NAMES: Readonly<Record<string, keyof Omit<DebugSections, "file">>> = {
  ".debug_info": "info",
  ".debug_abbrev": "abbrev",
  ".debug_str": "str",
  ".debug_str_offsets": "strOffsets",
  ".debug_line_str": "lineStr",
};

/** The debug sections present in `elf` (undefined when it has no .debug_info). */
export function debugSections(elf: ElfFile): DebugSections | undefined {
  const out: DebugSections = elf.file !== undefined ? { file: elf.file } : {};
  for (const sec of elf.sections) {
    const key = NAMES[sec.name];
    if (!key || sec.type !== SHT.PROGBITS || out[key]) continue;
    const adjust = new Map<number, number>();
    for (const r of elf.relocationsFor(sec.index)) {
      const v = elf.symbols[r.symbol]?.value ?? 0n;
      if (v !== 0n && v <= 0xffffffffn) adjust.set(r.offset, Number(v));
    }
    out[key] = { data: sec.data, fileOffset: sec.offset, adjust, ...((sec.flags & SHF_COMPRESSED) !== 0n ? { compressed: true } : {}) };
  }
  return out.info ? out : undefined;
}
