// DWARF → BTF against clang's own BTF: test/elf/dwarf-src/types.c built with -DANCHOR (every type
// the type of a global, so clang's BTF holds it: the oracle) and without (the types live in DWARF
// only). For each type, ours from the unanchored DWARF must equal clang's structurally: kinds,
// names, sizes, members with bit offsets and bitfield widths, enum values and signedness.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import type { Btf } from "../../btf/index.ts";
import { DwarfBtf } from "../../src/elf/dwarf-btf.ts";
import { DwarfTypes, type NamedKind } from "../../src/elf/dwarf-types.ts";
import { readDwarf } from "../../src/elf/dwarf.ts";
import { loadObject } from "../../src/elf/index.ts";
import type { ObjectSpec } from "../../src/elf/spec.ts";
import type { DebugSection, DebugSections } from "../../src/elf/dwarf-sections.ts";
import { TsbpfError } from "../../src/errors.ts";
import { decodeEvent, namedRecordType, recordType } from "../../src/load/event-type.ts";
import { ROOT, haveTool } from "../support/env.ts";

const SRC = join(ROOT, "test/elf/dwarf-src/types.c");
const dir = mkdtempSync(join(tmpdir(), "tsbpf-dwarfD-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Build the source once per variant (one clang call each), returning the objects. */
function build(variants: Record<string, string[]>): Record<string, ObjectSpec> {
  const out: Record<string, ObjectSpec> = {};
  for (const [name, flags] of Object.entries(variants)) {
    const obj = join(dir, `${name}.o`);
    const r = spawnSync("clang-19", ["-O2", "-target", "bpf", ...flags, "-c", SRC, "-o", obj], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`clang-19 ${flags.join(" ")}: ${r.stderr}`);
    out[name] = loadObject(new Uint8Array(readFileSync(obj)), { file: obj });
  }
  return out;
}

/** Sections by name, straight from an ELF64 section header table (SHF_COMPRESSED flagged). */
function rawSections(b: Uint8Array): Map<string, DebugSection> {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const shoff = Number(dv.getBigUint64(40, true));
  const shnum = dv.getUint16(60, true);
  const strndx = dv.getUint16(62, true);
  const hdr = (i: number) => {
    const h = shoff + i * 64;
    return { name: dv.getUint32(h, true), flags: dv.getBigUint64(h + 8, true), offset: Number(dv.getBigUint64(h + 24, true)), size: Number(dv.getBigUint64(h + 32, true)) };
  };
  const names = hdr(strndx);
  const out = new Map<string, DebugSection>();
  for (let i = 1; i < shnum; i++) {
    const h = hdr(i);
    const at = names.offset + h.name;
    const name = new TextDecoder().decode(b.subarray(at, b.indexOf(0, at)));
    out.set(name, { data: b.subarray(h.offset, h.offset + h.size), fileOffset: h.offset, adjust: new Map(), ...((h.flags & 0x800n) !== 0n ? { compressed: true } : {}) });
  }
  return out;
}

function readRawSection(file: string, name: string): Uint8Array {
  return rawSections(new Uint8Array(readFileSync(file))).get(name)!.data;
}

/** The types of types.c, by BTF kind and name. */
const TYPES: [NamedKind, string, string][] = [
  ["struct", "inner", "struct"], ["union", "number", "union"], ["struct", "with_bits", "struct"],
  ["struct", "list_node", "struct"], ["struct", "anon_members", "struct"], ["struct", "matrix", "struct"],
  ["struct", "callbacks", "struct"], ["struct", "everything", "struct"], ["struct", "event", "struct"],
  ["enum", "small_e", "enum"], ["enum", "half_e", "enum"], ["enum", "int_e", "enum"], ["enum", "uint_e", "enum"],
  ["enum", "big_e", "enum64"], ["enum", "ubig_e", "enum64"], ["typedef", "int_e_t", "typedef"],
  ["typedef", "u32_alias2", "typedef"], ["typedef", "cmatrix_t", "typedef"],
  // cyc_t before struct cyc: the typedef is reached again through the struct's callback.
  ["typedef", "cyc_t", "typedef"], ["struct", "cyc", "struct"],
];

/**
 * Structural equality of type `a` in BTF `ba` and `b` in `bb`; returns the first difference as a
 * path, or "" when equal. Pairs on the current path are assumed equal (recursive types).
 */
function diff(ba: Btf, a: number, bb: Btf, b: number, path: string, seen: Set<string>, lenientFwd = false): string {
  const key = `${a}:${b}`;
  if (seen.has(key)) return "";
  seen.add(key);
  const x = ba.type(a);
  const y = bb.type(b);
  // clang points a member's pointer at the whole struct when it emits that struct anywhere in the
  // unit, else at a forward declaration: with lenientFwd, "fwd X" matches "struct X".
  if (lenientFwd && x.name === y.name && ((x.kind === "fwd" && x.fwdKind === y.kind) || (y.kind === "fwd" && y.fwdKind === x.kind))) return "";
  if (x.kind !== y.kind) return `${path}: kind ${x.kind} ≠ ${y.kind}`;
  if (x.name !== y.name) return `${path}: name '${x.name}' ≠ '${y.name}'`;
  const sub = (p: string, i: number, j: number) => diff(ba, i, bb, j, `${path}${p}`, seen, lenientFwd);
  switch (x.kind) {
    case "void": return "";
    case "int": {
      const yy = y as typeof x;
      return x.size === yy.size && x.encoding === yy.encoding && x.bits === yy.bits && x.bitOffset === yy.bitOffset ? "" : `${path}: int ${JSON.stringify([x.size, x.encoding, x.bits, x.bitOffset])} ≠ ${JSON.stringify([yy.size, yy.encoding, yy.bits, yy.bitOffset])}`;
    }
    case "float": return x.size === (y as typeof x).size ? "" : `${path}: float size`;
    case "ptr": case "typedef": case "const": case "volatile": case "restrict": return sub(`→${x.kind}`, x.type, (y as typeof x).type);
    case "array": {
      const yy = y as typeof x;
      if (x.nelems !== yy.nelems) return `${path}: nelems ${x.nelems} ≠ ${yy.nelems}`;
      return sub("[]", x.type, yy.type) || sub("[index]", x.indexType, yy.indexType);
    }
    case "struct": case "union": {
      const yy = y as typeof x;
      if (x.size !== yy.size || x.kindFlag !== yy.kindFlag || x.members.length !== yy.members.length) return `${path}: ${x.kind} size/kind_flag/vlen ${x.size}/${x.kindFlag}/${x.members.length} ≠ ${yy.size}/${yy.kindFlag}/${yy.members.length}`;
      for (let i = 0; i < x.members.length; i++) {
        const m = x.members[i], n = yy.members[i];
        if (m.name !== n.name || m.bitOffset !== n.bitOffset || m.bitfieldSize !== n.bitfieldSize) return `${path}.${m.name}: member ${JSON.stringify([m.name, m.bitOffset, m.bitfieldSize])} ≠ ${JSON.stringify([n.name, n.bitOffset, n.bitfieldSize])}`;
        const d = sub(`.${m.name || "(anon)"}`, m.type, n.type);
        if (d) return d;
      }
      return "";
    }
    case "enum": case "enum64": {
      const yy = y as typeof x;
      const vx = JSON.stringify(x.values.map((v) => [v.name, String(v.value)]));
      const vy = JSON.stringify(yy.values.map((v) => [v.name, String(v.value)]));
      return x.size === yy.size && x.signed === yy.signed && vx === vy ? "" : `${path}: ${x.kind} ${x.size}/${x.signed}/${vx} ≠ ${yy.size}/${yy.signed}/${vy}`;
    }
    case "fwd": return x.fwdKind === (y as typeof x).fwdKind ? "" : `${path}: fwd kind`;
    case "func_proto": {
      const yy = y as typeof x;
      if (x.params.length !== yy.params.length) return `${path}: ${x.params.length} ≠ ${yy.params.length} params`;
      for (let i = 0; i < x.params.length; i++) {
        if (x.params[i].name !== yy.params[i].name) return `${path}(${i}): param name`;
        const d = sub(`(${i})`, x.params[i].type, yy.params[i].type);
        if (d) return d;
      }
      return sub("→ret", x.returnType, yy.returnType);
    }
    default: return `${path}: unexpected kind ${x.kind}`;
  }
}

describe.skipIf(!haveTool("clang-19"))("DWARF types → BTF, clang's BTF as the oracle", () => {
  const objs = build({
    anchored: ["-g", "-DANCHOR"],
    dwarf5: ["-g"],
    dwarf4: ["-gdwarf-4"],
    dwarf3: ["-gdwarf-3"],
    dwarf2: ["-gdwarf-2"],
    // The 64-bit DWARF format: 8-byte unit lengths, section offsets and string offsets.
    dwarf5_64: ["-g", "-gdwarf64"],
    dwarf4_64: ["-gdwarf-4", "-gdwarf64"],
  });
  const oracle = objs.anchored.btf!;

  test("the unanchored build's BTF lacks the types (so DWARF is the only source)", () => {
    for (const [, name, kind] of TYPES) {
      expect(oracle.find(name, kind as "struct"), `${kind} ${name} in the anchored BTF`).toBeDefined();
      expect(objs.dwarf5.btf?.find(name, kind as "struct"), `${kind} ${name} in the unanchored BTF`).toBeUndefined();
    }
  });

  for (const variant of ["dwarf5", "dwarf4", "dwarf3", "dwarf2", "dwarf5_64", "dwarf4_64"] as const) {
    test(`${variant}: every type converted from DWARF equals clang's BTF type`, () => {
      const obj = objs[variant];
      const info = readDwarf(obj.debug!);
      expect(info.units.map((u) => [u.version, u.offsetSize])).toEqual([[{ dwarf5: 5, dwarf4: 4, dwarf3: 3, dwarf2: 2, dwarf5_64: 5, dwarf4_64: 4 }[variant], variant.endsWith("_64") ? 8 : 4]]);
      const types = new DwarfTypes(info);
      const conv = new DwarfBtf(types, obj.btf);
      const diffs: string[] = [];
      for (const [dk, name, kind] of TYPES) {
        const offs = types.named(dk, name);
        expect(offs.length, `${dk} ${name} in DWARF`).toBeGreaterThan(0);
        const ours = conv.id(offs[0]);
        const theirs = oracle.find(name, kind as "struct")!.id;
        const d = diff(conv.btf, ours, oracle, theirs, `${kind} ${name}`, new Set());
        if (d) diffs.push(d);
      }
      expect(diffs).toEqual([]);
    });
  }

  for (const f of ["biolatency_cgroup.o", "proc_lifetime.o", "core_parent_tp.o"]) {
    test(`${f}: kernel structs clang put in BTF (CO-RE), converted from DWARF alone, equal clang's`, () => {
      const file = join(ROOT, "fixtures/obj", f);
      const obj = loadObject(new Uint8Array(readFileSync(file)), { file });
      const btf = obj.btf!;
      const types = new DwarfTypes(readDwarf(obj.debug!));
      // No base: every type comes from DWARF, nothing is reused from the object's BTF.
      const conv = new DwarfBtf(types);
      const diffs: string[] = [];
      let compared = 0;
      for (const kind of ["struct", "union"] as const) {
        for (const id of btf.idsByKind(kind)) {
          const t = btf.type(id);
          const offs = types.named(kind, t.name);
          if (t.name === "" || offs.length === 0) continue;
          const d = diff(conv.btf, conv.id(offs[0]), btf, id, `${kind} ${t.name}`, new Set(), true);
          if (d) diffs.push(d);
          compared++;
        }
      }
      expect(diffs).toEqual([]);
      expect(compared).toBeGreaterThan(0);
    });
  }

  // tsbpf's ELF reader refuses -gz objects for now (relocations are checked against the compressed
  // size), so these sections are read straight from the section header table.
  for (const gz of ["zlib", "zstd"] as const) {
    test(`compressed debug sections (-gz=${gz}) decompress and convert to clang's BTF`, () => {
      const file = join(dir, `gz-${gz}.o`);
      const r = spawnSync("clang-19", ["-g", `-gz=${gz}`, "-O2", "-target", "bpf", "-c", SRC, "-o", file], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      const secs = rawSections(new Uint8Array(readFileSync(file)));
      expect(secs.get(".debug_info")!.compressed).toBe(true);
      // The same BTF as the uncompressed build, so that build's BTF is the base.
      expect(Buffer.from(secs.get(".BTF")!.data).equals(Buffer.from(readRawSection(join(dir, "dwarf5.o"), ".BTF")))).toBe(true);
      const debug: DebugSections = { file, info: secs.get(".debug_info"), abbrev: secs.get(".debug_abbrev"), str: secs.get(".debug_str"), strOffsets: secs.get(".debug_str_offsets"), lineStr: secs.get(".debug_line_str") };
      const types = new DwarfTypes(readDwarf(debug));
      const conv = new DwarfBtf(types, objs.dwarf5.btf);
      const diffs = TYPES.map(([dk, name, kind]) => diff(conv.btf, conv.id(types.named(dk, name)[0]), oracle, oracle.find(name, kind as "struct")!.id, `${kind} ${name}`, new Set())).filter(Boolean);
      expect(diffs).toEqual([]);
      // A damaged stream is a typed error at the section's file offset.
      const info = debug.info!;
      const data = info.data.slice();
      for (let i = 30; i < data.length; i += 7) data[i] ^= 0x5a;
      let err: unknown;
      try { readDwarf({ ...debug, info: { ...info, data } }); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(TsbpfError);
      expect((err as TsbpfError).where.offset).toBeGreaterThanOrEqual(info.fileOffset);
      expect((err as TsbpfError).where.offset).toBeLessThanOrEqual(info.fileOffset + 24);
      // A header promising a terabyte is refused before anything is allocated.
      const forged = info.data.slice();
      new DataView(forged.buffer).setBigUint64(8, 1n << 40n, true);
      expect(() => readDwarf({ ...debug, info: { ...info, data: forged } })).toThrow(/decompressed size 1099511627776 is larger than/);
    });
  }

  test("record types by name and size come from DWARF when BTF lacks them, and decode records", () => {
    const obj = objs.dwarf5;
    const ring = { ...obj.maps[0], name: "events", type: 27, valueType: 0 };
    const ev = recordType(obj, ring, 48);
    expect(ev.source).toBe("dwarf");
    expect(ev.btf!.nameOf(ev.id)).toBe("event");
    const rec = new Uint8Array(48);
    const dv = new DataView(rec.buffer);
    dv.setUint32(0, 4242, true);
    rec.set(new TextEncoder().encode("bash\0"), 4);
    dv.setBigUint64(24, 123456789012345n, true);
    rec[32] = 9;
    dv.setBigUint64(40, 77n, true);
    expect(decodeEvent(ev.btf, ev.id, rec)).toEqual({ pid: 4242, comm: "bash", timestamp: 123456789012345n, detail: { tag: 9, value: 77n } });
    // The anchored build has struct event in BTF: BTF wins there.
    expect(recordType(objs.anchored, ring, 48).source).toBe("btf");
    // Names the user gives, each kind.
    const kinds = (t: string) => { const r = namedRecordType(obj, t); return r && [r.source, r.btf!.kindOf(r.id), r.btf!.nameOf(r.id)]; };
    expect(kinds("struct event")).toEqual(["dwarf", "struct", "event"]);
    expect(kinds("inner")).toEqual(["dwarf", "struct", "inner"]);
    expect(kinds("union number")).toEqual(["dwarf", "union", "number"]);
    expect(kinds("enum big_e")).toEqual(["dwarf", "enum64", "big_e"]);
    expect(kinds("u32_alias2")).toEqual(["dwarf", "typedef", "u32_alias2"]);
    expect(kinds("int")).toEqual(["btf", "int", "int"]);
    expect(kinds("struct nope")).toBeUndefined();
    expect(kinds("union inner")).toBeUndefined();
  });

  test("identical types already in the object's BTF are reused, not duplicated", () => {
    // Converting the anchored build's own DWARF must add nothing: every type is in its BTF already.
    const obj = objs.anchored;
    const types = new DwarfTypes(readDwarf(obj.debug!));
    const conv = new DwarfBtf(types, obj.btf);
    for (const [dk, name, kind] of TYPES) {
      const id = conv.id(types.named(dk, name)[0]);
      expect(id, `${kind} ${name}`).toBe(oracle.find(name, kind as "struct")!.id);
    }
    expect(conv.btf.ownTypeCount).toBe(0);
  });
});
