// MapSpec → BPF_MAP_CREATE attributes exactly as libbpf computes them (ring buffers rounded to a
// power-of-two number of pages, perf event arrays sized by CPU count, BTF ids dropped for map
// types whose kernel side takes none), and creation with libbpf's retry without BTF, inner-map
// templates, initial global data, freezing, and pinning by name (reusing a compatible pin).

import { existsSync } from "node:fs";
import type { MapSpec } from "../elf/spec.ts";
import { TsbpfError } from "../errors.ts";
import type { MapCreateAttrs } from "../sys/bpf.ts";
import { MAP_TYPE } from "../sys/constants.ts";
import { isSysError } from "../sys/errno.ts";
import { numPossibleCpus } from "./cpus.ts";
import { BpfMap } from "./map.ts";

const PAGE_SIZE = 4096;
const RDONLY_PROG = 1 << 7;

/** Map types libbpf creates without key/value BTF (the kernel has no use for it or refuses it). */
const NO_BTF_TYPES = new Set<number>([
  MAP_TYPE.PERF_EVENT_ARRAY, MAP_TYPE.CGROUP_ARRAY, MAP_TYPE.STACK_TRACE, MAP_TYPE.ARRAY_OF_MAPS,
  MAP_TYPE.HASH_OF_MAPS, MAP_TYPE.DEVMAP, MAP_TYPE.DEVMAP_HASH, MAP_TYPE.CPUMAP, MAP_TYPE.XSKMAP,
  MAP_TYPE.SOCKMAP, MAP_TYPE.SOCKHASH, MAP_TYPE.QUEUE, MAP_TYPE.STACK, MAP_TYPE.ARENA,
]);

/** libbpf's adjust_ringbuf_sz: the smallest power-of-two multiple of the page size ≥ sz. */
export function ringbufSize(sz: number): number {
  if (sz === 0) return 0;
  for (let mul = 1; mul <= Math.floor(0xffffffff / PAGE_SIZE); mul *= 2) if (mul * PAGE_SIZE >= sz) return mul * PAGE_SIZE;
  return sz;
}

/** max_entries after libbpf's map_set_def_max_entries and ring buffer rounding. */
export function effectiveMaxEntries(m: MapSpec): number {
  if (m.type === MAP_TYPE.PERF_EVENT_ARRAY && m.maxEntries === 0) return numPossibleCpus();
  if (m.type === MAP_TYPE.RINGBUF || m.type === MAP_TYPE.USER_RINGBUF) return ringbufSize(m.maxEntries);
  return m.maxEntries;
}

/** The MAP_CREATE attributes libbpf would send (btfFd is the loaded object BTF's fd, or 0). */
export function mapCreateAttrs(m: MapSpec, btfFd: number, innerMapFd = 0, name = m.name): MapCreateAttrs {
  // libbpf passes the object BTF's fd to every map type that takes BTF, type ids or not.
  const withBtf = btfFd > 0 && !NO_BTF_TYPES.has(m.type);
  return {
    mapType: m.type,
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: effectiveMaxEntries(m),
    mapFlags: m.flags,
    innerMapFd,
    numaNode: m.numaNode,
    name: name.slice(0, 15),
    btfFd: withBtf ? btfFd : 0,
    btfKeyTypeId: withBtf ? m.keyType : 0,
    btfValueTypeId: withBtf ? m.valueType : 0,
    mapExtra: m.mapExtra,
  };
}

/** Create one map the way libbpf's bpf_object__create_map does (inner template made and closed here). */
export function createMap(m: MapSpec, btfFd: number): BpfMap {
  let innerFd = 0;
  let inner: BpfMap | undefined;
  try {
    if (m.inner) {
      inner = createMap({ ...m.inner, name: `${m.name}.inner` }, btfFd);
      innerFd = inner.fd;
    }
    const attrs = mapCreateAttrs(m, btfFd, innerFd);
    try {
      return BpfMap.create({ ...attrs, innerMap: innerFd, btf: attrs.btfFd ?? 0 });
    } catch (e) {
      // libbpf retries once without BTF when the kernel refuses the key/value types.
      if (!isSysError(e) || (!attrs.btfKeyTypeId && !attrs.btfValueTypeId)) throw e;
      return BpfMap.create({ ...attrs, innerMap: innerFd, btf: 0, btfKeyTypeId: 0, btfValueTypeId: 0 });
    }
  } finally {
    inner?.close();
  }
}

/** Whether an existing pinned map can stand in for `m` (libbpf's map_is_reuse_compat). */
export function pinCompatible(pinned: BpfMap, m: MapSpec): boolean {
  const info = pinned.info();
  let flags = info.mapFlags;
  if (m.type === MAP_TYPE.DEVMAP || m.type === MAP_TYPE.DEVMAP_HASH) flags &= ~RDONLY_PROG;
  return info.type === m.type && info.keySize === m.keySize && info.valueSize === m.valueSize &&
    info.maxEntries === effectiveMaxEntries(m) && flags === m.flags && info.mapExtra === m.mapExtra;
}

/** Open a pinned map for reuse, or undefined when nothing is pinned there. Incompatible: error. */
export function reusePin(path: string, m: MapSpec): BpfMap | undefined {
  if (!existsSync(path)) return undefined;
  const pinned = BpfMap.fromPin(path);
  if (!pinCompatible(pinned, m)) {
    pinned.close();
    throw new TsbpfError("LOAD_BAD_INPUT", `map '${m.name}': pinned map at ${path} has different attributes`, {}, "unpin it (rm the path) or give --pin another directory");
  }
  return pinned;
}

/** Fill a global-data map with its initial image and freeze .rodata/.kconfig (libbpf's populate step). */
export function populateDataMap(map: BpfMap, m: MapSpec): void {
  if (m.kind !== "data" && m.kind !== "rodata" && m.kind !== "bss" && m.kind !== "kconfig") return;
  const image = new Uint8Array(m.valueSize);
  if (m.data) image.set(m.data.subarray(0, m.valueSize));
  map.set(0, image);
  if (m.kind === "rodata" || m.kind === "kconfig") map.freeze();
}
