// The ELF side of tsbpf: reading BPF objects into validated sections, symbols and relocations.
export * from "./file.ts";
