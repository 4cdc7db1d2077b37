// `tsbpf prog list|show ID|dump ID --xlated|--jited [--json]`: bpftool's `prog show` views of the
// kernel's loaded programs; dump writes the translated or JITed bytes (raw) for other tools.

import { TsbpfError } from "../errors.ts";
import { holders, progIds, progShow, progShowText } from "../load/object-show.ts";
import { Program } from "../load/index.ts";
import { parseArgs } from "./args.ts";
import type { Command } from "./command.ts";
import { out } from "./output.ts";

const HELP = `usage: tsbpf prog list [--json] [--pids]
       tsbpf prog show ID [--json] [--pids]
       tsbpf prog dump ID --xlated|--jited [--raw]

list/show: the kernel's loaded programs as \`bpftool prog show\` prints them (--json: bpftool -j fields).
dump: the program's translated (after the verifier's rewrites) or JITed instructions:
  --xlated   eBPF instructions as the kernel holds them, one per line as hex ("--raw": the bytes)
  --jited    machine code bytes as hex (--raw: the bytes)`;

function id(s: string | undefined): number {
  const n = Number(s);
  if (s === undefined || !Number.isInteger(n) || n <= 0) throw new TsbpfError("USAGE", `prog: expected a program id, got '${s ?? ""}'`, {}, "ids are what `tsbpf prog list` prints");
  return n;
}

export const command: Command = {
  name: "prog",
  help: HELP,
  async run(argv: string[]): Promise<number> {
    const a = parseArgs(argv, { booleans: ["--json", "--pids", "--xlated", "--jited", "--raw"] }, "prog");
    const [sub, arg] = a.positionals;
    const json = a.flags.has("--json");
    if (sub === "list" || sub === "show") {
      // bpftool 7.1 as packaged lists no holders; --pids adds newer bpftool's "pids" (from /proc).
      const pids = a.flags.has("--pids") ? holders().prog : undefined;
      const list = sub === "list" ? progIds().map((i) => { try { return progShow(i, pids); } catch { return undefined; } }).filter((x) => x !== undefined) : [progShow(id(arg), pids)];
      if (json) out(JSON.stringify(sub === "list" ? list : list[0]) + "\n");
      else out(list.map(progShowText).join(""));
      return 0;
    }
    if (sub === "dump") {
      const xl = a.flags.has("--xlated"), jit = a.flags.has("--jited");
      if (xl === jit) throw new TsbpfError("USAGE", "prog dump: give exactly one of --xlated or --jited", {}, "see 'tsbpf prog --help'");
      using p = Program.fromId(id(arg));
      const bytes = xl ? p.xlated() : p.jited();
      if (a.flags.has("--raw")) out(bytes);
      else {
        const step = xl ? 8 : 16;
        const lines: string[] = [];
        for (let i = 0; i < bytes.length; i += step) lines.push(`${String(i / (xl ? 8 : 1)).padStart(4)}: ${Buffer.from(bytes.subarray(i, i + step)).toString("hex")}`);
        out(lines.join("\n") + "\n");
      }
      return 0;
    }
    throw new TsbpfError("USAGE", `prog: unknown subcommand '${sub ?? ""}'`, {}, "list, show ID, dump ID --xlated|--jited");
  },
};
