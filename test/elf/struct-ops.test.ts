// struct_ops maps read from objects, against the native tools' view of the same bytes: the variables
// of the .struct_ops DATASEC and their struct types (bpftool btf dump), the section bytes
// (llvm-objdump -s) and the relocations naming programs (llvm-objdump -r). Corrupted relocations
// give typed errors, and libbpf refuses to open the same corrupted objects.

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import fc from "fast-check";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { loadObject, parseElf, type MapSpec } from "../../src/elf/index.ts";
import { TsbpfError } from "../../src/errors.ts";
import { structOpsLayout } from "../../src/load/struct-ops-layout.ts";
import { runningKernel, VMLINUX_BTF } from "../../src/link/index.ts";
import { haveRoot, haveTool, inCI, ROOT, run } from "../support/env.ts";
import { buildTracer, traceObjects } from "../link/oracle.ts";
import { structOpsLinkObject } from "./struct-ops-link.ts";

const CC = join(ROOT, "fixtures/obj/struct_ops_cc.o");

interface JsonType { id: number; kind: string; name: string; size?: number; type_id?: number; vars?: { type_id: number; offset: number; size: number }[]; members?: { name: string; type_id: number; bits_offset: number }[] }

/** bpftool's BTF of the object, by id. */
function btfTypes(path: string): Map<number, JsonType> {
  const j = JSON.parse(run("bpftool", ["-j", "btf", "dump", "file", path])) as { types: JsonType[] };
  return new Map(j.types.map((t) => [t.id, t]));
}

/** llvm-objdump -s of one section → its bytes. */
function sectionBytes(path: string, section: string): Uint8Array {
  const hex = run("llvm-objdump-19", ["-s", "-j", section, path]).split("\n")
    .filter((l) => /^ [0-9a-f]{4,} /.test(l))
    .map((l) => l.slice(1).split(/\s+/).slice(1, 5).filter((w) => /^[0-9a-f]+$/.test(w)).join(""))
    .join("");
  return Uint8Array.from(Buffer.from(hex, "hex"));
}

/** llvm-objdump -r records for one section: offset → symbol. */
function relocations(path: string, section: string): { offset: number; symbol: string }[] {
  const out: { offset: number; symbol: string }[] = [];
  let inside = false;
  for (const line of run("llvm-objdump-19", ["-r", path]).split("\n")) {
    if (line.startsWith("RELOCATION RECORDS FOR")) inside = line.includes(`[${section}]`);
    const m = /^([0-9a-f]{16}) (\S+)\s+(\S+)/.exec(line);
    if (inside && m) out.push({ offset: parseInt(m[1], 16), symbol: m[3] });
  }
  return out;
}

describe.skipIf(!haveTool("bpftool") || !haveTool("llvm-objdump-19") || !haveTool("clang-19"))("struct_ops maps vs bpftool and llvm-objdump", () => {
  const objects = [CC, structOpsLinkObject()];
  test.each(objects.map((p) => [p.replace(/.*\//, ""), p] as const))("%s", (_n, path) => {
    const obj = loadObject(readFileSync(path), { file: path });
    const types = btfTypes(path);
    const datasecs = [...types.values()].filter((t) => t.kind === "DATASEC" && (t.name === ".struct_ops" || t.name === ".struct_ops.link"));
    expect(datasecs.length).toBe(1);
    const ds = datasecs[0];
    const secBytes = sectionBytes(path, ds.name);
    const relos = relocations(path, ds.name);
    const ours = obj.maps.filter((m): m is MapSpec & { structOps: NonNullable<MapSpec["structOps"]> } => m.structOps !== undefined);
    expect(ours.map((m) => m.name)).toEqual(ds.vars!.map((v) => types.get(v.type_id)!.name));
    ds.vars!.forEach((v, i) => {
      const m = ours[i];
      const st = types.get(types.get(v.type_id)!.type_id!)!;
      expect(st.kind).toBe("STRUCT");
      // libbpf's map definition for a struct_ops variable.
      expect({ type: m.type, key: m.keySize, value: m.valueSize, max: m.maxEntries, flags: m.flags, kind: m.kind }).toEqual({
        type: 26, key: 4, value: st.size, max: 1, flags: ds.name === ".struct_ops.link" ? 1 << 13 : 0, kind: "struct_ops",
      });
      expect(m.structOps.typeName).toBe(st.name);
      expect(m.structOps.section).toBe(ds.name);
      expect(m.structOps.link).toBe(ds.name === ".struct_ops.link");
      expect(Buffer.from(m.structOps.data).toString("hex")).toBe(Buffer.from(secBytes.subarray(v.offset, v.offset + v.size)).toString("hex"));
      // Every relocation inside the variable names the program its member points to.
      const expected = relos.filter((r) => r.offset >= v.offset && r.offset < v.offset + v.size).map((r) => {
        const moff = r.offset - v.offset;
        const index = st.members!.findIndex((x) => x.bits_offset === moff * 8);
        return { member: st.members![index].name, index, offset: moff, program: r.symbol };
      }).sort((a, b) => a.index - b.index);
      expect(expected.length).toBeGreaterThan(3);
      expect(m.structOps.funcs).toEqual(expected);
      // The programs are struct_ops programs (SEC("struct_ops/…")).
      for (const f of expected) expect(obj.programs.find((p) => p.name === f.program)?.type).toBe(27);
    });
    // struct_ops maps follow every other map, as libbpf adds them last.
    const firstOps = obj.maps.findIndex((m) => m.structOps);
    expect(obj.maps.slice(firstOps).every((m) => m.structOps)).toBe(true);
    expect(obj.warnings.filter((w) => w.includes("struct_ops"))).toEqual([]);
  });
});

/** The object with one .rel.struct_ops entry's r_offset and/or symbol replaced. */
function corrupt(bytes: Uint8Array, entry: number, change: { offset?: number; symbol?: string }): Uint8Array {
  const elf = parseElf(bytes);
  const sec = elf.section(".struct_ops")!;
  const r = elf.relocationsFor(sec.index)[entry];
  const out = new Uint8Array(bytes); // a copy (Buffer.slice would share the bytes)
  const dv = new DataView(out.buffer);
  if (change.offset !== undefined) dv.setBigUint64(r.fileOffset, BigInt(change.offset), true);
  if (change.symbol !== undefined) {
    const sym = elf.symbols.findIndex((s) => s.name === change.symbol);
    dv.setUint32(r.fileOffset + 12, sym, true); // r_info: symbol in the high half
  }
  return out;
}

const CORRUPTIONS: [string, { offset?: number; symbol?: string }, RegExp][] = [
  ["a data member (name)", { offset: 88 }, /cannot relocate non func ptr name/],
  ["the middle of a member", { offset: 4 }, /cannot find member at moff 4/],
  ["the padding after the last member", { offset: 184 }, /cannot find member at moff 184/],
  ["a .bss variable instead of a program", { symbol: "calls_init" }, /cannot find prog at shdr_idx \d+ to relocate func ptr ssthresh/],
];

describe.skipIf(!haveTool("clang-19") || !haveRoot())("corrupted struct_ops relocations", () => {
  const src = readFileSync(CC);
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-stops-"));
  const files = CORRUPTIONS.map(([what, change], i) => {
    const f = join(dir, `bad${i}.o`);
    writeFileSync(f, corrupt(src, 0, change));
    return { what, file: f };
  });
  const traced = traceObjects(buildTracer(), [...files.map((f) => f.file), CC]);

  test("libbpf opens the intact object (the control)", () => {
    expect(traced.at(-1)!.defs.length).toBe(5);
    expect(traced.at(-1)!.mapDefs).toContain("tsbpf_cc");
  });

  test.each(CORRUPTIONS.map(([what, , msg], i) => [what, i, msg] as const))("relocation against %s", (_what, i, msg) => {
    let err: unknown;
    try {
      loadObject(readFileSync(files[i].file), { file: files[i].file });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TsbpfError);
    expect((err as TsbpfError).message).toMatch(msg);
    expect((err as TsbpfError).where.offset).toBeGreaterThan(0);
    // libbpf refuses to open it as well: none of the object's five programs or two maps reported.
    const t = traced[i];
    expect(t.defs).toEqual([]);
    expect(t.mapDefs).toEqual([]);
  });
});

describe("struct_ops reading on mutated objects", () => {
  // Mutations aimed at what the struct_ops reader consumes: the variable's bytes, its relocation
  // entries and the BTF. Each case yields an ObjectSpec (laid out against the kernel's BTF when
  // there is one) or a TsbpfError — never another exception.
  const src = new Uint8Array(readFileSync(CC));
  const elf = parseElf(src);
  const regions = [".struct_ops", ".BTF"].map((n) => elf.section(n)!).map((s) => ({ start: s.offset, size: s.size }));
  const relos = elf.relocationsFor(elf.section(".struct_ops")!.index).map((r) => ({ start: r.fileOffset, size: 16 }));
  const targets = [...regions, ...relos];
  const kernel = existsSync(VMLINUX_BTF) ? runningKernel().btf : undefined;

  test("every case is a spec or a typed error", () => {
    let typed = 0, fine = 0;
    fc.assert(
      fc.property(
        fc.array(fc.record({ target: fc.nat(targets.length - 1), at: fc.nat(), value: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 0xff, 0x80)) }), { minLength: 1, maxLength: 4 }),
        (muts) => {
          const b = new Uint8Array(src);
          for (const m of muts) {
            const t = targets[m.target];
            b[t.start + (m.at % t.size)] = m.value;
          }
          try {
            const obj = loadObject(b, { file: "mutated.o" });
            if (kernel && obj.btf) for (const m of obj.maps) if (m.structOps) structOpsLayout(m, obj.btf, kernel);
            fine++;
          } catch (e) {
            if (!(e instanceof TsbpfError)) throw e;
            typed++;
          }
        },
      ),
      { numRuns: inCI ? 2000 : 400 },
    );
    expect(typed + fine).toBeGreaterThan(0);
  });
});
