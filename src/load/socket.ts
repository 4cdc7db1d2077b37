// Sockets as disposable handles (TCP/UDP over IPv4/IPv6, AF_UNIX) and the programs that attach to
// a socket: attachSocket() puts a SOCKET_FILTER program on it with SO_ATTACH_BPF, attachReuseport()
// an SK_REUSEPORT program on its SO_REUSEPORT group; detach* take them off. Bun's and Node's own
// sockets do not expose their fds, so programs that attach to sockets (filters, sockmaps,
// sk_lookup) get them from here. Sockets are non-blocking and every wait has a timeout:
// JavaScript's one thread never sleeps in the kernel.

import { TsbpfError } from "../errors.ts";
import { SysError } from "../sys/errno.ts";
import * as so from "../sys/socket.ts";
import { AF, IPPROTO, MSG, SO, SOCK, SOL_SOCKET, SO_DETACH_BPF, type SockAddr } from "../sys/socket.ts";
import { FdOwner } from "./fd.ts";
import type { ProgramLike } from "./link.ts";

export type SocketFamily = "inet" | "inet6" | "unix";

/** What a socket's filter slot holds, as SO_GET_FILTER reports it. */
export type SocketFilterState = { kind: "none" } | { kind: "classic"; insns: number } | { kind: "ebpf" };

const EAGAIN = 11, EACCES = 13, EINPROGRESS = 115, ETIMEDOUT = 110;

function fdOf(sock: { fd: number } | number): number {
  return typeof sock === "number" ? sock : sock.fd;
}

export class Socket extends FdOwner {
  readonly family: SocketFamily;
  /** SOCK.STREAM, SOCK.DGRAM… */
  readonly type: number;

  private constructor(fd: number, family: SocketFamily, type: number) {
    super(fd);
    this.family = family;
    this.type = type;
  }

  protected describe(): string {
    return `${this.family} ${this.type === SOCK.STREAM ? "stream" : this.type === SOCK.DGRAM ? "datagram" : `type ${this.type}`} socket`;
  }

  /** Take ownership of a socket fd (make it O_NONBLOCK first, or connect() and send() may block). */
  static fromFd(fd: number, family: SocketFamily, type: number): Socket {
    return new Socket(fd, family, type);
  }

  static open(family: SocketFamily, type: number, protocol = 0): Socket {
    const af = family === "inet" ? AF.INET : family === "inet6" ? AF.INET6 : AF.UNIX;
    return new Socket(so.socket(af, type | SOCK.CLOEXEC | SOCK.NONBLOCK, protocol), family, type);
  }

  static tcp(family: "inet" | "inet6" = "inet"): Socket {
    return Socket.open(family, SOCK.STREAM, IPPROTO.TCP);
  }

  static udp(family: "inet" | "inet6" = "inet"): Socket {
    return Socket.open(family, SOCK.DGRAM, IPPROTO.UDP);
  }

  /** A TCP connection to addr:port (IPv6 when addr has a colon); the socket is closed if the connect fails. */
  static dial(addr: string, port: number, timeoutMs = 2000): Socket {
    const s = Socket.tcp(addr.includes(":") ? "inet6" : "inet");
    try {
      return s.connect(addr, port, timeoutMs);
    } catch (e) {
      s.close();
      throw e;
    }
  }

  /** A connected AF_UNIX pair (stream by default). */
  static pair(type: number = SOCK.STREAM): [Socket, Socket] {
    const [a, b] = so.socketpair(AF.UNIX, type | SOCK.CLOEXEC | SOCK.NONBLOCK);
    return [new Socket(a, "unix", type), new Socket(b, "unix", type)];
  }

  private addr(addr: string, port: number): SockAddr {
    if (this.family === "unix") throw new TsbpfError("LOAD_BAD_INPUT", `${this.describe()} has no IP address`, {}, "bind/connect with an address are for inet and inet6 sockets");
    return this.family === "inet" ? { family: "inet", addr, port } : { family: "inet6", addr, port };
  }

  /** bind to addr:port (port 0: any free port; read it with localPort()). */
  bind(addr = this.family === "inet6" ? "::1" : "127.0.0.1", port = 0): this {
    so.bind(this.fd, this.addr(addr, port));
    return this;
  }

  listen(backlog = 16): this {
    so.listen(this.fd, backlog);
    return this;
  }

  /**
   * Connect, waiting at most `timeoutMs` for a stream handshake. A refusal the kernel reports later
   * (ECONNREFUSED, ETIMEDOUT…) is thrown as the connect's SysError, as a blocking connect would be.
   */
  connect(addr: string, port: number, timeoutMs = 2000): this {
    return this.connectTo(this.addr(addr, port), `${addr}:${port}`, timeoutMs);
  }

  /** AF_UNIX sockets: bind to a filesystem path (or "\0name" in the abstract namespace). */
  bindPath(path: string): this {
    so.bind(this.fd, this.unixAddr(path));
    return this;
  }

  /** AF_UNIX sockets: connect to the socket bound at `path`. */
  connectPath(path: string, timeoutMs = 2000): this {
    return this.connectTo(this.unixAddr(path), path, timeoutMs);
  }

  /** AF_UNIX datagram sockets: send one datagram to the socket bound at `path`. */
  sendToPath(data: Uint8Array | string, path: string): number {
    return so.send(this.fd, typeof data === "string" ? new TextEncoder().encode(data) : data, 0, this.unixAddr(path));
  }

  private unixAddr(path: string): SockAddr {
    if (this.family !== "unix") throw new TsbpfError("LOAD_BAD_INPUT", `${this.describe()} has no path address`, {}, "paths are for unix sockets: Socket.open(\"unix\", SOCK.STREAM)");
    return { family: "unix", path };
  }

  private connectTo(to: SockAddr, shown: string, timeoutMs: number): this {
    const detail = `fd ${this.fd} to ${shown}`;
    try {
      so.connect(this.fd, to);
      return this;
    } catch (e) {
      if (!(e instanceof SysError) || e.errno !== EINPROGRESS) throw e;
    }
    if (!so.pollFd(this.fd, timeoutMs, true)) throw new SysError("connect", ETIMEDOUT, `${detail}: no answer within ${timeoutMs} ms`, {}, "nothing answered the handshake in time; is the address reachable?");
    const err = so.getsockoptInt(this.fd, SOL_SOCKET, SO.ERROR);
    if (err !== 0) throw new SysError("connect", err, detail);
    return this;
  }

  /** Wait up to `timeoutMs` for a connection; undefined when none came. */
  accept(timeoutMs = 1000): Socket | undefined {
    if (!so.pollFd(this.fd, timeoutMs)) return undefined;
    return new Socket(so.accept(this.fd, SOCK.CLOEXEC | SOCK.NONBLOCK), this.family, this.type);
  }

  localAddress(): SockAddr {
    return so.getsockname(this.fd);
  }

  localPort(): number {
    const a = so.getsockname(this.fd);
    if (a.family === "unix") throw new TsbpfError("LOAD_BAD_INPUT", `${this.describe()} has no port`, {}, "read a unix socket's address with localAddress()");
    return a.port;
  }

  /** Send all of `data` on a connected socket, waiting at most `timeoutMs` for room → bytes sent. */
  send(data: Uint8Array | string, timeoutMs = 2000): number {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    const deadline = Date.now() + timeoutMs;
    let sent = 0;
    do {
      const n = so.sendRaw(this.fd, bytes.subarray(sent));
      if (n >= 0) sent += n;
      else if (n !== -EAGAIN) throw new SysError("sendto", -n, `fd ${this.fd}, ${bytes.byteLength - sent} bytes`);
      else if (!so.pollFd(this.fd, Math.max(0, deadline - Date.now()), true)) {
        throw new SysError("sendto", EAGAIN, `fd ${this.fd}: ${sent} of ${bytes.byteLength} bytes sent in ${timeoutMs} ms`, {}, "the peer is not reading; the socket's send buffer stayed full");
      }
    } while (sent < bytes.byteLength);
    return sent;
  }

  /** Send one datagram to addr:port → bytes sent. */
  sendTo(data: Uint8Array | string, addr: string, port: number): number {
    return so.send(this.fd, typeof data === "string" ? new TextEncoder().encode(data) : data, 0, this.addr(addr, port));
  }

  /**
   * Receive up to `max` bytes, waiting at most `timeoutMs`: the bytes (empty at end of stream), or
   * undefined when nothing arrived in time. Never blocks longer than the timeout.
   */
  recv(max = 65536, timeoutMs = 1000): Uint8Array | undefined {
    if (!so.pollFd(this.fd, timeoutMs)) return undefined;
    const buf = new Uint8Array(max);
    const n = so.recvRaw(this.fd, buf, MSG.DONTWAIT);
    if (n === -EAGAIN) return undefined;
    if (n < 0) throw new SysError("recvfrom", -n, `fd ${this.fd}`);
    return buf.slice(0, n);
  }

  /** Receive until `length` bytes came or `timeoutMs` passed; what arrived, as text. */
  recvText(length: number, timeoutMs = 1000): string {
    const deadline = Date.now() + timeoutMs;
    const parts: Uint8Array[] = [];
    let got = 0;
    while (got < length) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      const b = this.recv(length - got, left);
      if (b === undefined || b.byteLength === 0) break;
      parts.push(b);
      got += b.byteLength;
    }
    return Buffer.concat(parts).toString("utf8");
  }

  shutdown(how: number = so.SHUT.WR): void {
    so.shutdown(this.fd, how);
  }

  setOption(level: number, name: number, value: number): void {
    so.setsockoptInt(this.fd, level, name, value);
  }

  getOption(level: number, name: number): number {
    return so.getsockoptInt(this.fd, level, name);
  }

  /** SO_COOKIE: what a sockmap holding this socket returns on lookup from user space. */
  cookie(): bigint {
    return so.socketCookie(this.fd);
  }
}

/** Why SO_ATTACH_BPF / SO_DETACH_BPF failed with this errno, in the socket's terms. */
function socketHint(errno: number, attaching: boolean): string | undefined {
  switch (errno) {
    case 9:
      return attaching ? "the socket or the program fd is not open (a closed fd, or not a BPF program)" : "the socket fd is not open";
    case 88:
      return "the fd is not a socket; socket filters attach to sockets from socket(2) (Socket.udp(), Socket.tcp())";
    case 22:
      return "SO_ATTACH_BPF takes a SOCKET_FILTER program (SEC(\"socket\")); other program types attach elsewhere";
    case 1:
      return "the socket's filter is locked (SO_LOCK_FILTER), or the process lacks CAP_NET_ADMIN for this socket";
    case 2:
      return "the socket has no filter to detach";
    default:
      return undefined;
  }
}

/** Put a SOCKET_FILTER program on a socket (SO_ATTACH_BPF); it replaces any filter already there. */
export function attachSocket(prog: ProgramLike, sock: { fd: number } | number): void {
  const fd = fdOf(sock);
  const progFd = prog.fd;
  try {
    so.setsockopt(fd, SOL_SOCKET, SO.ATTACH_BPF, new Uint8Array(new Int32Array([progFd]).buffer), `SO_ATTACH_BPF prog fd ${progFd} on socket fd ${fd}`);
  } catch (e) {
    if (e instanceof SysError) throw new SysError(e.command, e.errno, `SO_ATTACH_BPF prog fd ${progFd} on socket fd ${fd}`, {}, socketHint(e.errno, true));
    throw e;
  }
}

/** Take the filter off a socket (SO_DETACH_BPF); a SysError ENOENT when it had none. */
export function detachSocket(sock: { fd: number } | number): void {
  const fd = fdOf(sock);
  try {
    so.setsockopt(fd, SOL_SOCKET, SO_DETACH_BPF, new Uint8Array(4), `SO_DETACH_BPF on socket fd ${fd}`);
  } catch (e) {
    if (e instanceof SysError) throw new SysError(e.command, e.errno, `SO_DETACH_BPF on socket fd ${fd}`, {}, socketHint(e.errno, false));
    throw e;
  }
}

/** Put an SK_REUSEPORT program on the SO_REUSEPORT group `sock` belongs to (SO_ATTACH_REUSEPORT_EBPF). */
export function attachReuseport(prog: ProgramLike, sock: { fd: number } | number): void {
  const fd = fdOf(sock);
  const progFd = prog.fd;
  const what = `SO_ATTACH_REUSEPORT_EBPF prog fd ${progFd} on socket fd ${fd}`;
  try {
    so.setsockopt(fd, SOL_SOCKET, SO.ATTACH_REUSEPORT_EBPF, new Uint8Array(new Int32Array([progFd]).buffer), what);
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    const hint = e.errno === 22
      ? "SO_ATTACH_REUSEPORT_EBPF takes an SK_REUSEPORT program (SEC(\"sk_reuseport\")) on a socket with SO_REUSEPORT set before bind"
      : socketHint(e.errno, true);
    throw new SysError(e.command, e.errno, what, {}, hint);
  }
}

/** Take the program off a socket's SO_REUSEPORT group (SO_DETACH_REUSEPORT_BPF); ENOENT when it had none. */
export function detachReuseport(sock: { fd: number } | number): void {
  const fd = fdOf(sock);
  try {
    so.setsockopt(fd, SOL_SOCKET, SO.DETACH_REUSEPORT_BPF, new Uint8Array(4), `SO_DETACH_REUSEPORT_BPF on socket fd ${fd}`);
  } catch (e) {
    if (e instanceof SysError) throw new SysError(e.command, e.errno, `SO_DETACH_REUSEPORT_BPF on socket fd ${fd}`, {}, e.errno === 2 ? "the socket's reuseport group has no program" : socketHint(e.errno, false));
    throw e;
  }
}

/**
 * What filter a socket holds: SO_GET_FILTER with no room writes the classic program's length (0 for
 * none) into the option length, and fails with EACCES for an eBPF program (no classic form to give).
 */
export function socketFilter(sock: { fd: number } | number): SocketFilterState {
  const fd = fdOf(sock);
  const { ret, length } = so.getsockoptRaw(fd, SOL_SOCKET, SO.ATTACH_FILTER, 0);
  if (ret === -EACCES) return { kind: "ebpf" };
  if (ret < 0) throw new SysError("getsockopt", -ret, `SO_GET_FILTER on socket fd ${fd}`, {}, socketHint(-ret, false));
  return length === 0 ? { kind: "none" } : { kind: "classic", insns: length };
}
