// `tsbpf test-run OBJ --prog P [--data FILE] [--ctx FILE] [--repeat N] [--json]`: load the object,
// run one program once (or N times) through BPF_PROG_TEST_RUN and print what the kernel returned.

import { readFileSync } from "node:fs";
import { TsbpfError } from "../errors.ts";
import { loadCollectionFile } from "../load/object.ts";
import { hex } from "../load/typed.ts";
import { VerifierError } from "../sys/progload.ts";
import { parseArgs } from "./args.ts";
import type { Command } from "./command.ts";
import { err, out } from "./output.ts";

const HELP = `usage: tsbpf test-run OBJ --prog NAME [--data FILE] [--ctx FILE] [--repeat N] [--json]

Load OBJ (the named program only, with every map), run the program in the kernel with
BPF_PROG_TEST_RUN and print its return value, the average duration in ns, and the output data
(and context, when --ctx was given) as hex bytes.
  --prog NAME     the program to run (required)
  --data FILE     input packet/data bytes (XDP, tc, socket filters…)
  --ctx FILE      input context bytes (struct __sk_buff, xdp_md, raw_tp arguments…)
  --repeat N      runs to average the duration over (the kernel's default: 1)
  --json          {"retval":…,"duration":…,"data":"hex…","ctx":"hex…"}
Exit 1 if the program does not load or the kernel refuses the run; 2 on bad usage.`;

function readInput(path: string | undefined, what: string): Uint8Array | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (e) {
    throw new TsbpfError("USAGE", `test-run: cannot read ${what} file ${path}: ${(e as Error).message}`, { file: path }, "give an existing file of raw bytes");
  }
}

export const command: Command = {
  name: "test-run",
  help: HELP,
  async run(argv: string[]): Promise<number> {
    const a = parseArgs(argv, { values: ["--prog", "--data", "--ctx", "--repeat"], booleans: ["--json"] }, "test-run");
    if (a.positionals.length !== 1) throw new TsbpfError("USAGE", "test-run: expected exactly one OBJ", {}, "see 'tsbpf test-run --help'");
    const prog = a.values.get("--prog");
    if (!prog) throw new TsbpfError("USAGE", "test-run: --prog NAME is required", {}, "list the programs with 'tsbpf inspect OBJ'");
    const repeatText = a.values.get("--repeat");
    const repeat = repeatText === undefined ? undefined : Number(repeatText);
    if (repeat !== undefined && (!Number.isInteger(repeat) || repeat < 1 || repeat > 0xffffffff)) {
      throw new TsbpfError("USAGE", `test-run: --repeat takes a positive integer, got '${repeatText}'`, {}, "e.g. --repeat 1000");
    }
    const data = readInput(a.values.get("--data"), "data");
    const ctx = readInput(a.values.get("--ctx"), "context");
    try {
      using coll = loadCollectionFile(a.positionals[0], { programs: [prog] });
      const r = coll.programs.get(prog)!.run({
        ...(data ? { data } : {}),
        ...(ctx ? { ctx, ctxOutSize: ctx.byteLength } : {}),
        ...(repeat !== undefined ? { repeat } : {}),
      });
      if (a.flags.has("--json")) {
        out(JSON.stringify({ retval: r.retval, duration: r.duration, data: hex(r.data), ...(r.ctx ? { ctx: hex(r.ctx) } : {}) }) + "\n");
      } else {
        out(`retval: ${r.retval}\nduration: ${r.duration} ns\n`);
        out(`data (${r.data.byteLength} bytes):${r.data.byteLength ? "\n" + hexRows(r.data) : "\n"}`);
        if (r.ctx) out(`ctx (${r.ctx.byteLength} bytes):\n${hexRows(r.ctx)}`);
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

/** 16 bytes a row, as bpftool prints data_out. */
function hexRows(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.byteLength; i += 16) s += hex(b.subarray(i, i + 16)) + "\n";
  return s;
}
