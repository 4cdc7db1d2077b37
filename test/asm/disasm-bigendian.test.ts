// Big-endian BPF (clang -target bpfeb) against llvm-objdump-19 -d: the isa fixtures' C sources
// built big-endian at -mcpu=v1..v4, random instructions encoded big-endian (llvm-mc-19 -triple
// bpfeb writes the object), and raw big-endian bytes. One llvm-objdump run per batch: every file of
// a run is decoded in the first file's byte order, so batches never mix byte orders.

import { describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { arbInsn, arbSlotBytes } from "../../asm/arbitrary.ts";
import { decode } from "../../asm/decode.ts";
import { codeOfFile, llvmListing, llvmObjdumpText, llvmRawText, type CodeSection } from "../../asm/disasm.ts";
import { encode } from "../../asm/encode.ts";
import type { Insn } from "../../asm/insn.ts";
import { disassemble, type DisasmJsonEntry } from "../../asm/listing.ts";
import { readCodeSections } from "../../asm/elf-code.ts";
import { TsbpfError } from "../../src/errors.ts";
import { haveTool, ROOT, run } from "../support/env.ts";
import { firstDifference, scratch, sectionsAsm } from "./support/objdump.ts";

const SRC = join(ROOT, "fixtures/src");
const INCLUDE = join(ROOT, "fixtures/include");
const CPUS = ["v1", "v2", "v3", "v4"];
const sources = readdirSync(SRC).filter((n) => /^isa_.*\.bpf\.c$/.test(n)).sort();

/** The cpu versions a fixture source declares in its "cpus:" line (build.sh's rule). */
function declaredCpus(name: string): string[] {
  const m = /^\/\/ cpus:(.*)$/m.exec(readFileSync(join(SRC, name), "utf8"));
  return m ? m[1].trim().split(/\s+/) : ["v3"];
}

/** Run one command, resolving with its exit status and stderr. */
function spawnStatus(cmd: string, args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("close", (status) => resolve({ status, stderr }));
    p.on("error", (e) => resolve({ status: null, stderr: String(e) }));
  });
}

/** Build every isa source big-endian at every cpu into dir, two compiles at a time; returns the objects that compiled. */
async function buildBigEndian(dir: string): Promise<string[]> {
  const jobs = sources.flatMap((src) => CPUS.map((cpu) => ({ src, cpu, obj: `${src.replace(/\.bpf\.c$/, "")}.${cpu}.eb.o` })));
  const ok = new Array<boolean>(jobs.length).fill(false);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const k = next++;
      const { src, cpu, obj } = jobs[k];
      const r = await spawnStatus("clang-19", [
        "-g", "-O2", "-target", "bpfeb", `-mcpu=${cpu}`, "-D__TARGET_ARCH_x86", "-w",
        "-I", INCLUDE, "-I/usr/include/x86_64-linux-gnu", "-c", join(SRC, src), "-o", join(dir, obj),
      ]);
      // Sources may use what an older cpu lacks; the versions they declare must build.
      if (r.status === 0) ok[k] = true;
      else if (declaredCpus(src).includes(cpu)) throw new Error(`clang-19 -target bpfeb -mcpu=${cpu} ${src}: ${r.stderr}`);
    }
  };
  await Promise.all([worker(), worker()]);
  return jobs.filter((_, k) => ok[k]).map((j) => j.obj);
}

function objdumpAll(dir: string, names: readonly string[]): string {
  return run("sh", ["-c", 'cd "$1" && shift && exec llvm-objdump-19 -d "$@"', "sh", dir, ...names]);
}

/** The text column of every instruction line of an llvm-objdump listing, keyed by "section/index". */
function objdumpTexts(listing: string): Map<string, { bytes: string; text: string }> {
  const out = new Map<string, { bytes: string; text: string }>();
  let section = "";
  for (const line of listing.split("\n")) {
    const s = /^Disassembly of section (.*):$/.exec(line);
    if (s) section = s[1];
    const m = /^ *(\d+):\t([0-9a-f ]+)\t(.*)$/.exec(line);
    // Branch annotations (" <sym+0x..>") belong to the listing, not to the instruction text.
    if (m) out.set(`${section}/${m[1]}`, { bytes: m[2], text: m[3].replace(/ <[^ <>]*>$/, "") });
  }
  return out;
}

const tools = haveTool("llvm-objdump-19") && haveTool("clang-19") && haveTool("llvm-mc-19");

describe.skipIf(!tools)("bpfeb objects: tsbpf disasm = llvm-objdump-19 -d", () => {
  it("isa fixtures built with -target bpfeb at -mcpu=v1..v4, one llvm-objdump run", async () => {
    const tmp = scratch("tsbpf-c2-eb-");
    try {
      const objs = await buildBigEndian(tmp.dir);
      expect(objs.length).toBeGreaterThanOrEqual(sources.length);
      const theirs = objdumpAll(tmp.dir, objs);
      let ours = "";
      for (const name of objs) {
        const bytes = new Uint8Array(readFileSync(join(tmp.dir, name)));
        const { elf, sections } = codeOfFile(bytes, name);
        expect(elf).toBe(true);
        expect(sections.every((s) => s.bigEndian === true), name).toBe(true);
        ours += llvmObjdumpText(name, sections);
        // The CLI path (streamed llvm listing) says the same as the text form.
        expect(new TextDecoder().decode(llvmListing(bytes, name))).toBe(llvmObjdumpText(name, sections));
      }
      expect(firstDifference(ours, theirs)).toBe(undefined);
      expect(ours).toBe(theirs);

      // --json and --syntax kernel decode the same instructions: every JSON entry's llvm text and
      // bytes are llvm-objdump's line for that slot, and its fields re-encode big-endian to its bytes.
      for (const name of objs) {
        const bytes = new Uint8Array(readFileSync(join(tmp.dir, name)));
        const lines = objdumpTexts(objdumpTextOf(theirs, name));
        const entries = JSON.parse(disassemble(bytes, { file: name, json: true })) as DisasmJsonEntry[];
        expect(entries.length).toBeGreaterThan(0);
        for (const e of entries) {
          const line = lines.get(`${e.section}/${e.index}`);
          expect(line, `${name} ${e.section}/${e.index}`).toEqual({ bytes: e.bytes, text: e.text });
          const insn: Insn = { op: e.op, dst: e.dst, src: e.src, off: e.off, imm: e.imm, ...(e.imm64 !== undefined ? { imm64: BigInt(e.imm64) } : {}) };
          expect(Buffer.from(encode([insn], { bigEndian: true })).toString("hex")).toBe(e.bytes.replace(/ /g, ""));
        }
        const kernel = disassemble(bytes, { file: name, syntax: "kernel" });
        expect(kernel.split("\n").filter((l) => /^ *\d+: \(/.test(l)).length).toBe(entries.length);
      }
    } finally {
      tmp.dispose();
    }
  }, 240_000);

  it("random instructions encoded big-endian, in an object llvm-mc-19 -triple bpfeb writes", () => {
    const programs = fc.sample(fc.array(arbInsn(), { minLength: 1, maxLength: 24 }), { numRuns: 300, seed: 0xeb });
    const raw = fc.sample(arbSlotBytes(24), { numRuns: 200, seed: 0xeb2 });
    const sections: CodeSection[] = [
      ...programs.map((p, i) => ({ name: `prog${i}`, bytes: encode(p, { bigEndian: true }), symbols: [{ name: `f${i}`, offset: 0, kind: "func" as const }] })),
      // Random bytes, with the section's own name as the listing's made-up symbol.
      ...raw.filter((b) => b.length > 0).map((b, i) => ({ name: `raw${i}`, bytes: b, symbols: [] })),
    ];
    const tmp = scratch("tsbpf-c2-ebr-");
    try {
      writeFileSync(join(tmp.dir, "r.s"), sectionsAsm(sections));
      run("llvm-mc-19", ["-triple", "bpfeb", "-filetype=obj", "-o", join(tmp.dir, "r.o"), join(tmp.dir, "r.s")]);
      const theirs = objdumpAll(tmp.dir, ["r.o"]);
      const { sections: read } = codeOfFile(new Uint8Array(readFileSync(join(tmp.dir, "r.o"))), "r.o");
      // llvm-mc adds an empty .text of its own.
      expect(read.filter((s) => s.bytes.length > 0).map((s) => s.name)).toEqual(sections.map((s) => s.name));
      const ours = llvmObjdumpText("r.o", read);
      expect(firstDifference(ours, theirs)).toBe(undefined);
      expect(ours).toBe(theirs);
    } finally {
      tmp.dispose();
    }
  }, 120_000);

  it("raw big-endian bytes (--endian big) list as llvm-objdump lists the same bytes in a bpfeb object", () => {
    const programs = fc.sample(fc.array(arbInsn(), { minLength: 1, maxLength: 40 }), { numRuns: 40, seed: 0xeb3 });
    const tmp = scratch("tsbpf-c2-ebraw-");
    try {
      const sections = programs.map((p, i) => ({ name: `p${i}`, bytes: encode(p, { bigEndian: true }), symbols: [] }));
      writeFileSync(join(tmp.dir, "r.s"), sectionsAsm(sections));
      run("llvm-mc-19", ["-triple", "bpfeb", "-filetype=obj", "-o", join(tmp.dir, "r.o"), join(tmp.dir, "r.s")]);
      const lines = objdumpTexts(objdumpAll(tmp.dir, ["r.o"]));
      sections.forEach((s, i) => {
        // Raw listings have no symbols and so no branch annotations: compare per line.
        const ours = llvmRawText(s.bytes, true).split("\n").filter((l) => l !== "");
        const theirs = ours.map((l) => {
          const idx = /^ *(\d+):/.exec(l)?.[1] ?? "?";
          const t = lines.get(`p${i}/${idx}`);
          return t === undefined ? "" : `${idx.padStart(8, " ")}:\t${t.bytes}\t${t.text}`;
        });
        expect(ours).toEqual(theirs);
        expect(ours.length).toBe(programs[i].length);
        expect(disassemble(s.bytes, { file: `p${i}.bin`, endian: "big" })).toBe(llvmRawText(s.bytes, true));
      });
    } finally {
      tmp.dispose();
    }
  });
});

const tsbpf = (...args: string[]) => spawnSync(join(ROOT, "node_modules/.bin/bun"), [join(ROOT, "src/cli/tsbpf.ts"), ...args], { encoding: "utf8", maxBuffer: 1 << 30 });

describe.skipIf(!haveTool("llvm-objdump-19") || !haveTool("llvm-mc-19"))("tsbpf disasm (the CLI) on big-endian input", () => {
  it("prints llvm-objdump's listing of a bpfeb object; --endian big reads raw bytes; bad --endian is exit 2", () => {
    const tmp = scratch("tsbpf-c2-ebcli-");
    try {
      const prog = fc.sample(fc.array(arbInsn(), { minLength: 4, maxLength: 30 }), { numRuns: 1, seed: 0xeb4 })[0];
      const code = encode(prog, { bigEndian: true });
      writeFileSync(join(tmp.dir, "c.s"), sectionsAsm([{ name: "xdp", bytes: code, symbols: [{ name: "prog", offset: 0, kind: "func" }] }]));
      run("llvm-mc-19", ["-triple", "bpfeb", "-filetype=obj", "-o", join(tmp.dir, "c.o"), join(tmp.dir, "c.s")]);
      const theirs = objdumpAll(tmp.dir, ["c.o"]);
      const r = spawnSync("sh", ["-c", 'cd "$1" && exec "$2" "$3" disasm c.o', "sh", tmp.dir, join(ROOT, "node_modules/.bin/bun"), join(ROOT, "src/cli/tsbpf.ts")], { encoding: "utf8" });
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe(theirs);

      writeFileSync(join(tmp.dir, "c.bin"), code);
      const raw = tsbpf("disasm", "--endian", "big", join(tmp.dir, "c.bin"));
      expect(raw.status).toBe(0);
      const lines = objdumpTexts(theirs);
      const want = raw.stdout.split("\n").filter((l) => l !== "").map((l) => {
        const idx = /^ *(\d+):/.exec(l)?.[1] ?? "?";
        const t = lines.get(`xdp/${idx}`);
        return t === undefined ? "" : `${idx.padStart(8, " ")}:\t${t.bytes}\t${t.text}`;
      });
      expect(raw.stdout.split("\n").filter((l) => l !== "")).toEqual(want);
      expect(want.length).toBe(prog.length);

      const json = tsbpf("disasm", "--json", join(tmp.dir, "c.o"));
      expect(json.status).toBe(0);
      expect((JSON.parse(json.stdout) as DisasmJsonEntry[]).map((e) => e.text)).toEqual([...lines.values()].map((l) => l.text));

      const bad = tsbpf("disasm", "--endian", "middle", join(tmp.dir, "c.bin"));
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain("--endian must be little or big");
    } finally {
      tmp.dispose();
    }
  });
});

/** One file's part of a multi-file llvm-objdump listing. */
function objdumpTextOf(listing: string, name: string): string {
  const head = `\n${name}:\tfile format elf64-bpf\n`;
  const start = listing.indexOf(head);
  if (start < 0) throw new Error(`${name} missing from the llvm-objdump listing`);
  const next = listing.indexOf(":\tfile format elf64-bpf\n", start + head.length);
  return listing.slice(start, next < 0 ? undefined : listing.lastIndexOf("\n", next));
}

describe("big-endian decode and encode", () => {
  it("decode(encode(x, big), big) = x", () => {
    fc.assert(
      fc.property(arbInsn(), (x) => {
        expect(decode(encode([x], { bigEndian: true }), { bigEndian: true })).toEqual([x]);
      }),
      { numRuns: 1000 },
    );
  });

  it("big-endian bytes are the little-endian ones with the register nibbles and off/imm bytes swapped", () => {
    fc.assert(
      fc.property(arbInsn(), (x) => {
        const le = encode([x]);
        const be = encode([x], { bigEndian: true });
        for (let at = 0; at < le.length; at += 8) {
          expect(be[at]).toBe(le[at]);
          expect(be[at + 1]).toBe(((le[at + 1] & 15) << 4) | (le[at + 1] >> 4));
          expect([be[at + 2], be[at + 3]]).toEqual([le[at + 3], le[at + 2]]);
          expect([be[at + 4], be[at + 5], be[at + 6], be[at + 7]]).toEqual([le[at + 7], le[at + 6], le[at + 5], le[at + 4]]);
        }
      }),
      { numRuns: 500 },
    );
  });

  it.skipIf(!haveTool("llvm-mc-19"))("mutated and truncated bpfeb objects list or fail with TsbpfError", () => {
    const tmp = scratch("tsbpf-c2-ebm-");
    let base: Uint8Array;
    try {
      const prog = fc.sample(fc.array(arbInsn(), { minLength: 8, maxLength: 16 }), { numRuns: 1, seed: 0xeb5 })[0];
      writeFileSync(join(tmp.dir, "m.s"), sectionsAsm([{ name: "xdp", bytes: encode(prog, { bigEndian: true }), symbols: [{ name: "f", offset: 0, kind: "func" }, { name: "g", offset: 16, kind: "func" }] }]));
      run("llvm-mc-19", ["-triple", "bpfeb", "-filetype=obj", "-o", join(tmp.dir, "m.o"), join(tmp.dir, "m.s")]);
      base = new Uint8Array(readFileSync(join(tmp.dir, "m.o")));
    } finally {
      tmp.dispose();
    }
    expect(readCodeSections(base, "m.o").find((s) => s.name === "xdp")?.bigEndian).toBe(true);
    const mutation = fc.record({
      cut: fc.integer({ min: 0, max: base.length }),
      edits: fc.array(fc.tuple(fc.integer({ min: 0, max: base.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
    });
    fc.assert(
      fc.property(mutation, ({ cut, edits }) => {
        const b = base.slice(0, Math.max(cut, 64));
        for (const [at, v] of edits) if (at < b.length) b[at] = v;
        for (const o of [{}, { json: true }, { syntax: "kernel" as const }]) {
          try {
            disassemble(b, { file: "m.o", ...o });
          } catch (e) {
            expect(e).toBeInstanceOf(TsbpfError);
            expect((e as TsbpfError).where.file).toBe("m.o");
          }
        }
      }),
      { numRuns: 800 },
    );
  });

  it.skipIf(!haveTool("llvm-mc-19"))("--endian that contradicts an ELF object's byte order is a usage error", () => {
    const tmp = scratch("tsbpf-c2-ebe-");
    try {
      writeFileSync(join(tmp.dir, "r.s"), ".text\n.byte 0x95,0,0,0,0,0,0,0\n");
      run("llvm-mc-19", ["-triple", "bpfeb", "-filetype=obj", "-o", join(tmp.dir, "r.o"), join(tmp.dir, "r.s")]);
      const bytes = new Uint8Array(readFileSync(join(tmp.dir, "r.o")));
      let err: unknown;
      try {
        disassemble(bytes, { file: "r.o", endian: "little" });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TsbpfError);
      expect((err as TsbpfError).code).toBe("USAGE");
      expect(disassemble(bytes, { file: "r.o", endian: "big" })).toBe(disassemble(bytes, { file: "r.o" }));
    } finally {
      tmp.dispose();
    }
  });
});
