// `tsbpf disasm FILE [--section S] [--syntax llvm|kernel] [--json]`: disassemble a BPF ELF object's
// code sections, or a file of raw instructions, in llvm-objdump's syntax or the kernel's.

import { TsbpfError } from "../errors.ts";
import type { Syntax } from "../../asm/listing.ts";
import { parseArgs } from "./args.ts";
import { out, outAsync, readInput } from "./output.ts";
import type { Command } from "./command.ts";

const HELP = `usage: tsbpf disasm FILE [--section NAME] [--syntax llvm|kernel] [--json]

Disassemble FILE: a BPF ELF object (every executable section) or, for any other file, raw
8-byte instructions.
  --syntax llvm     (default) exactly what 'llvm-objdump-19 -d FILE' prints
  --syntax kernel   the verifier-log / 'bpftool prog dump xlated' syntax: (bf) r6 = r1
  --section NAME    only this section
  --json            one object per instruction: section, symbol, index, bytes, text and fields`;

export const command: Command = {
  name: "disasm",
  help: HELP,
  async run(argv) {
    const a = parseArgs(argv, { values: ["--section", "--syntax"], booleans: ["--json"], aliases: { "-j": "--section" } }, "disasm");
    if (a.positionals.length !== 1) throw new TsbpfError("USAGE", "disasm: expected exactly one input FILE", {}, "see 'tsbpf disasm --help'");
    const syntax = a.values.get("--syntax") ?? "llvm";
    if (syntax !== "llvm" && syntax !== "kernel") throw new TsbpfError("USAGE", `disasm: --syntax must be llvm or kernel, not ${syntax}`, {}, "see 'tsbpf disasm --help'");
    const file = a.positionals[0];
    const bytes = await readInput(file);
    const section = a.values.get("--section");
    const json = a.flags.has("--json");
    // The plain llvm listing loads only its own modules: start-up is most of a small disassembly.
    const text =
      syntax === "llvm" && !json
        ? // A large listing streams out in chunks (written synchronously as each fills); the last part, all of a small one, below.
          (await import("../../asm/disasm.ts")).llvmListing(bytes, file, section, out)
        : (await import("../../asm/listing.ts")).disassemble(bytes, { file, syntax: syntax as Syntax, json, ...(section !== undefined ? { section } : {}) });
    await outAsync(text);
    return 0;
  },
};
