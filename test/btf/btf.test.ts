// The Btf container: lookups by name and kind agree with a brute-force scan of decoded types
// (vmlinux and random models), lazy kind/name reads agree with decoded records, split ids continue
// the base's, and unknown ids are typed errors.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { haveKernelBtf } from "../support/env.ts";
import { TsbpfError } from "../../src/errors.ts";
import { Btf, encodeBtf, parseBtf, StringTable } from "../../btf/index.ts";
import { btfModel } from "./arbitrary.ts";

describe.skipIf(!haveKernelBtf())("lookups on vmlinux", () => {
  const btf = haveKernelBtf() ? parseBtf(new Uint8Array(readFileSync("/sys/kernel/btf/vmlinux"))) : Btf.fromTypes([]);

  it("idsByName equals a scan of every decoded name", () => {
    const byName = new Map<string, number[]>();
    for (let id = 1; id < btf.typeCount; id++) {
      const n = btf.type(id).name;
      const l = byName.get(n);
      if (l) l.push(id);
      else byName.set(n, [id]);
    }
    // Common names, names that are suffixes of other strings, and names that are absent.
    const names = ["task_struct", "pid", "u32", "__u32", "int", "list_head", "bpf_map_type", "state", "flags", "next", "no_such_type_xyz", "_struct"];
    for (let id = 1; id < btf.typeCount; id += 997) names.push(btf.type(id).name);
    for (const n of names) if (n !== "") expect(btf.idsByName(n), n).toEqual(byName.get(n) ?? []);
    expect(btf.find("task_struct", "struct")?.kind).toBe("struct");
    expect(btf.find("task_struct", "union")).toBeUndefined();
  });

  it("kindOf and nameOf read the same as the decoded record", () => {
    const fresh = parseBtf(new Uint8Array(readFileSync("/sys/kernel/btf/vmlinux")));
    for (let id = 0; id < fresh.typeCount; id += 13) {
      const k = fresh.kindOf(id);
      const n = fresh.nameOf(id);
      expect([k, n]).toEqual([fresh.type(id).kind, fresh.type(id).name]);
    }
    const ints = fresh.idsByKind("int");
    expect(ints.length).toBeGreaterThan(5);
    for (const id of ints) expect(fresh.type(id).kind).toBe("int");
  });

  it("unknown ids are BTF_NOT_FOUND", () => {
    expect(() => btf.type(btf.typeCount)).toThrow(TsbpfError);
    expect(() => btf.type(-1)).toThrow(/no BTF type with id -1/);
    expect(btf.has(btf.typeCount)).toBe(false);
  });

  it("split BTF continues the base's ids and string offsets", () => {
    const split = Btf.fromTypes([{ kind: "ptr", id: 0, name: "", nameOff: 0, type: btf.find("task_struct", "struct")!.id }, { kind: "typedef", id: 0, name: "my_new_name", nameOff: 0, type: btf.typeCount }], { base: btf });
    expect(split.firstId).toBe(btf.typeCount);
    const parsed = parseBtf(encodeBtf(split), { base: btf });
    expect(parsed.type(btf.typeCount + 1)).toMatchObject({ kind: "typedef", name: "my_new_name", type: btf.typeCount });
    expect(parsed.idsByName("my_new_name")).toEqual([btf.typeCount + 1]);
    expect(parsed.idsByName("task_struct")).toEqual(btf.idsByName("task_struct"));
    expect(parsed.type(1)).toEqual(btf.type(1));
    // Without its base the split blob's string table does not start with a NUL.
    const err = (() => {
      try {
        parseBtf(encodeBtf(split));
      } catch (e) {
        return e as TsbpfError;
      }
    })();
    expect([err?.code, err?.hint]).toEqual(["BTF_BAD_STRING", expect.stringContaining("base")]);
  });
});

describe("lookups on random models", () => {
  it("agree with a scan, before and after a round trip", () => {
    fc.assert(
      fc.property(btfModel, (model) => {
        for (const b of [model, parseBtf(encodeBtf(model))]) {
          for (const t of b.types()) {
            const scan = [...b.types()].filter((u) => u.name === t.name).map((u) => u.id);
            if (t.name !== "") expect(b.idsByName(t.name)).toEqual(scan);
            expect(b.idsByKind(t.kind)).toEqual([...b.types()].filter((u) => u.kind === t.kind).map((u) => u.id));
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it("add appends with the next id, also to parsed BTF", () => {
    fc.assert(
      fc.property(btfModel, (model) => {
        const parsed = parseBtf(encodeBtf(model));
        const id = parsed.add({ kind: "int", id: 0, name: "added_int", nameOff: 0, size: 4, encoding: 1, bitOffset: 0, bits: 32 });
        expect(id).toBe(model.typeCount);
        expect(parsed.idsByName("added_int")).toEqual([id]);
        const again = parseBtf(encodeBtf(parsed));
        expect(again.type(id)).toMatchObject({ kind: "int", name: "added_int", size: 4, encoding: 1, bits: 32 });
      }),
      { numRuns: 100 },
    );
  });
});

describe("string table", () => {
  it("add/find/get agree, by byte search and by index, with a base", () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-c]{0,4}$/), { maxLength: 400 }), fc.array(fc.stringMatching(/^[a-c]{0,4}$/), { maxLength: 50 }), (names, baseNames) => {
        const base = StringTable.empty();
        for (const n of baseNames) expect(base.get(base.add(n))).toBe(n);
        const t = StringTable.empty(base);
        const offs = names.map((n) => t.add(n));
        names.forEach((n, i) => {
          expect(t.get(offs[i])).toBe(n);
          expect(t.find(n)).toBe(offs[i]);
          // Every offset that reads as n, by brute force over the whole offset space.
          const all: number[] = [];
          for (let o = 0; o < t.length; o++) if (t.get(o) === n) all.push(o);
          if (n !== "") expect(t.offsetsOf(n)).toEqual(all);
        });
        expect(t.length).toBe(base.length + t.bytes.length);
      }),
      { numRuns: 100 },
    );
  });
});

describe("JSON listing escapes", () => {
  it("names with quotes, backslashes, control and non-ASCII characters read back intact", async () => {
    const { dumpJson, dumpJsonBytes } = await import("../../btf/index.ts");
    const name = 'a"b\\c\td\x01\x1fé€';
    const model = Btf.fromTypes([{ kind: "typedef", id: 0, name, nameOff: 0, type: 0 }]);
    const parsed = parseBtf(encodeBtf(model));
    const fromWords = JSON.parse(new TextDecoder().decode(dumpJsonBytes(parsed)));
    const fromModel = JSON.parse([...dumpJson(model)].join(""));
    expect(fromWords.types[0].name).toBe(name);
    expect(fromModel).toEqual(fromWords);
  });
});
