// The door to the kernel as an interface: every system call tsbpf makes goes through the current
// Door. The native door (src/sys/ffi.ts, bun:ffi over libc) is loaded lazily on first use, so
// modules that merely import src/sys still load under Node; tests may install a recorder instead.

import { TsbpfError } from "../errors.ts";

/** A syscall argument: an integer (fds, sizes, flags) or an address from `Door.address`. */
export type SysArg = number | bigint;

export interface Door {
  /** Raw syscall(2). Returns the result, or -errno when the call failed (never throws). */
  syscall(nr: number, a0?: SysArg, a1?: SysArg, a2?: SysArg, a3?: SysArg, a4?: SysArg, a5?: SysArg): number;
  /** The address of a buffer's first byte; valid while the buffer is reachable. */
  address(buf: ArrayBufferView): number;
  /** A view of `length` bytes of memory at `addr` (mmap'ed regions); no copy. */
  view(addr: number, length: number): Uint8Array;
  /** mmap(2): the mapped address, or -errno. */
  mmap(length: number, prot: number, flags: number, fd: number, offset: number): number;
  munmap(addr: number, length: number): number;
  ioctl(fd: number, request: number, arg: SysArg): number;
  open(path: string, flags: number, mode?: number): number;
  close(fd: number): number;
  epollCreate(flags: number): number;
  /** `event`: the 12-byte struct epoll_event (u32 events, u64 data, packed). */
  epollCtl(epfd: number, op: number, fd: number, event: Uint8Array | null): number;
  /** `events`: room for n struct epoll_event; returns how many are ready, or -errno. */
  epollWait(epfd: number, events: Uint8Array, timeoutMs: number): number;
}

let current: Door | undefined;

/** The door in use; loads the native one on first call. */
export function door(): Door {
  if (current === undefined) current = loadNativeDoor();
  return current;
}

/** Replace the door (tests: a recorder wrapping the native one). Returns the previous door. */
export function setDoor(d: Door | undefined): Door | undefined {
  const prev = current;
  current = d;
  doorGeneration++;
  return prev;
}

/** Bumped whenever the door changes, so callers caching addresses know to recompute them. */
export let doorGeneration = 0;

export function haveNativeDoor(): boolean {
  return typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
}

function loadNativeDoor(): Door {
  if (!haveNativeDoor()) {
    throw new TsbpfError("SYS", "talking to the kernel needs the Bun runtime (bun:ffi)", {}, "run under bun: `bun src/cli/tsbpf.ts …` or `bun --bun vitest run`");
  }
  // A synchronous require keeps door() synchronous; only Bun reaches this line.
  // A plain require with a literal path: the bundler follows it into the compiled binary.
  const mod = require("./ffi.ts") as { nativeDoor: () => Door };
  return mod.nativeDoor();
}
