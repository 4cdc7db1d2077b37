// The DWARF reader against llvm-dwarfdump-19: for fixture objects (DWARF 5, relocated string
// offsets) and a DWARF 4 build, every struct/union entry's name, size and members (name, bit
// offset, bitfield width), every enumeration's values and every typedef's and base type's name
// must be what llvm-dwarfdump prints at the same .debug_info offset.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { readDwarf } from "../../src/elf/dwarf.ts";
import { DwarfTypes } from "../../src/elf/dwarf-types.ts";
import { debugSections } from "../../src/elf/dwarf-sections.ts";
import { loadObject, parseElf } from "../../src/elf/index.ts";
import { TsbpfError } from "../../src/errors.ts";
import { ROOT, haveTool, run } from "../support/env.ts";

interface DumpDie {
  offset: number;
  tag: string;
  attrs: Map<string, string>;
  children: DumpDie[];
}

/** Parse `llvm-dwarfdump --debug-info` text into entries by offset (children by indentation). */
function parseDump(text: string): Map<number, DumpDie> {
  const out = new Map<number, DumpDie>();
  const stack: { indent: number; die: DumpDie }[] = [];
  let cur: DumpDie | undefined;
  for (const line of text.split("\n")) {
    const h = /^0x([0-9a-f]+):( +)(DW_TAG_\w+|NULL)/.exec(line);
    if (h) {
      const indent = h[2].length;
      while (stack.length > 0 && stack[stack.length - 1].indent >= indent) stack.pop();
      if (h[3] === "NULL") { cur = undefined; continue; }
      cur = { offset: parseInt(h[1], 16), tag: h[3], attrs: new Map(), children: [] };
      if (stack.length > 0) stack[stack.length - 1].die.children.push(cur);
      stack.push({ indent, die: cur });
      out.set(cur.offset, cur);
      continue;
    }
    const a = /^\s+(DW_AT_\w+)\s*\((.*)\)\s*$/.exec(line);
    if (a && cur) cur.attrs.set(a[1], a[2]);
  }
  return out;
}

const str = (d: DumpDie, at: string) => {
  const v = d.attrs.get(at);
  return v === undefined ? "" : JSON.parse(v) as string;
};
const num = (d: DumpDie, at: string): number | undefined => {
  const v = d.attrs.get(at);
  return v === undefined ? undefined : Number(v);
};

const tmp = mkdtempSync(join(tmpdir(), "tsbpf-dwarfD-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function objects(): string[] {
  const fixtures = ["exec_events.o", "opensnoop.o", "biolatency_cgroup.o", "proc_lifetime.o"].map((f) => join(ROOT, "fixtures/obj", f));
  const d4 = join(tmp, "types4.o");
  const r = spawnSync("clang-19", ["-gdwarf-4", "-O2", "-target", "bpf", "-c", join(ROOT, "test/elf/dwarf-src/types.c"), "-o", d4], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return [...fixtures, d4];
}

describe.skipIf(!haveTool("llvm-dwarfdump-19") || !haveTool("clang-19"))("DWARF reader vs llvm-dwarfdump-19", () => {
  for (const file of objects()) {
    test(`${file.slice(file.lastIndexOf("/") + 1)}: structs, unions, enums, typedefs and base types`, () => {
      const dump = parseDump(run("llvm-dwarfdump-19", ["--debug-info", file]));
      const obj = loadObject(new Uint8Array(readFileSync(file)), { file });
      const types = new DwarfTypes(readDwarf(obj.debug!));
      let structs = 0, members = 0;
      for (const d of dump.values()) {
        if (d.attrs.has("DW_AT_declaration")) continue;
        const label = `0x${d.offset.toString(16)} ${d.tag} ${str(d, "DW_AT_name")}`;
        if (d.tag === "DW_TAG_structure_type" || d.tag === "DW_TAG_union_type") {
          const t = types.type(d.offset);
          const want = {
            kind: d.tag === "DW_TAG_structure_type" ? "struct" : "union",
            name: str(d, "DW_AT_name"),
            size: num(d, "DW_AT_byte_size"),
            members: d.children.filter((m) => m.tag === "DW_TAG_member").map((m) => ({
              name: str(m, "DW_AT_name"),
              bitOffset: num(m, "DW_AT_data_bit_offset") ?? (num(m, "DW_AT_data_member_location") ?? 0) * 8,
              bitSize: num(m, "DW_AT_bit_size") ?? 0,
            })),
          };
          expect(t.kind === "struct" || t.kind === "union" ? { kind: t.kind, name: t.name, size: t.size, members: t.members.map((m) => ({ name: m.name, bitOffset: m.bitOffset, bitSize: m.bitSize })) } : t, label).toEqual(want);
          structs++;
          members += want.members.length;
        } else if (d.tag === "DW_TAG_enumeration_type") {
          const t = types.type(d.offset);
          const values = d.children.filter((e) => e.tag === "DW_TAG_enumerator").map((e) => ({ name: str(e, "DW_AT_name"), value: BigInt(e.attrs.get("DW_AT_const_value")!) }));
          expect(t.kind === "enum" ? { name: t.name, size: t.size, values: t.values } : t, label).toEqual({ name: str(d, "DW_AT_name"), size: num(d, "DW_AT_byte_size"), values });
        } else if (d.tag === "DW_TAG_typedef" || d.tag === "DW_TAG_base_type") {
          const t = types.type(d.offset);
          expect(t.kind === "typedef" || t.kind === "base" ? t.name : t, label).toBe(str(d, "DW_AT_name"));
        }
      }
      expect(structs).toBeGreaterThan(0);
      expect(members).toBeGreaterThan(structs);
    });
  }

  test("clang's relocations against section symbols (value 0) need no adjustment; a symbol with a value shifts the field", () => {
    const file = join(ROOT, "fixtures/obj/exec_events.o");
    const elf = parseElf(new Uint8Array(readFileSync(file)), { file });
    const info = elf.section(".debug_info")!;
    const relocs = elf.relocationsFor(info.index);
    expect(relocs.length).toBeGreaterThan(0);
    expect(relocs.every((r) => elf.symbols[r.symbol].value === 0n)).toBe(true);
    const dbg = debugSections(elf)!;
    expect(dbg.info!.adjust.size).toBe(0);
    expect(dbg.strOffsets!.adjust.size).toBe(0);
    // The .debug_str_offsets entry of the struct's name, moved by a pretend symbol value: the name
    // then reads from 4 bytes further into .debug_str, as a linker would resolve S + A.
    const types = new DwarfTypes(readDwarf(dbg));
    const ev = types.type(types.named("struct", "event")[0]);
    const strs = dbg.str!.data;
    const real = new TextDecoder().decode(strs).indexOf("\0event\0") + 1;
    expect(real).toBeGreaterThan(4);
    const so = dbg.strOffsets!;
    const dv = new DataView(so.data.buffer, so.data.byteOffset, so.data.byteLength);
    let entry = -1;
    for (let p = 8; p + 4 <= so.data.length; p += 4) if (dv.getUint32(p, true) === real) entry = p;
    expect(entry).toBeGreaterThan(0);
    const data = so.data.slice();
    new DataView(data.buffer).setUint32(entry, real - 4, true);
    const moved = readDwarf({ ...dbg, strOffsets: { ...so, data, adjust: new Map([[entry, 4]]) } });
    expect(new DwarfTypes(moved).type(ev.offset)).toMatchObject({ kind: "struct", name: "event" });
    // The same bytes without the adjustment name something else.
    const unmoved = readDwarf({ ...dbg, strOffsets: { ...so, data } });
    expect(new DwarfTypes(unmoved).type(ev.offset)).not.toMatchObject({ name: "event" });
  });

  test("an object without .debug_info, and a unit with a bad version, are typed errors with offsets", () => {
    const file = join(ROOT, "fixtures/obj/exec_events.o");
    const obj = loadObject(new Uint8Array(readFileSync(file)), { file });
    const info = obj.debug!.info!;
    const data = info.data.slice();
    data[4] = 9; // the version's low byte
    let err: unknown;
    try { readDwarf({ ...obj.debug!, info: { ...info, data } }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(TsbpfError);
    expect((err as TsbpfError).message).toMatch(/DWARF version 9/);
    expect((err as TsbpfError).where.offset).toBe(info.fileOffset + 4);
    expect(() => readDwarf({})).toThrow(TsbpfError);
  });
});
