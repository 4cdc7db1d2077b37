// ElfFile against llvm-readelf-19's JSON output: every section header, symbol and relocation of
// every fixture object and of freshly compiled programs, field by field.

import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { parseElf, SHT } from "../../src/elf/index.ts";
import { TsbpfError } from "../../src/errors.ts";
import { haveTool, run } from "../support/env.ts";
import { compileC, fixtureObjects } from "./objects.ts";

interface RSection { Section: { Index: number; Name: { Name: string; Value: number }; Type: { Value: number }; Flags: { Value: number }; Offset: number; Size: number; Link: number; Info: number; AddressAlignment: number; EntrySize: number } }
interface RSymbol { Symbol: { Name: { Name: string; Value: number }; Value: number; Size: number; Binding: { Value: number }; Type: { Value: number }; Other: { Value: number }; Section: { Value: number } } }
interface RReloc { Relocation: { Offset: number; Type: { Value: number }; Symbol: { Name: string; Value: number } } }
interface Readelf { Sections: RSection[]; Symbols: RSymbol[]; Relocations: { SectionIndex: number; Relocs: RReloc[] }[] }

const SOURCES = {
  multi: `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 16); __type(key, int); __type(value, long); } m SEC(".maps");
int g = 3; const volatile int ro = 5; int z;
static __noinline int sub(int x) { return x * g + ro; }
SEC("xdp") int prog(struct xdp_md *ctx) { int k = 0; long *v = bpf_map_lookup_elem(&m, &k); z++; return v ? sub(*v) : 2; }
SEC("tracepoint/syscalls/sys_enter_write") int tp(void *ctx) { return sub(1); }
char LICENSE[] SEC("license") = "GPL";
`,
};

describe.skipIf(!haveTool("llvm-readelf-19") || !haveTool("clang-19"))("ElfFile vs llvm-readelf-19", () => {
  const compiled = compileC(SOURCES);
  const objects = [...fixtureObjects(), ...Object.values(compiled)];

  test("there are objects to compare", () => {
    expect(objects.length).toBeGreaterThan(1);
  });

  // One readelf call for all objects; its JSON is an array in argument order.
  const all = JSON.parse(run("llvm-readelf-19", ["--elf-output-style=JSON", "-S", "-s", "-r", ...objects])) as Readelf[];

  test.each(objects.map((p, i) => [p.replace(/.*\//, ""), p, i] as const))("%s", (_n, path, i) => {
    const want = all[i];
    const elf = parseElf(readFileSync(path), { file: path });
    expect(elf.sections.length).toBe(want.Sections.length);
    for (const { Section: w } of want.Sections) {
      const s = elf.sections[w.Index];
      expect({ name: s.name, nameOffset: s.nameOffset, type: s.type, flags: Number(s.flags), offset: s.offset, size: s.size, link: s.link, info: s.info, align: Number(s.addralign), entsize: Number(s.entsize) }).toEqual({
        name: w.Name.Name, nameOffset: w.Name.Value, type: w.Type.Value, flags: w.Flags.Value, offset: w.Offset, size: w.Size, link: w.Link, info: w.Info, align: w.AddressAlignment, entsize: w.EntrySize,
      });
      if (s.type !== SHT.NOBITS) expect(s.data.length).toBe(w.Size);
    }
    expect(elf.symbols.length).toBe(want.Symbols.length);
    want.Symbols.forEach(({ Symbol: w }, k) => {
      const s = elf.symbols[k];
      // readelf shows a section symbol under its section's name; the raw st_name is what we keep.
      expect({ name: s.type === 3 ? w.Name.Name : s.name, nameOffset: s.nameOffset, value: Number(s.value), size: Number(s.size), bind: s.bind, type: s.type, vis: s.visibility, shndx: s.shndx }).toEqual({
        name: s.type === 3 ? elf.sections[s.shndx].name : w.Name.Name, nameOffset: w.Name.Value, value: w.Value, size: w.Size, bind: w.Binding.Value, type: w.Type.Value, vis: w.Other.Value & 3, shndx: w.Section.Value,
      });
    });
    for (const group of want.Relocations) {
      const target = elf.sections[group.SectionIndex].info;
      const ours = elf.relocationsFor(target).filter((r) => r.relSection === group.SectionIndex);
      expect(ours.map((r) => ({ offset: r.offset, type: r.type, sym: r.symbol }))).toEqual(
        group.Relocs.map(({ Relocation: w }) => ({ offset: w.Offset, type: w.Type.Value, sym: w.Symbol.Value })),
      );
    }
  });
});

describe("ElfFile rejects bad headers with typed errors", () => {
  const good = () => new Uint8Array(readFileSync(fixtureObjects()[0] ?? "/dev/null"));
  const expectErr = (bytes: Uint8Array, code: string, offset: number) => {
    try {
      parseElf(bytes);
    } catch (e) {
      expect(e).toBeInstanceOf(TsbpfError);
      expect((e as TsbpfError).code).toBe(code);
      expect((e as TsbpfError).where.offset).toBe(offset);
      return;
    }
    throw new Error("parseElf accepted bad input");
  };
  test.skipIf(fixtureObjects().length === 0)("each header field", () => {
    expectErr(new Uint8Array(10), "ELF_BAD_HEADER", 0);
    let b = good(); b[1] = 0; expectErr(b, "ELF_BAD_HEADER", 0);
    b = good(); b[4] = 1; expectErr(b, "ELF_BAD_HEADER", 4);
    b = good(); b[5] = 2; expectErr(b, "ELF_UNSUPPORTED", 5);
    b = good(); b[18] = 62; expectErr(b, "ELF_BAD_HEADER", 18);
    b = good(); b[58] = 40; expectErr(b, "ELF_BAD_HEADER", 58);
    b = good(); b[62] = 0; b[63] = 0; expectErr(b, "ELF_BAD_HEADER", 62);
    b = good(); expectErr(b.subarray(0, b.length - 1), "ELF_BAD_HEADER", 40);
  });
});

describe.skipIf(!haveTool("llvm-readelf-19") || fixtureObjects().length === 0)("errors point at the corrupted bytes", () => {
  // Positions come from llvm-readelf's section table, not from our reader.
  const path = fixtureObjects().find((p) => /count_reads\.o$/.test(p)) ?? fixtureObjects()[0];
  const want = (JSON.parse(run("llvm-readelf-19", ["--elf-output-style=JSON", "-S", path])) as Readelf[])[0];
  const clean = new Uint8Array(readFileSync(path));
  const shoff = Number(new DataView(clean.buffer, clean.byteOffset).getBigUint64(40, true));
  const secs = want.Sections.map((x) => x.Section);
  const symtab = secs.find((x) => x.Type.Value === 2)!;
  const rel = secs.find((x) => x.Type.Value === 9 && x.Size > 0)!;
  const expectAt = (mutate: (dv: DataView) => void, code: string, offset: number) => {
    const b = clean.slice();
    mutate(new DataView(b.buffer));
    let err: unknown;
    try { parseElf(b); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(TsbpfError);
    expect({ code: (err as TsbpfError).code, offset: (err as TsbpfError).where.offset }).toEqual({ code, offset });
  };
  test("relocation symbol index past the symbol table", () => {
    expectAt((dv) => dv.setUint32(rel.Offset + 12, 0xffffff, true), "ELF_BAD_RELOCATION", rel.Offset + 12);
  });
  test("relocation type unknown", () => {
    expectAt((dv) => dv.setUint32(rel.Offset + 8, 77, true), "ELF_BAD_RELOCATION", rel.Offset + 8);
  });
  test("relocation offset past its section", () => {
    expectAt((dv) => dv.setBigUint64(rel.Offset, 1n << 40n, true), "ELF_BAD_RELOCATION", rel.Offset);
  });
  test("symbol section index out of range", () => {
    expectAt((dv) => dv.setUint16(symtab.Offset + 24 + 6, 0xfe00, true), "ELF_BAD_SYMBOL", symtab.Offset + 24 + 6);
  });
  test("symbol name offset past the string table", () => {
    expectAt((dv) => dv.setUint32(symtab.Offset + 24, 0x7fffffff, true), "ELF_BAD_SYMBOL", symtab.Offset + 24);
  });
  test("relocation section entry size", () => {
    expectAt((dv) => dv.setBigUint64(shoff + rel.Index * 64 + 56, 24n, true), "ELF_BAD_SECTION", shoff + rel.Index * 64 + 56);
  });
  test("section contents past the end of the file", () => {
    expectAt((dv) => dv.setBigUint64(shoff + symtab.Index * 64 + 32, 1n << 32n, true), "ELF_BAD_SECTION", shoff + symtab.Index * 64 + 24);
  });
});
