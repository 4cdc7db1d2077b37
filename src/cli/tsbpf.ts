#!/usr/bin/env bun
// The tsbpf command line: dispatch to one module per subcommand (src/cli/<name>.ts), each
// exporting `command: Command`. Exit codes: 0 ok, 1 the program or check failed, 2 bad usage or input.

import { isTsbpfError } from "../errors.ts";
import { COMMANDS, type Command } from "./command.ts";
import { err, out } from "./output.ts";
import { VERSION } from "./version.ts";

const USAGE = `tsbpf — a pure-TypeScript BPF toolchain

usage: tsbpf <command> [options]

commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join("\n")}

Run 'tsbpf <command> --help' for a command's options; 'tsbpf --version' for the version.
Exit codes: 0 ok, 1 the program or check failed, 2 bad usage or input.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--version" || name === "-V" || name === "version") {
    out(`tsbpf ${VERSION}\n`);
    return 0;
  }
  if (!name || name === "--help" || name === "-h" || name === "help") {
    out(USAGE + "\n");
    return name ? 0 : 2;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    err(`tsbpf: unknown command '${name}'\n\n${USAGE}\n`);
    return 2;
  }
  const mod = (await entry.load()) as { command: Command };
  if (rest.includes("--help") || rest.includes("-h")) {
    out(mod.command.help + "\n");
    return 0;
  }
  return mod.command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (isTsbpfError(e)) {
      err(`tsbpf: ${e.describe()}\n`);
      process.exit(e.code === "SYS" || e.code === "VERIFIER" ? 1 : 2);
    }
    err(`tsbpf: internal error: ${(e instanceof Error && e.stack) || String(e)}\n`);
    process.exit(70);
  },
);
