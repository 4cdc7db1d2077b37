// The ELF side of tsbpf: reading BPF objects into validated sections, symbols and relocations,
// and from those into an ObjectSpec (programs, maps, externs) with no syscall.
export * from "./file.ts";
export * from "./uapi.ts";
export * from "./sections.ts";
export * from "./spec.ts";
export { loadObject, objectName, type LoadObjectOptions } from "./object.ts";
export { internalMapName, BPF_F_MMAPABLE, BPF_F_RDONLY_PROG } from "./maps.ts";
