// `tsbpf map list|show ID|dump ID [--json]`: bpftool's `map show` and `map dump` views of the
// kernel's maps (dump: values formatted through the map's BTF, or hex without BTF).

import { TsbpfError } from "../errors.ts";
import { SysError } from "../sys/errno.ts";
import { holders, mapIds, mapShow, mapShowText } from "../load/object-show.ts";
import { mapDumpJson, mapDumpText, readMapDump } from "../load/map-dump.ts";
import { parseArgs } from "./args.ts";
import type { Command } from "./command.ts";
import { out } from "./output.ts";

const HELP = `usage: tsbpf map list [--json] [--pids]
       tsbpf map show ID [--json] [--pids]
       tsbpf map dump ID [--json]

list/show: the kernel's maps as \`bpftool map show\` prints them (--json: bpftool -j fields).
dump: every entry as \`bpftool map dump\` prints it: keys and values formatted through the map's BTF
(structs, enums by name, strings, .data/.bss variables by name), or in hex for a map without BTF;
per-CPU maps show one value per possible CPU. --json: bpftool -j's hex bytes plus "formatted".`;

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
      const d = readMapDump(id(arg));
      out(json ? mapDumpJson(d) : mapDumpText(d));
      if (d.walkErrno === undefined) return 0;
      // bpftool also stops here and fails; the entries read so far are printed above.
      throw new SysError("MAP_GET_NEXT_KEY", d.walkErrno, `map ${d.info.id} cannot be walked by key`, {}, "queue, stack and ring buffer maps have no keys to list");
    }
    throw new TsbpfError("USAGE", `map: unknown subcommand '${sub ?? ""}'`, {}, "list, show ID, dump ID");
  },
};
