// A FeatureReport as `bpftool feature probe kernel` prints it (text), and as `bpftool -j feature
// probe kernel` does (the same JSON keys: system_config, syscall_config, program_types, map_types,
// helpers, misc). Pure: no probing here.

import type { FeatureReport, TypeVerdict } from "./feature-report.ts";
import type { Sysctls, SystemConfig } from "./feature-system.ts";
import type { Probe } from "./feature.ts";

const yes = (p: Probe): boolean => p.status === "available";

// ---- text ---------------------------------------------------------------------------------------

/** bpftool's sentence for each sysctl value (-1: the file could not be read). */
function sysctlLines(s: Sysctls): string[] {
  const pick = (v: number, table: Record<number, string>, other: string): string => table[v] ?? other;
  return [
    pick(s.unprivileged_bpf_disabled, {
      0: "bpf() syscall for unprivileged users is enabled",
      1: "bpf() syscall restricted to privileged users (without recovery)",
      2: "bpf() syscall restricted to privileged users (admin can change)",
      [-1]: "Unable to retrieve required privileges for bpf() syscall",
    }, `bpf() syscall restriction has unknown value ${s.unprivileged_bpf_disabled}`),
    pick(s.bpf_jit_enable, {
      0: "JIT compiler is disabled",
      1: "JIT compiler is enabled",
      2: "JIT compiler is enabled with debugging traces in kernel logs",
      [-1]: "Unable to retrieve JIT-compiler status",
    }, `JIT-compiler status has unknown value ${s.bpf_jit_enable}`),
    pick(s.bpf_jit_harden, {
      0: "JIT compiler hardening is disabled",
      1: "JIT compiler hardening is enabled for unprivileged users",
      2: "JIT compiler hardening is enabled for all users",
      [-1]: "Unable to retrieve JIT hardening status",
    }, `JIT hardening status has unknown value ${s.bpf_jit_harden}`),
    pick(s.bpf_jit_kallsyms, {
      0: "JIT compiler kallsyms exports are disabled",
      1: "JIT compiler kallsyms exports are enabled for root",
      [-1]: "Unable to retrieve JIT kallsyms export status",
    }, `JIT kallsyms exports status has unknown value ${s.bpf_jit_kallsyms}`),
    s.bpf_jit_limit === -1
      ? "Unable to retrieve global memory limit for JIT compiler for unprivileged users"
      : `Global memory limit for JIT compiler for unprivileged users is ${s.bpf_jit_limit} bytes`,
  ];
}

function systemLines(sys: SystemConfig): string[] {
  const lines = sys.sysctls ? sysctlLines(sys.sysctls) : [];
  for (const [name, value] of sys.config.values) lines.push(value === null ? `${name} is not set` : `${name} is set to ${value}`);
  return lines;
}

const availability = (p: Probe): string => (yes(p) ? "is available" : "is NOT available");

function typeLines(kind: "program_type" | "map_type", list: readonly TypeVerdict[]): string[] {
  return list.map((t) => `eBPF ${kind} ${t.name} ${availability(t.probe)}`);
}

/** The report as bpftool's plain text: one "Scanning …" block per section, each ending in a blank line. */
export function featureText(r: FeatureReport): string {
  const blocks: string[] = [];
  const block = (title: string, lines: string[]) => blocks.push([title, ...lines, ""].join("\n") + "\n");
  if (r.system) block("Scanning system configuration...", systemLines(r.system));
  if (r.sections.has("system")) block("Scanning system call availability...", [`bpf() syscall ${availability(r.syscall)}`]);
  if (r.sections.has("program_types") && r.programTypes) block("Scanning eBPF program types...", typeLines("program_type", r.programTypes));
  if (r.mapTypes) block("Scanning eBPF map types...", typeLines("map_type", r.mapTypes));
  if (r.helpers) {
    const lines: string[] = [];
    for (const h of r.helpers) {
      lines.push(`eBPF helpers supported for program type ${h.progType.name}:`);
      const names = h.helpers.filter((x) => yes(x.probe)).map((x) => `\t- ${x.name}`);
      lines.push(...names);
      if (names.length === 0) lines.push(h.typeAvailable ? "\tCould not determine which helpers are available" : "\tProgram type not supported");
    }
    block("Scanning eBPF helper functions...", lines);
  }
  if (r.misc) block("Scanning miscellaneous eBPF features...", r.misc.map((m) => `${m.feature.plain} ${availability(m.probe)}`));
  return blocks.join("");
}

// ---- JSON ---------------------------------------------------------------------------------------

export type FeatureJson = Record<string, Record<string, number | string | boolean | null | string[]>>;

/**
 * The report as bpftool -j's object. Config values stay strings ("250", not 250) as bpftool's
 * do: it tests for a number ending in the line's newline, which it has already cut off.
 */
export function featureJson(r: FeatureReport): FeatureJson {
  const out: FeatureJson = {};
  if (r.system) {
    const sys: FeatureJson[string] = {};
    if (r.system.sysctls) Object.assign(sys, r.system.sysctls);
    for (const [name, value] of r.system.config.values) sys[name] = value;
    out.system_config = sys;
  }
  if (r.sections.has("system")) out.syscall_config = { have_bpf_syscall: yes(r.syscall) };
  if (r.sections.has("program_types") && r.programTypes) {
    out.program_types = Object.fromEntries(r.programTypes.map((t) => [`have_${t.name}_prog_type`, yes(t.probe)]));
  }
  if (r.mapTypes) out.map_types = Object.fromEntries(r.mapTypes.map((t) => [`have_${t.name}_map_type`, yes(t.probe)]));
  if (r.helpers) {
    out.helpers = Object.fromEntries(r.helpers.map((h) => [
      `${h.progType.name}_available_helpers`,
      h.helpers.filter((x) => yes(x.probe)).map((x) => x.name),
    ]));
  }
  if (r.misc) out.misc = Object.fromEntries(r.misc.map((m) => [m.feature.key, yes(m.probe)]));
  return out;
}
