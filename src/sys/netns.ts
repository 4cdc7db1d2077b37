// Network namespaces for the calling thread: setns(2) into a namespace fd, and running a function
// inside one (sockets created there stay in it after we switch back), plus fd duplication.

import { door } from "./door.ts";
import { SysError } from "./errno.ts";

/** x86_64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl). */
const NR_FCNTL = 72, NR_SETNS = 308;
/** include/uapi/linux/sched.h and fcntl.h */
export const CLONE_NEWNET = 0x40000000;
const F_DUPFD_CLOEXEC = 1030;
const O_RDONLY = 0, O_CLOEXEC = 0o2000000;

/** setns(2): move this thread into the namespace behind `fd` (nstype 0: any kind). */
export function setns(fd: number, nstype = CLONE_NEWNET): void {
  const r = door().syscall(NR_SETNS, fd, nstype);
  if (r < 0) throw new SysError("setns", -r, `fd ${fd}`, {}, r === -22 ? "the fd is not a namespace of this kind (open /var/run/netns/NAME or /proc/PID/ns/net)" : undefined);
}

/** An fd on this thread's current network namespace (the caller closes it). */
export function openCurrentNetns(): number {
  const path = "/proc/thread-self/ns/net";
  const fd = door().open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw new SysError("open", -fd, path);
  return fd;
}

/**
 * Run `fn` with this thread in the network namespace `nsFd`, then return to where it was. Only the
 * JavaScript thread moves; sockets it creates inside keep that namespace for their whole life.
 */
export function withNetns<T>(nsFd: number, fn: () => T): T {
  const home = openCurrentNetns();
  try {
    setns(nsFd);
    try {
      return fn();
    } finally {
      setns(home);
    }
  } finally {
    door().close(home);
  }
}

/** fcntl(F_DUPFD_CLOEXEC): a second fd on the same open file. */
export function dupFd(fd: number): number {
  const r = door().syscall(NR_FCNTL, fd, F_DUPFD_CLOEXEC, 3);
  if (r < 0) throw new SysError("fcntl", -r, `F_DUPFD_CLOEXEC of fd ${fd}`);
  return r;
}
