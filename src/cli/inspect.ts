// `tsbpf inspect OBJ [--btf FILE] [--json]`: programs, maps, relocations, externs and CO-RE
// fix-ups of an object, resolved against a kernel's BTF (the running one by default).

import { existsSync, readFileSync } from "node:fs";
import { TsbpfError } from "../errors.ts";
import { parseArgs } from "./args.ts";
import { out } from "./output.ts";
import type { Command } from "./command.ts";
import { loadBtfFile, type Btf } from "../../btf/index.ts";
import { loadObject } from "../elf/index.ts";
import { runningKernel, VMLINUX_BTF, type KernelSymbols } from "../link/index.ts";
import { inspectObject, printReport, reportJson } from "../inspect/index.ts";

const HELP = `usage: tsbpf inspect OBJ [--btf FILE | --no-kernel] [--json]

Show what a BPF object holds: programs (section, type, attach target, instruction count,
subprograms, source file), maps (type, key and value types, sizes, flags, initial data),
relocations, externs, and its CO-RE relocations resolved against a kernel's BTF.
  --btf FILE    resolve against this BTF (raw BTF or an ELF with .BTF) instead of the running kernel's
  --no-kernel   resolve nothing against any kernel
  --json        the report as JSON
Exit status 1 if a CO-RE relocation would be poisoned or fail, or a needed kfunc/ksym is missing.`;

function readInput(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new TsbpfError("IO", `cannot read ${path}: ${(e as Error).message}`, { file: path }, "check the path");
  }
}

export const command: Command = {
  name: "inspect",
  help: HELP,
  async run(argv: string[]): Promise<number> {
    const a = parseArgs(argv, { values: ["--btf"], booleans: ["--json", "--no-kernel"] }, "inspect");
    if (a.positionals.length !== 1) throw new TsbpfError("USAGE", "inspect: expected exactly one OBJ", {}, "see 'tsbpf inspect --help'");
    const path = a.positionals[0];
    const obj = loadObject(readInput(path), { file: path });
    let target: Btf | undefined;
    let targetName: string | undefined;
    let kernel: KernelSymbols | undefined;
    const btfPath = a.values.get("--btf");
    if (btfPath !== undefined) {
      target = loadBtfFile(btfPath);
      targetName = btfPath;
      kernel = { btf: target };
    } else if (!a.flags.has("--no-kernel") && existsSync(VMLINUX_BTF)) {
      kernel = runningKernel();
      target = kernel.btf;
      targetName = VMLINUX_BTF;
    }
    const report = inspectObject(obj, {
      file: path,
      ...(target ? { target } : {}),
      ...(targetName ? { targetName } : {}),
      ...(kernel ? { kernel } : {}),
    });
    out(a.flags.has("--json") ? JSON.stringify(reportJson(report), null, 2) + "\n" : printReport(report));
    const bad = report.core.summary.poisoned + report.core.summary.failed + report.externs.filter((x) => x.resolved === false && !x.weak).length;
    return bad > 0 ? 1 : 0;
  },
};
