// `tsbpf load OBJ [--prog NAME]... [--pin DIR] [--log-level N] [--json]`: load an object as libbpf
// would and print one verdict line per program; a rejection prints the kernel's log and exits 1.

import { TsbpfError } from "../errors.ts";
import { loadCollectionFile } from "../load/object.ts";
import { VerifierError } from "../sys/progload.ts";
import { pinPrograms, programVerdicts } from "../load/object-pin.ts";
import { parseArgs } from "./args.ts";
import type { Command } from "./command.ts";
import { err, out } from "./output.ts";

const HELP = `usage: tsbpf load OBJ [--prog NAME]... [--pin DIR] [--log-level N] [--json]

Load a BPF object into the kernel the way libbpf does (BTF, maps, programs) and print, per program,
its name, type, id, instruction count and the verifier's processed-instruction count.
  --prog NAME     load only this program (repeatable); default: every program with autoload
  --pin DIR       pin the loaded programs under DIR (by name) so they outlive this process;
                  maps with pinning by name go under DIR too (libbpf's default is /sys/fs/bpf)
  --log-level N   verifier log level (1, 2; add 4 for stats); the log is printed per program
  --json          the verdicts as JSON
Exit status 1 if the kernel rejects a program (its log is printed), 2 on bad input.`;

export const command: Command = {
  name: "load",
  help: HELP,
  async run(argv: string[]): Promise<number> {
    const a = parseArgs(argv, { values: ["--pin", "--log-level"], repeated: ["--prog"], booleans: ["--json"] }, "load");
    if (a.positionals.length !== 1) throw new TsbpfError("USAGE", "load: expected exactly one OBJ", {}, "see 'tsbpf load --help'");
    const logLevel = Number(a.values.get("--log-level") ?? "0");
    if (!Number.isInteger(logLevel) || logLevel < 0 || logLevel > 7) throw new TsbpfError("USAGE", "load: --log-level takes 0..7", {}, "1 = verifier log, 2 = verbose, +4 = stats");
    const pin = a.values.get("--pin");
    const progs = a.lists.get("--prog");
    try {
      using coll = loadCollectionFile(a.positionals[0], { ...(progs ? { programs: progs } : {}), ...(pin ? { pinRoot: pin } : {}), logLevel });
      const verdicts = programVerdicts(coll);
      if (pin) pinPrograms(coll, pin);
      if (a.flags.has("--json")) out(JSON.stringify(verdicts.map(({ log: _log, ...v }) => v)) + "\n");
      else {
        for (const v of verdicts) {
          out(`${v.name}: ${v.type}  id ${v.id}  insns ${v.insns}  verified ${v.verified}  accepted\n`);
          if (logLevel > 0 && v.log) out(v.log.endsWith("\n") ? v.log : v.log + "\n");
        }
      }
      return 0;
    } catch (e) {
      if (e instanceof VerifierError) {
        err(e.log.endsWith("\n") ? e.log : e.log + "\n");
        err(`${e.message}\n`);
        return 1;
      }
      throw e;
    }
  },
};
