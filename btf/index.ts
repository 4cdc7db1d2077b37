// The public surface of btf/: the model, parsing, encoding, dumping and .BTF.ext.

export * from "./types.ts";
export { Btf, VOID, type BtfInit, type BtfLayout, type RawTypes } from "./btf.ts";
export { StringTable } from "./strings.ts";
export { parseBtf, parseHeader, type ParseOptions } from "./parse.ts";
export { encodeBtf, type EncodeOptions } from "./encode.ts";
export { dumpRaw, dumpJson, formatRawType, formatJsonType } from "./dump-raw.ts";
export { dumpJsonBytes, dumpJsonChunks, dumpRawBytes, dumpRawChunks } from "./dump-raw-bytes.ts";
export { findBtf, loadBtfFile, loadBtfWithExt, elfSections, type BtfBlobs } from "./file.ts";
export { parseBtfExt, lineAt, CORE_RELO_KINDS, CORE_RELO_KIND_LIBBPF, type BtfExt, type CoreRelo, type CoreReloKind, type ExtSection, type FuncInfo, type LineInfo, type ExtParseOptions } from "./ext.ts";
export * as core from "./core/index.ts";
export { dumpC, dumpCBytes } from "./cdump.ts";
