// The instruction set's public surface.
export * from "./opcodes.ts";
export * from "./insn.ts";
export * from "./decode.ts";
export * from "./encode.ts";
export * from "./validate.ts";
