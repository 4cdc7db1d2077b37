// Bad DWARF: mutated and truncated .debug_info / .debug_abbrev / .debug_str_offsets of fixture
// objects must each read, convert to BTF and decode a record, or fail with a TsbpfError carrying
// the file offset — never another exception, a hang or a runaway allocation.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { DwarfBtf } from "../../src/elf/dwarf-btf.ts";
import type { DebugSection, DebugSections } from "../../src/elf/dwarf-sections.ts";
import { DwarfTypes } from "../../src/elf/dwarf-types.ts";
import { readDwarf } from "../../src/elf/dwarf.ts";
import { loadObject } from "../../src/elf/index.ts";
import type { ObjectSpec } from "../../src/elf/spec.ts";
import { TsbpfError } from "../../src/errors.ts";
import { recordDecoder } from "../../src/load/event-type.ts";
import { ROOT, inCI } from "../support/env.ts";

const objects = ["exec_events.o", "opensnoop.o", "proc_lifetime.o"].map((f) => {
  const file = join(ROOT, "fixtures/obj", f);
  return loadObject(new Uint8Array(readFileSync(file)), { file });
});

type Part = "info" | "abbrev" | "strOffsets";
type Mutation =
  | { kind: "truncate"; part: Part; at: number }
  | { kind: "byte"; part: Part; at: number; value: number }
  | { kind: "word"; part: Part; at: number; value: number };

const part = fc.constantFrom<Part>("info", "info", "abbrev", "strOffsets");
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), part, at: fc.nat() }),
  fc.record({ kind: fc.constant("byte" as const), part, at: fc.nat(), value: fc.oneof(fc.constantFrom(0, 0x7f, 0x80, 0xff), fc.integer({ min: 0, max: 255 })) }),
  fc.record({ kind: fc.constant("word" as const), part, at: fc.nat(), value: fc.oneof(fc.constantFrom(0, 1, 0xffffffff, 0xfffffff0, 0x7fffffff), fc.integer({ min: 0, max: 0xffffffff })) }),
);

function mutate(debug: DebugSections, ms: Mutation[]): DebugSections {
  const out: DebugSections = { ...debug };
  for (const m of ms) {
    const sec = out[m.part];
    if (!sec || sec.data.length === 0) continue;
    let data = sec.data.slice();
    const at = m.at % data.length;
    if (m.kind === "truncate") data = data.slice(0, at);
    else if (m.kind === "byte") data[at] = m.value;
    else if (data.length >= 4) new DataView(data.buffer).setUint32(Math.min(at, data.length - 4), m.value >>> 0, true);
    out[m.part] = { ...sec, data } satisfies DebugSection;
  }
  return out;
}

/** Everything a consumer does with DWARF: read, index, convert every type entry, decode a record. */
function exercise(obj: ObjectSpec, debug: DebugSections): void {
  const types = new DwarfTypes(readDwarf(debug));
  const conv = new DwarfBtf(types, obj.btf);
  types.named("struct", "event");
  for (const h of types.structs()) types.type(h.offset);
  for (const d of types.info.dies()) {
    try {
      conv.id(d.offset);
    } catch (e) {
      // Entries that are not types (variables, subprograms) are refused the same way.
      if (!(e instanceof TsbpfError)) throw e;
      expect(e.where.offset, e.message).toBeTypeOf("number");
    }
  }
  const ring = obj.maps.find((m) => m.name === "events") ?? obj.maps[0];
  recordDecoder({ ...obj, debug }, ring)(new Uint8Array(64));
}

describe("DWARF fuzz: a result or a TsbpfError with an offset", () => {
  test("the unmutated sections read and convert", () => {
    for (const o of objects) exercise(o, o.debug!);
  });

  test("a record decoder over unreadable DWARF warns once and prints records as hex (tsbpf run's fallback)", () => {
    const obj = objects[0];
    const info = obj.debug!.info!;
    const data = info.data.slice(0, 20); // the unit's length now runs past the section
    const broken = { ...obj, debug: { ...obj.debug!, info: { ...info, data } } };
    const ring = obj.maps.find((m) => m.name === "events")!;
    const warnings: string[] = [];
    const decode = recordDecoder(broken, ring, { onWarning: (m) => warnings.push(m) });
    const rec = new Uint8Array(32).fill(0x41);
    expect(decode(rec)).toBe(Array(32).fill("41").join(" "));
    expect(decode(rec.subarray(0, 8))).toBe("41 41 41 41 41 41 41 41");
    expect(warnings).toHaveLength(1);
    // The unit header is at the start of .debug_info (0x23d in the file, as readelf -S shows).
    expect(warnings[0]).toContain("offset 0x23d: .debug_info: unit length 540 runs past the end of .debug_info (20 bytes)");
    // Without a warning callback the error is the caller's.
    expect(() => recordDecoder(broken, ring)(rec)).toThrow(TsbpfError);
    // The intact object decodes the same bytes through struct event from DWARF.
    expect(recordDecoder(obj, ring)(rec)).toMatchObject({ pid: 0x41414141, comm: expect.any(Array) });
  });

  test("mutated and truncated debug sections", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: objects.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (i, ms) => {
        const obj = objects[i];
        const debug = mutate(obj.debug!, ms);
        const t0 = performance.now();
        try {
          exercise(obj, debug);
        } catch (e) {
          if (!(e instanceof TsbpfError)) throw e;
          if (e.code !== "LOAD_BAD_INPUT") expect(e.where.offset, e.message).toBeTypeOf("number");
        }
        expect(performance.now() - t0).toBeLessThan(5000);
      }),
      { numRuns: Number(process.env.DWARF_FUZZ_RUNS ?? (inCI ? 3000 : 400)) },
    );
  }, 120_000);
});
