// Maps against the live kernel: CRUD on hash/array/per-CPU maps, checked against what bpftool
// reads back from the same map ids; the kernel's errnos for full maps, absent keys, bad calls.

import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { haveRoot, haveTool, haveBun } from "../support/env.ts";
import { bpftoolJson, fromHexList } from "./kernel.ts";

const live = haveBun() && haveRoot() && haveTool("bpftool", "version");
const { BpfMap } = live ? await import("../../src/load/map.ts") : ({} as typeof import("../../src/load/map.ts"));
const { UPDATE, MAP_F } = await import("../../src/sys/constants.ts");
const { SysError } = await import("../../src/sys/errno.ts");
const { TsbpfError } = await import("../../src/errors.ts");
const { possibleCpus, numPossibleCpus } = await import("../../src/load/cpus.ts");

interface DumpEntry { key: string[]; value?: string[]; values?: { cpu: number; value: string[] }[] }
interface MapShow { id: number; type: string; name: string; flags: number; bytes_key: number; bytes_value: number; max_entries: number; frozen: number }

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe.skipIf(!live)("maps on the live kernel", () => {
  test("hash map: random set/delete sequences agree with bpftool's dump", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 40 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })), { maxLength: 60 }),
        (ops) => {
          using m = BpfMap.create({ mapType: "HASH", keySize: 4, valueSize: 8, maxEntries: 64, name: "crud" });
          const model = new Map<number, bigint>();
          for (const [isSet, k, v] of ops) {
            if (isSet) {
              m.set(k, v);
              model.set(k, v);
            } else {
              expect(m.delete(k)).toBe(model.delete(k));
            }
          }
          for (let k = 0; k <= 40; k++) {
            const got = m.get(k);
            expect(got === undefined ? undefined : new DataView(got.buffer).getBigUint64(0, true)).toBe(model.get(k));
          }
          const dump = bpftoolJson<DumpEntry[]>(["map", "dump", "id", String(m.id)]);
          const kernel = new Map(dump.map((e) => [hex(fromHexList(e.key)), hex(fromHexList(e.value!))]));
          const ours = new Map([...m.entries()].map(([k, v]) => [hex(k), hex(v)]));
          const batch = new Map([...m.batchEntries(7)].map(([k, v]) => [hex(k), hex(v)]));
          expect(ours).toEqual(kernel);
          expect(batch).toEqual(kernel);
        },
      ),
      { numRuns: 25 },
    );
  });

  test("attributes read back through bpftool map show", () => {
    using m = BpfMap.create({ mapType: "LRU_HASH", keySize: 8, valueSize: 16, maxEntries: 100, name: "attrs_check", mapFlags: 0 });
    const show = bpftoolJson<MapShow>(["map", "show", "id", String(m.id)]);
    expect(show).toMatchObject({ id: m.id, type: "lru_hash", name: "attrs_check", bytes_key: 8, bytes_value: 16, max_entries: 100 });
    expect([m.keySize, m.valueSize, m.maxEntries, m.name]).toEqual([8, 16, 100, "attrs_check"]);
  });

  test("a full hash map refuses a new key with E2BIG; existing keys still update", () => {
    using m = BpfMap.create({ mapType: "HASH", keySize: 4, valueSize: 4, maxEntries: 4 });
    for (let k = 0; k < 4; k++) m.set(k, k);
    let err: unknown;
    try {
      m.set(99, 1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SysError);
    const se = err as InstanceType<typeof SysError>;
    expect([se.code, se.command, se.errnoName]).toEqual(["SYS", "MAP_UPDATE_ELEM", "E2BIG"]);
    expect(se.hint).toMatch(/full/);
    m.set(2, 7);
    expect(m.getNumber(2)).toBe(7n);
  });

  test("absent keys: lookup undefined, delete false; NOEXIST/EXIST flags give EEXIST/ENOENT", () => {
    using m = BpfMap.create({ mapType: "HASH", keySize: 4, valueSize: 4, maxEntries: 4 });
    expect(m.get(5)).toBeUndefined();
    expect(m.delete(5)).toBe(false);
    expect(() => m.set(5, 1, UPDATE.EXIST)).toThrow(expect.objectContaining({ errnoName: "ENOENT" }));
    m.set(5, 1, UPDATE.NOEXIST);
    expect(() => m.set(5, 2, UPDATE.NOEXIST)).toThrow(expect.objectContaining({ errnoName: "EEXIST" }));
    expect(m.getNumber(5)).toBe(1n);
  });

  test("array map: every index exists, zeroed; out of range is absent; delete is EINVAL", () => {
    using m = BpfMap.create({ mapType: "ARRAY", keySize: 4, valueSize: 12, maxEntries: 3 });
    expect(m.get(2)).toEqual(new Uint8Array(12));
    expect(m.get(3)).toBeUndefined();
    const v = Uint8Array.from({ length: 12 }, (_, i) => i + 1);
    m.set(1, v);
    expect(m.get(1)).toEqual(v);
    expect(() => m.delete(1)).toThrow(expect.objectContaining({ command: "MAP_DELETE_ELEM", errnoName: "EINVAL" }));
    const dump = bpftoolJson<DumpEntry[]>(["map", "dump", "id", String(m.id)]);
    expect(dump.map((e) => [hex(fromHexList(e.key)), hex(fromHexList(e.value!))])).toEqual([...m.entries()].map(([k, x]) => [hex(k), hex(x)]));
  });

  test("per-CPU array and hash: one value per possible CPU, as bpftool dumps them", () => {
    const n = numPossibleCpus();
    expect(n).toBe(possibleCpus().at(-1)! + 1);
    for (const mapType of ["PERCPU_ARRAY", "PERCPU_HASH"] as const) {
      using m = BpfMap.create({ mapType, keySize: 4, valueSize: 4, maxEntries: 4 });
      const values = Array.from({ length: n }, (_, c) => 1000 + c);
      m.set(1, values);
      const dump = bpftoolJson<DumpEntry[]>(["map", "dump", "id", String(m.id)]);
      const e = dump.find((d) => fromHexList(d.key)[0] === 1)!;
      expect(e.values!.map((x) => x.cpu)).toEqual([...Array(n).keys()]);
      expect(m.getPerCpu(1)!.map(hex)).toEqual(e.values!.map((x) => hex(fromHexList(x.value))));
      expect(m.getNumber(1)).toBe(BigInt(values.reduce((a, b) => a + b, 0)));
      m.set(2, 9); // one value: the same on every CPU
      expect(m.getPerCpu(2)!.map((b) => b[0])).toEqual(new Array(n).fill(9));
    }
  });

  test("queue map: push and take in FIFO order, empty queue gives undefined", () => {
    using q = BpfMap.create({ mapType: "QUEUE", keySize: 0, valueSize: 4, maxEntries: 4 });
    q.push(1);
    q.push(2);
    expect(q.take()?.[0]).toBe(1);
    expect(q.take()?.[0]).toBe(2);
    expect(q.take()).toBeUndefined();
  });

  test("batch update and delete", () => {
    using m = BpfMap.create({ mapType: "HASH", keySize: 4, valueSize: 4, maxEntries: 32 });
    expect(m.updateBatch([[1, 10], [2, 20], [3, 30]])).toBe(3);
    expect(m.deleteBatch([1, 3])).toBe(2);
    expect([...m.keys()].map((k) => k[0])).toEqual([2]);
  });

  test("frozen map refuses user-space writes (EPERM) and bpftool sees it frozen", () => {
    using m = BpfMap.create({ mapType: "ARRAY", keySize: 4, valueSize: 4, maxEntries: 1 });
    m.set(0, 5);
    m.freeze();
    expect(() => m.set(0, 6)).toThrow(expect.objectContaining({ errnoName: "EPERM" }));
    expect(bpftoolJson<MapShow>(["map", "show", "id", String(m.id)]).frozen).toBe(1);
  });

  test("bad input is a typed error; a closed map says so; closing twice is safe", () => {
    const m = BpfMap.create({ mapType: "HASH", keySize: 4, valueSize: 4, maxEntries: 1 });
    expect(() => m.get(new Uint8Array(3))).toThrow(TsbpfError);
    expect(() => m.set(1, -1)).toThrow(expect.objectContaining({ code: "LOAD_BAD_INPUT" }));
    expect(() => m.set(1, [1, 2, 3])).toThrow(expect.objectContaining({ code: "LOAD_BAD_INPUT" }));
    m.close();
    m.close();
    expect(() => m.get(1)).toThrow(expect.objectContaining({ code: "LOAD_CLOSED" }));
  });

  test("an unknown map type is EINVAL from MAP_CREATE", () => {
    expect(() => BpfMap.create({ mapType: 4000, keySize: 4, valueSize: 4, maxEntries: 1 })).toThrow(
      expect.objectContaining({ command: "MAP_CREATE", errnoName: "EINVAL" }),
    );
  });
});

describe.skipIf(!live)("mmapable arrays (global data)", () => {
  test("writes through the mapping and through bpf() see each other at 8-byte element strides", () => {
    using m = BpfMap.create({ mapType: "ARRAY", keySize: 4, valueSize: 12, maxEntries: 3, mapFlags: MAP_F.MMAPABLE });
    const mem = m.mmap();
    expect(mem.byteLength).toBe(16 * 3);
    m.set(1, Uint8Array.from({ length: 12 }, (_, i) => 0xa0 + i));
    expect([...mem.subarray(16, 28)]).toEqual(Array.from({ length: 12 }, (_, i) => 0xa0 + i));
    mem[32] = 0x5a;
    expect(m.get(2)![0]).toBe(0x5a);
  });

  test("freeze with a writable mapping is EBUSY; a frozen map maps read-only and refuses writable", () => {
    using m = BpfMap.create({ mapType: "ARRAY", keySize: 4, valueSize: 8, maxEntries: 1, mapFlags: MAP_F.MMAPABLE });
    m.mmap();
    expect(() => m.freeze()).toThrow(expect.objectContaining({ command: "MAP_FREEZE", errnoName: "EBUSY" }));
    using r = BpfMap.create({ mapType: "ARRAY", keySize: 4, valueSize: 8, maxEntries: 1, mapFlags: MAP_F.MMAPABLE });
    r.set(0, 42n);
    r.freeze();
    expect(() => r.mmap()).toThrow(expect.objectContaining({ command: "mmap", errnoName: "EPERM" }));
    expect(r.mmap({ readOnly: true })[0]).toBe(42);
  });

  test("mmap of a map created without BPF_F_MMAPABLE is a typed error", () => {
    using m = BpfMap.create({ mapType: "ARRAY", keySize: 4, valueSize: 8, maxEntries: 1 });
    expect(() => m.mmap()).toThrow(expect.objectContaining({ code: "LOAD_BAD_INPUT" }));
  });
});
