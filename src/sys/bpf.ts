// One function per bpf(2) command. Each fills union bpf_attr at the field offsets of
// include/uapi/linux/bpf.h (Debian's 6.1 header; fields added later are from torvalds/linux v6.18
// include/uapi/linux/bpf.h and marked with the version), passes only the bytes up to its last
// field, and turns a failure into a SysError naming the command and errno.

import { Attr, cstring } from "./attr.ts";
import { BPF_CMD, BPF_OBJ_NAME_LEN, type BpfCmd } from "./constants.ts";
import { door } from "./door.ts";
import { E2BIG, ENOENT, ENOSPC, SysError } from "./errno.ts";

/** __NR_bpf on x86_64 (arch/x86/entry/syscalls/syscall_64.tbl). */
export const NR_BPF = 321;

const attr = new Attr();

/** bpf(cmd, &attr, size): the result, or -errno. */
export function bpfRaw(cmd: BpfCmd, size: number): number {
  return door().syscall(NR_BPF, BPF_CMD[cmd], attr.address(), size);
}

/** bpf() that throws SysError on failure. */
function bpf(cmd: BpfCmd, size: number, detail?: () => string): number {
  const r = bpfRaw(cmd, size);
  if (r < 0) throw new SysError(cmd, -r, detail?.());
  return r;
}

/** The shared attr buffer, zeroed for `size` bytes; for callers that need a command not wrapped here. */
export function freshAttr(size: number): Attr {
  return attr.reset(size);
}

// ---- maps --------------------------------------------------------------------------------------

export interface MapCreateAttrs {
  mapType: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  mapFlags?: number;
  innerMapFd?: number;
  numaNode?: number;
  name?: string;
  mapIfindex?: number;
  btfFd?: number;
  btfKeyTypeId?: number;
  btfValueTypeId?: number;
  btfVmlinuxValueTypeId?: number;
  mapExtra?: bigint;
  /** 6.9+ */
  valueTypeBtfObjFd?: number;
  /** 6.9+ */
  mapTokenFd?: number;
}

/** BPF_MAP_CREATE → map fd. */
export function mapCreate(a: MapCreateAttrs): number {
  attr.reset(80)
    .u32(0, a.mapType).u32(4, a.keySize).u32(8, a.valueSize).u32(12, a.maxEntries)
    .u32(16, a.mapFlags ?? 0).u32(20, a.innerMapFd ?? 0).u32(24, a.numaNode ?? 0)
    .name(28, BPF_OBJ_NAME_LEN, a.name)
    .u32(44, a.mapIfindex ?? 0).u32(48, a.btfFd ?? 0).u32(52, a.btfKeyTypeId ?? 0)
    .u32(56, a.btfValueTypeId ?? 0).u32(60, a.btfVmlinuxValueTypeId ?? 0)
    .u64(64, a.mapExtra ?? 0n).u32(72, a.valueTypeBtfObjFd ?? 0).u32(76, a.mapTokenFd ?? 0);
  return bpf("MAP_CREATE", 80, () => `type ${a.mapType}, key ${a.keySize}, value ${a.valueSize}, max_entries ${a.maxEntries}${a.name ? `, name ${a.name}` : ""}`);
}

function elemAttr(fd: number, key: Uint8Array | null, value: Uint8Array | null, flags: bigint): void {
  attr.reset(32).u32(0, fd).ptr(8, key).ptr(16, value).u64(24, flags);
}

/** BPF_MAP_LOOKUP_ELEM into `value`; false when the key is absent (ENOENT). */
export function mapLookupElem(fd: number, key: Uint8Array | null, value: Uint8Array, flags = 0n): boolean {
  elemAttr(fd, key, value, flags);
  const r = bpfRaw("MAP_LOOKUP_ELEM", 32);
  if (r === -ENOENT) return false;
  if (r < 0) throw new SysError("MAP_LOOKUP_ELEM", -r);
  return true;
}

/** BPF_MAP_UPDATE_ELEM; flags are UPDATE.ANY/NOEXIST/EXIST (| F_LOCK). */
export function mapUpdateElem(fd: number, key: Uint8Array | null, value: Uint8Array, flags = 0n): void {
  elemAttr(fd, key, value, flags);
  const r = bpfRaw("MAP_UPDATE_ELEM", 32);
  if (r < 0) throw new SysError("MAP_UPDATE_ELEM", -r, r === -E2BIG ? "map is full" : undefined);
}

/** BPF_MAP_DELETE_ELEM; false when the key is absent. */
export function mapDeleteElem(fd: number, key: Uint8Array, flags = 0n): boolean {
  elemAttr(fd, key, null, flags);
  const r = bpfRaw("MAP_DELETE_ELEM", 32);
  if (r === -ENOENT) return false;
  if (r < 0) throw new SysError("MAP_DELETE_ELEM", -r);
  return true;
}

/** BPF_MAP_GET_NEXT_KEY: the key after `key` (or the first for null) into `next`; false at the end. */
export function mapGetNextKey(fd: number, key: Uint8Array | null, next: Uint8Array): boolean {
  elemAttr(fd, key, next, 0n);
  const r = bpfRaw("MAP_GET_NEXT_KEY", 32);
  if (r === -ENOENT) return false;
  if (r < 0) throw new SysError("MAP_GET_NEXT_KEY", -r);
  return true;
}

/** BPF_MAP_LOOKUP_AND_DELETE_ELEM (queue/stack pop: key null); false when empty/absent. */
export function mapLookupAndDeleteElem(fd: number, key: Uint8Array | null, value: Uint8Array, flags = 0n): boolean {
  elemAttr(fd, key, value, flags);
  const r = bpfRaw("MAP_LOOKUP_AND_DELETE_ELEM", 32);
  if (r === -ENOENT) return false;
  if (r < 0) throw new SysError("MAP_LOOKUP_AND_DELETE_ELEM", -r);
  return true;
}

/** BPF_MAP_FREEZE: no more writes from user space. */
export function mapFreeze(fd: number): void {
  attr.reset(4).u32(0, fd);
  bpf("MAP_FREEZE", 4);
}

export type BatchCmd = "MAP_LOOKUP_BATCH" | "MAP_LOOKUP_AND_DELETE_BATCH" | "MAP_UPDATE_BATCH" | "MAP_DELETE_BATCH";

export interface BatchArgs {
  fd: number;
  /** Opaque position from the previous call's outBatch; null to start. Lookup commands only. */
  inBatch?: Uint8Array | null;
  outBatch?: Uint8Array | null;
  keys: Uint8Array;
  values?: Uint8Array | null;
  /** Elements to process (room in keys/values for lookups). */
  count: number;
  elemFlags?: bigint;
  flags?: bigint;
}

/** A batch command; `count` is how many elements were processed, `done` when lookups hit the end. */
export function mapBatch(cmd: BatchCmd, a: BatchArgs): { count: number; done: boolean } {
  attr.reset(56).ptr(0, a.inBatch).ptr(8, a.outBatch).ptr(16, a.keys).ptr(24, a.values)
    .u32(32, a.count).u32(36, a.fd).u64(40, a.elemFlags ?? 0n).u64(48, a.flags ?? 0n);
  const r = bpfRaw(cmd, 56);
  const count = attr.getU32(32);
  // Lookups report the end of the map as ENOENT, with the last elements still filled in.
  if (r === -ENOENT && (cmd === "MAP_LOOKUP_BATCH" || cmd === "MAP_LOOKUP_AND_DELETE_BATCH")) return { count, done: true };
  if (r < 0) throw new SysError(cmd, -r, `${count} of ${a.count} elements done`);
  return { count, done: false };
}

// ---- programs ----------------------------------------------------------------------------------

export interface ProgLoadAttrs {
  progType: number;
  /** Encoded instructions, 8 bytes each. */
  insns: Uint8Array;
  license: string;
  logLevel?: number;
  logBuf?: Uint8Array | null;
  kernVersion?: number;
  progFlags?: number;
  name?: string;
  progIfindex?: number;
  expectedAttachType?: number;
  progBtfFd?: number;
  funcInfoRecSize?: number;
  funcInfo?: Uint8Array | null;
  funcInfoCnt?: number;
  lineInfoRecSize?: number;
  lineInfo?: Uint8Array | null;
  lineInfoCnt?: number;
  attachBtfId?: number;
  /** attach_prog_fd or attach_btf_obj_fd (a union). */
  attachFd?: number;
  coreReloCnt?: number;
  /** Array of u32 fds that ld_imm64 BPF_PSEUDO_MAP_IDX / kfunc calls index. */
  fdArray?: Uint32Array | Int32Array | null;
  coreRelos?: Uint8Array | null;
  coreReloRecSize?: number;
  /** 6.9+ */
  progTokenFd?: number;
  /** 6.14+ */
  fdArrayCnt?: number;
}

/** BPF_PROG_LOAD once: the fd or -errno, and log_true_size (6.4+, 0 on older kernels). */
export function progLoadRaw(a: ProgLoadAttrs): { ret: number; logTrueSize: number } {
  const logSize = a.logBuf ? a.logBuf.byteLength : 0;
  const lic = cstring(a.license);
  attr.reset(152)
    .u32(0, a.progType).u32(4, a.insns.byteLength / 8).ptr(8, a.insns).ptr(16, lic)
    .u32(24, logSize > 0 ? (a.logLevel ?? 0) : 0).u32(28, logSize).ptr(32, logSize > 0 ? a.logBuf : null)
    .u32(40, a.kernVersion ?? 0).u32(44, a.progFlags ?? 0).name(48, BPF_OBJ_NAME_LEN, a.name)
    .u32(64, a.progIfindex ?? 0).u32(68, a.expectedAttachType ?? 0).u32(72, a.progBtfFd ?? 0)
    .u32(76, a.funcInfoRecSize ?? 0).ptr(80, a.funcInfo).u32(88, a.funcInfoCnt ?? 0)
    .u32(92, a.lineInfoRecSize ?? 0).ptr(96, a.lineInfo).u32(104, a.lineInfoCnt ?? 0)
    .u32(108, a.attachBtfId ?? 0).u32(112, a.attachFd ?? 0).u32(116, a.coreReloCnt ?? 0)
    .ptr(120, a.fdArray).ptr(128, a.coreRelos).u32(136, a.coreReloRecSize ?? 0)
    .i32(144, a.progTokenFd ?? 0).u32(148, a.fdArrayCnt ?? 0);
  const ret = bpfRaw("PROG_LOAD", 152);
  // Keep the buffers reachable until the kernel has read them.
  void lic;
  return { ret, logTrueSize: attr.getU32(140) };
}

export interface TestRunArgs {
  progFd: number;
  dataIn?: Uint8Array | null;
  /** Room for the output packet; its length is data_size_out. */
  dataOut?: Uint8Array | null;
  repeat?: number;
  ctxIn?: Uint8Array | null;
  ctxOut?: Uint8Array | null;
  flags?: number;
  cpu?: number;
  batchSize?: number;
}

export interface TestRunResult {
  retval: number;
  /** Average nanoseconds per run as the kernel measured it. */
  duration: number;
  dataSizeOut: number;
  ctxSizeOut: number;
}

/** BPF_PROG_TEST_RUN. */
export function progTestRun(a: TestRunArgs): TestRunResult {
  attr.reset(76).u32(0, a.progFd)
    .u32(8, a.dataIn?.byteLength ?? 0).u32(12, a.dataOut?.byteLength ?? 0)
    .ptr(16, a.dataIn).ptr(24, a.dataOut).u32(32, a.repeat ?? 0)
    .u32(40, a.ctxIn?.byteLength ?? 0).u32(44, a.ctxOut?.byteLength ?? 0)
    .ptr(48, a.ctxIn).ptr(56, a.ctxOut).u32(64, a.flags ?? 0).u32(68, a.cpu ?? 0).u32(72, a.batchSize ?? 0);
  bpf("PROG_TEST_RUN", 76);
  return { retval: attr.getU32(4), duration: attr.getU32(36), dataSizeOut: attr.getU32(12), ctxSizeOut: attr.getU32(44) };
}

export interface ProgAttachArgs {
  targetFd: number;
  attachBpfFd: number;
  attachType: number;
  attachFlags?: number;
  replaceBpfFd?: number;
  /** 6.6+ (mprog: BPF_F_BEFORE/AFTER relative to this fd or id) */
  relativeFd?: number;
  /** 6.6+ */
  expectedRevision?: bigint;
}

/** BPF_PROG_ATTACH (cgroup, sockmap, flow dissector, lirc, tcx). */
export function progAttach(a: ProgAttachArgs): void {
  attr.reset(32).u32(0, a.targetFd).u32(4, a.attachBpfFd).u32(8, a.attachType).u32(12, a.attachFlags ?? 0)
    .u32(16, a.replaceBpfFd ?? 0).u32(20, a.relativeFd ?? 0).u64(24, a.expectedRevision ?? 0n);
  bpf("PROG_ATTACH", 32);
}

/** BPF_PROG_DETACH. */
export function progDetach(a: { targetFd: number; attachBpfFd?: number; attachType: number; attachFlags?: number }): void {
  attr.reset(32).u32(0, a.targetFd).u32(4, a.attachBpfFd ?? 0).u32(8, a.attachType).u32(12, a.attachFlags ?? 0);
  bpf("PROG_DETACH", 32);
}

export interface ProgQueryResult {
  attachFlags: number;
  /** Number of programs attached (may exceed progIds' room). */
  progCnt: number;
  /** 6.6+ mprog revision; 0n on older kernels or hooks without one. */
  revision: bigint;
}

/** BPF_PROG_QUERY: fills `progIds` with attached program ids; progCnt is the total even when they did not fit. */
export function progQuery(a: { targetFd: number; attachType: number; queryFlags?: number; progIds?: Uint32Array | null }): ProgQueryResult {
  attr.reset(64).u32(0, a.targetFd).u32(4, a.attachType).u32(8, a.queryFlags ?? 0)
    .ptr(16, a.progIds).u32(24, a.progIds?.length ?? 0);
  const r = bpfRaw("PROG_QUERY", 64);
  // ENOSPC: more programs than room in progIds; prog_cnt still says how many there are.
  if (r < 0 && r !== -ENOSPC) throw new SysError("PROG_QUERY", -r);
  return { attachFlags: attr.getU32(12), progCnt: attr.getU32(24), revision: attr.getU64(56) };
}

/** BPF_PROG_BIND_MAP: keep a map alive as long as the program. */
export function progBindMap(progFd: number, mapFd: number): void {
  attr.reset(12).u32(0, progFd).u32(4, mapFd);
  bpf("PROG_BIND_MAP", 12);
}

// ---- BTF ---------------------------------------------------------------------------------------

/** BPF_BTF_LOAD once: the fd or -errno, and btf_log_true_size (6.4+). */
export function btfLoadRaw(btf: Uint8Array, logBuf: Uint8Array | null, logLevel: number, tokenFd = 0): { ret: number; logTrueSize: number } {
  const logSize = logBuf?.byteLength ?? 0;
  attr.reset(40).ptr(0, btf).ptr(8, logSize > 0 ? logBuf : null).u32(16, btf.byteLength)
    .u32(20, logSize).u32(24, logSize > 0 ? logLevel : 0).i32(36, tokenFd);
  const ret = bpfRaw("BTF_LOAD", 40);
  return { ret, logTrueSize: attr.getU32(28) };
}

// ---- pins --------------------------------------------------------------------------------------

/** BPF_OBJ_PIN: pin an fd at a bpffs path. */
export function objPin(fd: number, path: string): void {
  const p = cstring(path);
  attr.reset(20).ptr(0, p).u32(8, fd);
  bpf("OBJ_PIN", 20, () => path);
}

/** BPF_OBJ_GET: open a pinned object; fileFlags MAP_F.RDONLY/WRONLY or 0. */
export function objGet(path: string, fileFlags = 0): number {
  const p = cstring(path);
  attr.reset(20).ptr(0, p).u32(12, fileFlags);
  return bpf("OBJ_GET", 20, () => path);
}

// ---- ids and info ------------------------------------------------------------------------------

export type ObjKind = "prog" | "map" | "btf" | "link";

const NEXT_ID: Record<ObjKind, BpfCmd> = {
  prog: "PROG_GET_NEXT_ID", map: "MAP_GET_NEXT_ID", btf: "BTF_GET_NEXT_ID", link: "LINK_GET_NEXT_ID",
};
const FD_BY_ID: Record<ObjKind, BpfCmd> = {
  prog: "PROG_GET_FD_BY_ID", map: "MAP_GET_FD_BY_ID", btf: "BTF_GET_FD_BY_ID", link: "LINK_GET_FD_BY_ID",
};

/** The id after `startId` of this kind of object, or undefined after the last. */
export function getNextId(kind: ObjKind, startId: number): number | undefined {
  attr.reset(12).u32(0, startId);
  const r = bpfRaw(NEXT_ID[kind], 12);
  if (r === -ENOENT) return undefined;
  if (r < 0) throw new SysError(NEXT_ID[kind], -r);
  return attr.getU32(4);
}

/** Every id of this kind of object, ascending. */
export function allIds(kind: ObjKind): number[] {
  const ids: number[] = [];
  for (let id = getNextId(kind, 0); id !== undefined; id = getNextId(kind, id)) ids.push(id);
  return ids;
}

/** *_GET_FD_BY_ID → fd. */
export function getFdById(kind: ObjKind, id: number, openFlags = 0): number {
  attr.reset(12).u32(0, id).u32(8, openFlags);
  return bpf(FD_BY_ID[kind], 12, () => `${kind} id ${id}`);
}

/** BPF_OBJ_GET_INFO_BY_FD into `info` (zeroed by the caller except input pointers); returns info_len. */
export function objGetInfoByFd(fd: number, info: Uint8Array): number {
  attr.reset(16).u32(0, fd).u32(4, info.byteLength).ptr(8, info);
  bpf("OBJ_GET_INFO_BY_FD", 16);
  return attr.getU32(4);
}

// ---- links and attachments ---------------------------------------------------------------------

/** BPF_RAW_TRACEPOINT_OPEN: a raw_tp link (name) or a tp_btf/fentry link (name null). */
export function rawTracepointOpen(name: string | null, progFd: number, cookie = 0n): number {
  const n = name === null ? null : cstring(name);
  attr.reset(24).ptr(0, n).u32(8, progFd).u64(16, cookie);
  return bpf("RAW_TRACEPOINT_OPEN", cookie === 0n ? 12 : 24, () => name ?? "(attach_btf_id)");
}

export type LinkTarget =
  | { kind: "none" }
  | { kind: "btf_id"; targetBtfId: number }
  | { kind: "perf_event"; cookie?: bigint }
  | { kind: "tracing"; targetBtfId: number; cookie?: bigint }
  | { kind: "iter"; iterInfo: Uint8Array }
  | { kind: "tcx"; relativeFd?: number; expectedRevision?: bigint };

/** BPF_LINK_CREATE → link fd. */
export function linkCreate(a: { progFd: number; targetFd: number; attachType: number; flags?: number; target?: LinkTarget }): number {
  attr.reset(64).u32(0, a.progFd).u32(4, a.targetFd).u32(8, a.attachType).u32(12, a.flags ?? 0);
  const t = a.target ?? { kind: "none" };
  switch (t.kind) {
    case "none":
      break;
    case "btf_id":
      attr.u32(16, t.targetBtfId);
      break;
    case "perf_event":
      attr.u64(16, t.cookie ?? 0n);
      break;
    case "tracing":
      attr.u32(16, t.targetBtfId).u64(24, t.cookie ?? 0n);
      break;
    case "iter":
      attr.ptr(16, t.iterInfo).u32(24, t.iterInfo.byteLength);
      break;
    case "tcx":
      attr.u32(16, t.relativeFd ?? 0).u64(24, t.expectedRevision ?? 0n);
      break;
  }
  return bpf("LINK_CREATE", 64, () => `attach type ${a.attachType}, target fd ${a.targetFd}`);
}

/** BPF_LINK_UPDATE: swap the program behind a link. */
export function linkUpdate(linkFd: number, newProgFd: number, flags = 0, oldProgFd = 0): void {
  attr.reset(16).u32(0, linkFd).u32(4, newProgFd).u32(8, flags).u32(12, oldProgFd);
  bpf("LINK_UPDATE", 16);
}

/** BPF_LINK_DETACH: detach while keeping the fd open (defunct link). */
export function linkDetach(linkFd: number): void {
  attr.reset(4).u32(0, linkFd);
  bpf("LINK_DETACH", 4);
}

/** BPF_ENABLE_STATS (type 0 = BPF_STATS_RUN_TIME) → an fd that keeps stats on while open. */
export function enableStats(type = 0): number {
  attr.reset(4).u32(0, type);
  return bpf("ENABLE_STATS", 4);
}

/** BPF_ITER_CREATE: a readable fd from an iterator link. */
export function iterCreate(linkFd: number, flags = 0): number {
  attr.reset(8).u32(0, linkFd).u32(4, flags);
  return bpf("ITER_CREATE", 8);
}

/** close(2) an fd; a failure (EBADF: closed twice) is a SysError. */
export function closeFd(fd: number): void {
  const r = door().close(fd);
  if (r < 0) throw new SysError("close", -r, `fd ${fd}`);
}
