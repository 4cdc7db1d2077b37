// The linker's public surface: per-program linking with fix-ups computed before they are applied.
export * from "./link.ts";
export * from "./kernel.ts";
