// Bad input: mutated and truncated BTF blobs (a slice of vmlinux rebuilt as a valid small blob, the
// .BTF of clang-built objects, and whole ELF objects) each yield a Btf that decodes, dumps and
// encodes without error, or a TsbpfError with a file offset — nothing else, and no hang.
import { beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { haveKernelBtf, haveTool, inCI } from "../support/env.ts";
import { TsbpfError } from "../../src/errors.ts";
import { Btf, dumpJson, dumpJsonBytes, dumpRawBytes, encodeBtf, findBtf, formatRawType, parseBtf, type BtfType } from "../../btf/index.ts";
import { buildTestObjects, readBytes } from "./objects.ts";

const ready = haveKernelBtf() && haveTool("clang-19") && haveTool("bpftool");

/** The first `k` vmlinux types with references past them cut to void: a valid, small blob. */
function vmlinuxSlice(k: number): Uint8Array {
  const vm = parseBtf(new Uint8Array(readFileSync("/sys/kernel/btf/vmlinux")));
  const fix = (id: number) => (id < k ? id : 0);
  const types: BtfType[] = [];
  for (let id = 1; id < k; id++) {
    const t = structuredClone(vm.type(id)) as BtfType;
    t.nameOff = 0;
    if ("type" in t) t.type = fix(t.type);
    if (t.kind === "array") t.indexType = fix(t.indexType);
    if (t.kind === "struct" || t.kind === "union") for (const m of t.members) (m.type = fix(m.type)), (m.nameOff = 0);
    if (t.kind === "func_proto") {
      t.returnType = fix(t.returnType);
      for (const p of t.params) (p.type = fix(p.type)), (p.nameOff = 0);
    }
    if (t.kind === "enum" || t.kind === "enum64") for (const v of t.values) v.nameOff = 0;
    if (t.kind === "datasec") for (const v of t.vars) v.type = fix(v.type);
    types.push(t);
  }
  return encodeBtf(Btf.fromTypes(types));
}

type Mutation = { op: "byte" | "word" | "truncate" | "header"; at: number; value: number };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom("byte", "word", "word", "truncate", "header"),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  value: fc.oneof(fc.constantFrom(0, 1, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 0x1000000, 0x0d000004), fc.integer({ min: 0, max: 0xffffffff })),
});

function mutate(seed: Uint8Array, ms: Mutation[]): Uint8Array {
  let b = seed.slice();
  for (const m of ms) {
    if (b.length === 0) break;
    const pos = Math.min(b.length - 1, Math.floor(m.at * b.length));
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (m.op === "byte") b[pos] = m.value & 0xff;
    else if (m.op === "truncate") b = b.slice(0, pos);
    else {
      // "header": one of the six header words; "word": any aligned word (a field of some record).
      const at = m.op === "header" ? 4 * (1 + Math.floor(m.at * 5.99)) : pos & ~3;
      if (at + 4 <= b.length) dv.setUint32(at, m.value >>> 0, true);
    }
  }
  return b;
}

/** Everything a parsed Btf must then do without throwing: decode, print, encode. */
function exercise(bytes: Uint8Array, elf: boolean): void {
  try {
    const blob = elf ? findBtf(bytes, "fuzz.o").btf : { bytes, offset: 0 };
    const btf = parseBtf(blob.bytes, { fileOffset: blob.offset });
    dumpRawBytes(btf);
    JSON.parse(new TextDecoder().decode(dumpJsonBytes(btf)));
    for (let id = 0; id < btf.typeCount; id++) formatRawType(btf, btf.type(id));
    for (const chunk of dumpJson(btf)) expect(chunk.length).toBeGreaterThan(0);
    encodeBtf(btf);
  } catch (e) {
    if (!(e instanceof TsbpfError)) throw e;
    if (e.code !== "BTF_NOT_FOUND") expect(e.where.offset, `${e.code}: ${e.message}`).toBeTypeOf("number");
  }
}

describe.skipIf(!ready)("mutated BTF", () => {
  const seeds: { name: string; bytes: Uint8Array; elf: boolean }[] = [];
  beforeAll(() => {
    seeds.push({ name: "vmlinux slice", bytes: vmlinuxSlice(300), elf: false });
    for (const obj of buildTestObjects()) {
      const whole = readBytes(obj);
      seeds.push({ name: `${obj} .BTF`, bytes: findBtf(whole).btf.bytes.slice(), elf: false });
      if (whole.length < 200_000) seeds.push({ name: obj, bytes: whole, elf: true });
    }
  });

  it("every seed parses before mutation", () => {
    for (const s of seeds) exercise(s.bytes, s.elf);
    expect(parseBtf(seeds[0].bytes).typeCount).toBe(300);
  });

  it("yields a Btf or a TsbpfError with an offset", () => {
    fc.assert(
      fc.property(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 6 }), (pick, ms) => {
        const s = seeds[pick % seeds.length];
        exercise(mutate(s.bytes, ms), s.elf);
      }),
      { numRuns: inCI ? 10_000 : 2000 },
    );
  });
});

describe("header checks", () => {
  const header = (f: Partial<Record<"hdrLen" | "typeOff" | "typeLen" | "strOff" | "strLen", number>>, extra = 8): Uint8Array => {
    const b = new Uint8Array(24 + extra);
    const dv = new DataView(b.buffer);
    dv.setUint16(0, 0xeb9f, true);
    b[2] = 1;
    dv.setUint32(4, f.hdrLen ?? 24, true);
    dv.setUint32(8, f.typeOff ?? 0, true);
    dv.setUint32(12, f.typeLen ?? 0, true);
    dv.setUint32(16, f.strOff ?? 0, true);
    dv.setUint32(20, f.strLen ?? extra, true);
    return b;
  };
  const fails = (b: Uint8Array, code: string, offset: number, re: RegExp) => {
    let err: unknown;
    try {
      parseBtf(b, { fileOffset: 0x100 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TsbpfError);
    const te = err as TsbpfError;
    expect([te.code, te.where.offset]).toEqual([code, 0x100 + offset]);
    expect(te.message).toMatch(re);
  };

  it("a header claiming 4 GB of types is an error, not an allocation", () => {
    fails(header({ typeLen: 0xfffffffc }), "BTF_BAD_HEADER", 8, /runs past the end/);
    fails(header({ strLen: 0xffffffff }), "BTF_BAD_HEADER", 16, /runs past the end/);
    fails(header({ hdrLen: 0xffffffff }), "BTF_BAD_HEADER", 4, /header length/);
  });

  it("names each header fault with its position", () => {
    fails(new Uint8Array(10), "BTF_BAD_HEADER", 0, /shorter than/);
    const bad = header({});
    bad[0] = 0;
    fails(bad, "BTF_BAD_HEADER", 0, /magic/);
    const v2 = header({});
    v2[2] = 2;
    fails(v2, "BTF_BAD_HEADER", 2, /version 2/);
    fails(header({ typeOff: 2, strOff: 0, strLen: 2 }), "BTF_BAD_HEADER", 8, /aligned/);
    fails(header({ strLen: 4 }), "BTF_BAD_HEADER", 28, /4 bytes follow/);
    const nul = header({});
    nul[24] = 0x41;
    fails(nul, "BTF_BAD_STRING", 24, /start with a NUL/);
  });

  it("a type id past the last type is reported at the field that holds it", () => {
    // [1] PTR -> 7, with a one-byte string table.
    const b = new Uint8Array(24 + 12 + 1);
    const dv = new DataView(b.buffer);
    dv.setUint16(0, 0xeb9f, true);
    b[2] = 1;
    dv.setUint32(4, 24, true);
    dv.setUint32(12, 12, true);
    dv.setUint32(16, 12, true);
    dv.setUint32(20, 1, true);
    dv.setUint32(28, 0x02000000, true);
    dv.setUint32(32, 7, true);
    fails(b, "BTF_BAD_TYPE", 32, /type id 7 is out of range/);
    dv.setUint32(32, 1, true);
    expect(parseBtf(b).type(1)).toMatchObject({ kind: "ptr", type: 1 });
    dv.setUint32(24, 5, true);
    fails(b, "BTF_BAD_STRING", 24, /name offset 5/);
  });
});

describe("section layouts", () => {
  // [1] INT 'x' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED, strings "\0x\0".
  const typeWords = [1, 0x01000000, 4, 0x01000020];
  const blob = (hdrLen: number, stringsFirst: boolean): Uint8Array => {
    const strs = [0, 0x78, 0];
    const typeLen = typeWords.length * 4;
    const b = new Uint8Array(hdrLen + typeLen + 4);
    const dv = new DataView(b.buffer);
    dv.setUint16(0, 0xeb9f, true);
    b[2] = 1;
    dv.setUint32(4, hdrLen, true);
    // Strings padded to 4 bytes when first, so the type section stays aligned.
    const strLen = stringsFirst ? 4 : 3;
    dv.setUint32(8, stringsFirst ? strLen : 0, true);
    dv.setUint32(12, typeLen, true);
    dv.setUint32(16, stringsFirst ? 0 : typeLen, true);
    dv.setUint32(20, strLen, true);
    const tOff = hdrLen + (stringsFirst ? strLen : 0);
    typeWords.forEach((w, i) => dv.setUint32(tOff + 4 * i, w, true));
    b.set(strs, hdrLen + (stringsFirst ? 0 : typeLen));
    return b.subarray(0, hdrLen + typeLen + strLen);
  };

  it("strings-first and longer zero-padded headers parse and re-encode identically", () => {
    for (const [hdrLen, first] of [[24, false], [24, true], [32, false], [32, true]] as const) {
      const b = blob(hdrLen, first);
      const btf = parseBtf(b);
      expect(btf.type(1)).toMatchObject({ kind: "int", name: "x", size: 4, encoding: 1, bits: 32 });
      expect(Buffer.compare(Buffer.from(encodeBtf(btf)), Buffer.from(b))).toBe(0);
    }
  });

  it("a non-zero byte past the known header (32 bytes with the kind-layout fields) is refused at its offset", () => {
    const b = blob(40, false).slice();
    b[33] = 1;
    expect(() => parseBtf(b)).toThrow(/non-zero header field at byte 33/);
    const c = blob(32, false).slice();
    c[29] = 1; // layout_len 256 at layout_off 0: a section that is not there
    expect(() => parseBtf(c)).toThrow(/kind layout section 0\+256 runs past the end/);
  });
});
