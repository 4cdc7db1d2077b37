// bpftool's views of loaded programs and maps (`prog show`, `map show`),
// in its text layout and with its --json field names: kernel info by id, memlock and frozen from
// fdinfo, the processes holding each object from /proc, load time as wall-clock seconds.

import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { allIds, getFdById, mapGetNextKey, mapLookupElem } from "../sys/bpf.ts";
import { MAP_TYPE, PERCPU_MAP_TYPES, PROG_TYPE } from "../sys/constants.ts";
import { mapInfo, progInfo, type MapInfo, type ProgInfo } from "../sys/info.ts";
import { closeQuietly } from "./fd.ts";
import { numPossibleCpus } from "./cpus.ts";

export interface Holder { pid: number; comm: string }

export interface ProgShow {
  id: number; type: string; name: string; tag: string; gpl_compatible: boolean; loaded_at: number; uid: number;
  bytes_xlated: number; jited: boolean; bytes_jited: number; bytes_memlock: number; map_ids?: number[]; btf_id?: number;
  run_time_ns?: number; run_cnt?: number; recursion_misses?: number; verified_insns?: number; pids?: Holder[];
}

export interface MapShow {
  id: number; type: string; name: string; flags: number; bytes_key: number; bytes_value: number; max_entries: number;
  bytes_memlock: number; frozen: number; btf_id?: number; pids?: Holder[];
}

const byNumber = (table: Record<string, number>) => new Map(Object.entries(table).map(([k, v]) => [v, k.toLowerCase()] as const));
const PROG_NAMES = byNumber(PROG_TYPE);
// libbpf names the deprecated cgroup storage types by their old names.
const MAP_NAMES = new Map([...byNumber(MAP_TYPE), [MAP_TYPE.CGROUP_STORAGE_DEPRECATED, "cgroup_storage"], [MAP_TYPE.PERCPU_CGROUP_STORAGE_DEPRECATED, "percpu_cgroup_storage"]]);

export const progTypeName = (t: number): string => PROG_NAMES.get(t) ?? `type ${t}`;
export const mapTypeName = (t: number): string => MAP_NAMES.get(t) ?? `type ${t}`;

/** Fields of /proc/self/fdinfo/FD (memlock, frozen, …). */
function fdinfo(fd: number): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync(`/proc/self/fdinfo/${fd}`, "latin1").split("\n")) {
    const c = line.indexOf(":");
    if (c > 0) out.set(line.slice(0, c), line.slice(c + 1).trim());
  }
  return out;
}

/** Which processes hold an fd to each program and map id (bpftool's "pids"), from /proc. */
export function holders(): { prog: Map<number, Holder[]>; map: Map<number, Holder[]> } {
  const res = { prog: new Map<number, Holder[]>(), map: new Map<number, Holder[]>() };
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    let fds: string[];
    try { fds = readdirSync(`/proc/${p}/fd`); } catch { continue; }
    let comm: string | undefined;
    const seen = new Set<string>();
    for (const fd of fds) {
      let link: string;
      try { link = readlinkSync(`/proc/${p}/fd/${fd}`); } catch { continue; }
      const kind = link === "anon_inode:bpf-prog" ? "prog" : link === "anon_inode:bpf-map" ? "map" : undefined;
      if (!kind) continue;
      let info: string;
      try { info = readFileSync(`/proc/${p}/fdinfo/${fd}`, "latin1"); } catch { continue; }
      const m = new RegExp(`^${kind}_id:\\s*(\\d+)`, "m").exec(info);
      if (!m || seen.has(kind + m[1])) continue;
      seen.add(kind + m[1]);
      comm ??= readFileSync(`/proc/${p}/comm`, "latin1").trim();
      const list = res[kind].get(+m[1]) ?? [];
      list.push({ pid: +p, comm });
      res[kind].set(+m[1], list);
    }
  }
  return res;
}

/** Boot-time nanoseconds → wall-clock seconds, as bpftool converts load_time. */
function wallClock(bootNs: bigint): number {
  const uptime = Number(readFileSync("/proc/uptime", "latin1").split(" ")[0]);
  return Math.floor(Date.now() / 1000 - (uptime - Number(bootNs) / 1e9));
}

export function progShow(id: number, pids?: Map<number, Holder[]>): ProgShow {
  const fd = getFdById("prog", id);
  try {
    const i: ProgInfo = progInfo(fd);
    const f = fdinfo(fd);
    const out: ProgShow = {
      id: i.id, type: progTypeName(i.type), name: i.name, tag: i.tag, gpl_compatible: i.gplCompatible,
      loaded_at: wallClock(i.loadTime), uid: i.createdByUid, bytes_xlated: i.xlatedProgLen, jited: i.jitedProgLen > 0,
      bytes_jited: i.jitedProgLen, bytes_memlock: Number(f.get("memlock") ?? 0),
    };
    if (i.mapIds.length) out.map_ids = i.mapIds;
    if (i.btfId) out.btf_id = i.btfId;
    if (i.runTimeNs) { out.run_time_ns = Number(i.runTimeNs); out.run_cnt = Number(i.runCnt); }
    if (i.recursionMisses) out.recursion_misses = Number(i.recursionMisses);
    const h = pids?.get(id);
    if (h?.length) out.pids = h;
    return out;
  } finally {
    closeQuietly(fd);
  }
}

export function mapShow(id: number, pids?: Map<number, Holder[]>): MapShow {
  const fd = getFdById("map", id);
  try {
    const i: MapInfo = mapInfo(fd);
    const f = fdinfo(fd);
    const out: MapShow = {
      id: i.id, type: mapTypeName(i.type), name: i.name, flags: i.mapFlags, bytes_key: i.keySize, bytes_value: i.valueSize,
      max_entries: i.maxEntries, bytes_memlock: Number(f.get("memlock") ?? 0), frozen: Number(f.get("frozen") ?? 0),
    };
    if (i.btfId) out.btf_id = i.btfId;
    const h = pids?.get(id);
    if (h?.length) out.pids = h;
    return out;
  } finally {
    closeQuietly(fd);
  }
}

const pad2 = (n: number) => String(n).padStart(2, "0");

/** strftime("%FT%T%z") in local time, as bpftool prints loaded_at. */
function isoLocal(sec: number): string {
  const d = new Date(sec * 1000);
  const off = -d.getTimezoneOffset();
  const z = `${off >= 0 ? "+" : "-"}${pad2(Math.floor(Math.abs(off) / 60))}${pad2(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}${z}`;
}

const pidText = (h: Holder[] | undefined) => (h?.length ? `\n\tpids ${h.map((x) => `${x.comm}(${x.pid})`).join(", ")}` : "");

export function progShowText(p: ProgShow): string {
  let s = `${p.id}: ${p.type}  name ${p.name}  tag ${p.tag}${p.gpl_compatible ? "  gpl" : ""}`;
  if (p.run_time_ns !== undefined) s += `  run_time_ns ${p.run_time_ns}  run_cnt ${p.run_cnt}`;
  if (p.recursion_misses !== undefined) s += `  recursion_misses ${p.recursion_misses}`;
  s += `\n\tloaded_at ${isoLocal(p.loaded_at)}  uid ${p.uid}\n\txlated ${p.bytes_xlated}B`;
  s += p.jited ? `  jited ${p.bytes_jited}B` : "  not jited";
  s += `  memlock ${p.bytes_memlock}B`;
  if (p.map_ids) s += `  map_ids ${p.map_ids.join(",")}`;
  if (p.btf_id !== undefined) s += `\n\tbtf_id ${p.btf_id}`;
  return s + pidText(p.pids) + "\n";
}

export function mapShowText(m: MapShow): string {
  let s = `${m.id}: ${m.type}  name ${m.name}  flags 0x${m.flags.toString(16)}\n\tkey ${m.bytes_key}B  value ${m.bytes_value}B  max_entries ${m.max_entries}  memlock ${m.bytes_memlock}B`;
  if (m.btf_id !== undefined) s += `\n\tbtf_id ${m.btf_id}`;
  // bpftool appends "frozen" to the btf_id line when there is one.
  if (m.frozen) s += m.btf_id !== undefined ? "  frozen" : "\n\tfrozen";
  return s + pidText(m.pids) + "\n";
}

export const progIds = (): number[] => allIds("prog");
export const mapIds = (): number[] => allIds("map");
