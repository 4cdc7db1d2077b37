// `tsbpf core OBJ [--btf FILE] [--json]`: resolve an object's CO-RE relocations against a kernel's
// BTF (the running one by default) and say, per relocation, what libbpf would patch, poison or
// fail on — "will my CO-RE relocations hold on that kernel?", answered offline.

import { readFileSync } from "node:fs";
import { TsbpfError } from "../errors.ts";
import { parseArgs } from "./args.ts";
import { out } from "./output.ts";
import type { Command } from "./command.ts";
import { loadBtfFile } from "../../btf/file.ts";
import { fixupJson, formatFixup, objectCoreFixups, summarize } from "../../btf/core/index.ts";
import { loadObject } from "../elf/index.ts";

const VMLINUX = "/sys/kernel/btf/vmlinux";

const HELP = `usage: tsbpf core OBJ [--btf FILE [--base FILE]] [--all] [--json]

Resolve the CO-RE relocations of a BPF object against a kernel's BTF, as libbpf would at load.
  --btf FILE   target BTF: raw BTF (a vmlinux BTF dump) or an ELF file with .BTF
               (default: ${VMLINUX}, the running kernel)
  --base FILE  base BTF when --btf is split BTF (a module's, over vmlinux); like libbpf,
               the module is searched only for types vmlinux lacks
  --all        include programs libbpf would not load (SEC("?..."))
  --json       the fix-up list as JSON
Exit status 1 if any relocation would be poisoned or would fail the load.`;

function readFile(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new TsbpfError("IO", `cannot read ${path}: ${(e as Error).message}`, { file: path });
  }
}

export const command: Command = {
  name: "core",
  help: HELP,
  async run(argv: string[]): Promise<number> {
    const a = parseArgs(argv, { values: ["--btf", "--base"], booleans: ["--json", "--all"] }, "core");
    if (a.positionals.length !== 1) throw new TsbpfError("USAGE", "core: expected exactly one OBJ", {}, HELP);
    const path = a.positionals[0];
    const targetPath = a.values.get("--btf") ?? VMLINUX;
    const obj = loadObject(readFile(path), { file: path });
    const basePath = a.values.get("--base");
    if (basePath !== undefined && !a.values.has("--btf")) throw new TsbpfError("USAGE", "core: --base goes with --btf (a split BTF over that base)", {}, HELP);
    const target = loadBtfFile(targetPath, basePath !== undefined ? loadBtfFile(basePath) : undefined);
    const fixups = objectCoreFixups(obj, target, { includeDisabled: a.flags.has("--all") });
    const sum = summarize(fixups);
    if (a.flags.has("--json")) {
      out(JSON.stringify({ object: path, target: targetPath, summary: sum, fixups: fixups.map(fixupJson) }, null, 2) + "\n");
    } else {
      const lines = fixups.map(formatFixup);
      lines.push(`${sum.total} CO-RE relocation${sum.total === 1 ? "" : "s"} against ${targetPath}: ${sum.patched} patched, ${sum.poisoned} poisoned, ${sum.failed} failing`);
      out(lines.join("\n") + "\n");
    }
    return sum.poisoned + sum.failed > 0 ? 1 : 0;
  },
};
