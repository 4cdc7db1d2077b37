// `tsbpf feature [--json] [--section S]... [--full] [--threads N]`: what this kernel supports — program types, map
// types, helpers per program type, misc — probed and printed as `bpftool feature probe kernel` does.

import { TsbpfError } from "../errors.ts";
import { featureJson, featureText } from "../load/feature-print.ts";
import { SECTIONS, probeKernel, type Section } from "../load/feature-report.ts";
import { parseArgs } from "./args.ts";
import type { Command } from "./command.ts";
import { err, out } from "./output.ts";

const HELP = `usage: tsbpf feature [--json] [--section S]... [--full] [--threads N]

Probe what the running kernel supports, as \`bpftool feature probe kernel\` does: load a tiny
program of every program type, create a tiny map of every map type, and load a call to every helper
from every program type that loads (the verifier's answer says whether that type may use it).
Type and helper names come from the kernel's BTF, so types newer than tsbpf's tables show up.
A helper the verifier refuses with "program of this type cannot use helper" (newer kernels' words)
counts as unavailable; bpftool 7.1 (libbpf 1.1) knows only "unknown func" and lists it.
  --section S   only this section (repeatable): system (sysctls, kernel config, bpf() syscall),
                program_types, map_types, helpers, misc (large programs, bounded loops, ISA v2-v4)
  --full        also probe bpf_trace_printk, bpf_trace_vprintk and bpf_probe_write_user
                (left out by default: loading them writes a warning to the kernel log)
  --threads N   threads for the helper probes (default: 1, plus one per idle CPU, at most 4)
  --json        bpftool -j's object: system_config, syscall_config, program_types, map_types,
                helpers ("xdp_available_helpers": [...]), misc
Needs root (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN, CAP_SYS_ADMIN).
Exit status 1 when bpf() refuses this process (the verdicts are printed, but mean nothing), 2 on
bad usage.`;

function sections(list: readonly string[] | undefined): Section[] {
  const out: Section[] = [];
  for (const s of list ?? []) {
    if (!(SECTIONS as readonly string[]).includes(s)) {
      throw new TsbpfError("USAGE", `feature: unknown section '${s}'`, {}, `one of ${SECTIONS.join(", ")}`);
    }
    out.push(s as Section);
  }
  return out;
}

function threads(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new TsbpfError("USAGE", `feature: --threads takes 1..64, got '${v}'`, {}, "1 probes on the main thread only");
  return n;
}

export const command: Command = {
  name: "feature",
  help: HELP,
  async run(argv: string[]): Promise<number> {
    const a = parseArgs(argv, { repeated: ["--section"], values: ["--threads"], booleans: ["--json", "--full"] }, "feature");
    if (a.positionals.length > 0) throw new TsbpfError("USAGE", `feature: unexpected argument '${a.positionals[0]}'`, {}, "see 'tsbpf feature --help'");
    const report = await probeKernel({ sections: sections(a.lists.get("--section")), full: a.flags.has("--full"), threads: threads(a.values.get("--threads")) });
    // bpftool's notes on stderr when a source of facts is missing.
    if (report.system && !report.system.sysctls) err("procfs not mounted, skipping related probes\n");
    if (report.system?.config.problem) err(`skipping kernel config: ${report.system.config.problem}\n`);
    if ((report.programTypes || report.mapTypes) && report.namesSource === undefined) err("kernel BTF not readable: probing the types and helpers tsbpf's tables know\n");
    out(a.flags.has("--json") ? JSON.stringify(featureJson(report)) + "\n" : featureText(report));
    if (!report.denied) return 0;
    // bpftool refuses to probe without privileges; we print what we saw and fail.
    err("tsbpf: feature: bpf() refused this process (EPERM), so the verdicts above say nothing about the kernel\n  hint: run as root, or with CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN and CAP_SYS_ADMIN\n");
    return 1;
  },
};
