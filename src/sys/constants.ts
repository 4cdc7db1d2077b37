// The numbers of the bpf() ABI: commands, link types and flags (program, attach and map types: src/elf/uapi.ts).
// From include/uapi/linux/bpf.h — Debian's 6.1 header for the older entries, torvalds/linux
// v6.18 include/uapi/linux/bpf.h for the newer ones (marked "6.x+").

import { MAP_TYPE } from "../elf/uapi.ts";

export const BPF_CMD = {
  MAP_CREATE: 0, MAP_LOOKUP_ELEM: 1, MAP_UPDATE_ELEM: 2, MAP_DELETE_ELEM: 3, MAP_GET_NEXT_KEY: 4,
  PROG_LOAD: 5, OBJ_PIN: 6, OBJ_GET: 7, PROG_ATTACH: 8, PROG_DETACH: 9, PROG_TEST_RUN: 10,
  PROG_GET_NEXT_ID: 11, MAP_GET_NEXT_ID: 12, PROG_GET_FD_BY_ID: 13, MAP_GET_FD_BY_ID: 14,
  OBJ_GET_INFO_BY_FD: 15, PROG_QUERY: 16, RAW_TRACEPOINT_OPEN: 17, BTF_LOAD: 18, BTF_GET_FD_BY_ID: 19,
  TASK_FD_QUERY: 20, MAP_LOOKUP_AND_DELETE_ELEM: 21, MAP_FREEZE: 22, BTF_GET_NEXT_ID: 23,
  MAP_LOOKUP_BATCH: 24, MAP_LOOKUP_AND_DELETE_BATCH: 25, MAP_UPDATE_BATCH: 26, MAP_DELETE_BATCH: 27,
  LINK_CREATE: 28, LINK_UPDATE: 29, LINK_GET_FD_BY_ID: 30, LINK_GET_NEXT_ID: 31, ENABLE_STATS: 32,
  ITER_CREATE: 33, LINK_DETACH: 34, PROG_BIND_MAP: 35,
  TOKEN_CREATE: 36, // 6.9+
} as const;
export type BpfCmd = keyof typeof BPF_CMD;

// Program, attach and map type numbers live in one table shared with the (syscall-free) object reader.
export { ATTACH_TYPE, MAP_TYPE, PROG_TYPE, type AttachTypeName, type MapTypeName, type ProgTypeName } from "../elf/uapi.ts";

/** Map types whose values are per possible CPU: user space sees value_size rounded to 8, times nCPU. */
export const PERCPU_MAP_TYPES: ReadonlySet<number> = new Set([
  MAP_TYPE.PERCPU_HASH, MAP_TYPE.PERCPU_ARRAY, MAP_TYPE.LRU_PERCPU_HASH, MAP_TYPE.PERCPU_CGROUP_STORAGE_DEPRECATED,
]);

export const LINK_TYPE = {
  UNSPEC: 0, RAW_TRACEPOINT: 1, TRACING: 2, CGROUP: 3, ITER: 4, NETNS: 5, XDP: 6, PERF_EVENT: 7,
  KPROBE_MULTI: 8, STRUCT_OPS: 9,
  NETFILTER: 10, TCX: 11, UPROBE_MULTI: 12, NETKIT: 13, SOCKMAP: 14, // 6.4+ … 6.10+
} as const;

/** BPF_MAP_UPDATE_ELEM flags. */
export const UPDATE = { ANY: 0n, NOEXIST: 1n, EXIST: 2n, F_LOCK: 4n } as const;

/** BPF_MAP_CREATE map_flags. */
export const MAP_F = {
  NO_PREALLOC: 1 << 0, NO_COMMON_LRU: 1 << 1, NUMA_NODE: 1 << 2, RDONLY: 1 << 3, WRONLY: 1 << 4,
  STACK_BUILD_ID: 1 << 5, ZERO_SEED: 1 << 6, RDONLY_PROG: 1 << 7, WRONLY_PROG: 1 << 8, CLONE: 1 << 9,
  MMAPABLE: 1 << 10, PRESERVE_ELEMS: 1 << 11, INNER_MAP: 1 << 12, LINK: 1 << 13, PATH_FD: 1 << 14,
  VTYPE_BTF_OBJ_FD: 1 << 15, TOKEN_FD: 1 << 16, SEGV_ON_FAULT: 1 << 17, NO_USER_CONV: 1 << 18,
} as const;

/** BPF_PROG_LOAD prog_flags. */
export const PROG_F = {
  STRICT_ALIGNMENT: 1 << 0, ANY_ALIGNMENT: 1 << 1, TEST_RND_HI32: 1 << 2, TEST_STATE_FREQ: 1 << 3,
  SLEEPABLE: 1 << 4, XDP_HAS_FRAGS: 1 << 5, XDP_DEV_BOUND_ONLY: 1 << 6, TEST_REG_INVARIANTS: 1 << 7,
} as const;

/** Verifier log levels (kernel's BPF_LOG_LEVEL1/2 and BPF_LOG_STATS bits). */
export const LOG = { LEVEL1: 1, LEVEL2: 2, STATS: 4 } as const;

export const BPF_OBJ_NAME_LEN = 16;
export const BPF_TAG_SIZE = 8;
/** Kernel upper bound for a verifier log buffer (kernel/bpf/log.c: log_size ≤ UINT_MAX >> 2). */
export const MAX_LOG_SIZE = 0xffffffff >>> 2;
