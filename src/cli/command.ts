// The subcommand registry. Each subcommand lives in its own file and is loaded only when run,
// so `tsbpf disasm` never pays for the BTF parser or the loader.

export interface Command {
  name: string;
  help: string;
  /** Parse arguments, call the library, print; return the exit code. */
  run(argv: string[]): Promise<number>;
}

export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<unknown>;
}

// One line per subcommand; add yours here when its module exists.
export const COMMANDS: CommandEntry[] = [
  { name: "btf", summary: "dump BTF (raw like bpftool, JSON)", load: () => import("./btf.ts") },
  { name: "disasm", summary: "disassemble a BPF object or raw code (llvm-objdump or kernel syntax)", load: () => import("./disasm.ts") },
  { name: "asm", summary: "assemble BPF text into an ELF object or raw bytes", load: () => import("./asm.ts") },
  { name: "core", summary: "check CO-RE relocations against a kernel BTF (running or --btf FILE)", load: () => import("./core.ts") },
  { name: "inspect", summary: "show programs, maps, relocations, externs and CO-RE fix-ups of an object", load: () => import("./inspect.ts") },
  { name: "load", summary: "load a BPF object into the kernel as libbpf does; per-program verdicts", load: () => import("./load.ts") },
  { name: "prog", summary: "loaded programs: list, show ID, dump ID --xlated|--jited (bpftool's views)", load: () => import("./prog.ts") },
  { name: "map", summary: "kernel maps: list, show ID, dump ID (bpftool's views)", load: () => import("./map.ts") },
  { name: "run", summary: "load, attach by section, stream ring/perf buffer events as JSON, print maps on exit", load: () => import("./run.ts") },
  { name: "test-run", summary: "run one program of an object with BPF_PROG_TEST_RUN: retval, duration, output data", load: () => import("./test-run.ts") },
  { name: "feature", summary: "what this kernel supports: program/map types, helpers per program type (bpftool feature probe)", load: () => import("./feature.ts") },
];
