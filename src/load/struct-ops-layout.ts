// A struct_ops map's value in the kernel's layout, computed from the object's variable and the
// kernel's BTF with no syscall (libbpf's find_struct_ops_kern_types and init_kern_struct_ops):
// the kernel's `bpf_struct_ops_<name>` wrapper type and size, data members copied by name, and
// for each function pointer the program, the kernel member index (its expected_attach_type) and
// the byte offset its fd goes to.

import type { Btf, BtfStruct } from "../../btf/index.ts";
import { essentialName } from "../../btf/core/walk.ts";
import { sizeOf, skipMods } from "../elf/btf-util.ts";
import type { MapSpec, ObjectSpec, ProgramSpec } from "../elf/spec.ts";
import { isFuncPtr } from "../elf/struct-ops.ts";
import { PROG_TYPE } from "../elf/uapi.ts";
import { TsbpfError } from "../errors.ts";

/** The prefix of the kernel's value type for a struct_ops type (STRUCT_OPS_VALUE_PREFIX). */
export const VALUE_PREFIX = "bpf_struct_ops_";

/** A struct_ops map the running kernel cannot take, naming the struct (and member) at fault. */
export class StructOpsError extends TsbpfError {
  readonly map: string;
  readonly typeName: string;
  readonly member: string | undefined;

  constructor(map: string, typeName: string, member: string | undefined, message: string, hint: string) {
    super("LOAD_BAD_INPUT", `struct_ops map '${map}': ${message}`, {}, hint);
    this.name = "StructOpsError";
    this.map = map;
    this.typeName = typeName;
    this.member = member;
  }
}

/** One function pointer of the kernel value: which program, and where its fd goes. */
export interface StructOpsSlot {
  member: string;
  program: string;
  /** Member index in the kernel's struct: the program's expected_attach_type. */
  kernelIndex: number;
  /** Byte offset of the pointer inside the whole kernel value (wrapper included). */
  valueOffset: number;
}

export interface StructOpsLayout {
  map: string;
  link: boolean;
  /** The kernel's struct ("tcp_congestion_ops") and its vmlinux id: the programs' attach_btf_id. */
  kernelType: string;
  kernelTypeId: number;
  /** The kernel's wrapper ("bpf_struct_ops_tcp_congestion_ops"): MAP_CREATE's btf_vmlinux_value_type_id. */
  valueType: string;
  valueTypeId: number;
  valueSize: number;
  /** Offset of the wrapped struct inside the value. */
  dataOffset: number;
  /** The value with data members copied; function-pointer slots zero until fds are written. */
  value: Uint8Array;
  slots: StructOpsSlot[];
  /** Object members the kernel struct lacks, skipped because they are zero (newer libbpf does so). */
  skipped: string[];
}

/** The kernel's struct, its wrapper value type, and the wrapper member that holds the struct. */
function kernelTypes(map: string, typeName: string, kernel: Btf): { type: BtfStruct; value: BtfStruct; dataOffset: number } {
  const name = essentialName(typeName);
  const valueName = VALUE_PREFIX + name;
  const value = kernel.find(valueName, "struct");
  if (!value) {
    throw new StructOpsError(map, name, undefined, `struct ${valueName} is not found in kernel BTF`,
      `this kernel has no struct_ops type '${name}' (list them: bpftool btf dump file /sys/kernel/btf/vmlinux | grep "STRUCT '${VALUE_PREFIX}")`);
  }
  const type = kernel.find(name, "struct");
  if (!type) throw new StructOpsError(map, name, undefined, `struct ${name} is not found in kernel BTF`, "the kernel BTF is inconsistent");
  const data = value.members.find((m) => m.type === type.id);
  if (!data) throw new StructOpsError(map, name, undefined, `struct ${name} data is not found in struct ${valueName}`, "the kernel BTF is inconsistent");
  return { type, value, dataOffset: data.bitOffset / 8 };
}

/** Lay out one struct_ops map for the kernel whose BTF is `kernel`. Throws StructOpsError. */
export function structOpsLayout(map: MapSpec, objBtf: Btf, kernel: Btf): StructOpsLayout {
  const ops = map.structOps;
  if (!ops) throw new TsbpfError("LOAD_BAD_INPUT", `map '${map.name}' is not a struct_ops map`, {}, "only maps from .struct_ops sections have a kernel layout");
  const name = map.name;
  const { type: kType, value: kValue, dataOffset } = kernelTypes(name, ops.typeName, kernel);
  const kName = kType.name;
  const fail = (member: string | undefined, msg: string, hint: string) => new StructOpsError(name, kName, member, msg, hint);
  const type = objBtf.type(ops.typeId) as BtfStruct;
  const value = new Uint8Array(kValue.size);
  const slots: StructOpsSlot[] = [];
  const skipped: string[] = [];
  type.members.forEach((m, i) => {
    const off = m.bitOffset / 8;
    const size = sizeOf(objBtf, m.type);
    if (size === undefined) throw fail(m.name, `failed to resolve the size of member ${m.name}`, "the object's BTF is malformed");
    const bytes = ops.data.subarray(off, off + size);
    const func = ops.funcs.find((f) => f.index === i);
    const kIndex = kType.members.findIndex((k) => k.name === m.name);
    if (kIndex < 0) {
      // libbpf's shadow data holds the program pointer, so a member naming a program is never "zero".
      if (func || bytes.some((b) => b !== 0)) {
        throw fail(m.name, `Cannot find member ${m.name} in kernel BTF`, `struct ${kName} of this kernel has no member '${m.name}'; drop it or leave it zero`);
      }
      skipped.push(m.name);
      return;
    }
    const k = kType.members[kIndex];
    if (m.bitfieldSize || k.bitfieldSize) throw fail(m.name, `bitfield ${m.name} is not supported`, "struct_ops members cannot be bitfields");
    const mt = skipMods(objBtf, m.type);
    const kt = skipMods(kernel, k.type);
    if (!mt || !kt || mt.kind !== kt.kind) {
      throw fail(m.name, `Unmatched member type ${m.name} ${mt?.kind ?? "?"} != ${kt?.kind ?? "?"}(kernel)`, "declare the member with the kernel's type");
    }
    const kOff = k.bitOffset / 8;
    if (mt.kind === "ptr") {
      if (!func) return; // a NULL callback: the kernel's slot stays zero
      if (!isFuncPtr(kernel, k.type)) throw fail(m.name, `kernel member ${m.name} is not a func ptr`, "only function-pointer members can name programs");
      slots.push({ member: m.name, program: func.program, kernelIndex: kIndex, valueOffset: dataOffset + kOff });
      return;
    }
    const kSize = sizeOf(kernel, k.type);
    if (kSize === undefined || kSize !== size) {
      throw fail(m.name, `Error in size of member ${m.name}: ${size} != ${kSize ?? -1}(kernel)`, "declare the member with the kernel's type");
    }
    value.set(bytes, dataOffset + kOff);
  });
  return {
    map: name, link: ops.link, kernelType: kName, kernelTypeId: kType.id, valueType: kValue.name, valueTypeId: kValue.id,
    valueSize: kValue.size, dataOffset, value, slots, skipped,
  };
}

/** What a struct_ops program is loaded with: the kernel struct's id and its member's index. */
export interface StructOpsTarget {
  attachBtfId: number;
  expectedAttachType: number;
}

/**
 * Each referenced program's load target. A program may serve several maps only for the same
 * struct and member (libbpf's "invalid reuse" check).
 */
export function structOpsTargets(layouts: readonly StructOpsLayout[]): Map<string, StructOpsTarget> {
  const out = new Map<string, StructOpsTarget>();
  for (const l of layouts) {
    for (const s of l.slots) {
      const prev = out.get(s.program);
      if (prev && (prev.attachBtfId !== l.kernelTypeId || prev.expectedAttachType !== s.kernelIndex)) {
        throw new StructOpsError(l.map, l.kernelType, s.member,
          `func ptr ${s.member}: invalid reuse of prog ${s.program}: attach_btf_id ${prev.attachBtfId}/member ${prev.expectedAttachType} != ${l.kernelTypeId}/${s.kernelIndex}`,
          "a struct_ops program can fill the same member of the same struct only; write one program per member");
      }
      out.set(s.program, { attachBtfId: l.kernelTypeId, expectedAttachType: s.kernelIndex });
    }
  }
  return out;
}

/**
 * libbpf's autoload rule for struct_ops programs: one named by some map is loaded when at least
 * one of those maps is created; programs no map names keep their own setting.
 */
export function structOpsAutoload(obj: ObjectSpec): ProgramSpec[] {
  return obj.programs.map((p) => {
    if (p.type !== PROG_TYPE.STRUCT_OPS) return p;
    const users = obj.maps.filter((m) => m.structOps?.funcs.some((f) => f.program === p.name));
    if (users.length === 0) return p;
    const autoload = users.some((m) => m.structOps?.autocreate);
    return autoload === p.autoload ? p : { ...p, autoload };
  });
}
