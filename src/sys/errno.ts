// errno numbers → names (x86_64 Linux), and SysError: a failed system call as a typed error
// naming the command, the errno and what usually causes it.
// Names from include/uapi/asm-generic/errno-base.h and errno.h (Debian's 6.1 headers), plus the
// kernel-internal codes of include/linux/errno.h that bpf() is known to leak (ENOTSUPP 524).

import { TsbpfError, type Where } from "../errors.ts";

const ERRNO_TABLE: ReadonlyArray<readonly [number, string]> = [
  [1, "EPERM"],
  [2, "ENOENT"],
  [3, "ESRCH"],
  [4, "EINTR"],
  [5, "EIO"],
  [6, "ENXIO"],
  [7, "E2BIG"],
  [8, "ENOEXEC"],
  [9, "EBADF"],
  [10, "ECHILD"],
  [11, "EAGAIN"],
  [12, "ENOMEM"],
  [13, "EACCES"],
  [14, "EFAULT"],
  [15, "ENOTBLK"],
  [16, "EBUSY"],
  [17, "EEXIST"],
  [18, "EXDEV"],
  [19, "ENODEV"],
  [20, "ENOTDIR"],
  [21, "EISDIR"],
  [22, "EINVAL"],
  [23, "ENFILE"],
  [24, "EMFILE"],
  [25, "ENOTTY"],
  [26, "ETXTBSY"],
  [27, "EFBIG"],
  [28, "ENOSPC"],
  [29, "ESPIPE"],
  [30, "EROFS"],
  [31, "EMLINK"],
  [32, "EPIPE"],
  [33, "EDOM"],
  [34, "ERANGE"],
  [35, "EDEADLK"],
  [36, "ENAMETOOLONG"],
  [37, "ENOLCK"],
  [38, "ENOSYS"],
  [39, "ENOTEMPTY"],
  [40, "ELOOP"],
  [42, "ENOMSG"],
  [43, "EIDRM"],
  [44, "ECHRNG"],
  [45, "EL2NSYNC"],
  [46, "EL3HLT"],
  [47, "EL3RST"],
  [48, "ELNRNG"],
  [49, "EUNATCH"],
  [50, "ENOCSI"],
  [51, "EL2HLT"],
  [52, "EBADE"],
  [53, "EBADR"],
  [54, "EXFULL"],
  [55, "ENOANO"],
  [56, "EBADRQC"],
  [57, "EBADSLT"],
  [59, "EBFONT"],
  [60, "ENOSTR"],
  [61, "ENODATA"],
  [62, "ETIME"],
  [63, "ENOSR"],
  [64, "ENONET"],
  [65, "ENOPKG"],
  [66, "EREMOTE"],
  [67, "ENOLINK"],
  [68, "EADV"],
  [69, "ESRMNT"],
  [70, "ECOMM"],
  [71, "EPROTO"],
  [72, "EMULTIHOP"],
  [73, "EDOTDOT"],
  [74, "EBADMSG"],
  [75, "EOVERFLOW"],
  [76, "ENOTUNIQ"],
  [77, "EBADFD"],
  [78, "EREMCHG"],
  [79, "ELIBACC"],
  [80, "ELIBBAD"],
  [81, "ELIBSCN"],
  [82, "ELIBMAX"],
  [83, "ELIBEXEC"],
  [84, "EILSEQ"],
  [85, "ERESTART"],
  [86, "ESTRPIPE"],
  [87, "EUSERS"],
  [88, "ENOTSOCK"],
  [89, "EDESTADDRREQ"],
  [90, "EMSGSIZE"],
  [91, "EPROTOTYPE"],
  [92, "ENOPROTOOPT"],
  [93, "EPROTONOSUPPORT"],
  [94, "ESOCKTNOSUPPORT"],
  [95, "EOPNOTSUPP"],
  [96, "EPFNOSUPPORT"],
  [97, "EAFNOSUPPORT"],
  [98, "EADDRINUSE"],
  [99, "EADDRNOTAVAIL"],
  [100, "ENETDOWN"],
  [101, "ENETUNREACH"],
  [102, "ENETRESET"],
  [103, "ECONNABORTED"],
  [104, "ECONNRESET"],
  [105, "ENOBUFS"],
  [106, "EISCONN"],
  [107, "ENOTCONN"],
  [108, "ESHUTDOWN"],
  [109, "ETOOMANYREFS"],
  [110, "ETIMEDOUT"],
  [111, "ECONNREFUSED"],
  [112, "EHOSTDOWN"],
  [113, "EHOSTUNREACH"],
  [114, "EALREADY"],
  [115, "EINPROGRESS"],
  [116, "ESTALE"],
  [117, "EUCLEAN"],
  [118, "ENOTNAM"],
  [119, "ENAVAIL"],
  [120, "EISNAM"],
  [121, "EREMOTEIO"],
  [122, "EDQUOT"],
  [123, "ENOMEDIUM"],
  [124, "EMEDIUMTYPE"],
  [125, "ECANCELED"],
  [126, "ENOKEY"],
  [127, "EKEYEXPIRED"],
  [128, "EKEYREVOKED"],
  [129, "EKEYREJECTED"],
  [130, "EOWNERDEAD"],
  [131, "ENOTRECOVERABLE"],
  [132, "ERFKILL"],
  [133, "EHWPOISON"],
  [512, "ERESTARTSYS"],
  [513, "ERESTARTNOINTR"],
  [514, "ERESTARTNOHAND"],
  [515, "ENOIOCTLCMD"],
  [516, "ERESTART_RESTARTBLOCK"],
  [517, "EPROBE_DEFER"],
  [518, "EOPENSTALE"],
  [519, "ENOPARAM"],
  [521, "EBADHANDLE"],
  [522, "ENOTSYNC"],
  [523, "EBADCOOKIE"],
  [524, "ENOTSUPP"],
  [525, "ETOOSMALL"],
  [526, "ESERVERFAULT"],
  [527, "EBADTYPE"],
  [528, "EJUKEBOX"],
  [529, "EIOCBQUEUED"],
  [530, "ERECALLCONFLICT"],
];

const BY_NUMBER = new Map<number, string>(ERRNO_TABLE.map(([n, name]) => [n, name]));
const BY_NAME = new Map<string, number>(ERRNO_TABLE.map(([n, name]) => [name, n]));

/** "EPERM" for 1; "errno 999" for a number no header names. */
export function errnoName(errno: number): string {
  return BY_NUMBER.get(errno) ?? `errno ${errno}`;
}

export function errnoNumber(name: string): number | undefined {
  return BY_NAME.get(name);
}

export const EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EBADF = 9, EAGAIN = 11, ENOMEM = 12, EACCES = 13,
  EFAULT = 14, EBUSY = 16, EEXIST = 17, ENODEV = 19, ENOTDIR = 20, EINVAL = 22, ENOSPC = 28, E2BIG = 7,
  ERANGE = 34, ENOSYS = 38, ENOTSUPP = 524, EOPNOTSUPP = 95, ELOOP = 40;

/** Why a bpf()/perf syscall usually fails with this errno: the hint printed under the error. */
function hintFor(errno: number, command: string): string {
  switch (errno) {
    case EPERM:
      return "the process lacks CAP_BPF (and CAP_PERFMON / CAP_NET_ADMIN / CAP_SYS_ADMIN for tracing and networking programs), or kernel lockdown forbids this; run as root or grant the capabilities";
    case EACCES:
      return command === "PROG_LOAD"
        ? "the verifier rejected the program; see the log"
        : "permission denied by file mode, bpffs mount options or an LSM; check the pin path and the object's read/write flags";
    case E2BIG:
      return command.startsWith("MAP_UPDATE")
        ? "the map is full (max_entries reached); delete entries, raise max_entries or use an LRU map"
        : "an argument is larger than the kernel accepts (too many instructions, an attr or info struct with unknown non-zero tail bytes, a too-large key/value)";
    case EINVAL:
      return "the kernel rejects a field of the request: an unknown type or flag for this kernel, a size of zero or one that does not match the map, or a combination the command does not allow";
    case ENOENT:
      return command.startsWith("MAP_")
        ? "no element with this key"
        : "the object, id, pin path or tracepoint does not exist";
    case EEXIST:
      return command.startsWith("MAP_UPDATE") ? "the key exists and BPF_NOEXIST was given" : "the pin path or attachment already exists";
    case ENOSPC:
      return "a buffer was too small for the kernel's answer, or the map/attach point has no room left";
    case EBADF:
      return "a file descriptor argument is not open or is not the kind of BPF object this command needs";
    case ENOMEM:
      return "the kernel could not allocate memory (memlock limit or a too-large map)";
    case ENOTSUPP:
    case EOPNOTSUPP:
      return "this kernel does not support the operation for this object type";
    case EBUSY:
      return "the attach point already has a program and the flags do not allow another";
    case ENODEV:
      return "the network interface or PMU does not exist";
    case EFAULT:
      return "the kernel could not read or write one of the buffers passed (a bug in tsbpf)";
    case ENOSYS:
      return "this kernel does not implement the system call or command";
    default:
      return `see the kernel documentation of ${command} for ${errnoName(errno)}`;
  }
}

/** A system call that returned an error: the command (e.g. "MAP_CREATE"), errno number and name. */
export class SysError extends TsbpfError {
  readonly command: string;
  readonly errno: number;
  readonly errnoName: string;
  /** The kernel's log for commands that write one (BTF_LOAD), else "". */
  log = "";

  constructor(command: string, errno: number, detail = "", where: Where = {}, hint?: string) {
    const name = errnoName(errno);
    super("SYS", `${command} failed: ${name}${detail ? ` (${detail})` : ""}`, where, hint ?? hintFor(errno, command));
    this.name = "SysError";
    this.command = command;
    this.errno = errno;
    this.errnoName = name;
  }
}

export function isSysError(e: unknown, errno?: number): e is SysError {
  return e instanceof SysError && (errno === undefined || e.errno === errno);
}
