// fast-check arbitraries for small, valid BTF models: every kind with every field in its legal
// range, references to ids that exist, names random or anonymous, either byte order.

import fc from "fast-check";
import { Btf, type BtfType, type Endian } from "../../btf/index.ts";

const ident = fc.stringMatching(/^[a-z_][a-z0-9_]{0,11}$/);
const name = fc.oneof({ weight: 1, arbitrary: fc.constant("") }, { weight: 3, arbitrary: ident });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const s32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });

/** One type record whose references stay below `count` (ids 0..count-1 exist). */
function typeArb(count: number): fc.Arbitrary<BtfType> {
  const ref = fc.integer({ min: 0, max: count - 1 });
  const base = { id: fc.constant(0), name, nameOff: fc.constant(0) };
  const refKind = (kind: "ptr" | "typedef" | "volatile" | "const" | "restrict") => fc.record({ kind: fc.constant(kind), ...base, type: ref });
  const composite = (kind: "struct" | "union") =>
    fc.boolean().chain((kindFlag) =>
      fc.record({
        kind: fc.constant(kind),
        ...base,
        size: u32,
        kindFlag: fc.constant(kindFlag),
        members: fc.array(
          fc.record({
            name,
            nameOff: fc.constant(0),
            type: ref,
            bitOffset: kindFlag ? fc.integer({ min: 0, max: 0xffffff }) : u32,
            bitfieldSize: kindFlag ? fc.integer({ min: 0, max: 255 }) : fc.constant(0),
          }),
          { maxLength: 5 },
        ),
      }),
    );
  const arbs: fc.Arbitrary<BtfType>[] = [
    fc.record({ kind: fc.constant("int"), ...base, size: fc.constantFrom(1, 2, 4, 8, 16), encoding: fc.constantFrom(0, 1, 2, 4), bitOffset: fc.integer({ min: 0, max: 255 }), bits: fc.integer({ min: 0, max: 128 }) }),
    refKind("ptr"), refKind("typedef"), refKind("volatile"), refKind("const"), refKind("restrict"),
    fc.record({ kind: fc.constant("type_tag"), ...base, type: ref, kindFlag: fc.boolean() }),
    fc.record({ kind: fc.constant("array"), ...base, type: ref, indexType: ref, nelems: u32 }),
    composite("struct"),
    composite("union"),
    fc.boolean().chain((signed) =>
      fc.record({ kind: fc.constant("enum"), ...base, size: fc.constantFrom(1, 2, 4), signed: fc.constant(signed), values: fc.array(fc.record({ name, nameOff: fc.constant(0), value: signed ? s32 : u32 }), { maxLength: 5 }) }),
    ),
    fc.boolean().chain((signed) =>
      fc.record({
        kind: fc.constant("enum64"), ...base, size: fc.constant(8), signed: fc.constant(signed),
        values: fc.array(fc.record({ name, nameOff: fc.constant(0), value: signed ? fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }) : fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }), { maxLength: 4 }),
      }),
    ),
    fc.record({ kind: fc.constant("fwd"), ...base, fwdKind: fc.constantFrom("struct", "union") }),
    fc.record({ kind: fc.constant("func"), ...base, type: ref, linkage: fc.constantFrom("static", "global", "extern") }),
    fc.record({ kind: fc.constant("func_proto"), ...base, returnType: ref, params: fc.array(fc.record({ name, nameOff: fc.constant(0), type: ref }), { maxLength: 5 }) }),
    fc.record({ kind: fc.constant("var"), ...base, type: ref, linkage: fc.constantFrom("static", "global", "extern") }),
    fc.record({ kind: fc.constant("datasec"), ...base, size: u32, vars: fc.array(fc.record({ type: ref, offset: u32, size: u32 }), { maxLength: 4 }) }),
    fc.record({ kind: fc.constant("float"), ...base, size: fc.constantFrom(2, 4, 8, 12, 16) }),
    fc.record({ kind: fc.constant("decl_tag"), ...base, type: ref, componentIdx: fc.integer({ min: -1, max: 1000 }), kindFlag: fc.boolean() }),
  ] as fc.Arbitrary<BtfType>[];
  return fc.oneof(...arbs);
}

/** A small valid Btf model (1..24 types) in either byte order. */
export const btfModel: fc.Arbitrary<Btf> = fc
  .integer({ min: 1, max: 24 })
  .chain((n) => fc.tuple(fc.array(typeArb(n + 1), { minLength: n, maxLength: n }), fc.constantFrom<Endian>("little", "big")))
  .map(([types, endian]) => Btf.fromTypes(types, { endian }));
