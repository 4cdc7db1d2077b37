// A BPF ring buffer consumer over shared memory: the consumer page (ours to write), the producer
// page and the data pages mapped twice by the kernel so a record never wraps. Records are read in
// place; epoll on the map fd says when the producer has published more.
// Layout and header bits: include/uapi/linux/bpf.h (BPF_RINGBUF_*) and kernel/bpf/ringbuf.c.

import { TsbpfError } from "../errors.ts";
import { MAP_TYPE } from "../sys/constants.ts";
import { door } from "../sys/door.ts";
import { SysError } from "../sys/errno.ts";
import type { BpfMap } from "./map.ts";

const PAGE = 4096;
const BUSY_BIT = 0x80000000;
const DISCARD_BIT = 0x40000000;
const HDR_SZ = 8;
const PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1;
const EPOLL_CTL_ADD = 1, EPOLLIN = 1, EPOLL_CLOEXEC = 0o2000000;

/** A u64 position word as a number (one 64-bit load, then exact while below 2^53). */
function readPos(v: DataView): number {
  return Number(v.getBigUint64(0, true));
}

export class RingBuffer implements Disposable {
  readonly map: BpfMap;
  readonly size: number;
  #consumer = { addr: 0, len: PAGE };
  #producer = { addr: 0, len: 0 };
  #cons: DataView;
  #prod: DataView;
  #data: Uint8Array;
  #dataView: DataView;
  #epfd = -1;
  #events = new Uint8Array(12);
  /** Records skipped because the producer discarded them. */
  discarded = 0;

  constructor(map: BpfMap) {
    if (map.type !== MAP_TYPE.RINGBUF) {
      throw new TsbpfError("LOAD_BAD_INPUT", `map ${map.name} is not a ring buffer (type ${map.type})`, {}, "create it with mapType: \"RINGBUF\"");
    }
    this.map = map;
    this.size = map.maxEntries;
    const d = door();
    const c = d.mmap(PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, map.fd, 0);
    if (c < 0) throw new SysError("mmap", -c, "ring buffer consumer page");
    this.#consumer.addr = c;
    const plen = PAGE + 2 * this.size;
    const p = d.mmap(plen, PROT_READ, MAP_SHARED, map.fd, PAGE);
    if (p < 0) {
      d.munmap(c, PAGE);
      throw new SysError("mmap", -p, "ring buffer producer and data pages");
    }
    this.#producer = { addr: p, len: plen };
    const cb = d.view(c, PAGE);
    const pb = d.view(p, plen);
    this.#cons = new DataView(cb.buffer, cb.byteOffset, 8);
    this.#prod = new DataView(pb.buffer, pb.byteOffset, 8);
    this.#data = pb.subarray(PAGE);
    this.#dataView = new DataView(this.#data.buffer, this.#data.byteOffset, this.#data.byteLength);
  }

  get closed(): boolean {
    return this.#consumer.addr === 0;
  }

  /** Bytes published and not yet consumed. */
  available(): number {
    this.#check();
    return readPos(this.#prod) - readPos(this.#cons);
  }

  /**
   * Hand every committed record to `fn` as (ring, offset, length, view): the record is
   * ring[offset, offset + length), readable in place (or through `view`, a DataView over the same
   * bytes) only during the call; no allocation per record. Then release the space to the producer.
   * Returns how many records were delivered.
   */
  consume(fn: (ring: Uint8Array, offset: number, length: number, view: DataView) => void, max = Infinity): number {
    this.#check();
    // Positions as numbers: exact below 2^53 bytes produced, centuries at any real rate.
    let cons = readPos(this.#cons);
    const prod = readPos(this.#prod);
    const data = this.#data;
    const dv = this.#dataView;
    const size = this.size;
    let n = 0;
    let unreleased = 0;
    while (cons < prod && n < max) {
      const off = cons % size;
      const len = dv.getUint32(off, true);
      if (len & BUSY_BIT) break; // reserved, not yet committed: later records wait for it
      const bytes = (len & ~(BUSY_BIT | DISCARD_BIT)) >>> 0;
      cons += (bytes + HDR_SZ + 7) & ~7;
      if (len & DISCARD_BIT) {
        this.discarded++;
      } else {
        fn(data, off + HDR_SZ, bytes, dv);
        n++;
      }
      // Release in batches so a long drain does not hold back the producer.
      if (++unreleased === 1024) {
        this.#cons.setBigUint64(0, BigInt(cons), true);
        unreleased = 0;
      }
    }
    if (unreleased > 0) this.#cons.setBigUint64(0, BigInt(cons), true);
    return n;
  }

  /** Copies of the pending records. */
  drain(max = Infinity): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.consume((ring, off, len) => out.push(ring.slice(off, off + len)), max);
    return out;
  }

  /** Block up to `timeoutMs` (-1: forever) until the producer signals data; true if it did. */
  wait(timeoutMs: number): boolean {
    this.#check();
    const d = door();
    if (this.#epfd < 0) {
      const ep = d.epollCreate(EPOLL_CLOEXEC);
      if (ep < 0) throw new SysError("epoll_create1", -ep);
      const ev = new Uint8Array(12);
      new DataView(ev.buffer).setUint32(0, EPOLLIN, true);
      const r = d.epollCtl(ep, EPOLL_CTL_ADD, this.map.fd, ev);
      if (r < 0) {
        d.close(ep);
        throw new SysError("epoll_ctl", -r);
      }
      this.#epfd = ep;
    }
    const r = d.epollWait(this.#epfd, this.#events, timeoutMs);
    if (r < 0 && r !== -4 /* EINTR */) throw new SysError("epoll_wait", -r);
    return r > 0;
  }

  /**
   * Records as they arrive (copies), polling every `pollMs` while empty so the event loop keeps
   * running. Ends when `signal` aborts or the ring buffer is closed.
   */
  async *events(opts: { pollMs?: number; signal?: AbortSignal } = {}): AsyncGenerator<Uint8Array> {
    const pollMs = opts.pollMs ?? 5;
    while (!this.closed && !opts.signal?.aborted) {
      const batch = this.drain();
      if (batch.length === 0) {
        await new Promise((r) => setTimeout(r, pollMs));
        continue;
      }
      yield* batch;
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    return this.events();
  }

  close(): void {
    if (this.closed) return;
    const d = door();
    d.munmap(this.#producer.addr, this.#producer.len);
    d.munmap(this.#consumer.addr, PAGE);
    this.#consumer.addr = 0;
    if (this.#epfd >= 0) d.close(this.#epfd);
    this.#epfd = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #check(): void {
    if (this.closed) throw new TsbpfError("LOAD_CLOSED", `ring buffer of map ${this.map.name} is closed`, {}, "create a new RingBuffer");
  }
}
