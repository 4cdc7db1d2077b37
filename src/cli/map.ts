// `tsbpf map list|show ID|dump ID [--json]`: bpftool's `map show` and `map dump` views of the
// kernel's maps (dump: hex keys and values as bpftool prints maps without BTF).

import { TsbpfError } from "../errors.ts";
import { holders, mapDumpJson, mapDumpText, mapEntries, mapIds, mapShow, mapShowText } from "../load/object-show.ts";
import { parseArgs } from "./args.ts";
import type { Command } from "./command.ts";
import { out } from "./output.ts";

const HELP = `usage: tsbpf map list [--json] [--pids]
       tsbpf map show ID [--json] [--pids]
       tsbpf map dump ID [--json]

list/show: the kernel's maps as \`bpftool map show\` prints them (--json: bpftool -j fields).
dump: every entry, keys and values in hex as \`bpftool map dump\` prints a map without BTF
(per-CPU maps: one value per possible CPU).`;

function id(s: string | undefined): number {
  const n = Number(s);
  if (s === undefined || !Number.isInteger(n) || n <= 0) throw new TsbpfError("USAGE", `map: expected a map id, got '${s ?? ""}'`, {}, "ids are what `tsbpf map list` prints");
  return n;
}

export const command: Command = {
  name: "map",
  help: HELP,
  async run(argv: string[]): Promise<number> {
    const a = parseArgs(argv, { booleans: ["--json", "--pids"] }, "map");
    const [sub, arg] = a.positionals;
    const json = a.flags.has("--json");
    if (sub === "list" || sub === "show") {
      // bpftool 7.1 as packaged lists no holders; --pids adds newer bpftool's "pids" (from /proc).
      const pids = a.flags.has("--pids") ? holders().map : undefined;
      const list = sub === "list" ? mapIds().map((i) => { try { return mapShow(i, pids); } catch { return undefined; } }).filter((x) => x !== undefined) : [mapShow(id(arg), pids)];
      if (json) out(JSON.stringify(sub === "list" ? list : list[0]) + "\n");
      else out(list.map(mapShowText).join(""));
      return 0;
    }
    if (sub === "dump") {
      const { info, entries } = mapEntries(id(arg));
      out(json ? JSON.stringify(mapDumpJson(info, entries)) + "\n" : mapDumpText(info, entries));
      return 0;
    }
    throw new TsbpfError("USAGE", `map: unknown subcommand '${sub ?? ""}'`, {}, "list, show ID, dump ID");
  },
};
