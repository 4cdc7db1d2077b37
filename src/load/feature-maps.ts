// Which map types the running kernel creates, as libbpf's probe_map_create finds out: create the
// smallest map each type accepts (with a BTF value holding a spin lock for the local-storage maps,
// an inner map for map-in-map) and close it at once.

import { Btf } from "../../btf/btf.ts";
import { encodeBtf } from "../../btf/encode.ts";
import { INT_SIGNED } from "../../btf/types.ts";
import { mapCreate, type MapCreateAttrs } from "../sys/bpf.ts";
import { MAP_F, MAP_TYPE, type MapTypeName } from "../sys/constants.ts";
import { door } from "../sys/door.ts";
import { ENOTSUPP, errnoName, isSysError } from "../sys/errno.ts";
import { btfLoad } from "../sys/progload.ts";
import { typeNumber, type Probe } from "./feature.ts";

interface MapShape {
  keySize: number;
  valueSize: number;
  maxEntries: number;
  mapFlags?: number;
  mapExtra?: bigint;
  btfVmlinuxValueTypeId?: number;
  /** A BTF value type holding a bpf_spin_lock (local storage maps require BTF). */
  localStorageBtf?: boolean;
  /** Map-in-map: a hash map as the inner template. */
  inner?: boolean;
  expectErrno?: number;
}

/** x86_64 (as src/sys assumes): ring buffers are a power-of-two number of pages. */
const PAGE_SIZE = 4096;

/** libbpf's shapes (probe_map_create): the smallest map each type accepts. */
function mapShape(type: number): MapShape {
  const base = { keySize: 4, valueSize: 4, maxEntries: 1 };
  switch (type) {
    case MAP_TYPE.STACK_TRACE: return { ...base, valueSize: 8 };
    case MAP_TYPE.LPM_TRIE: return { keySize: 8, valueSize: 8, maxEntries: 1, mapFlags: MAP_F.NO_PREALLOC };
    // struct bpf_cgroup_storage_key { u64 cgroup_inode_id; u32 attach_type; }: 16 bytes with its padding.
    case MAP_TYPE.CGROUP_STORAGE_DEPRECATED:
    case MAP_TYPE.PERCPU_CGROUP_STORAGE_DEPRECATED: return { keySize: 16, valueSize: 8, maxEntries: 0 };
    case MAP_TYPE.QUEUE:
    case MAP_TYPE.STACK: return { ...base, keySize: 0 };
    case MAP_TYPE.SK_STORAGE:
    case MAP_TYPE.INODE_STORAGE:
    case MAP_TYPE.TASK_STORAGE:
    case MAP_TYPE.CGRP_STORAGE: return { keySize: 4, valueSize: 8, maxEntries: 0, mapFlags: MAP_F.NO_PREALLOC, localStorageBtf: true };
    case MAP_TYPE.RINGBUF:
    case MAP_TYPE.USER_RINGBUF: return { keySize: 0, valueSize: 0, maxEntries: PAGE_SIZE };
    // Any struct_ops map needs a vmlinux value type; id 1 is none, and a kernel with struct_ops says ENOTSUPP.
    case MAP_TYPE.STRUCT_OPS: return { ...base, btfVmlinuxValueTypeId: 1, expectErrno: ENOTSUPP };
    case MAP_TYPE.BLOOM_FILTER: return { ...base, keySize: 0 };
    // One page of arena, mmap-able anywhere (map_extra 0).
    case MAP_TYPE.ARENA: return { keySize: 0, valueSize: 0, maxEntries: 1, mapFlags: MAP_F.MMAPABLE, mapExtra: 0n };
    case MAP_TYPE.ARRAY_OF_MAPS:
    case MAP_TYPE.HASH_OF_MAPS: return { ...base, inner: true };
    default: return base;
  }
}

/** struct bpf_spin_lock { int val; }; struct val { int cnt; struct bpf_spin_lock l; }; (ids 1, 2, 3). */
function localStorageBtf(): Uint8Array {
  const btf = Btf.fromTypes([
    { kind: "int", id: 1, name: "", nameOff: 0, size: 4, encoding: INT_SIGNED, bitOffset: 0, bits: 32 },
    { kind: "struct", id: 2, name: "bpf_spin_lock", nameOff: 0, size: 4, kindFlag: false, members: [{ name: "val", nameOff: 0, type: 1, bitOffset: 0, bitfieldSize: 0 }] },
    { kind: "struct", id: 3, name: "val", nameOff: 0, size: 8, kindFlag: false, members: [
      { name: "cnt", nameOff: 0, type: 1, bitOffset: 0, bitfieldSize: 0 },
      { name: "l", nameOff: 0, type: 2, bitOffset: 32, bitfieldSize: 0 },
    ] },
  ]);
  return encodeBtf(btf);
}

/** MAP_CREATE returning the fd or -errno (mapCreate throws; a probe wants the errno). */
function tryMapCreate(a: MapCreateAttrs): number {
  try {
    return mapCreate(a);
  } catch (e) {
    if (isSysError(e)) return -e.errno;
    throw e;
  }
}

/** Does this kernel create maps of `type`? (bpftool's "eBPF map_type X is available") */
export function probeMapType(type: MapTypeName | number): Probe {
  const t = typeNumber(MAP_TYPE, type, "map type");
  const s = mapShape(t);
  const fds: number[] = [];
  try {
    const attrs: MapCreateAttrs = {
      mapType: t, keySize: s.keySize, valueSize: s.valueSize, maxEntries: s.maxEntries,
      mapFlags: s.mapFlags, mapExtra: s.mapExtra, btfVmlinuxValueTypeId: s.btfVmlinuxValueTypeId,
    };
    if (s.localStorageBtf) {
      let btfFd: number;
      try {
        btfFd = btfLoad(localStorageBtf()).fd;
      } catch (e) {
        if (isSysError(e)) return { status: "undetermined", errno: e.errno, detail: `the probe's BTF did not load (${e.errnoName})` };
        throw e;
      }
      fds.push(btfFd);
      Object.assign(attrs, { btfFd, btfKeyTypeId: 1, btfValueTypeId: 3 });
    }
    if (s.inner) {
      const inner = tryMapCreate({ mapType: MAP_TYPE.HASH, keySize: 4, valueSize: 4, maxEntries: 1 });
      if (inner < 0) return { status: "undetermined", errno: -inner, detail: `the inner hash map was refused (${errnoName(-inner)})` };
      fds.push(inner);
      attrs.innerMapFd = inner;
    }
    const fd = tryMapCreate(attrs);
    if (fd >= 0) fds.push(fd);
    if (s.expectErrno !== undefined) {
      if (fd < 0 && -fd === s.expectErrno) return { status: "available", detail: `the kernel knows the type (${errnoName(s.expectErrno)} without a real value type)` };
      return fd >= 0
        ? { status: "unavailable", detail: "a map without a value type was created: this kernel does not check the type as expected" }
        : { status: "unavailable", errno: -fd, detail: errnoName(-fd) };
    }
    return fd >= 0 ? { status: "available", detail: "created" } : { status: "unavailable", errno: -fd, detail: errnoName(-fd) };
  } finally {
    for (const fd of fds) door().close(fd);
  }
}
