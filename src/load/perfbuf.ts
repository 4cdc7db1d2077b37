// A perf buffer reader: one BPF_OUTPUT perf event per possible CPU, each with its own mmap'ed
// ring, installed in a PERF_EVENT_ARRAY map so bpf_perf_event_output() reaches them. Samples are
// copied out (records may wrap); the kernel's lost-sample records are counted per CPU.
// Layouts: struct perf_event_mmap_page and the record formats of include/uapi/linux/perf_event.h.

import { TsbpfError } from "../errors.ts";
import { MAP_TYPE } from "../sys/constants.ts";
import { door } from "../sys/door.ts";
import { SysError } from "../sys/errno.ts";
import { PERF_COUNT_SW, PERF_SAMPLE, PERF_TYPE, perfEnable, perfEventOpen } from "../sys/perf.ts";
import { possibleCpus } from "./cpus.ts";
import type { BpfMap } from "./map.ts";

const PAGE = 4096;
const PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1;
const RECORD_LOST = 2, RECORD_SAMPLE = 9;
// Offsets in struct perf_event_mmap_page.
const DATA_HEAD = 1024, DATA_TAIL = 1032, DATA_OFFSET = 1040, DATA_SIZE = 1048;

export interface PerfSample {
  cpu: number;
  data: Uint8Array;
}

interface CpuRing {
  cpu: number;
  fd: number;
  addr: number;
  length: number;
  meta: DataView;
  data: Uint8Array;
  lost: bigint;
}

export class PerfBuffer implements Disposable {
  readonly map: BpfMap;
  #rings: CpuRing[] = [];
  #closed = false;

  /** `pagesPerCpu` data pages per CPU (a power of two). */
  constructor(map: BpfMap, opts: { pagesPerCpu?: number; wakeupEvents?: number } = {}) {
    if (map.type !== MAP_TYPE.PERF_EVENT_ARRAY) {
      throw new TsbpfError("LOAD_BAD_INPUT", `map ${map.name} is not a perf event array (type ${map.type})`, {}, "create it with mapType: \"PERF_EVENT_ARRAY\"");
    }
    const pages = opts.pagesPerCpu ?? 8;
    if (pages < 1 || (pages & (pages - 1)) !== 0) {
      throw new TsbpfError("LOAD_BAD_INPUT", `pagesPerCpu ${pages} is not a power of two`, {}, "use 1, 2, 4, 8, …");
    }
    this.map = map;
    const d = door();
    try {
      for (const cpu of possibleCpus()) {
        if (cpu >= map.maxEntries) break;
        const fd = perfEventOpen({ type: PERF_TYPE.SOFTWARE, config: BigInt(PERF_COUNT_SW.BPF_OUTPUT), sampleType: BigInt(PERF_SAMPLE.RAW), sample: 1n, wakeupEvents: opts.wakeupEvents ?? 1 }, -1, cpu);
        const length = PAGE * (pages + 1);
        const addr = d.mmap(length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (addr < 0) {
          d.close(fd);
          throw new SysError("mmap", -addr, `perf buffer of CPU ${cpu}`);
        }
        const all = d.view(addr, length);
        const meta = new DataView(all.buffer, all.byteOffset, PAGE);
        const off = Number(meta.getBigUint64(DATA_OFFSET, true)) || PAGE;
        const size = Number(meta.getBigUint64(DATA_SIZE, true)) || PAGE * pages;
        this.#rings.push({ cpu, fd, addr, length, meta, data: all.subarray(off, off + size), lost: 0n });
        map.set(cpu, fd);
        perfEnable(fd);
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Samples lost per CPU, as the kernel's PERF_RECORD_LOST records reported them so far. */
  lost(): Map<number, bigint> {
    return new Map(this.#rings.map((r) => [r.cpu, r.lost]));
  }

  totalLost(): bigint {
    return this.#rings.reduce((a, r) => a + r.lost, 0n);
  }

  /** Read every pending record of every CPU; samples go to `fn` (copied), lost counts accumulate. */
  consume(fn: (s: PerfSample) => void): number {
    if (this.#closed) throw new TsbpfError("LOAD_CLOSED", `perf buffer of map ${this.map.name} is closed`, {}, "create a new PerfBuffer");
    let n = 0;
    for (const r of this.#rings) n += this.#consumeRing(r, fn);
    return n;
  }

  drain(): PerfSample[] {
    const out: PerfSample[] = [];
    this.consume((s) => out.push(s));
    return out;
  }

  #consumeRing(r: CpuRing, fn: (s: PerfSample) => void): number {
    const size = r.data.byteLength;
    const head = Number(r.meta.getBigUint64(DATA_HEAD, true));
    let tail = Number(r.meta.getBigUint64(DATA_TAIL, true));
    let n = 0;
    while (tail < head) {
      const hdr = this.#copy(r, tail, 8);
      const hv = new DataView(hdr.buffer);
      const type = hv.getUint32(0, true);
      const recSize = hv.getUint16(6, true);
      if (recSize < 8) break; // corrupt; stop rather than spin
      const rec = this.#copy(r, tail, recSize);
      const rv = new DataView(rec.buffer);
      if (type === RECORD_SAMPLE) {
        const len = rv.getUint32(8, true);
        fn({ cpu: r.cpu, data: rec.subarray(12, 12 + Math.min(len, recSize - 12)) });
        n++;
      } else if (type === RECORD_LOST) {
        r.lost += rv.getBigUint64(16, true);
      }
      tail += recSize;
    }
    r.meta.setBigUint64(DATA_TAIL, BigInt(tail), true);
    return n;
  }

  /** `len` bytes at ring position `pos`, unwrapped. */
  #copy(r: CpuRing, pos: number, len: number): Uint8Array {
    const size = r.data.byteLength;
    const start = pos % size;
    const out = new Uint8Array(len);
    const first = Math.min(len, size - start);
    out.set(r.data.subarray(start, start + first));
    if (first < len) out.set(r.data.subarray(0, len - first), first);
    return out;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const d = door();
    for (const r of this.#rings) {
      // Take the event out of the map first (as libbpf does), or the map keeps it alive.
      if (!this.map.closed) this.map.delete(r.cpu);
      d.munmap(r.addr, r.length);
      d.close(r.fd);
    }
    this.#rings = [];
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
