// Finding BTF in a file: raw BTF (starts with the BTF magic, like /sys/kernel/btf/vmlinux) or an
// ELF64 object whose .BTF and .BTF.ext sections we locate from the section headers. Kept to the
// few header fields needed so `tsbpf btf` does not depend on the full object reader.

import { readFileSync } from "node:fs";
import { TsbpfError } from "../src/errors.ts";
import type { Btf } from "./btf.ts";
import { parseBtf } from "./parse.ts";
import { parseBtfExt, type BtfExt } from "./ext.ts";

export interface BtfBlobs {
  /** The raw BTF bytes and their offset in the file. */
  btf: { bytes: Uint8Array; offset: number };
  /** The .BTF.ext section, when the file is an ELF object that has one. */
  ext?: { bytes: Uint8Array; offset: number };
  /** "raw" for a bare BTF blob, "elf" for an object file. */
  container: "raw" | "elf";
}

/** Locate .BTF (and .BTF.ext) in a file's bytes. */
export function findBtf(bytes: Uint8Array, file?: string): BtfBlobs {
  if (bytes.length >= 2 && ((bytes[0] === 0x9f && bytes[1] === 0xeb) || (bytes[0] === 0xeb && bytes[1] === 0x9f))) {
    return { btf: { bytes, offset: 0 }, container: "raw" };
  }
  const secs = elfSections(bytes, file);
  const btf = secs.get(".BTF");
  if (!btf) throw new TsbpfError("BTF_NOT_FOUND", "the ELF file has no .BTF section", { file }, "build with clang -g");
  const ext = secs.get(".BTF.ext");
  return { btf, ext, container: "elf" };
}

/** The file's bytes; Node's Buffer as it comes (a copy only when it is not 8-byte aligned, as word views need). */
function readAligned(path: string): Uint8Array {
  const buf = readFileSync(path);
  return buf.byteOffset % 8 === 0 ? buf : new Uint8Array(buf);
}

/** Read a file and parse the BTF in it (raw or ELF). */
export function loadBtfFile(path: string, base?: Btf): Btf {
  let bytes: Uint8Array;
  try {
    bytes = readAligned(path);
  } catch (e) {
    throw new TsbpfError("IO", `cannot read ${path}: ${(e as Error).message}`, { file: path });
  }
  const { btf } = findBtf(bytes, path);
  return parseBtf(btf.bytes, { base, fileOffset: btf.offset, file: path });
}

/** Sections of an ELF64 file by name, as views with their file offsets (SHT_NOBITS skipped). */
export function elfSections(bytes: Uint8Array, file?: string): Map<string, { bytes: Uint8Array; offset: number }> {
  const bad = (msg: string, offset: number): TsbpfError => new TsbpfError("ELF_BAD_HEADER", msg, { file, offset });
  if (bytes.length < 64 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw bad("neither raw BTF nor an ELF file", 0);
  }
  if (bytes[4] !== 2) throw bad("only 64-bit ELF files carry BPF objects", 4);
  if (bytes[5] !== 1 && bytes[5] !== 2) throw bad(`bad ELF data encoding ${bytes[5]}`, 5);
  const le = bytes[5] === 1;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u64 = (o: number): number => {
    const v = dv.getBigUint64(o, le);
    if (v > BigInt(bytes.length)) throw bad(`offset or size 0x${v.toString(16)} exceeds the file size`, o);
    return Number(v);
  };
  const shoff = u64(0x28);
  const shentsize = dv.getUint16(0x3a, le);
  let shnum = dv.getUint16(0x3c, le);
  let shstrndx = dv.getUint16(0x3e, le);
  if (shoff === 0) throw bad("the ELF file has no section headers", 0x28);
  if (shentsize !== 64) throw bad(`bad section header size ${shentsize}`, 0x3a);
  if (shoff + 64 > bytes.length) throw bad("section headers run past the end of the file", 0x28);
  // Extended numbering: the real counts live in section header 0.
  if (shnum === 0) shnum = u64(shoff + 0x20);
  if (shstrndx === 0xffff) shstrndx = dv.getUint32(shoff + 0x28, le);
  if (shoff + shnum * 64 > bytes.length) throw bad(`${shnum} section headers run past the end of the file`, 0x3c);
  if (shstrndx >= shnum) throw bad(`section name table index ${shstrndx} is out of range`, 0x3e);
  const hdr = (i: number) => {
    const h = shoff + i * 64;
    const type = dv.getUint32(h + 4, le);
    const offset = u64(h + 0x18);
    const size = u64(h + 0x20);
    if (type !== 8 && offset + size > bytes.length) throw bad(`section ${i} runs past the end of the file`, h + 0x18);
    return { name: dv.getUint32(h, le), type, offset, size };
  };
  const strtab = hdr(shstrndx);
  const out = new Map<string, { bytes: Uint8Array; offset: number }>();
  const dec = new TextDecoder();
  for (let i = 1; i < shnum; i++) {
    const s = hdr(i);
    if (s.type === 8) continue;
    const at = strtab.offset + s.name;
    if (s.name >= strtab.size) throw bad(`section ${i} name offset ${s.name} is outside the name table`, shoff + i * 64);
    let end = at;
    while (end < strtab.offset + strtab.size && bytes[end] !== 0) end++;
    const name = dec.decode(bytes.subarray(at, end));
    if (!out.has(name)) out.set(name, { bytes: bytes.subarray(s.offset, s.offset + s.size), offset: s.offset });
  }
  return out;
}

/** Read an ELF object (or raw BTF) and parse its .BTF and, when present, .BTF.ext. */
export function loadBtfWithExt(path: string, base?: Btf): { btf: Btf; ext: BtfExt | undefined } {
  let bytes: Uint8Array;
  try {
    bytes = readAligned(path);
  } catch (e) {
    throw new TsbpfError("IO", `cannot read ${path}: ${(e as Error).message}`, { file: path });
  }
  const found = findBtf(bytes, path);
  const btf = parseBtf(found.btf.bytes, { base, fileOffset: found.btf.offset, file: path });
  const ext = found.ext ? parseBtfExt(found.ext.bytes, btf, { fileOffset: found.ext.offset, file: path }) : undefined;
  return { btf, ext };
}
