// `tsbpf btf dump FILE [--format raw|c] [--json] [--base FILE]`: list the BTF in a raw BTF file
// (/sys/kernel/btf/vmlinux) or an ELF object's .BTF section, as bpftool does.

import { TsbpfError } from "../errors.ts";
import { parseArgs } from "./args.ts";
import type { Command } from "./command.ts";
import { out } from "./output.ts";
import { readFileSync } from "node:fs";
import { findBtf } from "../../btf/file.ts";
import { parseBtf } from "../../btf/parse.ts";
import { dumpJsonTo, dumpRawTo } from "../../btf/dump-raw-bytes.ts";
import type { Btf } from "../../btf/btf.ts";
import { dumpCTo } from "../../btf/cdump.ts";

const HELP = `usage: tsbpf btf dump FILE [--format raw|c] [--json] [--base FILE]

List the BTF types in FILE: raw BTF (e.g. /sys/kernel/btf/vmlinux) or an ELF object (.BTF section).
  --format raw   one entry per type, exactly as 'bpftool btf dump file FILE format raw' (default)
  --format c     C declarations, like bpftool's 'format c' (vmlinux.h)
  --json         the raw listing as JSON, with the field names of 'bpftool -j btf dump'
  --base FILE    base BTF for split BTF (e.g. /sys/kernel/btf/vmlinux under a module's BTF)`;

type Format = "raw" | "c";

/** Each output format: print the parsed BTF through `out` (chunks are written as they are made). */
const FORMATS: Record<Format, (btf: Btf, json: boolean) => void> = {
  raw: (btf, json) => (json ? dumpJsonTo(btf, out) : dumpRawTo(btf, out)),
  c: (btf) => dumpCTo(btf, out),
};

/**
 * btf/file.ts's loadBtfFile, reading into a view of the Buffer instead of a copy: fresh memory is
 * costly here (copying vmlinux's 5 MB took tens of ms), and the CLI owns the Buffer anyway.
 */
function loadBtf(path: string, base?: Btf): Btf {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new TsbpfError("IO", `cannot read ${path}: ${(e as Error).message}`, { file: path });
  }
  const { btf } = findBtf(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path);
  return parseBtf(btf.bytes, { base, fileOffset: btf.offset, file: path });
}

function dump(argv: string[]): number {
  const a = parseArgs(argv, { values: ["--format", "--base"], booleans: ["--json"] }, "btf dump");
  if (a.positionals.length !== 1) throw new TsbpfError("USAGE", "btf dump: expected exactly one FILE", {}, HELP);
  const format = a.values.get("--format") ?? "raw";
  if (format !== "raw" && format !== "c") {
    throw new TsbpfError("USAGE", `btf dump: unknown format '${format}' (raw or c)`, {}, "see 'tsbpf btf --help'");
  }
  const json = a.flags.has("--json");
  if (json && format === "c") throw new TsbpfError("USAGE", "btf dump: --json goes with --format raw only");
  const basePath = a.values.get("--base");
  const base = basePath !== undefined ? loadBtf(basePath) : undefined;
  const btf = loadBtf(a.positionals[0], base);
  // Synchronous writes to fd 1: process.stdout alone costs ~33 ms of Bun start-up.
  FORMATS[format](btf, json);
  return 0;
}

export const command: Command = {
  name: "btf",
  help: HELP,
  async run(argv: string[]): Promise<number> {
    const [sub, ...rest] = argv;
    if (sub === "dump") return dump(rest);
    throw new TsbpfError("USAGE", sub ? `btf: unknown subcommand '${sub}'` : "btf: missing subcommand", {}, HELP);
  },
};
