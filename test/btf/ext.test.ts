// .BTF.ext against the native tools, on objects clang-19 builds in the run: func_info against the
// symbol table (llvm-objdump -t), line_info against the DWARF line table (llvm-dwarfdump) and the
// source files, CO-RE relocations against libbpf's own reading of them (bpftool -d debug log).
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { haveKernelBtf, haveRoot, haveTool, inCI, run } from "../support/env.ts";
import { TsbpfError } from "../../src/errors.ts";
import { CORE_RELO_KIND_LIBBPF, lineAt, loadBtfWithExt, parseBtfExt, findBtf, parseBtf } from "../../btf/index.ts";
import { buildTestObjects, readBytes } from "./objects.ts";

const tools = haveTool("clang-19") && haveTool("bpftool") && haveTool("llvm-objdump-19") && haveTool("llvm-dwarfdump-19") && haveTool("llvm-readelf-19") && haveKernelBtf();

describe.skipIf(!tools)(".BTF.ext vs llvm tools", () => {
  const objects = tools ? buildTestObjects() : [];

  it("reads both byte orders", () => {
    expect(objects.some((o) => o.endsWith(".eb.o"))).toBe(true);
    for (const obj of objects) expect(loadBtfWithExt(obj).btf.endian).toBe(obj.endsWith(".eb.o") ? "big" : "little");
  });

  it("func_info names every function symbol at its instruction", () => {
    for (const obj of objects) {
      const { btf, ext } = loadBtfWithExt(obj);
      const ours = ext!.funcInfo.flatMap((s) => s.records.map((r) => `${s.section} ${r.insn} ${btf.nameOf(r.typeId)}`)).sort();
      // "0000000000000020 l     F .text	0000000000000040 helper_static"
      const theirs = run("llvm-objdump-19", ["-t", obj])
        .split("\n")
        .map((l) => /^([0-9a-f]{16}) .{6}F (\S+)\t[0-9a-f]+ (\S+)$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => `${m[2]} ${parseInt(m[1], 16) / 8} ${m[3]}`)
        .sort();
      expect(theirs.length).toBeGreaterThan(0);
      expect(ours).toEqual(theirs);
    }
  });

  it("line_info rows are DWARF line-table rows and quote the source line", () => {
    let checked = 0;
    for (const obj of objects) {
      const { ext } = loadBtfWithExt(obj);
      const rows = new Set(
        run("llvm-dwarfdump-19", ["--debug-line", obj])
          .split("\n")
          .map((l) => /^0x([0-9a-f]{16})\s+(\d+)\s+(\d+)\s/.exec(l))
          .filter((m): m is RegExpExecArray => m !== null)
          .map((m) => `${parseInt(m[1], 16)}:${m[2]}:${m[3]}`),
      );
      const entries = new Set(ext!.funcInfo.flatMap((s) => s.records.map((r) => `${s.section}:${r.insn}`)));
      for (const sec of ext!.lineInfo) {
        for (const r of sec.records) {
          const src = readFileSync(r.fileName, "utf8").split("\n");
          expect(r.line, `${r.fileName}:${r.lineNum}`).toBe(src[r.lineNum - 1]);
          // At a function's first instruction clang records the function's own line, which DWARF
          // puts on the subprogram rather than in the line table.
          if (!entries.has(`${sec.section}:${r.insn}`)) expect(rows, `${sec.section} insn ${r.insn}`).toContain(`${r.insn * 8}:${r.lineNum}:${r.column}`);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it("lineAt gives the line in effect at every instruction", () => {
    for (const obj of objects) {
      for (const sec of loadBtfWithExt(obj).ext!.lineInfo) {
        const last = sec.records[sec.records.length - 1].insn;
        for (let insn = 0; insn <= last + 2; insn++) {
          const scan = sec.records.filter((r) => r.insn <= insn).pop();
          expect(lineAt(sec, insn)).toBe(scan);
        }
      }
    }
  });
});

describe.skipIf(!(tools && haveRoot()))(".BTF.ext CO-RE relocations vs libbpf", () => {
  it("every record matches the relocation libbpf reports (kind, local type, access, instruction)", () => {
    const obj = buildTestObjects().find((o) => o.endsWith("/core.o"))!;
    const { btf, ext } = loadBtfWithExt(obj);
    const relos = ext!.coreRelos.flatMap((s) => s.records);
    expect(relos.length).toBeGreaterThanOrEqual(20);
    expect(new Set(relos.map((r) => r.kind)).size).toBe(13);

    if (!existsSync("/sys/fs/bpf") || !readFileSync("/proc/mounts", "utf8").includes(" /sys/fs/bpf bpf ")) {
      mkdirSync("/sys/fs/bpf", { recursive: true });
      run("mount", ["-t", "bpf", "bpf", "/sys/fs/bpf"]);
    }
    const pin = `/sys/fs/bpf/tsbpf-ext-${process.pid}`;
    // Whether the program then loads does not matter: libbpf logs each relocation before loading.
    const log = spawnSync("bpftool", ["-d", "prog", "loadall", obj, pin], { encoding: "utf8" }).stderr;
    rmSync(pin, { recursive: true, force: true });
    const spec = new Map<number, { kind: string; type: number; rest: string }>();
    const insn = new Map<number, number>();
    for (const l of log.split("\n")) {
      let m = /relo #(\d+): <(\w+)> \[(\d+)\] (.*)$/.exec(l);
      if (m && !l.includes("matching candidate")) spec.set(+m[1], { kind: m[2], type: +m[3], rest: m[4] });
      m = /relo #(\d+): (?:patched|substituting) insn #(\d+)/.exec(l);
      if (m) insn.set(+m[1], +m[2]);
    }
    expect(spec.size).toBe(relos.length);
    relos.forEach((r, i) => {
      const s = spec.get(i)!;
      expect([CORE_RELO_KIND_LIBBPF[r.kind], r.typeId], `relo #${i}`).toEqual([s.kind, s.type]);
      if (r.kind.startsWith("field_")) expect(s.rest).toContain(`(${r.accessStr} @`);
      if (r.kind.startsWith("enumval_")) {
        const e = btf.type(r.typeId);
        expect(e.kind === "enum" || e.kind === "enum64").toBe(true);
        if (e.kind === "enum" || e.kind === "enum64") expect(s.rest).toContain(`::${e.values[r.access[0]].name} =`);
      }
      // One program per section and no subprograms: libbpf's instruction index is ours.
      if (insn.has(i)) expect(r.insn, `relo #${i}`).toBe(insn.get(i));
    });
    expect(insn.size).toBe(relos.length);
  });
});

describe.skipIf(!tools)(".BTF.ext bad input", () => {
  it("mutated and truncated sections give BTF_BAD_EXT with an offset, never another exception", async () => {
    const fc = (await import("fast-check")).default;
    const obj = buildTestObjects().find((o) => o.endsWith("/core.o"))!;
    const found = findBtf(readBytes(obj));
    const btf = parseBtf(found.btf.bytes);
    const seed = found.ext!.bytes.slice();
    expect(parseBtfExt(seed, btf).coreRelos.length).toBe(1);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 0xffffffff }), fc.boolean()), { minLength: 1, maxLength: 4 }), (muts) => {
        let b = seed.slice();
        for (const [at, v, cut] of muts) {
          if (cut) b = b.slice(0, Math.min(at, b.length));
          else if ((at & ~3) + 4 <= b.length) new DataView(b.buffer).setUint32(at & ~3, v, true);
        }
        try {
          parseBtfExt(b, btf, { fileOffset: 64 });
        } catch (e) {
          expect(e).toBeInstanceOf(TsbpfError);
          expect((e as TsbpfError).code).toBe("BTF_BAD_EXT");
          expect((e as TsbpfError).where.offset).toBeGreaterThanOrEqual(64);
        }
      }),
      { numRuns: inCI ? 10_000 : 2000 },
    );
  });
});
