// Candidate search over split BTF (a module's BTF over vmlinux): libbpf looks in vmlinux first
// and in module BTF only for a type vmlinux lacks (libbpf.c, bpf_core_find_cands). Expected ids
// follow from how the test builds the two BTFs.

import { describe, expect, it } from "vitest";
import { Btf, encodeBtf, parseBtf, type BtfType } from "../../btf/index.ts";
import { findCandidates } from "../../btf/core/index.ts";

const int = (id: number): BtfType => ({ kind: "int", id, name: "int", nameOff: 0, size: 4, encoding: 1, bitOffset: 0, bits: 32 });
const struct = (name: string, member: string): BtfType => ({ kind: "struct", id: 0, name, nameOff: 0, size: 4, kindFlag: false, members: [{ name: member, nameOff: 0, type: 1, bitOffset: 0, bitfieldSize: 0 }] });

describe("CO-RE candidates in split BTF", () => {
  const base = Btf.fromTypes([int(0), struct("task_struct", "pid"), struct("only_base___v1", "x")]);
  const mod = Btf.fromTypes([struct("task_struct", "pid"), struct("only_module", "y"), struct("only_module___v2", "y")], { base });
  const local = Btf.fromTypes([int(0), struct("task_struct___mine", "pid"), struct("only_module", "y"), struct("only_base", "x"), struct("nowhere", "z")]);

  it("takes vmlinux's candidates when it has any, the module's otherwise", () => {
    // base: 1 int, 2 task_struct, 3 only_base___v1; module: 4 task_struct, 5 only_module, 6 only_module___v2
    expect(findCandidates(local, 2, mod)).toEqual([2]);
    expect(findCandidates(local, 4, mod)).toEqual([3]);
    expect(findCandidates(local, 3, mod)).toEqual([5, 6]);
    expect(findCandidates(local, 5, mod)).toEqual([]);
  });

  it("gives the same answer on parsed (raw) split BTF", () => {
    const rawBase = parseBtf(encodeBtf(base));
    const modOverRaw = Btf.fromTypes([struct("task_struct", "pid"), struct("only_module", "y"), struct("only_module___v2", "y")], { base: rawBase });
    const rawMod = parseBtf(encodeBtf(modOverRaw), { base: rawBase });
    expect(rawMod.nameOf(5)).toBe("only_module");
    expect(rawMod.rawTypes()).toBeDefined();
    expect([2, 4, 3, 5].map((id) => findCandidates(local, id, rawMod))).toEqual([[2], [3], [5, 6], []]);
  });
});
