// `tsbpf prog list|show ID|dump ID --xlated|--jited [--json]`: bpftool's `prog show` views of the
// kernel's loaded programs, and `prog dump xlated` as bpftool prints it (or the raw images).

import { TsbpfError } from "../errors.ts";
import { holders, progIds, progShow, progShowText } from "../load/object-show.ts";
import { Program } from "../load/index.ts";
import { dumpXlated, xlatedJson, xlatedText } from "../load/prog-xlated.ts";
import { parseArgs } from "./args.ts";
import type { Command } from "./command.ts";
import { out } from "./output.ts";

const HELP = `usage: tsbpf prog list [--json] [--pids]
       tsbpf prog show ID [--json] [--pids]
       tsbpf prog dump ID|pinned PATH --xlated [--json] [--opcodes] [--linum] [--raw]
       tsbpf prog dump ID|pinned PATH --jited [--raw]

list/show: the kernel's loaded programs as \`bpftool prog show\` prints them (--json: bpftool -j fields).
dump: the program's translated (after the verifier's rewrites) or JITed instructions:
  --xlated   the eBPF instructions the kernel holds, as \`bpftool prog dump xlated\` prints them:
             function prototypes and source lines from the program's BTF, helper, kfunc and
             subprogram calls by their kernel symbols, maps as map[id:N] (values map[id:N][0]+off).
             Instructions bpftool 7.1 cannot print (sdiv/smod, movsx, ldsx, bswap, gotol,
             load-acquire/store-release, per-CPU moves) are printed as this kernel prints them.
    --json     bpftool -j's array of {proto, src, disasm, opcodes}
    --opcodes  the instruction bytes under each instruction (bpftool's \`opcodes\`)
    --linum    file, line and column after each source line (bpftool's \`linum\`; bpftool
               takes one of opcodes and linum, we take both)
    --raw      the image's bytes, as bpftool's \`file FILE\` writes them
  --jited    machine code bytes as hex, 16 to a line (--raw: the bytes)`;

function id(s: string | undefined): number {
  const n = Number(s);
  if (s === undefined || !Number.isInteger(n) || n <= 0) throw new TsbpfError("USAGE", `prog: expected a program id, got '${s ?? ""}'`, {}, "ids are what `tsbpf prog list` prints");
  return n;
}

function pinPath(s: string | undefined): string {
  if (!s) throw new TsbpfError("USAGE", "prog dump pinned: expected a path", {}, "a program pinned in bpffs, e.g. /sys/fs/bpf/myprog");
  return s;
}

export const command: Command = {
  name: "prog",
  help: HELP,
  async run(argv: string[]): Promise<number> {
    const a = parseArgs(argv, { booleans: ["--json", "--pids", "--xlated", "--jited", "--raw", "--opcodes", "--linum"] }, "prog");
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
      if (jit && (json || a.flags.has("--opcodes") || a.flags.has("--linum"))) {
        throw new TsbpfError("USAGE", "prog dump --jited: --json, --opcodes and --linum go with --xlated", {}, "--jited prints the machine code as hex (--raw: the bytes)");
      }
      using p = arg === "pinned" ? Program.fromPin(pinPath(a.positionals[2])) : Program.fromId(id(arg));
      if (a.flags.has("--raw")) {
        out(xl ? p.xlated() : p.jited());
        return 0;
      }
      if (xl) {
        const rows = dumpXlated(p.fd);
        const o = { opcodes: a.flags.has("--opcodes"), linum: a.flags.has("--linum") };
        out(json ? xlatedJson(rows, o) : xlatedText(rows, o));
        return 0;
      }
      const bytes = p.jited();
      const lines: string[] = [];
      for (let i = 0; i < bytes.length; i += 16) lines.push(`${String(i).padStart(4)}: ${Buffer.from(bytes.subarray(i, i + 16)).toString("hex")}`);
      out(lines.join("\n") + "\n");
      return 0;
    }
    throw new TsbpfError("USAGE", `prog: unknown subcommand '${sub ?? ""}'`, {}, "list, show ID, dump ID --xlated|--jited");
  },
};
