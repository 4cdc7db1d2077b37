// Load a whole BPF object the way libbpf's bpf_object__load does: object BTF into the kernel,
// maps (with initial data, freezing, map-in-map slots and pinning), then every autoloaded program
// linked with CO-RE applied against the running kernel, then prog-array slots. All or nothing:
// on any failure every fd created so far is closed before the typed error propagates.

import { readFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { joinImm64, type Insn } from "../../asm/insn.ts";
import { PSEUDO, isLdImm64 } from "../../asm/opcodes.ts";
import { parseBtfExt } from "../../btf/ext.ts";
import type { Btf, BtfExt } from "../../btf/index.ts";
import { parseElf, type ElfFile } from "../elf/file.ts";
import { loadObject } from "../elf/object.ts";
import type { MapSpec, ObjectSpec, ProgramSpec } from "../elf/spec.ts";
import { TsbpfError } from "../errors.ts";
import { kernelRelease, kernelVersionCode, resolveKconfig } from "../link/kconfig.ts";
import { runningKernel } from "../link/kernel.ts";
import { linkProgram, type KernelSymbols, type LinkedProgram } from "../link/link.ts";
import { ATTACH_TYPE, MAP_TYPE } from "../sys/constants.ts";
import { VerifierError } from "../sys/progload.ts";
import { SysError } from "../sys/errno.ts";
import { BtfHandle } from "./btf.ts";
import type { BpfMap } from "./map.ts";
import { ALL_BTF_FEATURES, finalizeObjectBtf, needsSanitizing, sanitizeBtf, type BtfFeatures } from "./object-btf.ts";
import { createMap, populateDataMap, reusePin } from "./object-maps.ts";
import { Program } from "./program.ts";
import { createStructOpsMap, planStructOps, structOpsTarget, type StructOpsPlan } from "./struct-ops.ts";
import type { StructOpsLayout } from "./struct-ops-layout.ts";

export interface LoadCollectionOptions {
  /** The object's ELF (bytes or parsed): needed to lay out its BTF as libbpf does. */
  elf?: ElfFile | Uint8Array;
  /** Load only these programs (by name); default: every program with autoload. */
  programs?: readonly string[];
  /** Kernel BTF and symbols; the running kernel's by default. */
  kernel?: KernelSymbols;
  /** Root for maps pinned by name (LIBBPF_PIN_BY_NAME); libbpf's default is /sys/fs/bpf. */
  pinRoot?: string;
  /** Verifier log level for every program (0: log only on rejection). */
  logLevel?: number;
  /** BTF kinds this kernel accepts; all by default (this kernel has them). */
  btfFeatures?: BtfFeatures;
  /** Called after each program loads (for progress output). */
  onProgram?: (name: string, prog: Program) => void;
}

/** A program as it went to the kernel, for inspection and parity tests. */
export interface LoadedProgramSpec {
  spec: ProgramSpec;
  linked: LinkedProgram;
  attachBtfId: number;
}

/** Everything one object load created. Closing it closes every map, program and the BTF. */
export class Collection implements Disposable {
  readonly programs = new Map<string, Program>();
  readonly maps = new Map<string, BpfMap>();
  readonly specs = new Map<string, LoadedProgramSpec>();
  btf: BtfHandle | undefined;
  readonly object: ObjectSpec;
  /** Pins this load created (removed by unpin()). */
  readonly pinned: string[] = [];
  /** Created struct_ops maps' kernel layouts by map name (registered by attachStructOps). */
  readonly structOps = new Map<string, StructOpsLayout>();

  constructor(object: ObjectSpec) {
    this.object = object;
  }

  close(): void {
    for (const p of this.programs.values()) p.close();
    for (const m of this.maps.values()) m.close();
    this.btf?.close();
    this.btf = undefined;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

const PIN_BY_NAME = 1;

let versionCache: number | undefined;
function runningVersionCode(): number {
  return (versionCache ??= kernelVersionCode(kernelRelease()));
}

let kernelCache: KernelSymbols | undefined;
/** The running kernel's BTF and symbols, parsed once per process. */
export function sharedKernel(): KernelSymbols {
  return (kernelCache ??= runningKernel());
}

/** Read, parse and load an object file (or its bytes). */
export function loadCollectionFile(file: string | Uint8Array, opts: LoadCollectionOptions & { name?: string } = {}): Collection {
  let bytes: Uint8Array;
  try {
    bytes = typeof file === "string" ? readFileSync(file) : file;
  } catch (e) {
    throw new TsbpfError("IO", `cannot read ${String(file)}: ${(e as Error).message}`, { file: String(file) }, "check the path");
  }
  const elf = parseElf(bytes, typeof file === "string" ? { file } : {});
  const obj = loadObject(bytes, { ...(typeof file === "string" ? { file } : {}), ...(opts.name !== undefined ? { name: opts.name } : {}) });
  return loadCollection(obj, { ...opts, elf });
}

/** btf/core/object.ts, loaded on first use: objects without CO-RE relocations never pay for it. */
type CoreModule = typeof import("../../btf/core/object.ts");
let coreModule: CoreModule | undefined;
function core(): CoreModule {
  return (coreModule ??= require("../../btf/core/object.ts") as CoreModule);
}

function coreRelosPresent(obj: ObjectSpec): boolean {
  const e = obj.btfExt;
  if (!e || e.bytes.length < 32) return false;
  const dv = new DataView(e.bytes.buffer, e.bytes.byteOffset, e.bytes.byteLength);
  return dv.getUint32(4, true) >= 32 && dv.getUint32(28, true) > 0;
}

/** libbpf's attach-target lookup in vmlinux BTF for tp_btf, fentry/fexit/fmod_ret, lsm and iter. */
export function attachBtfId(kernelBtf: Btf, p: ProgramSpec): number {
  const [prefix, kind] =
    p.expectedAttachType === ATTACH_TYPE.TRACE_RAW_TP ? ["btf_trace_", "typedef"] as const
    : p.expectedAttachType === ATTACH_TYPE.LSM_MAC || p.expectedAttachType === ATTACH_TYPE.LSM_CGROUP ? ["bpf_lsm_", "func"] as const
    : p.expectedAttachType === ATTACH_TYPE.TRACE_ITER ? ["bpf_iter_", "func"] as const
    : ["", "func"] as const;
  const target = p.attachTo;
  const t = kernelBtf.find(prefix + target, kind);
  if (!t) {
    throw new TsbpfError("LOAD_BAD_INPUT", `prog '${p.name}': failed to find kernel BTF type ID of '${target}'`, {},
      `vmlinux BTF has no ${kind} named ${prefix + target}; check the section name '${p.section}'`);
  }
  return t.id;
}

function encodeFuncInfo(l: LinkedProgram): Uint8Array {
  const out = new Uint32Array(l.funcInfo.length * 2);
  l.funcInfo.forEach((f, i) => { out[2 * i] = f.insn; out[2 * i + 1] = f.typeId; });
  return new Uint8Array(out.buffer);
}

function encodeLineInfo(l: LinkedProgram): Uint8Array {
  const out = new Uint32Array(l.lineInfo.length * 4);
  l.lineInfo.forEach((r, i) => {
    out.set([r.insn, r.fileNameOff, r.lineOff, ((r.lineNum << 10) | (r.column & 0x3ff)) >>> 0], 4 * i);
  });
  return new Uint8Array(out.buffer);
}

/** Which maps the selected programs need: libbpf creates all of them regardless, and so do we. */
function wantedPrograms(obj: ObjectSpec, names: readonly string[] | undefined): ProgramSpec[] {
  if (!names) return obj.programs.filter((p) => p.autoload);
  return names.map((n) => {
    const p = obj.programs.find((x) => x.name === n);
    if (!p) throw new TsbpfError("LOAD_BAD_INPUT", `no program named '${n}' in the object`, {}, `programs: ${obj.programs.map((x) => x.name).join(", ")}`);
    return p;
  });
}

/**
 * The object as the CO-RE pass should see it: with an explicit program list, exactly those programs
 * count as autoloaded (libbpf relocates only programs it will load, so a relocation that fails in
 * an unselected program must not refuse the load). Subprograms are relocated regardless.
 */
function selectedForCore(obj: ObjectSpec, names: readonly string[] | undefined): ObjectSpec {
  if (!names) return obj;
  wantedPrograms(obj, names);
  return { ...obj, programs: obj.programs.map((p) => ({ ...p, autoload: names.includes(p.name) })) };
}

/** Load an ObjectSpec: BTF, maps, programs, slots. Throws VerifierError/SysError/TsbpfError; leaks nothing. */
export function loadCollection(objIn: ObjectSpec, opts: LoadCollectionOptions = {}): Collection {
  // resolveKconfig writes into the kconfig MapSpec: work on a copy of the map list.
  let obj: ObjectSpec = { ...objIn, maps: objIn.maps.map((m) => ({ ...m })) };
  const coll = new Collection(obj);
  try {
    const kernel = opts.kernel ?? sharedKernel();
    resolveKconfig(obj);
    // Kernel BTF is parsed only when something needs it (as libbpf loads vmlinux BTF on demand).
    const ops = planStructOps(obj, () => kernel.btf);
    obj = { ...obj, programs: ops.programs };
    for (const [n, l] of ops.layouts) coll.structOps.set(n, l);
    loadObjectBtf(coll, obj, opts);
    const btfFd = coll.btf?.fd ?? 0;
    const mapList = createMaps(coll, obj, btfFd, opts, ops);

    const needsCore = coreRelosPresent(obj);
    if (needsCore) {
      if (!kernel.btf) throw new TsbpfError("LOAD_BAD_INPUT", "the object has CO-RE relocations but no kernel BTF is available", {}, "this kernel needs /sys/kernel/btf/vmlinux");
      obj = core().applyObjectCore(obj, core().objectCoreFixups(selectedForCore(obj, opts.programs), kernel.btf));
    }
    const ext: BtfExt | undefined = obj.btf && obj.btfExt ? parseBtfExt(obj.btfExt.bytes, obj.btf, { fileOffset: obj.btfExt.fileOffset }) : undefined;
    for (const p of wantedPrograms(obj, opts.programs)) {
      const linked = linkProgram(obj, p, { kernel, ...(ext ? { ext } : {}) });
      const needsTarget = p.sectionFlags.includes("attachBtf") && p.type !== 28 /* EXT needs a target program */;
      const st = structOpsTarget(ops, p);
      const btfId = st ? st.attachBtfId : needsTarget ? attachBtfId(kernel.btf!, p) : 0;
      const spec = st ? { ...p, expectedAttachType: st.expectedAttachType } : p;
      coll.specs.set(p.name, { spec, linked, attachBtfId: btfId });
      const prog = loadOne(spec, linked.insns, linked, btfId, mapList, coll.btf, ext, opts.logLevel ?? 0);
      coll.programs.set(p.name, prog);
      opts.onProgram?.(p.name, prog);
    }
    fillSlots(coll, obj, mapList, MAP_TYPE.PROG_ARRAY);
    return coll;
  } catch (e) {
    for (const path of coll.pinned) {
      try { unlinkSync(path); } catch { /* already gone */ }
    }
    coll.close();
    throw e;
  }
}

function loadObjectBtf(coll: Collection, obj: ObjectSpec, opts: LoadCollectionOptions): void {
  if (!obj.btf || !opts.elf) return;
  const elf = opts.elf instanceof Uint8Array ? parseElf(opts.elf) : opts.elf;
  const sec = elf.section(".BTF");
  if (!sec) return;
  let raw = finalizeObjectBtf(sec.data, elf, obj);
  const features = opts.btfFeatures ?? ALL_BTF_FEATURES;
  if (needsSanitizing(features)) raw = sanitizeBtf(raw, features);
  coll.btf = BtfHandle.load(raw);
}

function createMaps(coll: Collection, obj: ObjectSpec, btfFd: number, opts: LoadCollectionOptions, ops: StructOpsPlan): BpfMap[] {
  const list: BpfMap[] = [];
  for (const m of obj.maps) {
    // struct_ops maps come last and no instruction refers to them: skipping one shifts no index.
    if (m.structOps) {
      const layout = ops.layouts.get(m.name);
      if (layout) coll.maps.set(m.name, createStructOpsMap(m, layout, btfFd));
      continue;
    }
    const pinPath = m.pinning === PIN_BY_NAME ? join(opts.pinRoot ?? "/sys/fs/bpf", m.name) : undefined;
    const reused = pinPath ? reusePin(pinPath, m) : undefined;
    const map = reused ?? createMap(m, btfFd);
    coll.maps.set(m.name, map);
    list.push(map);
    if (reused) continue;
    populateDataMap(map, m);
    if (m.type === MAP_TYPE.ARRAY_OF_MAPS || m.type === MAP_TYPE.HASH_OF_MAPS) fillMapSlots(map, m, obj, list);
    if (pinPath) {
      map.pin(pinPath);
      coll.pinned.push(pinPath);
    }
  }
  return list;
}

/** `.values = { [i] = &other_map }`: libbpf writes them right after creating the outer map. */
function fillMapSlots(outer: BpfMap, m: MapSpec, obj: ObjectSpec, created: BpfMap[]): void {
  for (const s of [...m.initSlots].sort((a, b) => a.slot - b.slot)) {
    const idx = obj.maps.findIndex((x) => x.name === s.name);
    const target = created[idx];
    if (!target) throw new TsbpfError("LOAD_BAD_INPUT", `map '${m.name}': slot ${s.slot} names map '${s.name}', which is created later`, {}, "libbpf requires inner maps to be defined before the outer map");
    outer.set(s.slot, target.fd);
  }
}

/** `.values = { [i] = &prog }` in prog arrays, written once the programs are loaded. */
function fillSlots(coll: Collection, obj: ObjectSpec, maps: BpfMap[], type: number): void {
  obj.maps.forEach((m, i) => {
    if (m.type !== type) return;
    for (const s of [...m.initSlots].sort((a, b) => a.slot - b.slot)) {
      const prog = coll.programs.get(s.name);
      // libbpf writes the slot regardless: fd -1 for a program not loaded, which the kernel refuses (EBADF).
      try {
        maps[i].set(s.slot, new Uint8Array(Int32Array.of(prog ? prog.fd : -1).buffer));
      } catch (e) {
        if (prog || !(e instanceof SysError)) throw e;
        throw new SysError("MAP_UPDATE_ELEM", e.errno, `map '${m.name}': slot ${s.slot} names program '${s.name}', which is not being loaded`, {},
          `load '${s.name}' too (libbpf fails the same way), or drop it from the map's .values`);
      }
    }
  });
}

/**
 * The linker names maps by index (MAP_IDX / MAP_IDX_VALUE); libbpf sends MAP_FD / MAP_VALUE with the
 * map's fd in imm. The kernel zeroes imm only for the fd forms when it computes the program tag, so
 * sending what libbpf sends is what makes our tags (and bpf_prog_<tag> call names) equal libbpf's.
 */
export function mapRefsToFds(insns: readonly Insn[], maps: readonly { fd: number }[]): Insn[] {
  return insns.map((insn, i) => {
    if (!isLdImm64(insn.op) || (insn.src !== PSEUDO.MAP_IDX && insn.src !== PSEUDO.MAP_IDX_VALUE)) return insn;
    const v = insn.imm64 ?? BigInt(insn.imm >>> 0);
    const idx = Number(v & 0xffffffffn);
    const map = maps[idx];
    if (!map) {
      throw new TsbpfError("LOAD_BAD_INPUT", `instruction ${i} refers to map index ${idx}, but the object has ${maps.length} maps`, { insn: i },
        "the linker emitted a map index out of range: report this object");
    }
    const src = insn.src === PSEUDO.MAP_IDX ? PSEUDO.MAP_FD : PSEUDO.MAP_VALUE;
    return { ...insn, src, imm: map.fd, imm64: joinImm64(map.fd, Number(v >> 32n)) };
  });
}

function loadOne(p: ProgramSpec, insns: Insn[], linked: LinkedProgram, btfId: number, maps: BpfMap[], btf: BtfHandle | undefined, ext: BtfExt | undefined, logLevel: number): Program {
  const withInfo = btf !== undefined && ext !== undefined && linked.funcInfo.length > 0;
  try {
    return Program.load({
      type: p.type,
      insns: mapRefsToFds(insns, maps),
      license: p.license,
      name: p.name.slice(0, 15),
      expectedAttachType: p.expectedAttachType,
      attachBtfId: btfId,
      flags: p.progFlags,
      // libbpf sends the running kernel's version when the object has no 'version' section.
      kernVersion: p.kernelVersion || runningVersionCode(),
      logLevel,
      ...(withInfo ? {
        btf,
        funcInfo: encodeFuncInfo(linked), funcInfoRecSize: 8,
        ...(linked.lineInfo.length > 0 ? { lineInfo: encodeLineInfo(linked), lineInfoRecSize: 16 } : {}),
      } : {}),
    });
  } catch (e) {
    if (e instanceof VerifierError || e instanceof TsbpfError) {
      if (!e.message.includes(p.name.slice(0, 15))) e.message = `prog '${p.name}': ${e.message}`;
    }
    throw e;
  }
}
