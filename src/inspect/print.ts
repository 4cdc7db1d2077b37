// The text form of an ObjectReport, for `tsbpf inspect` without --json: one block per part,
// aligned columns, the things that will go wrong at load time last.

import { describeOutcome, fixupJson } from "../../btf/core/index.ts";
import type { MapReport, ObjectReport } from "./report.ts";

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd());
}

function mapLine(m: MapReport): string[] {
  const key = m.keyType ? `${m.keySize} (${m.keyType})` : String(m.keySize);
  const value = m.valueType ? `${m.valueSize} (${m.valueType})` : String(m.valueSize);
  const extra: string[] = [];
  if (m.flagNames.length) extra.push(`flags ${m.flagNames.join("|")}`);
  if (m.pinning !== "none") extra.push(`pinned ${m.pinning}`);
  if (m.frozen) extra.push("frozen");
  if (m.initialData) extra.push(`data ${m.initialData.size} bytes, ${m.initialData.nonZero} non-zero`);
  if (m.inner) extra.push(`inner ${m.inner.type} key ${m.inner.keySize} value ${m.inner.valueSize} max ${m.inner.maxEntries}`);
  if (m.initSlots.length) extra.push(`values ${m.initSlots.map((s) => `[${s.slot}]=${s.name}`).join(" ")}`);
  if (m.structOps) {
    const o = m.structOps;
    extra.push(`struct ${o.type}${o.kernelValueType ? ` as ${o.kernelValueType}` : ""} in ${o.section}${o.autocreate ? "" : " (not created)"}: ${o.funcs.map((f) => `${f.member}=${f.program}`).join(" ")}`);
  }
  return [m.name, m.type.toLowerCase(), key, value, String(m.maxEntries), extra.join(", ")];
}

export function printReport(r: ObjectReport): string {
  const out: string[] = [];
  out.push(`object ${r.name}${r.file ? ` (${r.file})` : ""}: license "${r.license}"${r.kernelVersion ? `, version 0x${r.kernelVersion.toString(16)}` : ""}`);
  out.push("", `programs (${r.programs.length}):`);
  if (r.programs.length) {
    const rows = [["name", "section", "type", "attach", "insns", "subprograms", "source"]];
    for (const p of r.programs) {
      // A struct_ops program's expected attach type is a member index, not an attach type: name the member.
      const attach = p.type === "STRUCT_OPS"
        ? r.maps.flatMap((m) => (m.structOps?.funcs ?? []).filter((f) => f.program === p.name).map((f) => `${m.name}.${f.member}`)).join(",")
        : [p.expectedAttachType && p.expectedAttachType !== "CGROUP_INET_INGRESS" ? p.expectedAttachType.toLowerCase() : "", p.attachTo].filter(Boolean).join(" ");
      const insns = p.linkedInsns !== undefined && p.linkedInsns !== p.insns ? `${p.insns} (${p.linkedInsns} linked)` : String(p.insns);
      rows.push([(p.autoload ? "" : "?") + p.name, p.section, p.type.toLowerCase(), attach || "-", insns, p.subprograms.join(",") || "-", p.sourceFile ?? "-"]);
    }
    out.push(...table(rows).map((l) => "  " + l));
  }
  if (r.subprograms.length) out.push("", `subprograms (.text): ${r.subprograms.join(", ")}`);
  out.push("", `maps (${r.maps.length}):`);
  if (r.maps.length) out.push(...table([["name", "type", "key", "value", "max", ""], ...r.maps.map(mapLine)]).map((l) => "  " + l));
  const relocs = r.programs.flatMap((p) => p.relocations.map((x) => `  ${p.name}+${x.insn}: ${x.kind} ${x.symbol}`));
  if (relocs.length) out.push("", `relocations (${relocs.length}):`, ...relocs);
  if (r.externs.length) {
    out.push("", `externs (${r.externs.length}):`);
    for (const x of r.externs) {
      const res = x.resolved === undefined ? "" : x.resolved ? "  found in target" : "  MISSING from target";
      out.push(`  ${x.kind} ${x.name}${x.weak ? " (weak)" : ""}${res}`);
    }
  }
  const s = r.core.summary;
  if (s.total) {
    out.push("", `CO-RE relocations (${s.total}) against ${r.core.target ?? "the target BTF"}: ${s.patched} patched, ${s.poisoned} poisoned, ${s.failed} failing`);
    for (const f of r.core.fixups) {
      const tgt = f.target ? ` => ${f.target.type}` : "";
      out.push(`  ${f.program} insn ${f.slot}: ${f.kind} ${f.local.type} ${f.accessStr}${tgt}: ${describeOutcome(f)}`);
    }
  }
  if (r.warnings.length) out.push("", `warnings (${r.warnings.length}):`, ...r.warnings.map((w) => "  " + w));
  return out.join("\n") + "\n";
}

/** The report as JSON data (bigints as decimal strings). */
export function reportJson(r: ObjectReport): unknown {
  return { ...r, core: { ...r.core, fixups: r.core.fixups.map(fixupJson) } };
}
