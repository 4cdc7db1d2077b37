// `tsbpf disasm FILE [--section S] [--syntax llvm|kernel] [--json] [--endian little|big]`: disassemble
// a BPF ELF object's code sections (bpfel or bpfeb), or a file of raw instructions, in llvm-objdump's
// syntax or the kernel's.

import { TsbpfError } from "../errors.ts";
import type { Syntax } from "../../asm/listing.ts";
import type { Endian } from "../../asm/disasm.ts";
import { parseArgs } from "./args.ts";
import { out, outAsync, readInput } from "./output.ts";
import type { Command } from "./command.ts";

const HELP = `usage: tsbpf disasm FILE [--section NAME] [--syntax llvm|kernel] [--json] [--endian little|big]

Disassemble FILE: a BPF ELF object (every executable section; little- or big-endian, as
clang -target bpfel/bpfeb builds them) or, for any other file, raw 8-byte instructions.
  --syntax llvm     (default) exactly what 'llvm-objdump-19 -d FILE' prints
  --syntax kernel   the verifier-log / 'bpftool prog dump xlated' syntax: (bf) r6 = r1
  --section NAME    only this section
  --json            one object per instruction: section, symbol, index, bytes, text and fields
  --endian ORDER    byte order of raw input: little (default) or big (bpfeb); an ELF object
                    gives its own, and a different --endian is an error`;

export const command: Command = {
  name: "disasm",
  help: HELP,
  async run(argv) {
    const a = parseArgs(argv, { values: ["--section", "--syntax", "--endian"], booleans: ["--json"], aliases: { "-j": "--section" } }, "disasm");
    if (a.positionals.length !== 1) throw new TsbpfError("USAGE", "disasm: expected exactly one input FILE", {}, "see 'tsbpf disasm --help'");
    const syntax = a.values.get("--syntax") ?? "llvm";
    if (syntax !== "llvm" && syntax !== "kernel") throw new TsbpfError("USAGE", `disasm: --syntax must be llvm or kernel, not ${syntax}`, {}, "see 'tsbpf disasm --help'");
    const file = a.positionals[0];
    const bytes = await readInput(file);
    const section = a.values.get("--section");
    const json = a.flags.has("--json");
    const endianArg = a.values.get("--endian");
    if (endianArg !== undefined && endianArg !== "little" && endianArg !== "big") throw new TsbpfError("USAGE", `disasm: --endian must be little or big, not ${endianArg}`, {}, "see 'tsbpf disasm --help'");
    const endian = endianArg as Endian | undefined;
    // The plain llvm listing loads only its own modules: start-up is most of a small disassembly.
    const text =
      syntax === "llvm" && !json
        ? // A large listing streams out in chunks (written synchronously as each fills); the last part, all of a small one, below.
          (await import("../../asm/disasm.ts")).llvmListing(bytes, file, section, out, endian)
        : (await import("../../asm/listing.ts")).disassemble(bytes, { file, syntax: syntax as Syntax, json, ...(section !== undefined ? { section } : {}), ...(endian !== undefined ? { endian } : {}) });
    await outAsync(text);
    return 0;
  },
};
