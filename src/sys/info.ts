// OBJ_GET_INFO_BY_FD for programs, maps, BTF objects and links: the info structs of
// include/uapi/linux/bpf.h (struct bpf_prog_info, bpf_map_info, bpf_btf_info, bpf_link_info,
// 6.1 layout) decoded into plain objects, with second calls to fetch the arrays they point to.

import { Attr } from "./attr.ts";
import { objGetInfoByFd } from "./bpf.ts";

export interface ProgInfo {
  type: number;
  id: number;
  /** The 8-byte program tag as 16 hex digits (what bpftool prints). */
  tag: string;
  jitedProgLen: number;
  xlatedProgLen: number;
  loadTime: bigint;
  createdByUid: number;
  mapIds: number[];
  name: string;
  ifindex: number;
  gplCompatible: boolean;
  btfId: number;
  nrFuncInfo: number;
  nrLineInfo: number;
  runTimeNs: bigint;
  runCnt: bigint;
  recursionMisses: bigint;
  verifiedInsns: number;
  attachBtfObjId: number;
  attachBtfId: number;
}

export interface MapInfo {
  type: number;
  id: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  mapFlags: number;
  name: string;
  ifindex: number;
  btfVmlinuxValueTypeId: number;
  btfId: number;
  btfKeyTypeId: number;
  btfValueTypeId: number;
  mapExtra: bigint;
}

export interface BtfInfo {
  id: number;
  btfSize: number;
  name: string;
  kernelBtf: boolean;
}

export interface LinkInfo {
  type: number;
  id: number;
  progId: number;
  /** raw_tracepoint links: the tracepoint name. */
  tpName?: string;
}

// Sizes of the 6.1 structs; newer kernels accept shorter input and fill only what we ask for.
const PROG_INFO_SIZE = 232;
const MAP_INFO_SIZE = 88;
const BTF_INFO_SIZE = 32;
const LINK_INFO_SIZE = 64;

function cname(b: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && b[end] !== 0) end++;
  return new TextDecoder().decode(b.subarray(off, end));
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function infoView(size: number): { bytes: Uint8Array; w: Attr } {
  const w = new Attr(size);
  return { bytes: w.bytes, w };
}

export function progInfo(fd: number): ProgInfo {
  const { bytes, w } = infoView(PROG_INFO_SIZE);
  objGetInfoByFd(fd, bytes);
  const nrMapIds = w.getU32(52);
  let mapIds: number[] = [];
  if (nrMapIds > 0) {
    // A second call with only the map_ids array requested.
    const ids = new Uint32Array(nrMapIds);
    w.reset(PROG_INFO_SIZE).u32(52, nrMapIds).ptr(56, ids);
    objGetInfoByFd(fd, bytes);
    mapIds = Array.from(ids.subarray(0, Math.min(nrMapIds, w.getU32(52))));
    w.reset(PROG_INFO_SIZE);
    objGetInfoByFd(fd, bytes);
  }
  return {
    type: w.getU32(0),
    id: w.getU32(4),
    tag: hex(bytes.subarray(8, 16)),
    jitedProgLen: w.getU32(16),
    xlatedProgLen: w.getU32(20),
    loadTime: w.getU64(40),
    createdByUid: w.getU32(48),
    mapIds,
    name: cname(bytes, 64, 16),
    ifindex: w.getU32(80),
    gplCompatible: (w.getU32(84) & 1) === 1,
    btfId: w.getU32(128),
    nrFuncInfo: w.getU32(144),
    nrLineInfo: w.getU32(148),
    runTimeNs: w.getU64(192),
    runCnt: w.getU64(200),
    recursionMisses: w.getU64(208),
    verifiedInsns: w.getU32(216),
    attachBtfObjId: w.getU32(220),
    attachBtfId: w.getU32(224),
  };
}

/** The program's instructions as the kernel holds them after verification and rewriting. */
export function progXlated(fd: number): Uint8Array {
  const { bytes, w } = infoView(PROG_INFO_SIZE);
  objGetInfoByFd(fd, bytes);
  const len = w.getU32(20);
  const out = new Uint8Array(len);
  w.reset(PROG_INFO_SIZE).u32(20, len).ptr(32, out);
  objGetInfoByFd(fd, bytes);
  return out.subarray(0, Math.min(len, w.getU32(20)));
}

/** The JIT-compiled machine code. */
export function progJited(fd: number): Uint8Array {
  const { bytes, w } = infoView(PROG_INFO_SIZE);
  objGetInfoByFd(fd, bytes);
  const len = w.getU32(16);
  const out = new Uint8Array(len);
  w.reset(PROG_INFO_SIZE).u32(16, len).ptr(24, out);
  objGetInfoByFd(fd, bytes);
  return out.subarray(0, Math.min(len, w.getU32(16)));
}

export function mapInfo(fd: number): MapInfo {
  const { bytes, w } = infoView(MAP_INFO_SIZE);
  objGetInfoByFd(fd, bytes);
  return {
    type: w.getU32(0),
    id: w.getU32(4),
    keySize: w.getU32(8),
    valueSize: w.getU32(12),
    maxEntries: w.getU32(16),
    mapFlags: w.getU32(20),
    name: cname(bytes, 24, 16),
    ifindex: w.getU32(40),
    btfVmlinuxValueTypeId: w.getU32(44),
    btfId: w.getU32(64),
    btfKeyTypeId: w.getU32(68),
    btfValueTypeId: w.getU32(72),
    mapExtra: w.getU64(80),
  };
}

export function btfInfo(fd: number): BtfInfo {
  const { bytes, w } = infoView(BTF_INFO_SIZE);
  const name = new Uint8Array(64);
  w.ptr(16, name).u32(24, name.byteLength);
  objGetInfoByFd(fd, bytes);
  return { btfSize: w.getU32(8), id: w.getU32(12), name: cname(name, 0, name.byteLength), kernelBtf: w.getU32(28) !== 0 };
}

/** The raw BTF blob of a loaded BTF object (what the kernel holds). */
export function btfData(fd: number): Uint8Array {
  const { bytes, w } = infoView(BTF_INFO_SIZE);
  objGetInfoByFd(fd, bytes);
  const size = w.getU32(8);
  const out = new Uint8Array(size);
  w.reset(BTF_INFO_SIZE).ptr(0, out).u32(8, size);
  objGetInfoByFd(fd, bytes);
  return out;
}

const LINK_TYPE_RAW_TRACEPOINT = 1;

export function linkInfo(fd: number): LinkInfo {
  const { bytes, w } = infoView(LINK_INFO_SIZE);
  objGetInfoByFd(fd, bytes);
  const info: LinkInfo = { type: w.getU32(0), id: w.getU32(4), progId: w.getU32(8) };
  if (info.type === LINK_TYPE_RAW_TRACEPOINT) {
    const name = new Uint8Array(256);
    w.reset(LINK_INFO_SIZE).ptr(16, name).u32(24, name.byteLength);
    objGetInfoByFd(fd, bytes);
    info.tpName = cname(name, 0, name.byteLength);
  }
  return info;
}
