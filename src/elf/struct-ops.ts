// struct_ops maps: each variable in a `.struct_ops` or `.struct_ops.link` section becomes a
// BPF_MAP_TYPE_STRUCT_OPS map holding the variable's bytes, and each relocation in the section's
// `.rel` names the program a function-pointer member points to (libbpf's init_struct_ops_maps and
// collect_st_ops_relos). Matching against the kernel's struct happens at load (src/load).

import type { Btf, BtfStruct } from "../../btf/index.ts";
import { TsbpfError, type Where } from "../errors.ts";
import { findDatasec, skipMods } from "./btf-util.ts";
import { SHN, SHT, type ElfFile, type ElfSection } from "./file.ts";
import type { MapSpec, ProgramSpec, StructOpsSpec } from "./spec.ts";
import { MAP_TYPE, PROG_TYPE } from "./uapi.ts";

/** BPF_F_LINK: the struct_ops map is registered through a bpf_link. */
export const BPF_F_LINK = 1 << 13;

const SECTIONS = [".struct_ops", ".struct_ops.link"];

/** Whether libbpf reads this section as struct_ops variables ('?' marks "do not create"). */
export function isStructOpsSection(name: string): boolean {
  return SECTIONS.includes(name.startsWith("?") ? name.slice(1) : name);
}

function opsError(msg: string, where: Where, hint: string): TsbpfError {
  return new TsbpfError("OBJ_BAD_MAP", msg, where, hint);
}

/** Follow typedefs and modifiers to a type id (libbpf's btf__resolve_type, VARs included). */
function resolveId(btf: Btf, id: number): number | undefined {
  for (let d = 0; d < 32; d++) {
    if (!btf.has(id)) return undefined;
    const t = btf.type(id);
    if (t.kind === "var" || t.kind === "typedef" || t.kind === "const" || t.kind === "volatile" || t.kind === "restrict" || t.kind === "type_tag") id = t.type;
    else return id;
  }
  return undefined;
}

/** A pointer whose target (through modifiers) is a function prototype. */
export function isFuncPtr(btf: Btf, id: number): boolean {
  const p = skipMods(btf, id);
  if (!p || p.kind !== "ptr") return false;
  return skipMods(btf, p.type)?.kind === "func_proto";
}

/** One map per variable of every struct_ops section, in section order (they follow .kconfig in libbpf). */
export function structOpsMaps(elf: ElfFile, btf: Btf | undefined, file?: string): MapSpec[] {
  const out: MapSpec[] = [];
  for (const sec of elf.sections) {
    if (!isStructOpsSection(sec.name) || sec.type === SHT.NOBITS) continue;
    out.push(...sectionMaps(sec, btf, file));
  }
  return out;
}

function sectionMaps(sec: ElfSection, btf: Btf | undefined, file?: string): MapSpec[] {
  const where: Where = { file, section: sec.name, offset: sec.headerOffset };
  const autocreate = !sec.name.startsWith("?");
  const section = autocreate ? sec.name : sec.name.slice(1);
  if (!btf) throw opsError(`struct_ops section '${sec.name}' needs BTF, and the object has none`, where, "compile with -g so clang emits .BTF");
  const ds = findDatasec(btf, sec.name);
  if (!ds) throw opsError(`struct_ops init: DATASEC ${sec.name} not found`, where, "compile with -g so clang emits .BTF");
  return ds.vars.map((vi) => {
    const v = btf.has(vi.type) ? btf.type(vi.type) : undefined;
    const varName = v?.name ?? "";
    const id = resolveId(btf, vi.type);
    if (id === undefined) throw opsError(`struct_ops init: Cannot resolve var type_id ${vi.type} in DATASEC ${sec.name}`, where, "the BTF is malformed");
    const t = btf.type(id);
    if (!t.name) throw opsError("struct_ops init: anonymous type is not supported", where, "declare the variable with a named struct type, e.g. struct tcp_congestion_ops");
    if (t.kind !== "struct") throw opsError(`struct_ops init: ${t.name} is not a struct`, where, "a struct_ops variable is a struct of function pointers");
    if (vi.offset + t.size > sec.data.length) throw opsError(`struct_ops init: var ${varName} is beyond the end of DATASEC ${sec.name}`, where, "the object is corrupt");
    const ops: StructOpsSpec = {
      typeName: t.name, typeId: id, section, link: section === ".struct_ops.link", autocreate,
      data: sec.data.slice(vi.offset, vi.offset + t.size), funcs: [],
    };
    return {
      name: varName, realName: varName, kind: "struct_ops", type: MAP_TYPE.STRUCT_OPS,
      keySize: 4, valueSize: t.size, maxEntries: 1, flags: ops.link ? BPF_F_LINK : 0, numaNode: 0, pinning: 0,
      mapExtra: 0n, keyType: 0, valueType: id, initSlots: [], frozen: false, sectionIndex: sec.index, sectionOffset: vi.offset,
      structOps: ops,
    } satisfies MapSpec;
  });
}

/** The struct_ops map whose variable covers `offset` of section `index`. */
function mapAt(maps: readonly MapSpec[], index: number, offset: number): MapSpec | undefined {
  return maps.find((m) => m.structOps && m.sectionIndex === index && m.sectionOffset <= offset && offset - m.sectionOffset < m.valueSize);
}

/**
 * Fill each struct_ops map's `funcs` from its section's relocations: the member at the relocated
 * offset must be a function pointer, and the symbol must start a struct_ops program.
 */
export function collectStructOpsRelos(elf: ElfFile, btf: Btf | undefined, maps: readonly MapSpec[], programs: readonly ProgramSpec[], file?: string): void {
  for (const sec of elf.sections) {
    if (!isStructOpsSection(sec.name) || !btf) continue;
    for (const r of elf.relocationsFor(sec.index)) {
      const where: Where = { file, section: sec.name, offset: r.fileOffset };
      const map = mapAt(maps, sec.index, r.offset);
      if (!map?.structOps) throw opsError(`struct_ops reloc: cannot find map at rel->r_offset ${r.offset}`, where, "the relocation points outside every struct_ops variable");
      const ops = map.structOps;
      const sym = elf.symbols[r.symbol];
      if (!sym) throw opsError(`struct_ops reloc: symbol ${r.symbol} not found`, where, "the symbol table is corrupt");
      const moff = r.offset - map.sectionOffset;
      if (sym.shndx >= SHN.LORESERVE || sym.shndx === SHN.UNDEF) {
        throw opsError(`struct_ops reloc ${map.name}: rel->r_offset ${r.offset} shdr_idx ${sym.shndx} unsupported non-static function`, where, "point the member at a BPF program defined in this object");
      }
      if (sym.value % 8n !== 0n) throw opsError(`struct_ops reloc ${map.name}: invalid target program offset ${sym.value}`, where, "the symbol table is corrupt");
      const type = btf.type(ops.typeId) as BtfStruct;
      const index = type.members.findIndex((m) => m.bitOffset === moff * 8);
      if (index < 0) throw opsError(`struct_ops reloc ${map.name}: cannot find member at moff ${moff}`, where, "the relocation does not start a member of the struct");
      const member = type.members[index];
      if (!isFuncPtr(btf, member.type)) throw opsError(`struct_ops reloc ${map.name}: cannot relocate non func ptr ${member.name}`, where, "only function-pointer members can name programs");
      const off = Number(sym.value);
      const prog = programs.find((p) => p.sectionIndex === sym.shndx && p.offset === off);
      if (!prog) throw opsError(`struct_ops reloc ${map.name}: cannot find prog at shdr_idx ${sym.shndx} to relocate func ptr ${member.name}`, where, "the symbol must be an entry program (a SEC(\"struct_ops/…\") function)");
      if (prog.type !== PROG_TYPE.STRUCT_OPS) {
        throw opsError(`struct_ops reloc ${map.name}: prog ${prog.name} is not struct_ops BPF program`, where, `put '${prog.name}' in a SEC("struct_ops/…") section`);
      }
      // libbpf ≤ 1.2 records the member index as the program's expected attach type at open (the
      // loader replaces it with the kernel struct's index); newer libbpf leaves 0 until load.
      if (!prog.expectedAttachType) prog.expectedAttachType = index;
      ops.funcs = ops.funcs.filter((f) => f.index !== index);
      ops.funcs.push({ member: member.name, index, offset: moff, program: prog.name });
    }
    for (const m of maps) m.structOps?.funcs.sort((a, b) => a.index - b.index);
  }
}
