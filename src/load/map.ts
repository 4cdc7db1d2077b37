// A kernel map behind an fd: create from attributes (the MapSpec shape), open by pin or id, and
// read/write raw Uint8Array keys and values (numbers accepted for integer slots). Per-CPU maps
// read and write one value per possible CPU.

import { TsbpfError } from "../errors.ts";
import {
  getFdById, mapBatch, mapCreate, mapDeleteElem, mapFreeze, mapGetNextKey, mapLookupAndDeleteElem,
  mapLookupElem, mapUpdateElem, objGet, objPin, type MapCreateAttrs,
} from "../sys/bpf.ts";
import { MAP_F, MAP_TYPE, PERCPU_MAP_TYPES, UPDATE, type MapTypeName } from "../sys/constants.ts";
import { door } from "../sys/door.ts";
import { ENOENT, SysError, isSysError } from "../sys/errno.ts";
import { mapInfo, type MapInfo } from "../sys/info.ts";
import { toBytes, readUint, type BytesLike } from "./bytes.ts";
import { numPossibleCpus } from "./cpus.ts";
import { FdOwner, closeQuietly } from "./fd.ts";

/** What creating a map takes: MAP_CREATE's fields, with the type by name or number. */
export interface MapAttrs extends Omit<MapCreateAttrs, "mapType" | "innerMapFd" | "btfFd"> {
  mapType: MapTypeName | number;
  /** Template for map-in-map outer maps. */
  innerMap?: BpfMap | number;
  /** BTF holding the key/value types (fd or a handle with an fd). */
  btf?: { fd: number } | number;
}

export function mapTypeNumber(t: MapTypeName | number): number {
  if (typeof t === "number") return t;
  const n = MAP_TYPE[t];
  if (n === undefined) throw new TsbpfError("LOAD_BAD_INPUT", `unknown map type ${t}`, {}, `one of ${Object.keys(MAP_TYPE).join(", ")}`);
  return n;
}

export class BpfMap extends FdOwner {
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly name: string;
  readonly id: number;
  /** Bytes of one value as user space reads it (per-CPU maps: 8-aligned slot × possible CPUs). */
  readonly userValueSize: number;
  readonly perCpu: boolean;
  #mapping: { addr: number; length: number } | undefined;

  private constructor(fd: number, info: MapInfo) {
    super(fd);
    this.type = info.type;
    this.keySize = info.keySize;
    this.valueSize = info.valueSize;
    this.maxEntries = info.maxEntries;
    this.flags = info.mapFlags;
    this.name = info.name;
    this.id = info.id;
    this.perCpu = PERCPU_MAP_TYPES.has(info.type);
    this.userValueSize = this.perCpu ? roundUp8(info.valueSize) * numPossibleCpus() : info.valueSize;
  }

  protected describe(): string {
    return `map ${this.name || `id ${this.id}`}`;
  }

  protected override afterClose(): void {
    const m = this.#mapping;
    this.#mapping = undefined;
    if (m) door().munmap(m.addr, m.length);
  }

  /**
   * The values of a BPF_F_MMAPABLE array as shared memory (global data: .bss/.data/.rodata).
   * Writable unless `readOnly` (required for frozen maps). The view is valid until close();
   * one mapping per map, returned again on later calls.
   */
  mmap(opts: { readOnly?: boolean } = {}): Uint8Array {
    const length = pageAlign(roundUp8(this.valueSize) * this.maxEntries);
    if (this.#mapping === undefined) {
      if (!(this.flags & MAP_F.MMAPABLE)) {
        throw new TsbpfError("LOAD_BAD_INPUT", `${this.describe()} was not created with BPF_F_MMAPABLE`, {}, "create it with mapFlags: MAP_F.MMAPABLE (arrays, ringbufs and arenas only)");
      }
      const prot = opts.readOnly ? PROT_READ : PROT_READ | PROT_WRITE;
      const addr = door().mmap(length, prot, MAP_SHARED, this.fd, 0);
      if (addr < 0) throw new SysError("mmap", -addr, this.describe());
      this.#mapping = { addr, length };
    }
    return door().view(this.#mapping.addr, length).subarray(0, roundUp8(this.valueSize) * this.maxEntries);
  }

  /** Take ownership of an fd that refers to a map (closes it if it is not one). */
  static fromFd(fd: number): BpfMap {
    try {
      return new BpfMap(fd, mapInfo(fd));
    } catch (e) {
      closeQuietly(fd);
      throw e;
    }
  }

  static create(a: MapAttrs): BpfMap {
    const inner = a.innerMap === undefined ? 0 : typeof a.innerMap === "number" ? a.innerMap : a.innerMap.fd;
    const btfFd = a.btf === undefined ? 0 : typeof a.btf === "number" ? a.btf : a.btf.fd;
    const fd = mapCreate({ ...a, mapType: mapTypeNumber(a.mapType), innerMapFd: inner, btfFd });
    return BpfMap.fromFd(fd);
  }

  static fromPin(path: string, fileFlags = 0): BpfMap {
    return BpfMap.fromFd(objGet(path, fileFlags));
  }

  static fromId(id: number): BpfMap {
    return BpfMap.fromFd(getFdById("map", id));
  }

  info(): MapInfo {
    return mapInfo(this.fd);
  }

  pin(path: string): void {
    objPin(this.fd, path);
  }

  freeze(): void {
    mapFreeze(this.fd);
  }

  key(k: BytesLike): Uint8Array {
    return toBytes(k, this.keySize, `key of ${this.describe()}`);
  }

  /** A value argument: for per-CPU maps one value per CPU (an array) or the whole slot array. */
  private value(v: BytesLike | readonly BytesLike[]): Uint8Array {
    if (Array.isArray(v)) return this.packPerCpu(v);
    const one = v as BytesLike;
    if (this.perCpu && !(one instanceof Uint8Array && one.byteLength === this.userValueSize)) {
      // One value for a per-CPU map: the same on every CPU.
      return this.packPerCpu(new Array<BytesLike>(numPossibleCpus()).fill(one));
    }
    return toBytes(one, this.userValueSize, `value of ${this.describe()}`);
  }

  private packPerCpu(values: readonly BytesLike[]): Uint8Array {
    const n = numPossibleCpus();
    if (!this.perCpu || values.length !== n) {
      throw new TsbpfError("LOAD_BAD_INPUT", `${this.describe()}: got ${values.length} per-CPU values`, {},
        this.perCpu ? `this machine has ${n} possible CPUs; pass one value per CPU` : "an array of values is for per-CPU maps only");
    }
    const slot = roundUp8(this.valueSize);
    const out = new Uint8Array(slot * n);
    values.forEach((v, i) => out.set(toBytes(v, this.valueSize, `value for CPU ${i} of ${this.describe()}`), i * slot));
    return out;
  }

  /** The value bytes (per-CPU maps: all CPUs' slots), or undefined when the key is absent. */
  get(k: BytesLike | null): Uint8Array | undefined {
    const out = new Uint8Array(this.userValueSize);
    return this.getInto(k, out) ? out : undefined;
  }

  /** Look up into a caller's buffer (no allocation): false when absent. */
  getInto(k: BytesLike | null, out: Uint8Array): boolean {
    return mapLookupElem(this.fd, k === null ? null : this.key(k), out);
  }

  /** Per-CPU maps: one value per possible CPU. */
  getPerCpu(k: BytesLike): Uint8Array[] | undefined {
    if (!this.perCpu) throw new TsbpfError("LOAD_BAD_INPUT", `${this.describe()} is not a per-CPU map`, {}, "use get()");
    const all = this.get(k);
    return all === undefined ? undefined : this.splitPerCpu(all);
  }

  splitPerCpu(all: Uint8Array): Uint8Array[] {
    const slot = roundUp8(this.valueSize);
    const out: Uint8Array[] = [];
    for (let off = 0; off < all.byteLength; off += slot) out.push(all.slice(off, off + this.valueSize));
    return out;
  }

  /** An integer value (1/2/4/8-byte maps); per-CPU maps: the sum over CPUs. */
  getNumber(k: BytesLike): bigint | undefined {
    const v = this.get(k);
    if (v === undefined) return undefined;
    if (!this.perCpu) return BigInt(readUint(v, 0, this.valueSize));
    let sum = 0n;
    for (const one of this.splitPerCpu(v)) sum += BigInt(readUint(one, 0, this.valueSize));
    return sum;
  }

  set(k: BytesLike | null, v: BytesLike | readonly BytesLike[], flags: bigint = UPDATE.ANY): void {
    mapUpdateElem(this.fd, k === null ? null : this.key(k), this.value(v), flags);
  }

  /** Queue/stack push: no key. */
  push(v: BytesLike, flags: bigint = UPDATE.ANY): void {
    this.set(null, v, flags);
  }

  /** Queue/stack pop (key null) or hash lookup-and-delete; undefined when empty/absent. */
  take(k: BytesLike | null = null): Uint8Array | undefined {
    const out = new Uint8Array(this.userValueSize);
    return mapLookupAndDeleteElem(this.fd, k === null ? null : this.key(k), out) ? out : undefined;
  }

  /** false when the key was absent. */
  delete(k: BytesLike): boolean {
    return mapDeleteElem(this.fd, this.key(k));
  }

  /** Every key, by MAP_GET_NEXT_KEY. If the previous key is deleted meanwhile, a hash map restarts from its first key. */
  *keys(): Generator<Uint8Array> {
    let prev: Uint8Array | null = null;
    for (;;) {
      const next = new Uint8Array(this.keySize);
      if (!mapGetNextKey(this.fd, prev, next)) return;
      yield next;
      prev = next;
    }
  }

  /** Every [key, value] pair; keys that vanish between the two calls are skipped. */
  *entries(): Generator<[Uint8Array, Uint8Array]> {
    for (const k of this.keys()) {
      const v = this.get(k);
      if (v !== undefined) yield [k, v];
    }
  }

  [Symbol.iterator](): Generator<[Uint8Array, Uint8Array]> {
    return this.entries();
  }

  /**
   * Every [key, value] pair by MAP_LOOKUP_BATCH, `chunk` elements per system call. Throws a
   * SysError EINVAL/ENOTSUPP on map types without batch support; use entries() there.
   */
  *batchEntries(chunk = 256): Generator<[Uint8Array, Uint8Array]> {
    const keys = new Uint8Array(this.keySize * chunk);
    const values = new Uint8Array(this.userValueSize * chunk);
    // The batch cursor is a key for hash maps and a u32 index for arrays; key size covers both.
    const batchSize = Math.max(this.keySize, 4);
    let inBatch: Uint8Array | null = null;
    for (;;) {
      const outBatch: Uint8Array = new Uint8Array(batchSize);
      let r: { count: number; done: boolean };
      try {
        r = mapBatch("MAP_LOOKUP_BATCH", { fd: this.fd, inBatch, outBatch, keys, values, count: chunk });
      } catch (e) {
        if (isSysError(e, ENOENT)) return;
        throw e;
      }
      for (let i = 0; i < r.count; i++) {
        yield [keys.slice(i * this.keySize, (i + 1) * this.keySize), values.slice(i * this.userValueSize, (i + 1) * this.userValueSize)];
      }
      if (r.done) return;
      inBatch = outBatch;
    }
  }

  /** Write many pairs in one MAP_UPDATE_BATCH; returns how many the kernel wrote. */
  updateBatch(pairs: ReadonlyArray<readonly [BytesLike, BytesLike]>, elemFlags: bigint = UPDATE.ANY): number {
    if (pairs.length === 0) return 0;
    const keys = new Uint8Array(this.keySize * pairs.length);
    const values = new Uint8Array(this.userValueSize * pairs.length);
    pairs.forEach(([k, v], i) => {
      keys.set(this.key(k), i * this.keySize);
      values.set(this.value(v), i * this.userValueSize);
    });
    return mapBatch("MAP_UPDATE_BATCH", { fd: this.fd, keys, values, count: pairs.length, elemFlags }).count;
  }

  /** Delete many keys in one MAP_DELETE_BATCH; returns how many were deleted. */
  deleteBatch(ks: readonly BytesLike[]): number {
    if (ks.length === 0) return 0;
    const keys = new Uint8Array(this.keySize * ks.length);
    ks.forEach((k, i) => keys.set(this.key(k), i * this.keySize));
    return mapBatch("MAP_DELETE_BATCH", { fd: this.fd, keys, count: ks.length }).count;
  }
}

function roundUp8(n: number): number {
  return (n + 7) & ~7;
}

const PAGE = 4096;
const PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1;

function pageAlign(n: number): number {
  return Math.ceil(n / PAGE) * PAGE;
}
