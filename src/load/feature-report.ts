// The whole `tsbpf feature` report: which probes run for which sections, in bpftool's order
// (system, syscall, program types, map types, helpers per program type, misc).

import { EPERM } from "../sys/errno.ts";
import type { FeatureNames, NamedId } from "./feature-names.ts";
import {
  MISC_FEATURES, kernelFeatureNames, probeBpfSyscall, probeMisc, probeProgramType,
  type MiscFeature, type Probe,
} from "./feature.ts";
import { probeMapType } from "./feature-maps.ts";
import { defaultThreads, probeHelpersParallel } from "./feature-parallel.ts";
import { readSystemConfig, type SystemConfig } from "./feature-system.ts";

export const SECTIONS = ["system", "program_types", "map_types", "helpers", "misc"] as const;
export type Section = (typeof SECTIONS)[number];

export interface TypeVerdict extends NamedId {
  probe: Probe;
}

export interface HelperVerdicts {
  progType: NamedId;
  /** Helpers are probed only for program types that load (bpftool: "Program type not supported"). */
  typeAvailable: boolean;
  /** Every helper probed, with its answer (empty when the type is not available). */
  helpers: TypeVerdict[];
}

export interface FeatureReport {
  sections: ReadonlySet<Section>;
  system?: SystemConfig;
  syscall: Probe;
  /** Probed whenever program_types or helpers is asked for (helpers need the verdicts). */
  programTypes?: TypeVerdict[];
  mapTypes?: TypeVerdict[];
  helpers?: HelperVerdicts[];
  misc?: { feature: MiscFeature; probe: Probe }[];
  /** Where the type and helper names came from (kernel BTF path), if not our tables alone. */
  namesSource: string | undefined;
  /** bpf() refused this process (EPERM): every probe below says "not available" for that reason. */
  denied: boolean;
}

export interface ProbeOptions {
  /** Sections to probe; all by default. */
  sections?: readonly Section[];
  /**
   * Also probe bpf_trace_printk, bpf_trace_vprintk and bpf_probe_write_user (bpftool's "full"):
   * left out by default because loading them writes a warning to the kernel log.
   */
  full?: boolean;
  /** Names to probe under; the running kernel's (from its BTF) by default. */
  names?: FeatureNames;
  /** Threads for the helper probes (the main one included); by default one more per idle CPU. */
  threads?: number;
}

const NOISY_HELPERS: ReadonlySet<string> = new Set(["bpf_trace_printk", "bpf_trace_vprintk", "bpf_probe_write_user"]);

function zip(named: readonly NamedId[], probes: readonly Probe[]): TypeVerdict[] {
  return named.map((n, i) => ({ ...n, probe: probes[i] }));
}

/** Run the probes of the chosen sections. Never throws for what the kernel lacks: those are verdicts. */
export async function probeKernel(o: ProbeOptions = {}): Promise<FeatureReport> {
  const sections = new Set<Section>(o.sections && o.sections.length > 0 ? o.sections : SECTIONS);
  const needTypes = sections.has("program_types") || sections.has("helpers");
  const needNames = needTypes || sections.has("map_types");
  const names = needNames ? (o.names ?? kernelFeatureNames()) : undefined;
  const syscall = probeBpfSyscall();
  const report: FeatureReport = { sections, syscall, namesSource: names?.source, denied: syscall.errno === EPERM };
  if (sections.has("system")) report.system = readSystemConfig();
  // Without bpf() there is nothing more to ask (bpftool stops here too).
  if (report.syscall.status !== "available") return report;
  if (needTypes && names) report.programTypes = names.progTypes.map((t) => ({ ...t, probe: probeProgramType(t.id) }));
  if (sections.has("map_types") && names) report.mapTypes = names.mapTypes.map((t) => ({ ...t, probe: probeMapType(t.id) }));
  if (sections.has("helpers") && names && report.programTypes) {
    const helpers = names.helpers.filter((h) => o.full || !NOISY_HELPERS.has(h.name));
    const ids = helpers.map((h) => h.id);
    const probed = report.programTypes.filter((t) => t.probe.status === "available");
    const threads = o.threads ?? defaultThreads();
    const verdicts = await probeHelpersParallel(probed.map((t) => ({ type: t.id, ids })), threads);
    const byType = new Map(probed.map((t, i) => [t.id, verdicts[i]]));
    report.helpers = report.programTypes.map((t) => {
      const v = byType.get(t.id);
      return { progType: { id: t.id, name: t.name }, typeAvailable: v !== undefined, helpers: v ? zip(helpers, v) : [] };
    });
  }
  if (sections.has("misc")) report.misc = MISC_FEATURES.map((feature) => ({ feature, probe: probeMisc(feature) }));
  return report;
}
