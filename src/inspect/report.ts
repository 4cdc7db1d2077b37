// What is inside an object, as one plain-data report: programs (type, attach target, size,
// subprograms, source file), maps (types by name, sizes, flags, initial data), relocations,
// externs and how they resolve against a target kernel, CO-RE fix-ups, and warnings.

import { slotOffsets } from "../../asm/insn.ts";
import type { Btf } from "../../btf/index.ts";
import { objectCoreFixups, objectExt, summarize, type CoreFixup, type FixupSummary } from "../../btf/core/index.ts";
import { attachTypeName, mapTypeName, progTypeName, type MapSpec, type ObjectSpec, type ProgramSpec } from "../elf/index.ts";
import { PROG_TYPE } from "../elf/uapi.ts";
import { linkProgram, type KernelSymbols } from "../link/index.ts";
import { isTsbpfError } from "../errors.ts";
import { cTypeName } from "./ctype.ts";
import { structOpsLayout } from "../load/struct-ops-layout.ts";

export interface RelocationReport {
  /** 8-byte slot in the function, as llvm-objdump and libbpf number instructions. */
  insn: number;
  kind: string;
  symbol: string;
}

export interface ProgramReport {
  name: string;
  section: string;
  type: string;
  expectedAttachType: string;
  attachTo: string;
  autoload: boolean;
  flags: string[];
  /** 8-byte slots of the function itself, as llvm-objdump numbers them. */
  insns: number;
  /** Slots after the linker appends the subprograms it calls; undefined when linking failed. */
  linkedInsns?: number;
  subprograms: string[];
  /** The source file clang recorded for the function's first line (.BTF.ext line_info). */
  sourceFile?: string;
  relocations: RelocationReport[];
}

export interface MapReport {
  name: string;
  realName: string;
  kind: MapSpec["kind"];
  type: string;
  keySize: number;
  valueSize: number;
  keyType?: string;
  valueType?: string;
  maxEntries: number;
  flags: number;
  flagNames: string[];
  pinning: "none" | "by_name";
  frozen: boolean;
  inner?: MapReport;
  initSlots: { slot: number; name: string }[];
  /** Global data: its size and how many bytes are non-zero (the bytes themselves in --json). */
  initialData?: { size: number; nonZero: number; hex: string };
  structOps?: StructOpsReport;
}

/** A struct_ops map: its struct, how it registers, which program fills each callback. */
export interface StructOpsReport {
  type: string;
  section: string;
  link: boolean;
  autocreate: boolean;
  funcs: { member: string; program: string }[];
  /** The target kernel's wrapper value type (its size is the map's value size there). */
  kernelValueType?: string;
  /** Object members the target kernel's struct lacks (all zero, so skipped). */
  skipped?: string[];
}

export interface ExternReport {
  name: string;
  kind: "kconfig" | "kfunc" | "ksym";
  weak: boolean;
  /** Found in the target kernel's BTF (kfuncs, typed ksyms); undefined when not checked. */
  resolved?: boolean;
}

export interface ObjectReport {
  file?: string;
  name: string;
  license: string;
  kernelVersion: number;
  programs: ProgramReport[];
  subprograms: string[];
  maps: MapReport[];
  externs: ExternReport[];
  core: { target?: string; summary: FixupSummary; fixups: CoreFixup[] };
  warnings: string[];
}

export interface InspectOptions {
  file?: string;
  /** BTF to resolve CO-RE relocations, kfuncs and typed ksyms against (the running kernel's by default). */
  target?: Btf;
  targetName?: string;
  kernel?: KernelSymbols;
}

/** Map flag bits (BPF_F_* for map_flags in include/uapi/linux/bpf.h). */
const MAP_FLAGS: readonly [number, string][] = [
  [1 << 0, "NO_PREALLOC"], [1 << 1, "NO_COMMON_LRU"], [1 << 2, "NUMA_NODE"], [1 << 3, "RDONLY"],
  [1 << 4, "WRONLY"], [1 << 5, "STACK_BUILD_ID"], [1 << 6, "ZERO_SEED"], [1 << 7, "RDONLY_PROG"],
  [1 << 8, "WRONLY_PROG"], [1 << 9, "CLONE"], [1 << 10, "MMAPABLE"], [1 << 11, "PRESERVE_ELEMS"],
  [1 << 12, "INNER_MAP"], [1 << 13, "LINK"],
];

function flagNames(flags: number): string[] {
  const out: string[] = [];
  let rest = flags >>> 0;
  for (const [bit, name] of MAP_FLAGS) {
    if (rest & bit) {
      out.push(name);
      rest &= ~bit;
    }
  }
  if (rest) out.push(`0x${rest.toString(16)}`);
  return out;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString("hex");
}

function mapReport(m: MapSpec, btf: Btf | undefined): MapReport {
  const r: MapReport = {
    name: m.name,
    realName: m.realName,
    kind: m.kind,
    type: mapTypeName(m.type),
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
    flags: m.flags,
    flagNames: flagNames(m.flags),
    pinning: m.pinning === 1 ? "by_name" : "none",
    frozen: m.frozen,
    initSlots: m.initSlots,
  };
  if (btf && m.keyType) r.keyType = cTypeName(btf, m.keyType);
  if (btf && m.valueType) r.valueType = cTypeName(btf, m.valueType);
  if (m.inner) r.inner = mapReport(m.inner, btf);
  if (m.data) r.initialData = { size: m.data.length, nonZero: m.data.reduce((n, x) => n + (x ? 1 : 0), 0), hex: hex(m.data) };
  if (m.structOps) {
    const o = m.structOps;
    r.structOps = { type: o.typeName, section: o.section, link: o.link, autocreate: o.autocreate, funcs: o.funcs.map((f) => ({ member: f.member, program: f.program })) };
    r.initialData = { size: o.data.length, nonZero: o.data.reduce((n, x) => n + (x ? 1 : 0), 0), hex: hex(o.data) };
  }
  return r;
}

/** A struct_ops map against the target kernel: libbpf creates it with the kernel's wrapper value size. */
function structOpsAgainst(r: MapReport, m: MapSpec, obj: ObjectSpec, target: Btf, warnings: string[]): void {
  if (!r.structOps || !obj.btf) return;
  try {
    const l = structOpsLayout(m, obj.btf, target);
    r.valueSize = l.valueSize;
    r.valueType = `struct ${l.valueType}`;
    r.structOps.kernelValueType = l.valueType;
    if (l.skipped.length) r.structOps.skipped = l.skipped;
  } catch (e) {
    if (!isTsbpfError(e)) throw e;
    warnings.push(`${e.message}: loading will fail${e.hint ? ` (${e.hint})` : ""}`);
  }
}

function sourceFileOf(p: ProgramSpec, obj: ObjectSpec, ext: ReturnType<typeof objectExt>): string | undefined {
  const sec = ext?.lineInfo.find((s) => s.section === p.elfSection);
  const first = p.offset / 8;
  const rec = sec?.records.find((r) => r.insn >= first);
  return rec?.fileName || undefined;
}

function programReport(p: ProgramSpec, obj: ObjectSpec, opts: InspectOptions, ext: ReturnType<typeof objectExt>, warnings: string[]): ProgramReport {
  const slots = slotOffsets(p.insns);
  const r: ProgramReport = {
    name: p.name,
    section: p.section,
    type: progTypeName(p.type),
    // A struct_ops program's expected attach type is the index of the member it fills, not an attach type.
    expectedAttachType: p.type === PROG_TYPE.STRUCT_OPS ? `member ${p.expectedAttachType}` : p.expectedAttachType || p.type ? attachTypeName(p.expectedAttachType) : "",
    attachTo: p.attachTo,
    autoload: p.autoload,
    flags: [...p.sectionFlags],
    insns: slots[p.insns.length],
    subprograms: [],
    relocations: p.relocations.map((x) => ({ insn: slots[x.insn], kind: x.kind, symbol: x.symbol })),
  };
  const src = sourceFileOf(p, obj, ext);
  if (src) r.sourceFile = src;
  if (p.type === 0) warnings.push(`program '${p.name}': section '${p.section}' names no program type libbpf knows; it cannot be loaded without one`);
  try {
    const linked = linkProgram(obj, p, { ...(opts.kernel ? { kernel: opts.kernel } : {}), ...(ext ? { ext } : {}) });
    r.linkedInsns = slotOffsets(linked.insns)[linked.insns.length];
    r.subprograms = linked.subprograms.map((s) => s.name);
    for (const f of linked.fixups) {
      if (f.what === "kfunc_poison") warnings.push(`program '${p.name}': weak kfunc '${f.target}' is missing from the target kernel; its calls are poisoned`);
    }
  } catch (e) {
    if (!isTsbpfError(e)) throw e;
    warnings.push(`program '${p.name}': cannot be linked: ${e.message}${e.hint ? ` (${e.hint})` : ""}`);
  }
  return r;
}

function externReports(obj: ObjectSpec, target: Btf | undefined, warnings: string[]): ExternReport[] {
  return obj.externs.map((x) => {
    if (x.kind === "kconfig") return { name: x.name, kind: "kconfig", weak: x.weak };
    const kind = x.ksymType === "func" ? "kfunc" : "ksym";
    const r: ExternReport = { name: x.name, kind, weak: x.weak };
    if (target && x.ksymType !== "typeless") {
      r.resolved = target.find(x.name, x.ksymType === "func" ? "func" : "var") !== undefined;
      if (!r.resolved) {
        warnings.push(
          x.weak
            ? `${kind} '${x.name}' is not in the target kernel's BTF; it is weak, so it resolves to 0${kind === "kfunc" ? " and its calls are poisoned" : ""}`
            : `${kind} '${x.name}' is not in the target kernel's BTF: loading will fail`,
        );
      }
    }
    return r;
  });
}

export function inspectObject(obj: ObjectSpec, opts: InspectOptions = {}): ObjectReport {
  const warnings = [...obj.warnings];
  const ext = objectExt(obj);
  const target = opts.target;
  const fixups = target ? objectCoreFixups(obj, target, { includeDisabled: true }) : [];
  for (const f of fixups) {
    if (f.outcome.kind === "poison") warnings.push(`CO-RE relo #${f.relo} in '${f.program}' (insn ${f.slot}) will be poisoned: ${f.outcome.reason}`);
    if (f.outcome.kind === "error") warnings.push(`CO-RE relo #${f.relo} in '${f.program}' (insn ${f.slot}) fails the load: ${f.outcome.message}`);
  }
  const report: ObjectReport = {
    name: obj.name,
    license: obj.license,
    kernelVersion: obj.kernelVersion,
    programs: obj.programs.map((p) => programReport(p, obj, opts, ext, warnings)),
    subprograms: obj.subprograms.map((s) => s.name),
    maps: obj.maps.map((m) => {
      const r = mapReport(m, obj.btf);
      if (target) structOpsAgainst(r, m, obj, target, warnings);
      return r;
    }),
    externs: externReports(obj, target, warnings),
    core: { summary: summarize(fixups), fixups },
    warnings,
  };
  if (opts.file !== undefined) report.file = opts.file;
  if (opts.targetName !== undefined) report.core.target = opts.targetName;
  if (!obj.license) warnings.push("no license section: the kernel refuses GPL-only helpers to programs without a GPL-compatible license");
  return report;
}
