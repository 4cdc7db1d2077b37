// The linker's public surface: per-program linking with fix-ups computed before they are applied,
// kernel symbol lookup, and .kconfig values.
export * from "./link.ts";
export * from "./kernel.ts";
export * from "./kconfig.ts";
