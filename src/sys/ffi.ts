// The only module that imports bun:ffi: libc's syscall() with errno captured right after each
// call, memory addresses and views, mmap, ioctl, epoll, open and close — as a Door.
// x86_64 Linux only (syscall numbers and struct layouts elsewhere in src/sys assume it).

import { dlopen, ptr, read, toArrayBuffer, FFIType, type Pointer } from "bun:ffi";
import type { Door, SysArg } from "./door.ts";

const T = FFIType;

function openLibc() {
  return dlopen("libc.so.6", {
    syscall: { args: [T.i64, T.i64, T.i64, T.i64, T.i64, T.i64, T.i64], returns: T.i64_fast },
    __errno_location: { args: [], returns: T.ptr },
    mmap: { args: [T.u64, T.u64, T.i32, T.i32, T.i32, T.i64], returns: T.u64_fast },
    munmap: { args: [T.u64, T.u64], returns: T.i32 },
    ioctl: { args: [T.i32, T.u64, T.i64], returns: T.i32 },
    open: { args: [T.ptr, T.i32, T.u32], returns: T.i32 },
    close: { args: [T.i32], returns: T.i32 },
    epoll_create1: { args: [T.i32], returns: T.i32 },
    epoll_ctl: { args: [T.i32, T.i32, T.i32, T.ptr], returns: T.i32 },
    epoll_wait: { args: [T.i32, T.ptr, T.i32, T.i32], returns: T.i32 },
  });
}

let singleton: Door | undefined;

/** The native door over libc; one per process. */
export function nativeDoor(): Door {
  if (singleton !== undefined) return singleton;
  const libc = openLibc();
  const f = libc.symbols;
  // errno is thread-local; JavaScript runs on one thread, so its address never changes.
  const errnoAt = f.__errno_location() as Pointer;
  const errno = (): number => read.i32(errnoAt, 0);
  const MAP_FAILED = 2n ** 64n - 1n;

  singleton = {
    syscall(nr, a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0) {
      const r = Number(f.syscall(nr, a0, a1, a2, a3, a4, a5));
      return r === -1 ? -errno() : r;
    },
    address(buf) {
      return ptr(buf as NodeJS.TypedArray | DataView) as number;
    },
    view(addr, length) {
      return new Uint8Array(toArrayBuffer(addr as Pointer, 0, length));
    },
    mmap(length, prot, flags, fd, offset) {
      const r = f.mmap(0, length, prot, flags, fd, offset);
      if (BigInt(r) === MAP_FAILED) return -errno();
      return Number(r);
    },
    munmap(addr, length) {
      return f.munmap(addr, length) === -1 ? -errno() : 0;
    },
    ioctl(fd, request, arg: SysArg) {
      const r = f.ioctl(fd, request, arg);
      return r === -1 ? -errno() : r;
    },
    open(path, flags, mode = 0) {
      const r = f.open(Buffer.from(path + "\0"), flags, mode);
      return r === -1 ? -errno() : r;
    },
    close(fd) {
      return f.close(fd) === -1 ? -errno() : 0;
    },
    epollCreate(flags) {
      const r = f.epoll_create1(flags);
      return r === -1 ? -errno() : r;
    },
    epollCtl(epfd, op, fd, event) {
      const r = f.epoll_ctl(epfd, op, fd, event);
      return r === -1 ? -errno() : r;
    },
    epollWait(epfd, events, timeoutMs) {
      const r = f.epoll_wait(epfd, events, Math.floor(events.byteLength / 12), timeoutMs);
      return r === -1 ? -errno() : r;
    },
  };
  return singleton;
}
