// Parse .BTF.ext: per-section func_info (instruction → FUNC type), line_info (instruction → file,
// line, column, source text) and CO-RE relocation records (bpf_core_relo), with names and strings
// resolved through the object's .BTF. Layouts from libbpf's btf_ext_header and the UAPI structs.

import { TsbpfError, type Where } from "../src/errors.ts";
import type { Btf } from "./btf.ts";
import { BTF_MAGIC } from "./types.ts";

/** enum bpf_core_relo_kind (include/uapi/linux/bpf.h), by number. */
export const CORE_RELO_KINDS = [
  "field_byte_offset",
  "field_byte_size",
  "field_exists",
  "field_signed",
  "field_lshift_u64",
  "field_rshift_u64",
  "type_id_local",
  "type_id_target",
  "type_exists",
  "type_size",
  "enumval_exists",
  "enumval_value",
  "type_matches",
] as const;
export type CoreReloKind = (typeof CORE_RELO_KINDS)[number];

/** The short names libbpf prints for each kind in its debug log ("<byte_off>"). */
export const CORE_RELO_KIND_LIBBPF: Record<CoreReloKind, string> = {
  field_byte_offset: "byte_off",
  field_byte_size: "byte_sz",
  field_exists: "field_exists",
  field_signed: "signed",
  field_lshift_u64: "lshift_u64",
  field_rshift_u64: "rshift_u64",
  type_id_local: "local_type_id",
  type_id_target: "target_type_id",
  type_exists: "type_exists",
  type_size: "type_size",
  enumval_exists: "enumval_exists",
  enumval_value: "enumval_value",
  type_matches: "type_matches",
};

export interface FuncInfo {
  /** Instruction index in the section (the record holds a byte offset; ELF files use bytes). */
  insn: number;
  /** The FUNC type. */
  typeId: number;
}

export interface LineInfo {
  insn: number;
  fileNameOff: number;
  fileName: string;
  lineOff: number;
  /** The source line's text as clang recorded it. */
  line: string;
  lineNum: number;
  column: number;
}

export interface CoreRelo {
  insn: number;
  /** The local (this object's) root type of the access. */
  typeId: number;
  accessStrOff: number;
  /** "0:1:2" field path, "0" for type relocations, the enumerator index for enum relocations. */
  accessStr: string;
  /** accessStr split into its indices. */
  access: number[];
  kind: CoreReloKind;
}

export interface ExtSection<T> {
  /** The ELF section the instructions live in, e.g. "kprobe/sys_open" or ".text". */
  section: string;
  records: T[];
}

export interface BtfExt {
  funcInfo: ExtSection<FuncInfo>[];
  lineInfo: ExtSection<LineInfo>[];
  coreRelos: ExtSection<CoreRelo>[];
  /** Record sizes as found (newer compilers may append fields; we read the known prefix). */
  recordSizes: { funcInfo: number; lineInfo: number; coreRelo: number };
}

export interface ExtParseOptions {
  fileOffset?: number;
  file?: string;
}

// Smallest record of each info kind: bpf_func_info, bpf_line_info, bpf_core_relo.
const MIN_FUNC_INFO = 8;
const MIN_LINE_INFO = 16;
const MIN_CORE_RELO = 16;
const BPF_INSN_SIZE = 8;

/** Parse a .BTF.ext section against the object's parsed .BTF. */
export function parseBtfExt(bytes: Uint8Array, btf: Btf, opts: ExtParseOptions = {}): BtfExt {
  const base = opts.fileOffset ?? 0;
  const where = (off: number): Where => ({ file: opts.file, offset: base + off });
  const bad = (msg: string, off: number, hint?: string): TsbpfError => new TsbpfError("BTF_BAD_EXT", msg, where(off), hint);
  if (bytes.length < 8) throw bad(`.BTF.ext is ${bytes.length} bytes, shorter than its header`, 0);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let le: boolean;
  if (dv.getUint16(0, true) === BTF_MAGIC) le = true;
  else if (dv.getUint16(0, false) === BTF_MAGIC) le = false;
  else throw bad(`bad .BTF.ext magic 0x${dv.getUint16(0, true).toString(16)}`, 0);
  if (bytes[2] !== 1) throw bad(`unsupported .BTF.ext version ${bytes[2]}`, 2);
  if (bytes[3] !== 0) throw bad(`unsupported .BTF.ext flags 0x${bytes[3].toString(16)}`, 3);
  const hdrLen = dv.getUint32(4, le);
  if (hdrLen < 24 || hdrLen > bytes.length) throw bad(`.BTF.ext header length ${hdrLen} is outside 24..${bytes.length}`, 4);
  const u32 = (off: number): number => dv.getUint32(off, le);

  /** The [off, len] area of one info kind, checked against the data after the header. */
  const area = (fieldAt: number): [number, number] => {
    const off = u32(fieldAt);
    const len = u32(fieldAt + 4);
    if (hdrLen + off + len > bytes.length) throw bad(`info area ${off}+${len} runs past the end of .BTF.ext`, fieldAt);
    if (off % 4 !== 0) throw bad(`info area offset ${off} is not 4-byte aligned`, fieldAt);
    return [hdrLen + off, len];
  };

  const str = (off: number, at: number, what: string): string => {
    if (!btf.strings.has(off)) throw bad(`${what} string offset ${off} is outside the .BTF string table`, at);
    return btf.strings.get(off);
  };

  /** Walk one info area: record size, then sections of {name, count, records}. */
  function sections<T>(what: string, fieldAt: number, minRec: number, read: (at: number, sec: string) => T): { secs: ExtSection<T>[]; recSize: number } {
    const [start, len] = area(fieldAt);
    if (len === 0) return { secs: [], recSize: 0 };
    const end = start + len;
    if (len < 4) throw bad(`${what} area is too short for its record size`, start);
    const recSize = u32(start);
    if (recSize < minRec || recSize % 4 !== 0) throw bad(`${what} record size ${recSize} is invalid (at least ${minRec}, a multiple of 4)`, start);
    const secs: ExtSection<T>[] = [];
    let p = start + 4;
    while (p < end) {
      if (p + 8 > end) throw bad(`${what} section header cut short`, p);
      const name = str(u32(p), p, `${what} section name`);
      const n = u32(p + 4);
      if (n === 0) throw bad(`${what} section '${name}' has no records`, p + 4);
      // Bounded by the area's real length before anything is allocated.
      if (n > (end - p - 8) / recSize) throw bad(`${what} section '${name}' claims ${n} records of ${recSize} bytes, more than fit`, p + 4);
      const records: T[] = new Array(n);
      for (let i = 0, q = p + 8; i < n; i++, q += recSize) records[i] = read(q, name);
      secs.push({ section: name, records });
      p += 8 + n * recSize;
    }
    return { secs, recSize };
  }

  const insnOf = (at: number, what: string): number => {
    const off = u32(at);
    if (off % BPF_INSN_SIZE !== 0) throw bad(`${what} instruction offset ${off} is not a multiple of 8`, at);
    return off / BPF_INSN_SIZE;
  };

  const func = sections("func_info", 8, MIN_FUNC_INFO, (at) => {
    const typeId = u32(at + 4);
    if (btf.kindOf(typeId < btf.typeCount ? typeId : 0) !== "func") throw bad(`func_info type id ${typeId} is not a FUNC`, at + 4);
    return { insn: insnOf(at, "func_info"), typeId };
  });

  const line = sections("line_info", 16, MIN_LINE_INFO, (at) => {
    const fileNameOff = u32(at + 4);
    const lineOff = u32(at + 8);
    const lineCol = u32(at + 12);
    return {
      insn: insnOf(at, "line_info"),
      fileNameOff,
      fileName: str(fileNameOff, at + 4, "line_info file name"),
      lineOff,
      line: str(lineOff, at + 8, "line_info source line"),
      lineNum: lineCol >>> 10,
      column: lineCol & 0x3ff,
    };
  });

  // CO-RE relocations exist only when the header is long enough to hold their area.
  const core = hdrLen >= 32 ? sections("core_relo", 24, MIN_CORE_RELO, (at) => readCoreRelo(at)) : { secs: [], recSize: 0 };

  function readCoreRelo(at: number): CoreRelo {
    const typeId = u32(at + 4);
    if (typeId >= btf.typeCount) throw bad(`CO-RE relocation type id ${typeId} is out of range`, at + 4);
    const accessStrOff = u32(at + 8);
    const accessStr = str(accessStrOff, at + 8, "CO-RE access");
    if (!/^\d+(:\d+)*$/.test(accessStr)) throw bad(`CO-RE access string '${accessStr}' is not a colon-separated index list`, at + 8);
    const k = u32(at + 12);
    if (k >= CORE_RELO_KINDS.length) throw bad(`unknown CO-RE relocation kind ${k}`, at + 12);
    return { insn: insnOf(at, "CO-RE relocation"), typeId, accessStrOff, accessStr, access: accessStr.split(":").map(Number), kind: CORE_RELO_KINDS[k] };
  }

  return {
    funcInfo: func.secs,
    lineInfo: line.secs,
    coreRelos: core.secs,
    recordSizes: { funcInfo: func.recSize, lineInfo: line.recSize, coreRelo: core.recSize },
  };
}

/**
 * The line_info record in effect at instruction `insn` of a section: the last one at or before
 * it (records are sorted by instruction, as clang emits and the kernel requires), or undefined
 * before the first record.
 */
export function lineAt(sec: ExtSection<LineInfo>, insn: number): LineInfo | undefined {
  const r = sec.records;
  let lo = 0;
  let hi = r.length - 1;
  let found: LineInfo | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (r[mid].insn <= insn) {
      found = r[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
