// The instruction set's public surface.
export * from "./opcodes.ts";
export * from "./insn.ts";
export * from "./decode.ts";
export * from "./encode.ts";
export * from "./validate.ts";
export { parse, parseInsnText, type Stmt, type Pos, type DirectiveArg, type ParseOptions } from "./parse.ts";
export * as builder from "./builder.ts";
export * from "./print-llvm.ts";
export * from "./print-kernel.ts";
export * from "./helper-names.ts";
export * from "./disasm.ts";
export * from "./listing.ts";
export { assemble, assembleStmts, elfObject, rawCode, toObjFile, type AsmResult, type AsmSection } from "./assemble.ts";
