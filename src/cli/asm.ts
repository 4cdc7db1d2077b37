// `tsbpf asm FILE -o OUT [--raw] [--section S]`: assemble BPF assembly text (llvm-mc or kernel-log
// syntax) into a relocatable ELF object, or raw instruction bytes when OUT ends in .bin or --raw.

import { TsbpfError } from "../errors.ts";
import { assemble, elfObjectParts, rawCode } from "../../asm/assemble.ts";
import { parseArgs } from "./args.ts";
import type { Command } from "./command.ts";
import { readInputText, writeFileParts } from "./output.ts";

const HELP = `usage: tsbpf asm FILE -o OUT [--raw] [--section NAME]

Assemble FILE (BPF assembly: llvm-mc/llvm-objdump syntax or the kernel's verifier-log syntax,
'-' for stdin) into OUT:
  OUT.o (or any name)   a relocatable ELF object (EM_BPF) with symbols, relocations, maps and
                        their BTF, loadable by libbpf/bpftool
  OUT.bin or --raw      the raw 8-byte instructions of the code section (no relocations allowed)
  --section NAME        with raw output, which code section to write
Directives (.section, .globl, .type, .size, .byte…, .map, .license): see asm/assemble.ts.`;

export const command: Command = {
  name: "asm",
  help: HELP,
  async run(argv) {
    const a = parseArgs(argv, { values: ["-o", "--section"], booleans: ["--raw"], aliases: { "--output": "-o" } }, "asm");
    if (a.positionals.length !== 1) throw new TsbpfError("USAGE", "asm: expected exactly one input FILE", {}, "see 'tsbpf asm --help'");
    const out = a.values.get("-o");
    if (out === undefined) throw new TsbpfError("USAGE", "asm: -o OUT is required", {}, "see 'tsbpf asm --help'");
    const input = a.positionals[0];
    const text = await readInputText(input);
    // Only bytes are written: no per-instruction source records (messages keep their line:column).
    const result = assemble(text, input === "-" ? "<stdin>" : input, { keepSource: false });
    const raw = a.flags.has("--raw") || out.endsWith(".bin");
    const section = a.values.get("--section");
    if (section !== undefined && !raw) throw new TsbpfError("USAGE", "asm: --section goes with raw output (.bin or --raw)");
    // The object's pieces are written one after another: no copy of a large file's code joins them.
    await writeFileParts(out, raw ? [rawCode(result, section)] : elfObjectParts(result));
    return 0;
  },
};
