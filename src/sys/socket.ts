// Sockets through the door: socket(2), bind, listen, accept4, connect, send/recv, poll, get/setsockopt
// and socketpair as raw x86_64 system calls, with sockaddr_in/in6 encoded here. Each failure is a
// SysError naming the call and the address; callers own the fds they get back.

import { door } from "./door.ts";
import { SysError } from "./errno.ts";

/** x86_64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl). */
const NR = {
  poll: 7, socket: 41, connect: 42, sendto: 44, recvfrom: 45, shutdown: 48, bind: 49, listen: 50,
  getsockname: 51, getpeername: 52, socketpair: 53, setsockopt: 54, getsockopt: 55, accept4: 288,
} as const;

/** Address families, socket types and flags (include/linux/socket.h, include/linux/net.h, asm-generic/socket.h). */
export const AF = { UNIX: 1, INET: 2, INET6: 10 } as const;
export const SOCK = { STREAM: 1, DGRAM: 2, RAW: 3, NONBLOCK: 0o4000, CLOEXEC: 0o2000000 } as const;
export const IPPROTO = { IP: 0, ICMP: 1, TCP: 6, UDP: 17, IPV6: 41 } as const;
export const SOL_SOCKET = 1;
/** SOL_SOCKET options (include/uapi/asm-generic/socket.h). */
export const SO = {
  REUSEADDR: 2, TYPE: 3, ERROR: 4, SNDBUF: 7, RCVBUF: 8, PRIORITY: 12, RCVTIMEO: 20, SNDTIMEO: 21,
  /** SO_GET_FILTER shares the number: reads back a classic filter, EACCES for an eBPF one. */
  REUSEPORT: 15, ATTACH_FILTER: 26, DETACH_FILTER: 27, MARK: 36, LOCK_FILTER: 44, ATTACH_BPF: 50,
  ATTACH_REUSEPORT_EBPF: 52, COOKIE: 57, DETACH_REUSEPORT_BPF: 68,
} as const;
/** SO_DETACH_BPF is SO_DETACH_FILTER: one socket holds one filter, classic or eBPF. */
export const SO_DETACH_BPF = SO.DETACH_FILTER;
export const MSG = { PEEK: 0x2, DONTWAIT: 0x40, WAITALL: 0x100, NOSIGNAL: 0x4000 } as const;
export const SHUT = { RD: 0, WR: 1, RDWR: 2 } as const;
const POLLIN = 0x1, POLLOUT = 0x4;

/** An IPv4 or IPv6 socket address (`port` in host order), or an AF_UNIX path ("\0name": abstract). */
export type SockAddr =
  | { family: "inet"; addr: string; port: number }
  | { family: "inet6"; addr: string; port: number; scopeId?: number }
  | { family: "unix"; path: string };

/** sizeof(sockaddr_un.sun_path) (include/uapi/linux/un.h). */
const UNIX_PATH_MAX = 108;

function check(call: string, r: number, detail?: string): number {
  if (r < 0) throw new SysError(call, -r, detail);
  return r;
}

function describeAddr(a: SockAddr): string {
  if (a.family === "unix") return a.path.startsWith("\0") ? `@${a.path.slice(1)}` : a.path;
  return a.family === "inet" ? `${a.addr}:${a.port}` : `[${a.addr}]:${a.port}`;
}

/** struct sockaddr_un cut to the path's length (+ NUL for filesystem paths), as the kernel takes it. */
function encodeUnix(path: string): Uint8Array {
  const p = new TextEncoder().encode(path);
  const abstract = p[0] === 0;
  if (p.length === 0 || p.length + (abstract ? 0 : 1) > UNIX_PATH_MAX || (!abstract && p.includes(0))) {
    throw new SysError("sockaddr", 22, `unix path of ${p.length} bytes`, {}, `a unix socket path is 1..${UNIX_PATH_MAX - 1} bytes without NUL (or "\\0name" for the abstract namespace)`);
  }
  const b = new Uint8Array(2 + p.length + (abstract ? 0 : 1));
  new DataView(b.buffer).setUint16(0, AF.UNIX, true);
  b.set(p, 2);
  return b;
}

const IPV4_HINT = "write it as four decimal bytes without leading zeros, e.g. 127.0.0.1";
const IPV6_HINT = "write it as up to eight hex groups with at most one ::, e.g. ::1, fe80::1 or ::ffff:10.0.0.1";

/** Dotted-quad IPv4 as inet_pton(3) reads it: four decimal bytes, no leading zeros, nothing else. */
function parseIpv4(s: string): Uint8Array | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return undefined;
    out[i] = Number(p);
  }
  return out;
}

/** IPv6 text as inet_pton(3) reads it: hex groups, one "::" at most, an optional dotted IPv4 tail. */
function parseIpv6(s: string): Uint8Array | undefined {
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const groups = (h: string) => (h === "" ? [] : h.split(":"));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const words: number[][] = [[], []];
  for (const [side, list] of [[0, head], [1, tail]] as const) {
    for (let i = 0; i < list.length; i++) {
      const g = list[i];
      const last = side === 1 || halves.length === 1 ? i === list.length - 1 : false;
      if (last && g.includes(".")) {
        const v4 = parseIpv4(g);
        if (!v4) return undefined;
        words[side].push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) {
        words[side].push(parseInt(g, 16));
      } else {
        return undefined;
      }
    }
  }
  const fill = 8 - words[0].length - words[1].length;
  // "::" stands for one or more zero groups; without it there must be exactly eight.
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  const all = [...words[0], ...new Array<number>(fill).fill(0), ...words[1]];
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** An address's bytes (4 for inet, 16 for inet6) as inet_pton(3) would give them, or undefined. */
export function parseAddress(family: "inet" | "inet6", s: string): Uint8Array | undefined {
  return family === "inet" ? parseIpv4(s) : parseIpv6(s);
}

/** struct sockaddr_in (16 bytes), sockaddr_in6 (28 bytes; port and address in network order) or sockaddr_un. */
export function encodeSockAddr(a: SockAddr): Uint8Array {
  if (a.family === "unix") return encodeUnix(a.path);
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 0xffff) {
    throw new SysError("sockaddr", 22, `port ${a.port} of ${describeAddr(a)}`, {}, "a port is an integer 0..65535 (0: any free port)");
  }
  const b = new Uint8Array(a.family === "inet" ? 16 : 28);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, a.family === "inet" ? AF.INET : AF.INET6, true);
  dv.setUint16(2, a.port, false);
  const bytes = parseAddress(a.family, a.addr);
  if (bytes === undefined) {
    throw new SysError("inet_pton", 22, `not an ${a.family === "inet" ? "IPv4" : "IPv6"} address: ${a.addr}`, {}, a.family === "inet" ? IPV4_HINT : IPV6_HINT);
  }
  if (a.family === "inet") b.set(bytes, 4);
  else {
    b.set(bytes, 8);
    dv.setUint32(24, a.scopeId ?? 0, true);
  }
  return b;
}

/** The address in a sockaddr buffer filled by the kernel (inet, inet6, unix). */
export function decodeSockAddr(b: Uint8Array): SockAddr {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const family = dv.getUint16(0, true);
  if (family === AF.UNIX) {
    const p = b.subarray(2);
    // Abstract names keep every byte; filesystem paths end at the first NUL; unbound: empty.
    const end = p[0] === 0 ? p.length : p.indexOf(0) < 0 ? p.length : p.indexOf(0);
    return { family: "unix", path: new TextDecoder().decode(p.subarray(0, end)) };
  }
  const port = dv.getUint16(2, false);
  if (family === AF.INET) return { family: "inet", addr: Array.from(b.subarray(4, 8)).join("."), port };
  if (family === AF.INET6) {
    const groups: string[] = [];
    for (let i = 0; i < 8; i++) groups.push(dv.getUint16(8 + 2 * i, false).toString(16));
    return { family: "inet6", addr: groups.join(":"), port, scopeId: dv.getUint32(24, true) };
  }
  throw new SysError("getsockname", 97, `address family ${family}`, {}, "only inet, inet6 and unix addresses are decoded");
}

/** socket(2) → fd. `type` may carry SOCK.NONBLOCK / SOCK.CLOEXEC. */
export function socket(family: number, type: number, protocol = 0): number {
  return check("socket", door().syscall(NR.socket, family, type, protocol), `family ${family}, type ${type}, protocol ${protocol}`);
}

/** socketpair(2) → two connected fds (AF_UNIX). */
export function socketpair(family: number, type: number, protocol = 0): [number, number] {
  const fds = new Int32Array(2);
  check("socketpair", door().syscall(NR.socketpair, family, type, protocol, door().address(fds)), `family ${family}, type ${type}`);
  return [fds[0], fds[1]];
}

export function bind(fd: number, a: SockAddr): void {
  const sa = encodeSockAddr(a);
  check("bind", door().syscall(NR.bind, fd, door().address(sa), sa.byteLength), `fd ${fd} to ${describeAddr(a)}`);
}

export function listen(fd: number, backlog = 16): void {
  check("listen", door().syscall(NR.listen, fd, backlog), `fd ${fd}`);
}

/** connect(2); a non-blocking socket may fail with EINPROGRESS (a SysError the caller can test for). */
export function connect(fd: number, a: SockAddr): void {
  const sa = encodeSockAddr(a);
  check("connect", door().syscall(NR.connect, fd, door().address(sa), sa.byteLength), `fd ${fd} to ${describeAddr(a)}`);
}

/** accept4(2) → the connection's fd (flags SOCK.NONBLOCK | SOCK.CLOEXEC). */
export function accept(fd: number, flags: number = SOCK.CLOEXEC): number {
  return check("accept4", door().syscall(NR.accept4, fd, 0, 0, flags), `fd ${fd}`);
}

function nameOf(nr: number, call: string, fd: number): SockAddr {
  const sa = new Uint8Array(128);
  const len = new Uint32Array([sa.byteLength]);
  check(call, door().syscall(nr, fd, door().address(sa), door().address(len)), `fd ${fd}`);
  return decodeSockAddr(sa.subarray(0, len[0]));
}

export function getsockname(fd: number): SockAddr {
  return nameOf(NR.getsockname, "getsockname", fd);
}

export function getpeername(fd: number): SockAddr {
  return nameOf(NR.getpeername, "getpeername", fd);
}

/** sendto(2) (to a connected peer when `to` is omitted) → bytes sent, or -errno. Never raises SIGPIPE. */
export function sendRaw(fd: number, data: Uint8Array, flags = 0, to?: SockAddr): number {
  const sa = to ? encodeSockAddr(to) : null;
  return door().syscall(NR.sendto, fd, data.byteLength ? door().address(data) : 0, data.byteLength, flags | MSG.NOSIGNAL, sa ? door().address(sa) : 0, sa?.byteLength ?? 0);
}

export function send(fd: number, data: Uint8Array, flags = 0, to?: SockAddr): number {
  return check("sendto", sendRaw(fd, data, flags, to), `fd ${fd}, ${data.byteLength} bytes${to ? ` to ${describeAddr(to)}` : ""}`);
}

/** recvfrom(2) into `buf` → bytes received (0 at end of stream), or -errno for EAGAIN-style results the caller handles. */
export function recvRaw(fd: number, buf: Uint8Array, flags = 0): number {
  return door().syscall(NR.recvfrom, fd, buf.byteLength ? door().address(buf) : 0, buf.byteLength, flags, 0, 0);
}

export function recv(fd: number, buf: Uint8Array, flags = 0): number {
  return check("recvfrom", recvRaw(fd, buf, flags), `fd ${fd}`);
}

export function shutdown(fd: number, how: number = SHUT.RDWR): void {
  check("shutdown", door().syscall(NR.shutdown, fd, how), `fd ${fd}`);
}

/** poll(2) one fd for input (or output): true when ready within `timeoutMs`. */
export function pollFd(fd: number, timeoutMs: number, output = false): boolean {
  const pfd = new Uint8Array(8);
  const dv = new DataView(pfd.buffer);
  dv.setInt32(0, fd, true);
  dv.setInt16(4, output ? POLLOUT : POLLIN, true);
  const r = check("poll", door().syscall(NR.poll, door().address(pfd), 1, timeoutMs), `fd ${fd}`);
  return r > 0;
}

/** setsockopt(2) with raw option bytes. */
export function setsockopt(fd: number, level: number, name: number, value: Uint8Array | null, detail?: string): void {
  const r = door().syscall(NR.setsockopt, fd, level, name, value && value.byteLength ? door().address(value) : 0, value?.byteLength ?? 0);
  check("setsockopt", r, detail ?? `fd ${fd}, level ${level}, option ${name}`);
}

export function setsockoptInt(fd: number, level: number, name: number, value: number): void {
  setsockopt(fd, level, name, new Uint8Array(new Int32Array([value]).buffer), `fd ${fd}, level ${level}, option ${name} = ${value}`);
}

/**
 * getsockopt(2) into a buffer of `size` bytes: the result (-errno on failure), the option length the
 * kernel wrote back (some options answer a count there), and the bytes within the buffer.
 */
export function getsockoptRaw(fd: number, level: number, name: number, size: number): { ret: number; length: number; value: Uint8Array } {
  const buf = new Uint8Array(Math.max(size, 1));
  const len = new Uint32Array([size]);
  const ret = door().syscall(NR.getsockopt, fd, level, name, door().address(buf), door().address(len));
  return { ret, length: len[0], value: buf.subarray(0, Math.min(len[0], size)) };
}

export function getsockopt(fd: number, level: number, name: number, size: number): Uint8Array {
  const { ret, value } = getsockoptRaw(fd, level, name, size);
  check("getsockopt", ret, `fd ${fd}, level ${level}, option ${name}`);
  return value;
}

export function getsockoptInt(fd: number, level: number, name: number): number {
  const v = getsockopt(fd, level, name, 4);
  return new DataView(v.buffer, v.byteOffset, v.byteLength).getInt32(0, true);
}

/** SO_COOKIE: the socket's 64-bit cookie, the value a sockmap lookup from user space returns. */
export function socketCookie(fd: number): bigint {
  const v = getsockopt(fd, SOL_SOCKET, SO.COOKIE, 8);
  return new DataView(v.buffer, v.byteOffset, v.byteLength).getBigUint64(0, true);
}
