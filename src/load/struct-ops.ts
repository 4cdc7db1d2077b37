// struct_ops maps in the kernel, as libbpf does it: at load, the map is created with the kernel's
// wrapper value type and the member programs get attach_btf_id / expected_attach_type; at attach,
// the value (data members in the kernel's layout, program fds in the function slots) is written
// with MAP_UPDATE_ELEM — which registers a plain `.struct_ops` map — and a `.struct_ops.link` map
// is then registered by LINK_CREATE (BPF_STRUCT_OPS), unregistered when the link closes.

import type { Btf } from "../../btf/index.ts";
import type { MapSpec, ObjectSpec, ProgramSpec } from "../elf/spec.ts";
import { TsbpfError } from "../errors.ts";
import { getFdById, linkCreate, mapDeleteElem, mapUpdateElem } from "../sys/bpf.ts";
import { ATTACH_TYPE, MAP_TYPE, PROG_TYPE } from "../sys/constants.ts";
import { EBUSY, SysError, isSysError } from "../sys/errno.ts";
import { FdOwner, closeQuietly } from "./fd.ts";
import { Link } from "./link.ts";
import { BpfMap } from "./map.ts";
import type { Collection } from "./object.ts";
import { StructOpsError, structOpsAutoload, structOpsLayout, structOpsTargets, type StructOpsLayout, type StructOpsTarget } from "./struct-ops-layout.ts";

/** The struct_ops part of an object load: kernel layouts by map name and program targets. */
export interface StructOpsPlan {
  layouts: Map<string, StructOpsLayout>;
  targets: Map<string, StructOpsTarget>;
  /** The object's programs with libbpf's struct_ops autoload rule applied. */
  programs: ProgramSpec[];
}

/** Lay out every struct_ops map the load creates (none: an empty plan, kernel BTF not needed). */
export function planStructOps(obj: ObjectSpec, kernelBtf: () => Btf | undefined): StructOpsPlan {
  const created = obj.maps.filter((m) => m.structOps?.autocreate);
  const layouts = new Map<string, StructOpsLayout>();
  if (created.length > 0) {
    // Kernel BTF is asked for (and parsed) only when the object has struct_ops maps.
    const kernel = kernelBtf();
    if (!kernel) throw new TsbpfError("LOAD_BAD_INPUT", "the object has struct_ops maps but no kernel BTF is available", {}, "struct_ops needs /sys/kernel/btf/vmlinux");
    if (!obj.btf) throw new TsbpfError("LOAD_BAD_INPUT", "the object has struct_ops maps but no BTF", {}, "compile with -g");
    for (const m of created) layouts.set(m.name, structOpsLayout(m, obj.btf, kernel));
  }
  return { layouts, targets: structOpsTargets([...layouts.values()]), programs: structOpsAutoload(obj) };
}

/** A struct_ops program's load target; one no created map names cannot be loaded (libbpf refuses it too). */
export function structOpsTarget(plan: StructOpsPlan, p: ProgramSpec): StructOpsTarget | undefined {
  if (p.type !== PROG_TYPE.STRUCT_OPS) return undefined;
  const t = plan.targets.get(p.name);
  if (!t) {
    throw new TsbpfError("LOAD_BAD_INPUT", `prog '${p.name}': SEC("struct_ops") program isn't referenced anywhere, did you forget to use it?`, {},
      "point a function-pointer member of a .struct_ops variable at it, or mark its section SEC(\"?struct_ops/…\")");
  }
  return t;
}

/** MAP_CREATE as libbpf sends it for a struct_ops map: object BTF fd, no key/value ids, the wrapper's vmlinux id. */
export function createStructOpsMap(m: MapSpec, layout: StructOpsLayout, btfFd: number): BpfMap {
  return BpfMap.create({
    mapType: MAP_TYPE.STRUCT_OPS,
    keySize: m.keySize,
    valueSize: layout.valueSize,
    maxEntries: m.maxEntries,
    mapFlags: m.flags,
    numaNode: m.numaNode,
    name: m.name.slice(0, 15),
    btf: btfFd,
    btfKeyTypeId: 0,
    btfValueTypeId: 0,
    btfVmlinuxValueTypeId: layout.valueTypeId,
    mapExtra: m.mapExtra,
  });
}

/** The kernel value with each function slot holding its program's fd (a u64, as the kernel reads it). */
export function structOpsValue(layout: StructOpsLayout, progFd: (name: string) => number | undefined): Uint8Array {
  const value = layout.value.slice();
  const dv = new DataView(value.buffer);
  for (const s of layout.slots) {
    const fd = progFd(s.program);
    if (fd === undefined) {
      throw new TsbpfError("LOAD_BAD_INPUT", `struct_ops map '${layout.map}': member ${s.member} names program '${s.program}', which is not loaded`, {},
        `load '${s.program}' too`);
    }
    dv.setBigUint64(s.valueOffset, BigInt(fd), true);
  }
  return value;
}

const KEY0 = new Uint8Array(4);

/**
 * A registered plain `.struct_ops` map: the kernel keeps it registered (the map holds a reference
 * to itself) until its element is deleted, which close() does before closing this handle's fd.
 */
export class StructOpsRegistration extends FdOwner {
  readonly map: string;
  readonly id: number;

  constructor(fd: number, map: string, id: number) {
    super(fd);
    this.map = map;
    this.id = id;
  }

  protected describe(): string {
    return `struct_ops registration of map ${this.map}`;
  }

  /** Unregister (MAP_DELETE_ELEM) and close; the fd is closed even when the delete fails. */
  override close(): void {
    if (this.closed) return;
    let err: unknown;
    try {
      mapDeleteElem(this.fd, KEY0);
    } catch (e) {
      err = e;
    }
    super.close();
    if (err) throw err;
  }
}

/** What registering one struct_ops map gave: a bpf_link (.struct_ops.link) or a registration. */
export interface StructOpsAttachment {
  map: string;
  handle: Link | StructOpsRegistration;
}

/** Register one loaded struct_ops map of `coll` (libbpf's bpf_map__attach_struct_ops). */
export function attachStructOps(coll: Collection, mapName: string): StructOpsAttachment {
  const layout = coll.structOps.get(mapName);
  const map = coll.maps.get(mapName);
  if (!layout || !map) {
    throw new TsbpfError("LOAD_BAD_INPUT", `no struct_ops map '${mapName}' in this collection`, {},
      `struct_ops maps: ${[...coll.structOps.keys()].join(", ") || "none"}`);
  }
  const value = structOpsValue(layout, (n) => coll.programs.get(n)?.fd);
  if (!layout.link) {
    // Our own fd on the map, so the registration outlives the collection's handle.
    const fd = getFdById("map", map.id);
    try {
      mapUpdateElem(fd, KEY0, value, 0n);
    } catch (e) {
      closeQuietly(fd);
      throw explainUpdate(e, layout);
    }
    return { map: mapName, handle: new StructOpsRegistration(fd, mapName, map.id) };
  }
  try {
    mapUpdateElem(map.fd, KEY0, value, 0n);
  } catch (e) {
    // EBUSY: the value was written before (a link was made from it); libbpf goes on the same way.
    if (!isSysError(e, EBUSY)) throw explainUpdate(e, layout);
  }
  const fd = linkCreate({ progFd: map.fd, targetFd: 0, attachType: ATTACH_TYPE.STRUCT_OPS });
  return { map: mapName, handle: Link.fromFd(fd, `struct_ops ${mapName}`) };
}

/** Register every struct_ops map of `coll`, all or nothing; closing the handles unregisters them. */
export function attachAllStructOps(coll: Collection): StructOpsAttachment[] {
  const out: StructOpsAttachment[] = [];
  try {
    for (const name of coll.structOps.keys()) out.push(attachStructOps(coll, name));
    return out;
  } catch (e) {
    for (const a of out.reverse()) {
      try { a.handle.close(); } catch { /* keep the first error */ }
    }
    throw e;
  }
}

/** The kernel says only EINVAL/EEXIST here; say which part of the value it likely refused. */
function explainUpdate(e: unknown, l: StructOpsLayout): unknown {
  if (!(e instanceof SysError)) return e;
  const hint = e.errno === 17
    ? `a ${l.kernelType} with this name is already registered (for TCP: see /proc/sys/net/ipv4/tcp_available_congestion_control)`
    : `the kernel refused the ${l.kernelType} value: a required callback missing, a non-zero member it does not accept, or a name in use`;
  return new SysError(e.command, e.errno, `struct_ops map '${l.map}'`, {}, hint);
}

export { StructOpsError };
